"""Staff progress for principals and district program staff: who sees whose staff, what each
row says (attempts, waiting submissions, credentials, renewal), the filters, pagination, the
pre-approval link, the CSV, and a query count that does not grow with the staff."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from microcred.credentials import services as credentials
from microcred.earning.models import Attempt, PreApproval, Submission
from microcred.insights import staff
from microcred.orgs.models import AuditEvent, Organization, Role
from microcred.recognition import renewal
from microcred.recognition.models import License, RenewalCycle
from tests.credentials.awards import *  # noqa: F403  (make_award, version and friends)

pytestmark = pytest.mark.django_db

URL = reverse("insights:staff")
CSV_URL = reverse("insights:staff_csv")


@pytest.fixture
def pine_middle(org_tree):
    return Organization.objects.create(
        kind=Organization.Kind.SCHOOL, name="Pine Middle", slug="pine-ms", parent=org_tree["lea1"]
    )


@pytest.fixture
def principal(make_user, org_tree):
    return make_user(Role.PRINCIPAL, org_tree["school1"], first_name="Pat", last_name="Rincipal")


@pytest.fixture
def district_admin(make_user, org_tree):
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Dee", last_name="Strict")


@pytest.fixture
def state_admin(make_user, org_tree):
    return make_user(Role.PROGRAM_ADMIN, org_tree["state"], first_name="Sta", last_name="Te")


@pytest.fixture
def staff_of(make_user, org_tree, pine_middle):
    """Earners: Ada at Pine Elementary, Ben at Pine Middle (same district), Cy at Oak Middle
    (the other district)."""
    return {
        "ada": make_user(Role.EARNER, org_tree["school1"], first_name="Ada", last_name="Alder"),
        "ben": make_user(Role.EARNER, pine_middle, first_name="Ben", last_name="Birch"),
        "cy": make_user(Role.EARNER, org_tree["school2"], first_name="Cy", last_name="Cedar"),
    }


def start(version, earner, school, status=Attempt.Status.IN_PROGRESS):
    return Attempt.objects.create(version=version, earner=earner, school=school, status=status)


def license_for(educator, state, *, ends, ceus_required=Decimal("8.0"), number=None):
    today = timezone.localdate()
    lic = License.objects.create(
        educator=educator, state=state, number=number or f"NC-{educator.pk}", area="K-6"
    )
    return RenewalCycle.objects.create(
        license=lic,
        starts_on=today - timedelta(days=700),
        ends_on=ends,
        ceus_required=ceus_required,
        mcs_required=4,
    )


def names_on(response) -> set[str]:
    return {row.educator.full_name for row in response.context["rows"]}


# ---------------------------------------------------------------------------- who sees whom
def test_someone_without_the_role_gets_403(client, staff_of):
    client.force_login(staff_of["ada"])
    assert client.get(URL).status_code == 403
    assert client.get(CSV_URL).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_principal_sees_only_their_own_school(client, principal, staff_of, org_tree, pine_middle):
    client.force_login(principal)
    response = client.get(URL)
    assert response.status_code == 200
    assert names_on(response) == {"Ada Alder"}
    body = response.content.decode()
    assert "Ben Birch" not in body and "Cy Cedar" not in body
    assert "Staff progress: Pine Elementary" in body
    # Not the neighbouring school, not the district above, not another district: 404.
    for other in (pine_middle, org_tree["lea1"], org_tree["school2"]):
        assert client.get(URL, {"org": other.pk}).status_code == 404
        assert client.get(CSV_URL, {"org": other.pk}).status_code == 404


def test_a_district_admin_sees_every_school_of_the_district_and_no_other(
    client, district_admin, staff_of, org_tree
):
    client.force_login(district_admin)
    response = client.get(URL)
    assert names_on(response) == {"Ada Alder", "Ben Birch"}
    assert "Cy Cedar" not in response.content.decode()
    assert client.get(URL, {"org": org_tree["lea2"].pk}).status_code == 404
    assert client.get(URL, {"org": org_tree["school2"].pk}).status_code == 404
    assert client.get(URL, {"org": "not-a-number"}).status_code == 404


def test_a_state_admin_picks_a_district_first(client, state_admin, staff_of, org_tree):
    client.force_login(state_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert "rows" not in response.context
    body = response.content.decode()
    assert "Choose a district" in body
    assert "Pine County Schools" in body and "Oak City Schools" in body
    response = client.get(URL, {"org": org_tree["lea2"].pk})
    assert names_on(response) == {"Cy Cedar"}
    # The state agency itself is not a district whose staff one lists.
    assert client.get(URL, {"org": org_tree["state"].pk}).status_code == 404


def test_a_state_office_without_districts_says_so(client, make_user):
    empty = Organization.objects.create(
        kind=Organization.Kind.STATE_AGENCY, name="Empty State", slug="empty-state"
    )
    client.force_login(make_user(Role.PROGRAM_ADMIN, empty))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "No school or district is open to you here yet" in body
    assert reverse("orgs:manage") in body


def test_units_follow_the_memberships(principal, district_admin, state_admin, org_tree):
    assert staff.staff_units(principal) == [org_tree["school1"]]
    assert staff.staff_units(district_admin) == [org_tree["lea1"]]
    assert staff.staff_units(state_admin) == [org_tree["lea2"], org_tree["lea1"]]
    assert principal.has_perm("insights.view_staff_progress", org_tree["school1"])
    assert not principal.has_perm("insights.view_staff_progress", org_tree["school2"])
    assert not district_admin.has_perm("insights.view_staff_progress", org_tree["lea2"])


def test_inactive_memberships_and_accounts_do_not_count(
    client, principal, staff_of, make_user, org_tree
):
    staff_of["ada"].memberships.update(active=False)
    gone = make_user(Role.EARNER, org_tree["school1"], first_name="Gus", last_name="Gone")
    gone.is_active = False
    gone.save()
    client.force_login(principal)
    response = client.get(URL)
    assert names_on(response) == set()
    assert "No educators belong to Pine Elementary yet" in response.content.decode()
    # A principal whose role was removed loses the page.
    principal.memberships.update(active=False)
    client.force_login(principal)
    assert client.get(URL).status_code == 403


# ---------------------------------------------------------------------------- what a row says
def test_a_row_shows_attempts_waiting_submissions_credentials_and_renewal(
    client, principal, staff_of, org_tree, version, make_award
):
    ada = staff_of["ada"]
    award = make_award(ada)
    credentials.issue_for_award(award)
    # A second MC attempt (another version row of the same MC is enough for the listing).
    waiting = start(version, ada, org_tree["school1"], status=Attempt.Status.SUBMITTED)
    Submission.objects.create(attempt=waiting, number=1, snapshot={}, submitted_by=ada)
    start(version, ada, org_tree["school1"], status=Attempt.Status.WITHDRAWN)
    cycle = license_for(ada, org_tree["state"], ends=renewal.add_months(timezone.localdate(), 6))

    client.force_login(principal)
    response = client.get(URL)
    (row,) = response.context["rows"]
    assert [line.status for line in row.attempts] == ["Submitted, waiting for an assessor"]
    assert row.attempts[0].title == version.title
    assert row.waiting == 1 and row.waiting_since is not None
    assert row.credentials == 1 and row.latest_credential == version.title
    assert row.renewal is not None and row.renewal.cycle == cycle
    assert row.renewal_ending_soon
    assert row.schools == ["Pine Elementary"]
    body = response.content.decode()
    assert "1 submission, since" in body
    assert f"Latest: {version.title}" in body
    assert "ends within 12 months" in body
    assert "of 8.0 CEUs, or" in body


def test_revoked_credentials_do_not_count(
    client, principal, staff_of, version, make_award, issuer_admin
):
    credential = credentials.issue_for_award(make_award(staff_of["ada"]))
    credentials.revoke(issuer_admin, credential, "Evidence was not the earner's own.")
    client.force_login(principal)
    (row,) = client.get(URL).context["rows"]
    assert row.credentials == 0 and row.latest_credential == ""


def test_team_attempts_show_for_every_active_member(
    client, principal, staff_of, version, make_submission, make_user, org_tree
):
    dee = make_user(Role.EARNER, org_tree["school1"], first_name="Dee", last_name="Dogwood")
    make_submission(staff_of["ada"], team=[dee])
    client.force_login(principal)
    rows = {row.educator.first_name: row for row in client.get(URL).context["rows"]}
    for name in ("Ada", "Dee"):
        (line,) = rows[name].attempts
        assert line.team and rows[name].waiting == 1


def test_without_a_license_the_row_says_so(client, principal, staff_of):
    client.force_login(principal)
    (row,) = client.get(URL).context["rows"]
    assert row.renewal is None and row.renewal_standing == "No license on file"
    assert "No license on file" in client.get(URL).content.decode()


def test_bulk_standing_matches_the_single_educator_one(staff_of, org_tree):
    today = timezone.localdate()
    ada, ben = staff_of["ada"], staff_of["ben"]
    license_for(ada, org_tree["state"], ends=renewal.add_months(today, 20))
    # Ben holds two licenses: the current cycle is the one containing today.
    license_for(ben, org_tree["state"], ends=today - timedelta(days=5), number="OLD-1")
    license_for(ben, org_tree["state"], ends=renewal.add_months(today, 3), number="NEW-1")
    standings = staff.renewal_standings([ada.pk, ben.pk, staff_of["cy"].pk], today)
    assert set(standings) == {ada.pk, ben.pk}
    for educator in (ada, ben):
        single = renewal.renewal_progress(educator, today)
        assert standings[educator.pk].cycle == single.cycle
        assert standings[educator.pk].sentence == single.sentence


# ---------------------------------------------------------------------------- filters
def test_the_school_filter_narrows_a_district(client, district_admin, staff_of, pine_middle):
    client.force_login(district_admin)
    response = client.get(URL, {"school": pine_middle.pk})
    assert response.status_code == 200
    assert names_on(response) == {"Ben Birch"}
    assert "Staff of Pine Middle" in response.content.decode()


def test_a_school_of_another_district_is_refused_plainly(
    client, district_admin, staff_of, org_tree
):
    client.force_login(district_admin)
    response = client.get(URL, {"school": org_tree["school2"].pk})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose one of the schools of Pine County Schools." in body
    assert "Cy Cedar" not in body
    # The filter is ignored, not half applied: the whole district shows.
    assert names_on(response) == {"Ada Alder", "Ben Birch"}
    csv_response = client.get(CSV_URL, {"school": org_tree["school2"].pk})
    assert csv_response.status_code == 400
    assert not AuditEvent.objects.filter(action="insights.staff_progress_exported").exists()


def test_a_principal_has_no_school_filter(client, principal, staff_of):
    client.force_login(principal)
    response = client.get(URL)
    assert "school" not in response.context["form"].fields


def test_in_progress_filter(client, district_admin, staff_of, version, org_tree, pine_middle):
    start(version, staff_of["ada"], org_tree["school1"])
    start(version, staff_of["ben"], pine_middle, status=Attempt.Status.EARNED)
    client.force_login(district_admin)
    response = client.get(URL, {"in_progress": "on"})
    assert names_on(response) == {"Ada Alder"}
    assert "with a micro-credential in progress" in response.content.decode()


def test_renewal_ending_filter_keeps_cycles_ending_within_12_months_without_enough(
    client, district_admin, staff_of, make_user, org_tree
):
    today = timezone.localdate()
    state = org_tree["state"]
    license_for(staff_of["ada"], state, ends=renewal.add_months(today, 6))
    license_for(staff_of["ben"], state, ends=renewal.add_months(today, 30))
    done = make_user(Role.EARNER, org_tree["school1"], first_name="Dot", last_name="Done")
    # Nothing required: already enough for renewal, so not "ending without enough".
    license_for(done, state, ends=renewal.add_months(today, 2), ceus_required=Decimal("0"))
    client.force_login(district_admin)
    response = client.get(URL, {"ending_soon": "on"})
    assert response.status_code == 200
    assert names_on(response) == {"Ada Alder"}
    both = client.get(URL, {"ending_soon": "on", "in_progress": "on"})
    assert names_on(both) == set()
    assert "No educator matches these filters" in both.content.decode()


# ---------------------------------------------------------------------------- pre-approval
def test_the_preapproval_queue_is_always_linked_with_its_count(
    client, principal, district_admin, staff_of, version, org_tree
):
    queue = reverse("earning:preapprovals")
    client.force_login(principal)
    body = client.get(URL).content.decode()
    assert queue in body and "0 pre-approval requests from your staff are waiting" in body

    attempt = start(
        version, staff_of["ada"], org_tree["school1"], status=Attempt.Status.AWAITING_PREAPPROVAL
    )
    PreApproval.objects.create(attempt=attempt, use="license_renewal", rationale="For renewal.")
    body = client.get(URL).content.decode()
    assert queue in body and "1 pre-approval request from your staff is waiting" in body

    client.force_login(district_admin)
    body = client.get(URL).content.decode()
    assert "1 pre-approval request from staff of Pine County Schools is waiting" in body
    assert queue in body


# ---------------------------------------------------------------------------- pages, queries
def test_pagination(client, principal, make_user, org_tree):
    for n in range(30):
        make_user(Role.EARNER, org_tree["school1"], first_name="T", last_name=f"Teacher {n:02d}")
    client.force_login(principal)
    first = client.get(URL)
    assert len(first.context["rows"]) == 25
    assert "Page 1 of 2" in first.content.decode() and "page=2" in first.content.decode()
    second = client.get(URL, {"page": 2})
    assert len(second.context["rows"]) == 5
    assert "Download all 30 rows as CSV" in second.content.decode()


def test_the_page_costs_the_same_queries_for_3_or_25_educators(
    client, district_admin, make_user, org_tree, pine_middle, version, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for n in range(count):
            school = org_tree["school1"] if n % 2 else pine_middle
            educator = make_user(Role.EARNER, school, first_name="E", last_name=f"Ed {n}")
            attempt = start(version, educator, school, status=Attempt.Status.SUBMITTED)
            Submission.objects.create(attempt=attempt, number=1, snapshot={}, submitted_by=educator)
            license_for(
                educator, org_tree["state"], ends=renewal.add_months(timezone.localdate(), 6)
            )

    client.force_login(district_admin)
    add(3)
    client.get(URL)  # warm the session
    filters = ({}, {"in_progress": "on", "ending_soon": "on"})
    baseline = []
    for params in filters:
        with django_assert_max_num_queries(25) as few:
            response = client.get(URL, params)
        assert len(response.context["rows"]) == 3
        baseline.append(len(few.captured_queries))
    add(22)
    for params, bound in zip(filters, baseline, strict=True):
        with django_assert_max_num_queries(bound):
            response = client.get(URL, params)
        assert len(response.context["rows"]) == 25


# ---------------------------------------------------------------------------- CSV
def test_csv_has_the_same_rows_and_is_audited(
    client, district_admin, staff_of, version, org_tree, make_user
):
    start(version, staff_of["ada"], org_tree["school1"])
    make_user(Role.EARNER, org_tree["school1"], first_name="=HYPERLINK(1)", last_name="X")
    client.force_login(district_admin)
    response = client.get(CSV_URL, {"in_progress": "on"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == staff.CSV_HEADER
    assert [r[0] for r in rows[1:]] == ["Ada Alder"]
    assert rows[1][2] == "Pine Elementary"
    assert f"{version.title}: Collecting evidence" in rows[1][3]
    assert rows[1][8] == "No license on file"
    event = AuditEvent.objects.get(action="insights.staff_progress_exported")
    assert event.actor == district_admin and event.organization == org_tree["lea1"]
    assert event.data["rows"] == 1 and event.data["in_progress"] is True

    everyone = list(csv.reader(io.StringIO(client.get(CSV_URL).content.decode())))
    names = [r[0] for r in everyone[1:]]
    assert "'=HYPERLINK(1) X" in names  # never run as a formula
    assert "Cy Cedar" not in names


def test_csv_for_a_state_admin_needs_a_district(client, state_admin, staff_of, org_tree):
    client.force_login(state_admin)
    response = client.get(CSV_URL)
    assert response.status_code == 400
    assert "Choose a school or district first" in response.content.decode()
    response = client.get(CSV_URL, {"org": org_tree["lea2"].pk})
    assert response.status_code == 200
    assert "Cy Cedar" in response.content.decode()
    assert "Ada Alder" not in response.content.decode()
