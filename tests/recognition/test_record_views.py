"""The educator's record page, the transcript PDF, and renewal progress on the dashboard and
the credential page."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from microcred.recognition import renewal, transcript
from microcred.recognition.models import License, RenewalCycle
from microcred.recognition.record import record_of
from tests.catalog.factories import catalog_people, publish_stack

from .conftest import CEU_RULE, COUNT_RULE, stipend_rule

pytestmark = pytest.mark.django_db
TITLE = "Collaborative Leadership Coaching"


@pytest.fixture
def policies(licensure, hr, org_tree, make_policy, approve):
    approve(org_tree["state"], licensure, "license_renewal")
    make_policy(licensure, org_tree["state"], CEU_RULE, COUNT_RULE, name="State renewal")
    approve(org_tree["lea1"], hr, "stipend")
    make_policy(hr, org_tree["lea1"], stipend_rule(), name="Pine stipends")


@pytest.fixture
def zoe(make_earner):
    return make_earner(first_name="Zoë", last_name="Núñez-Ołowska")


def give_license(educator, state):
    today = timezone.localdate()
    lic = License.objects.create(educator=educator, state=state, number="NC-77", area="K-6")
    RenewalCycle.objects.create(
        license=lic,
        starts_on=today - timedelta(days=400),
        ends_on=renewal.add_months(today, 14) + timedelta(days=3),
        mcs_required=4,
    )


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_record_shows_credentials_renewal_and_pay(client, policies, zoe, org_tree, earn):
    give_license(zoe, org_tree["state"])
    earn(zoe)
    client.force_login(zoe)
    response = client.get(reverse("recognition:my_record"))
    page = response.content.decode()
    assert response.status_code == 200
    assert TITLE in page
    assert "1.5 of 8.0 CEUs, or 1 of 4 MCs; 14 months left" in page
    assert '<progress id="renewal-ceus" max="8.00" value="1.50">' in page
    assert "$300.00" in page and "Waiting for approval" in page
    assert reverse("recognition:transcript") in page


def test_a_revoked_credential_is_marked_and_its_credit_reversed(
    client, policies, zoe, org_tree, earn, revoke
):
    give_license(zoe, org_tree["state"])
    revoke(earn(zoe), reason="Evidence was not the earner's own.")
    record = record_of(zoe)
    assert [line.revoked for line in record.credentials] == [True]
    assert record.stipends.total == "$0.00" and record.ceus.total == "0 CEUs"
    client.force_login(zoe)
    page = client.get(reverse("recognition:my_record")).content.decode()
    assert "Revoked</span>" in page and "(reversed)" in page
    assert "0.0 of 8.0 CEUs, or 0 of 4 MCs" in page


def test_stacks_in_progress(client, zoe, version, org_tree, make_user, earn):
    people = catalog_people(org_tree, make_user)
    other = people.publish(title="Feedback with data")
    stack = publish_stack(
        people.provider,
        people.author,
        [(version.micro_credential, True), (other.micro_credential, True)],
        title="Coaching pathway",
    )
    earn(zoe)
    [line] = record_of(zoe).stacks
    assert (line.title, line.sentence) == (stack.title, "1 of 2 micro-credentials")
    client.force_login(zoe)
    assert (
        "Coaching pathway</a>: 1 of 2 micro-credentials"
        in client.get(reverse("recognition:my_record")).content.decode()
    )


def test_the_transcript_is_a_pdf_with_the_credentials(client, policies, zoe, org_tree, earn):
    give_license(zoe, org_tree["state"])
    earn(zoe)
    client.force_login(zoe)
    response = client.get(reverse("recognition:transcript"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pages, text = pdf_text(response.content)
    assert pages >= 1
    assert TITLE in text and "Zoë Núñez-Ołowska" in text
    assert "1.5 of 8.0 CEUs" in text and "$300.00" in text


def test_the_transcript_without_the_unicode_font_stays_readable(
    policies, zoe, earn, tmp_path: Path
):
    earn(zoe)
    data = transcript.render(record_of(zoe), font_dir=tmp_path)  # no font there: Helvetica
    pages, text = pdf_text(data)
    assert pages >= 1 and TITLE in text
    assert "Zoë Núñez-O?owska" in text  # Latin-1 keeps the accents; "ł" is not in it


def test_a_transcript_of_nothing_yet(client, zoe):
    client.force_login(zoe)
    _, text = pdf_text(client.get(reverse("recognition:transcript")).content)
    assert "No credentials yet." in text


def test_another_persons_record_is_unreachable(client, policies, zoe, make_earner, earn):
    earn(zoe)
    other = make_earner(first_name="Omar")
    client.force_login(other)
    page = client.get(reverse("recognition:my_record"), {"educator": zoe.pk}).content.decode()
    assert "You hold no credentials yet" in page and TITLE not in page
    _, text = pdf_text(client.get(reverse("recognition:transcript")).content)
    assert TITLE not in text and "Zoë" not in text
    client.logout()
    for name in ("recognition:my_record", "recognition:transcript"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_dashboard_shows_progress_only_with_a_license(client, policies, zoe, org_tree, earn):
    earn(zoe)
    client.force_login(zoe)
    assert "<progress" not in client.get(reverse("web:dashboard")).content.decode()
    give_license(zoe, org_tree["state"])
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "License renewal" in page and "<progress" in page
    assert "1.5 of 8.0 CEUs, or 1 of 4 MCs" in page


def test_the_credential_page_says_what_it_added(client, policies, zoe, make_user, org_tree, earn):
    give_license(zoe, org_tree["state"])
    credential = earn(zoe)
    url = reverse("credentials:credential", args=[credential.uuid])
    client.force_login(zoe)
    page = client.get(url).content.decode()
    assert "This credential added" in page and "1.5 CEUs" in page
    assert "1 micro-credential" in page and "toward your renewal" in page
    credential.public = True
    credential.save(update_fields=["public"])
    client.force_login(make_user())
    assert "toward your renewal" not in client.get(url).content.decode()
    assert renewal.credential_contribution(credential).ceus == D("1.50")
