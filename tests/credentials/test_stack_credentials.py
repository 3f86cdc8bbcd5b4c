"""Stack credentials: completing a stack's required micro-credentials and enough electives
issues the stack's own signed credential, exactly once; revoked credentials do not count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from microcred.assessment import services as assessment
from microcred.assessment.models import AssessorProfile, Award
from microcred.catalog.models import MicroCredentialVersion, Stack
from microcred.credentials import selectors, services
from microcred.credentials.models import IssuedCredential, StackAward
from microcred.credentials.schema import check_schema
from microcred.credentials.tasks import issue_stack_credentials
from microcred.credentials.verification import Status, VerificationReport
from microcred.earning import services as earning
from microcred.orgs.models import AuditEvent, Role, User
from tests.assessment.helpers import feedback_for_all, fill_portfolio, marks_for, qualify_for
from tests.catalog.factories import catalog_people, publish_stack

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


@pytest.fixture
def versions(people) -> list[MicroCredentialVersion]:
    """Four published MCs: two for the stack's required steps, two electives."""
    titles = ["Coaching conversations", "Feedback with data", "Goal setting", "Co-planning"]
    return [people.publish(title=title) for title in titles]


@pytest.fixture
def stack(people, versions) -> Stack:
    """Two required MCs, then two electives of which one must be earned."""
    members = [(v.micro_credential, i < 2) for i, v in enumerate(versions)]
    return publish_stack(
        people.provider,
        people.author,
        members,
        min_electives=1,
        achievement_name="Certified Instructional Coach",
    )


@pytest.fixture
def inez(make_user, org_tree) -> User:
    return make_user(Role.EARNER, org_tree["school1"], first_name="Inez", last_name="Ruiz")


@pytest.fixture
def earn(make_user, org_tree, versions) -> Callable[..., IssuedCredential]:
    """earn(earner, version): submit, score in the passing band, issue; the MC credential."""
    assessor = make_user(Role.ASSESSOR, org_tree["assess"])
    profile = AssessorProfile.objects.create(
        user=assessor, home_organization=org_tree["assess"], weekly_capacity=50
    )
    qualify_for(profile, *(v.micro_credential for v in versions))

    def make(earner: User, version: MicroCredentialVersion) -> IssuedCredential:
        attempt, _ = earning.start_attempt(version, user=earner)
        fill_portfolio(attempt, earner)
        assignment = assessment.assign(earning.submit(attempt, user=earner))
        assessment.submit_score(
            assignment,
            assessor=assessor,
            component_points=marks_for(version, 18),
            feedback=feedback_for_all(version),
            overall_feedback="Specific and well evidenced.",
            minutes_spent=30,
        )
        return services.issue_for_award(Award.objects.get(attempt=attempt, earner=earner))

    return make


def _stack_credentials() -> list[IssuedCredential]:
    return list(IssuedCredential.objects.filter(stack_award__isnull=False))


def test_only_the_required_ones_and_enough_electives_complete_the_stack(
    earn, inez, versions, stack
):
    earn(inez, versions[0])
    earn(inez, versions[2])  # an elective, but a required one is still missing
    assert services.issue_completed_stacks(inez) == []
    assert not selectors.stack_progress(inez, stack).complete
    earn(inez, versions[1])
    (credential,) = services.issue_completed_stacks(inez)
    assert credential.stack_award.stack == stack and credential.earner == inez
    assert credential.award is None


def test_required_ones_without_an_elective_are_not_enough(earn, inez, versions, stack):
    earn(inez, versions[0])
    earn(inez, versions[1])
    assert services.issue_completed_stacks(inez) == []
    with pytest.raises(ValidationError, match="has not completed"):
        services.issue_for_stack(inez, stack)
    assert not StackAward.objects.exists()


def test_the_stack_credential_is_issued_once_however_often_it_is_asked_for(
    earn, inez, versions, stack
):
    for version in versions[:3]:
        earn(inez, version)
    first = services.issue_for_stack(inez, stack)
    assert services.issue_for_stack(inez, stack) == first
    assert services.issue_completed_stacks(inez) == []  # nothing left to issue
    assert issue_stack_credentials.call(inez.pk) == []  # the background task, on a retry
    earn(inez, versions[3])  # the other elective too: still the one credential
    assert services.issue_completed_stacks(inez) == []
    assert _stack_credentials() == [first]
    # Four micro-credential credentials and the one stack credential.
    assert AuditEvent.objects.filter(action="credential.issued").count() == 5


def test_the_background_task_issues_it(earn, inez, versions, stack):
    for version in versions[:3]:
        earn(inez, version)
    (uuid,) = issue_stack_credentials.call(inez.pk)
    assert str(_stack_credentials()[0].uuid) == uuid


