"""Currency in the browser (issue 10): a district HR officer approves a micro-credential for
renewal, a stipend and a salary step, sets up the policy that pays for them (CEUs, a stipend
with a budget for one, a salary step) and puts it in force; two teachers earn it; the entries
appear, the budget runs out visibly, a revocation reverses one teacher's entries, the HR
officer approves and exports, and the CSV says what the screen says; the teacher sees her
renewal progress move; a credential from another issuer is verified and recognized."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from microcred.credentials import services as credentials
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import Role
from microcred.recognition.models import License, RenewalCycle
from tests.e2e.helpers import (
    Account,
    expect_message,
    expect_page,
    follow_nav,
    group,
    sign_in_as,
    sign_out,
)
from tests.recognition.helpers import foreign

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"


def account(user) -> Account:
    return Account(user.email, PASSWORD)


def renewal(page: Page):
    return page.get_by_role("region", name="License renewal")


def approve_for(page: Page, title: str, use: str) -> None:
    follow_nav(page, "Approvals for use")
    name = re.compile(f"^(Approve {title} for a use|Change approvals of {title})$")
    page.get_by_role("link", name=name).click()
    group(page, "Approve it for").get_by_role("radio", name=use).check()
    page.get_by_role("button", name="Approve for this use").click()
    expect_message(page, f"Approved for {use.lower()} by")


def add_rule(page: Page, kind: str, **fields: str) -> None:
    group(page, "What the rule grants").get_by_role("radio", name=kind).check()
    for label, value in fields.items():
        page.get_by_label(re.compile("^" + re.escape(label))).fill(value)
    page.get_by_role("button", name="Add the rule").click()


def ledger_rows(page: Page) -> list[dict[str, str]]:
    """The ledger table as the officer reads it: entry number -> its cells."""
    table = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Figure"))
    rows = []
    for row in table.locator("tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("th, td").all()]
        rows.append({"entry": cells[1].lstrip("#"), "figure": cells[6], "status": cells[7]})
    return rows


def test_an_hr_office_pays_for_micro_credentials_and_the_ledger_keeps_count(
    page: Page, version, make_user, make_earner, org_tree, make_award, issuer_admin, tmp_path: Path
):
    hr = make_user(Role.RECOGNIZER_ADMIN, org_tree["lea1"], first_name="Hope", last_name="Reyes")
    ana = make_earner(first_name="Ana", last_name="Diaz")
    ben = make_earner(first_name="Ben", last_name="Okoro")
    RenewalCycle.objects.create(
        license=License.objects.create(
            educator=ana, state=org_tree["state"], number="1000245", area="Elementary (K-6)"
        ),
        starts_on=date(2024, 7, 1),
        ends_on=date(2029, 6, 30),
        ceus_required=Decimal("8.0"),
    )
    title = version.title

    # Before: Ana's renewal stands at zero.
    sign_in_as(page, account(ana))
    page.goto("/me/")
    expect(renewal(page)).to_contain_text("0.0 of 8.0 CEUs")
    sign_out(page)

    # The HR officer approves the MC for three uses and sets up the policy that pays for them.
    sign_in_as(page, account(hr))
    for use in ("License renewal", "Stipend", "Salary increase"):
        approve_for(page, title, use)
    follow_nav(page, "Recognition policies")
    page.get_by_role("link", name="Set up a new policy").click()
    page.get_by_label(re.compile("^Name")).fill("Pine pay for micro-credentials")
    page.get_by_label("First day it applies").fill("2024-07-01")
    page.get_by_role("button", name="Create the draft").click()
    expect_page(page, "Pine pay for micro-credentials")
    add_rule(page, "CEUs toward license renewal")
    expect(page.get_by_role("alert")).to_contain_text("Say where the CEUs come from")
    group(page, "Where the CEUs come from").get_by_role(
        "radio", name=re.compile("estimated hours")
    ).check()
    page.get_by_label("Hours that make one CEU").fill("10")
    page.get_by_role("button", name="Add the rule").click()
    add_rule(
        page,
        "Stipend per micro-credential",
        **{
            "Stipend per micro-credential, in dollars": "300",
            "Budget, in dollars": "300",
            "Funding source": "Title II",
        },
    )
    add_rule(page, "Base-salary increase by difficulty", **{"Advanced, dollars a year": "600"})
    rules = page.get_by_role("list", name="Rules")
    expect(rules).to_contain_text("1 CEU per 10 hours of the micro-credential")
    expect(rules).to_contain_text("$300.00 stipend per micro-credential, from a budget of $300.00")
    expect(rules).to_contain_text("$600.00 advanced")
    page.get_by_role("button", name="Put version 1 in force").click()
    expect_message(page, re.compile("in force", re.I))
    sign_out(page)

    # Two teachers earn it (scored and issued as in production; the ledger posts on commit).
    ana_credential = IssuedCredential.objects.get(award=make_award(ana))
    IssuedCredential.objects.get(award=make_award(ben))

    sign_in_as(page, account(hr))
    follow_nav(page, "Ledger")
    expect_page(page, "Ledger")
    rows = ledger_rows(page)
    assert sorted(r["figure"] for r in rows) == sorted(
        ["1.5 CEUs", "1.5 CEUs", "$300.00", "$300.00", "$600.00 a year", "$600.00 a year"]
    )
    # The budget covered one stipend: the second is recorded, visibly, as not funded.
    assert [r["status"] for r in rows].count("Not funded: budget spent") == 1
    budgets = page.get_by_role("heading", name=re.compile("Title II")).locator("..")
    expect(budgets).to_contain_text("Budget spent on")
    expect(budgets).to_contain_text("100% used: $300.00 of $300.00")
    sign_out(page)

    # Ana sees her renewal move.
    sign_in_as(page, account(ana))
    page.goto("/me/")
    expect(renewal(page)).to_contain_text("1.5 of 8.0 CEUs")
    expect(renewal(page)).to_contain_text("still wait for approval")
    sign_out(page)

    # The issuer revokes Ana's credential: her entries are reversed, not erased.
    credentials.revoke(issuer_admin, ana_credential, "Evidence was not her own.")
    sign_in_as(page, account(hr))
    follow_nav(page, "Ledger")
    reversals = page.get_by_role("row").filter(has_text="Evidence was not her own.")
    expect(reversals).to_have_count(3)
    expect(page.get_by_role("main")).to_contain_text("-1.5 CEUs")

    # Approve everything pending, export, and compare the CSV with the screen.
    page.get_by_role("button", name=re.compile("Approve all pending shown")).click()
    expect_message(page, re.compile(r"Approved \d+ entr"))
    screen = {
        r["entry"]: r["figure"] for r in ledger_rows(page) if r["status"].startswith("Approved")
    }
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Export approved entries")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    # A text cell starting like a formula ("-$300.00") carries the spreadsheet's text mark.
    exported = {
        row["Entry id"]: row["Figure"].removeprefix("'")
        for row in csv.DictReader(io.StringIO(text))
    }
    assert exported == screen and len(exported) == 8  # 6 posted, 1 unfunded, 3 reversals
    follow_nav(page, "Ledger")
    assert not any(r["status"].startswith("Approved") for r in ledger_rows(page))
    sign_out(page)

    # Ben brings a credential another issuer signed; the district accepts it for renewal.
    document = tmp_path / "restorative-circles.json"
    document.write_text(json.dumps(foreign(ben.email)), encoding="utf-8")
    sign_in_as(page, account(ben))
    follow_nav(page, "My record")
    page.get_by_role("link", name=re.compile("from another issuer")).first.click()
    page.get_by_role("link", name="Add a credential from elsewhere").click()
    expect_page(page, "Add a credential from elsewhere")
    page.get_by_label(re.compile("^Upload the credential file")).set_input_files(str(document))
    group(page, "Who should recognize it").get_by_role("radio", name="Pine County Schools").check()
    page.get_by_role("button", name="Check and send it").click()
    expect(page.get_by_role("main")).to_contain_text("Restorative Circles")
    sign_out(page)

    sign_in_as(page, account(hr))
    follow_nav(page, "Credentials from elsewhere")
    page.get_by_role("link", name="Review “Restorative Circles”").click()
    expect(page.get_by_role("main")).to_contain_text("Verified")
    group(page, "Your decision").get_by_role("radio", name="Accept it").check()
    group(page, "If you accept it: what it counts for").get_by_role(
        "checkbox", name="License renewal"
    ).check()
    page.get_by_role("button", name="Save the decision").click()
    follow_nav(page, "Ledger")
    expect(page.get_by_role("row").filter(has_text="Restorative Circles")).to_contain_text(
        "1.2 CEUs"
    )
    sign_out(page)
