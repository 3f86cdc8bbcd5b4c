"""The ledger pages of HR and licensure offices: entries and bulk approval, budget use, the
export for the HR system (the CSV matches the screen), who holds the skills for a role; and
nobody else reaches them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from microcred.recognition import ledger, posting
from microcred.recognition.models import ExternalCredential, LedgerEntry, LedgerExport, License

pytestmark = pytest.mark.django_db
LEDGER = reverse("recognition:ledger")
APPROVE = reverse("recognition:ledger_approve")
EXPORTS = reverse("recognition:exports")
EXPORT_NEW = reverse("recognition:export_new")
ROLES = reverse("recognition:role_holders")


@pytest.fixture
def hr_client(client, hr):
    client.force_login(hr)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def rows_of_csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_the_ledger_lists_the_offices_entries_with_their_figures(
    pine_pay, renewal, earn, make_earner, hr_client
):
    earn(make_earner(first_name="Ana", last_name="Diaz"))
    response = hr_client.get(LEDGER)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ana Diaz" in html and "$300.00" in html and "$600.00 a year" in html
    assert "Pine pay (version 1)" in html
    assert "1.5 CEUs" not in html  # the state's entry is the licensure office's
    kinds = {row.entry.kind for row in response.context["rows"]}
    assert kinds == {"stipend", "salary"}


def test_filters_narrow_the_entries_and_a_foreign_policy_is_left_out(
    pine_pay, renewal, earn, make_earner, hr_client
):
    earn(make_earner(first_name="Ana", last_name="Diaz", email="ana@pine.example"))
    earn(make_earner(first_name="Ben", last_name="Oku"))
    stipends = hr_client.get(LEDGER, {"kind": "stipend"}).context["rows"]
    assert {r.entry.kind for r in stipends} == {"stipend"} and len(stipends) == 2
    ana = hr_client.get(LEDGER, {"q": "ana@pine"}).context["rows"]
    assert {r.educator_name for r in ana} == {"Ana Diaz"}
    response = hr_client.get(LEDGER, {"policy": renewal.pk})
    assert "Some filters were left out" in response.content.decode()
    assert len(response.context["rows"]) == 4  # the unknown policy is not applied


def test_bulk_approval_skips_what_is_not_pending_and_what_is_not_ours(
    pine_pay, renewal, earn, hr_client
):
    credential = earn()
    ours = list(LedgerEntry.objects.filter(policy=pine_pay).values_list("pk", flat=True))
    state_entry = LedgerEntry.objects.get(credential=credential, policy=renewal)
    data = {"action": "selected", "entry": [*ours, state_entry.pk]}
    response = hr_client.post(APPROVE, data, follow=True)
    assert messages_of(response) == [
        "Approved 2 entries; 1 skipped because it is not your office's to approve."
    ]
    assert set(LedgerEntry.objects.filter(pk__in=ours).values_list("status", flat=True)) == {
        "approved"
    }
    state_entry.refresh_from_db()
    assert state_entry.status == "pending" and state_entry.approved_at is None
    # The same form sent again (a double click, a reload) approves nothing twice.
    again = hr_client.post(APPROVE, {"action": "selected", "entry": ours}, follow=True)
    assert messages_of(again) == [
        "Approved 0 entries; 2 skipped because they were no longer pending."
    ]


def test_approve_all_pending_shown_keeps_the_filters(pine_pay, earn, make_earner, hr_client):
    for _ in range(2):
        earn(make_earner())
    page = hr_client.get(LEDGER, {"kind": "stipend"})
    shown = page.context["pending_ids"]
    assert len(shown) == 2
    response = hr_client.post(
        APPROVE, {"action": "shown", "shown": shown, "back": "kind=stipend&evil=1"}
    )
    assert response.url == LEDGER + "?kind=stipend"
    assert LedgerEntry.objects.filter(status="approved").count() == 2
    assert LedgerEntry.objects.filter(kind="salary", status="pending").count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "selected"}, "Choose at least one pending entry to approve"),
        ({"action": "selected", "entry": ["12x"]}, "are not entry numbers"),
        ({"action": "delete", "entry": ["1"]}, "Select a valid choice"),
    ],
)
def test_bad_approval_input_says_so_and_changes_nothing(pine_pay, earn, hr_client, data, message):
    earn()
    response = hr_client.post(APPROVE, data, follow=True)
    assert any(message in m for m in messages_of(response))
    assert not LedgerEntry.objects.exclude(status="pending").exists()


def test_export_downloads_the_csv_marks_entries_and_a_second_exports_nothing(
    pine_pay, earn, make_earner, hr, hr_client, org_tree
):
    teacher = make_earner(first_name="Ana", last_name="Diaz")
    License.objects.create(educator=teacher, state=org_tree["state"], number="NC-1234")
    earn(teacher)
    earn(make_earner(first_name="Ben", last_name="Oku"))
    ids = list(LedgerEntry.objects.values_list("pk", flat=True))
    hr_client.post(APPROVE, {"action": "selected", "entry": ids})
    response = hr_client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk}, follow=True)
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of_csv(response)
    assert len(rows) == 4
    assert {r["License number"] for r in rows if r["Educator"] == "Ana Diaz"} == {"NC-1234"}
    assert {r["License number"] for r in rows if r["Educator"] == "Ben Oku"} == {""}
    export = LedgerExport.objects.get()
    assert export.entry_count == 4
    assert set(LedgerEntry.objects.values_list("status", "export_id")) == {("exported", export.pk)}

    second = hr_client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk}, follow=True)
    assert second.request["PATH_INFO"] == EXPORTS
    assert any("Nothing new to export" in m for m in messages_of(second))
    assert LedgerExport.objects.count() == 1
    assert f"Export {export.pk}" in second.content.decode()
    # Downloading it again gives the same rows.
    again = hr_client.get(reverse("recognition:export_csv", args=[export.pk]))
    assert rows_of_csv(again) == rows


def test_the_csv_matches_the_screen(
    pine_pay, renewal, earn, make_earner, hr_client, org_tree, revoke
):
    credentials = [earn(make_earner()) for _ in range(3)]  # the third stipend goes unfunded
    revoke(credentials[0])
    ours = list(LedgerEntry.objects.filter(policy=pine_pay).values_list("pk", flat=True))
    hr_client.post(APPROVE, {"action": "selected", "entry": ours})
    rows = rows_of_csv(hr_client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk}, follow=True))
    screen = hr_client.get(LEDGER, {"status": "exported"})
    shown = {(str(r.entry.pk), r.figure, r.educator_email) for r in screen.context["rows"]}
    # A negative figure carries the leading quote that keeps a spreadsheet from reading it
    # as a formula (web/spreadsheets.safe_cell); the spreadsheet shows it without.
    exported = {(r["Entry id"], r["Figure"].removeprefix("'"), r["Email"]) for r in rows}
    assert shown == exported and len(rows) == screen.context["page"].paginator.count
    html = screen.content.decode()
    assert all(r["Figure"].removeprefix("'") in html for r in rows)
    reversal = next(r for r in rows if r["Reverses entry id"])
    assert reversal["Amount"].removeprefix("'").startswith("-") and "revoked" in reversal["Reason"]
    assert f"Reverses entry #{reversal['Reverses entry id']}: " in html


def test_the_budget_section_says_when_the_budget_ran_out(pine_pay, earn, make_earner, hr_client):
    for _ in range(3):
        earn(make_earner())
    response = hr_client.get(LEDGER)
    [budget] = response.context["budgets"]
    assert (budget.used, budget.left, budget.unfunded, budget.waiting) == (D("600"), D("0"), 1, 2)
    html = response.content.decode()
    today = timezone.localdate()
    assert f"Budget spent on {today:%B} {today.day}, {today.year}:" in html
    assert "later stipends are recorded as not funded" in html
    assert '<progress id="budget-' in html and "100% used: $600.00 of $600.00" in html
    unfunded = LedgerEntry.objects.get(status="unfunded")
    assert "Not funded: budget spent" in html and unfunded.note in html


def test_a_budget_with_room_shows_no_warning(pine_pay, earn, hr_client):
    earn()
    html = hr_client.get(LEDGER).content.decode()
    assert "50% used: $300.00 of $600.00" in html and "Budget spent" not in html


def test_mark_paid_moves_the_money_entries_of_an_export(
    pine_pay, renewal, earn, hr_client, org_tree
):
    earn()
    ids = list(LedgerEntry.objects.filter(policy=pine_pay).values_list("pk", flat=True))
    hr_client.post(APPROVE, {"action": "selected", "entry": ids}, follow=True)
    hr_client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk})
    export = LedgerExport.objects.get()
    response = hr_client.post(reverse("recognition:export_paid", args=[export.pk]), follow=True)
    assert messages_of(response) == [
        f"Marked 2 stipend and salary entries of export {export.pk} paid."
    ]
    assert set(LedgerEntry.objects.filter(export=export).values_list("status", flat=True)) == {
        "paid"
    }
    again = hr_client.post(reverse("recognition:export_paid", args=[export.pk]), follow=True)
    assert "Nothing to mark paid" in messages_of(again)[0]


def test_who_holds_the_skills_for_a_role(
    hr, org_tree, make_policy, version, earn, make_earner, hr_client, revoke
):
    make_policy(
        hr,
        org_tree["lea1"],
        {
            "kind": "role",
            "role_title": "Instructional coach",
            "micro_credentials": [version.micro_credential],
        },
    )
    ana = make_earner(first_name="Ana", last_name="Diaz")
    earn(ana)
    revoked = make_earner(first_name="Rae", last_name="Voked")
    revoke(earn(revoked))
    earn(make_earner(org_tree["school2"], first_name="Oak", last_name="Teacher"))  # not ours
    make_earner(first_name="Nia", last_name="Nothing")
    response = hr_client.get(ROLES)
    [role] = response.context["roles"]
    assert role.rule.role_title == "Instructional coach" and role.holders == [ana]
    html = response.content.decode()
    assert "Ana Diaz" in html and "Rae Voked" not in html and "Oak Teacher" not in html
    download = hr_client.get(ROLES, {"role": role.rule.pk, "format": "csv"})
    assert [r["Email"] for r in rows_of_csv(download)] == [ana.email]

    by_mc = hr_client.get(ROLES, {"micro_credential": version.micro_credential_id})
    assert by_mc.context["holders"] == [ana]
    assert f"holding {version.title}" in by_mc.content.decode()
    both = hr_client.get(ROLES, {"micro_credential": version.micro_credential_id, "stack": 999})
    assert both.context["holders"] is None and "Select a valid choice" in both.content.decode()


def test_the_role_page_reads_holders_in_a_few_queries(
    hr, org_tree, make_policy, version, earn, make_earner, hr_client, django_assert_max_num_queries
):
    make_policy(
        hr,
        org_tree["lea1"],
        {
            "kind": "role",
            "role_title": "Instructional coach",
            "micro_credentials": [version.micro_credential],
        },
    )
    for _ in range(4):
        earn(make_earner())
    with django_assert_max_num_queries(30):
        response = hr_client.get(ROLES)
    assert len(response.context["roles"][0].holders) == 4


@pytest.mark.parametrize(
    "url",
    [LEDGER, EXPORTS, ROLES, reverse("recognition:export_csv", args=[1])],
)
def test_an_earner_cannot_reach_office_pages(make_earner, client, url):
    client.force_login(make_earner())
    assert client.get(url).status_code == 403


def test_an_earner_cannot_approve_or_export(pine_pay, earn, make_earner, client, org_tree):
    earn()
    client.force_login(make_earner())
    ids = list(LedgerEntry.objects.values_list("pk", flat=True))
    assert client.post(APPROVE, {"action": "selected", "entry": ids}).status_code == 403
    assert client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk}).status_code == 403
    assert not LedgerEntry.objects.exclude(status="pending").exists()


def test_another_office_cannot_see_or_export_ours(pine_pay, earn, make_user, hr_client, org_tree):
    earn()
    ids = list(LedgerEntry.objects.values_list("pk", flat=True))
    hr_client.post(APPROVE, {"action": "selected", "entry": ids[:1]})
    client = Client()
    client.force_login(make_user("recognizer_admin", org_tree["lea2"]))
    assert client.get(LEDGER).context["rows"] == []
    assert client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk}).status_code == 403
    assert not LedgerExport.objects.exists()
    response = client.post(APPROVE, {"action": "selected", "entry": ids}, follow=True)
    assert messages_of(response) == [
        "Approved 0 entries; 2 skipped because they are not your office's to approve."
    ]
    assert LedgerEntry.objects.filter(status="pending").count() == 1
    hr_client.post(EXPORT_NEW, {"recognizer": org_tree["lea1"].pk})
    export = LedgerExport.objects.get()
    assert client.get(reverse("recognition:export_csv", args=[export.pk])).status_code == 404
    assert client.post(reverse("recognition:export_paid", args=[export.pk])).status_code == 404


def test_a_budget_a_reversal_refilled_says_what_stays_unfunded(
    pine_pay, earn, make_earner, hr_client, revoke
):
    first, *_ = [earn(make_earner()) for _ in range(3)]
    revoke(first)
    html = hr_client.get(LEDGER).content.decode()
    assert "Budget spent" not in html
    assert "1 stipend was recorded as not funded and stays unpaid" in html
    assert "50% used: $300.00 of $600.00" in html


def test_the_ledger_page_reads_in_as_many_queries_for_many_entries(
    pine_pay, earn, make_earner, hr_client
):

    earn(make_earner())
    with CaptureQueriesContext(connection) as few:
        hr_client.get(LEDGER)
    for _ in range(3):
        earn(make_earner())
    with CaptureQueriesContext(connection) as many:
        response = hr_client.get(LEDGER)
    assert len(response.context["rows"]) == 8
    assert len(many) == len(few)


def test_the_bulk_holdings_read_agrees_with_postings_own(
    hr, org_tree, version, earn, make_earner, revoke
):

    holder, revoked, brought, nobody = (make_earner() for _ in range(4))
    earn(holder)
    revoke(earn(revoked))
    ExternalCredential.objects.create(
        educator=brought,
        document={},
        digest="d" * 64,
        name="Coaching, from elsewhere",
        recognizer=org_tree["lea1"],
        status=ExternalCredential.Status.ACCEPTED,
        matched_version=version,
    )
    people = [holder, revoked, brought, nobody]
    held = ledger.held_by([p.pk for p in people])
    for person in people:
        mine = held.get(person.pk, ledger.Held())
        assert (mine.mcs, mine.stacks) == posting._held_mcs_and_stacks(person.pk)
    assert set(held) == {holder.pk, brought.pk}