def test_a_revoked_micro_credential_does_not_count(
    earn, inez, versions, stack, make_user, org_tree
):
    required = earn(inez, versions[0])
    earn(inez, versions[1])
    earn(inez, versions[2])
    services.revoke(
        make_user(Role.ISSUER_ADMIN, org_tree["issuer"]), required, "Evidence was not her own."
    )
    assert services.issue_completed_stacks(inez) == []
    assert not _stack_credentials()


def test_the_stack_credential_is_valid_open_badges_and_names_what_it_was_built_from(
    earn, inez, versions, stack
):
    parts = [earn(inez, version) for version in versions[:3]]
    (credential,) = services.issue_completed_stacks(inez)
    document = credential.document
    schema = VerificationReport([])
    check_schema(document, schema)
    assert [c.status for c in schema.checks] == [Status.PASSED]
    report = selectors.verify(document)
    assert report.verified, [c for c in report.checks if c.status is Status.FAILED]
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["name"] == document["name"] == "Certified Instructional Coach"
    assert achievement["id"].endswith(reverse("catalog:stack", args=[stack.slug]))
    narrative = achievement["criteria"]["narrative"]
    assert "Coaching conversations; Feedback with data" in narrative
    assert "at least 1 of these: Goal setting; Co-planning" in narrative
    assert [entry["id"] for entry in document["evidence"]] == [p.document["id"] for p in parts]
    assert "result" not in document["credentialSubject"]  # no rubric of its own
    assert credential.issuer == parts[-1].issuer


def test_stack_credentials_show_on_my_credentials_and_their_page(
    client, earn, inez, versions, stack
):
    for version in versions[:3]:
        earn(inez, version)
    (credential,) = services.issue_completed_stacks(inez)
    client.force_login(inez)
    mine = client.get(reverse("credentials:mine")).content.decode()
    assert "Certified Instructional Coach" in mine and "All its micro-credentials earned" in mine
    page = client.get(reverse("credentials:credential", args=[credential.uuid]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Stack · Open Badges 3.0" in text and "Completed with" in text
    assert "Coaching conversations" in text and "Rubric result" not in text
    # The earner alone decides who sees it, as for any credential.
    services.set_public(inez, credential, False)
    client.logout()
    assert client.get(reverse("credentials:credential", args=[credential.uuid])).status_code in (
        403,
        404,
    )


def test_issuing_the_last_micro_credential_issues_the_stack_credential_after_commit(
    earn, inez, versions, stack, django_capture_on_commit_callbacks
):
    earn(inez, versions[0])
    earn(inez, versions[2])
    with django_capture_on_commit_callbacks(execute=True):
        earn(inez, versions[1])
    (credential,) = _stack_credentials()
    assert credential.earner == inez


def test_revoking_a_step_revokes_the_stack_credential_built_on_it(
    earn, inez, versions, stack, make_user, org_tree
):
    required = earn(inez, versions[0])
    earn(inez, versions[1])
    earn(inez, versions[2])
    (stack_credential,) = services.issue_completed_stacks(inez)
    admin = make_user(Role.ISSUER_ADMIN, org_tree["issuer"])
    services.revoke(admin, required, "Evidence was not her own.")
    state = selectors.credential_state(IssuedCredential.objects.get(pk=stack_credential.pk))
    assert state.state == "revoked" and "Evidence was not her own." in state.detail
    event = AuditEvent.objects.filter(action="credential.revoked").order_by("pk").last()
    assert event.data == {"because_of": str(required.uuid)}
    assert services.issue_completed_stacks(inez) == []


def test_revoking_an_elective_made_up_for_by_another_leaves_the_stack_credential(
    earn, inez, versions, stack, make_user, org_tree
):
    for version in versions:
        earn(inez, version)
    (stack_credential,) = services.issue_completed_stacks(inez)
    elective = selectors.held_credentials(inez)[versions[2].micro_credential_id]
    services.revoke(make_user(Role.ISSUER_ADMIN, org_tree["issuer"]), elective, "Wrong person.")
    assert selectors.credential_state(stack_credential).state == "valid"
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1


def test_the_revoke_page_names_the_stack_credential_that_goes_with_it(
    client, earn, inez, versions, stack, make_user, org_tree
):
    required = earn(inez, versions[0])
    earn(inez, versions[1])
    elective = earn(inez, versions[2])
    services.issue_completed_stacks(inez)
    client.force_login(make_user(Role.ISSUER_ADMIN, org_tree["issuer"]))

    def revoke_page(credential: IssuedCredential) -> str:
        url = reverse("credentials:credential_revoke", args=[credential.uuid])
        return client.get(url).content.decode()

    page = revoke_page(required)
    assert "revoked with it" in page and "Certified Instructional Coach" in page
    assert "revoked with it" in revoke_page(elective)  # the only elective held
    earn(inez, versions[3])
    assert "revoked with it" not in revoke_page(elective)  # the other one makes up for it
