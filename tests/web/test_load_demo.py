"""`manage.py load_demo`: every role can sign in, the catalog shows every vetting state, and
running it again (or on a database in use) changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from microcred.assessment import anchors
from microcred.assessment.models import AssessorProfile, Assignment, CalibrationSet
from microcred.catalog import services
from microcred.catalog.models import (
    Approval,
    MicroCredential,
    MicroCredentialVersion,
    Stack,
    StandardItem,
    VettingReview,
)
from microcred.catalog.samples import COACHING_SLUG
from microcred.credentials import selectors as credential_selectors
from microcred.credentials.models import IssuedCredential
from microcred.earning.models import Upload
from microcred.orgs.demo import ACCOUNTS
from microcred.orgs.models import AuditEvent, Membership, Organization, Role, User

pytestmark = pytest.mark.django_db
Status = MicroCredentialVersion.Status


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "micro_credentials": MicroCredential.objects.count(),
        "versions": MicroCredentialVersion.objects.count(),
        "reviews": VettingReview.objects.count(),
        "approvals": Approval.objects.count(),
        "stacks": Stack.objects.count(),
        "standards": StandardItem.objects.count(),
        "credentials": IssuedCredential.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_every_role_has_an_account_that_can_sign_in(client, settings):
    # The real hasher, to check demo passwords are stored the way production stores them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    out = load()

    assert {a.role for a in ACCOUNTS if a.role} == set(Role.values)
    for account in ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.password.startswith("argon2"), account.email
        assert user.name == account.name
        if account.role:
            assert Membership.objects.filter(
                user=user, role=account.role, organization__slug=account.organization, active=True
            ).exists(), account
        else:
            assert user.is_superuser
        assert client.login(email=account.email, password=account.password), account.email
        client.logout()
        assert f"{account.email} / {account.password}" in out


def test_the_state_has_districts_of_each_kind_with_schools():
    load()
    state = Organization.objects.get(kind=Organization.Kind.STATE_AGENCY)
    leas = Organization.objects.filter(kind=Organization.Kind.LEA, parent=state)
    assert {(lea.locale, lea.size, lea.low_wealth) for lea in leas} == {
        ("rural", "small", True),
        ("suburb", "medium", False),
        ("city", "large", False),
    }
    assert all(lea.region for lea in leas)
    assert all(lea.children.filter(kind=Organization.Kind.SCHOOL).count() == 2 for lea in leas)
    assert Organization.objects.filter(kind=Organization.Kind.PROVIDER).count() == 3
    assert Organization.objects.get(kind=Organization.Kind.ISSUER).parent == state
    assert Organization.objects.filter(kind=Organization.Kind.ASSESSMENT_ORG).count() == 1


def test_coaching_micro_credential_is_published_approved_and_aligned():
    load()
    version = MicroCredentialVersion.objects.get(
        micro_credential__slug=COACHING_SLUG, status=Status.PUBLISHED
    )
    assert version.micro_credential.provider.name == "Coaching Leaders Institute"
    assert "Illinois Principals Association" in version.research_basis
    assert sum(c.max_points for c in version.rubric.components.all()) == 20
    assert [
        (b.label, b.min_points, b.max_points, b.passing) for b in version.rubric.bands.all()
    ] == [
        ("Yes", 16, 20, True),
        ("Almost", 13, 15, False),
        ("Not Yet", 8, 12, False),
    ]
    review = version.reviews.get()
    assert review.decision == VettingReview.Decision.APPROVED
    assert {r.rating for r in review.ratings.all()} == {"meets"}
    state = version.approvals.filter(withdrawn_at__isnull=True, recognizer__slug="state-dpi")
    assert {a.use for a in state} == {
        "license_renewal",
        "professional_learning",
    }
    assert {a.standard_item.human_coding_scheme for a in version.alignments.all()} == {
        "MLC.1",
        "MLC.2",
        "MLC.3",
        "MLC.4",
    }


def test_stacks_are_published_with_their_members_in_order():
    load()
    reading = Stack.objects.get(title="Early Reading Skills")
    assert reading.status == Stack.Status.PUBLISHED
    assert [(m.micro_credential.slug, m.required) for m in reading.members.all()] == [
        ("phonemic-awareness", True),
        ("phonics", True),
        ("reading-fluency", True),
        ("vocabulary-instruction", True),
        ("comprehension-strategies", True),
    ]
    checking = Stack.objects.get(title="Checking for Understanding")
    assert checking.status == Stack.Status.PUBLISHED
    assert checking.min_electives == 2
    assert [(m.micro_credential.slug, m.required) for m in checking.members.all()] == [
        ("using-ask-ask-ask", False),
        ("using-gestures", False),
        ("using-whiteboards", False),
    ]


def test_every_vetting_state_is_present():
    load()
    statuses = set(MicroCredentialVersion.objects.values_list("status", flat=True))
    assert statuses >= {
        Status.DRAFT,
        Status.IN_REVIEW,
        Status.CHANGES_REQUESTED,
        Status.APPROVED,
        Status.PUBLISHED,
        Status.SUPERSEDED,
        Status.RETIRED,
    }
    assert MicroCredentialVersion.objects.filter(status=Status.PUBLISHED).count() >= 8
    changes = MicroCredentialVersion.objects.get(status=Status.CHANGES_REQUESTED)
    review = changes.reviews.get()
    assert review.decision == VettingReview.Decision.CHANGES_REQUESTED
    assert "hours" in review.comments
    assert review.ratings.filter(rating="partially").count() == 2
    # A version 2 replaced its version 1 in the catalog.
    superseded = MicroCredentialVersion.objects.get(status=Status.SUPERSEDED)
    newer = superseded.micro_credential.versions.get(number=2)
    assert (superseded.number, newer.status) == (1, Status.PUBLISHED)
    # Every published micro-credential is aligned to our standards and has evidence parts.
    for version in MicroCredentialVersion.objects.filter(status=Status.PUBLISHED):
        assert version.alignments.exists(), version
        assert version.evidence_requirements.count() >= 3, version


def test_earners_hold_credentials_in_every_state():
    load()
    states: dict[str, list[str]] = {}
    for credential in IssuedCredential.objects.all():
        state = credential_selectors.credential_state(credential).state
        states.setdefault(state, []).append(credential.document["name"])
        report = credential_selectors.verify(credential.document)
        failed = {c.name for c in report.checks if c.status.name == "FAILED"}
        # Every one is genuine; the revoked one fails only its status check.
        assert failed == ({"status"} if state == "revoked" else set()), (state, failed)
    assert states["revoked"] == ["Phonics: Explicit, Systematic Letter-Sound Instruction"]
    assert len(states["valid"]) == 4
    (stack,) = IssuedCredential.objects.filter(stack_award__isnull=False)
    assert stack.earner.email == "earner@demo.microcred.org"
    assert stack.document["name"] == "Checking for Understanding Practitioner"
    # The evidence videos are real files, probed like any upload (the scoring lead's five are
    # the calibration anchors').
    ready = Upload.objects.filter(probe_status=Upload.ProbeStatus.READY)
    assert ready.exclude(owner__email="scoring-lead@demo.microcred.org").count() == 4


def test_the_demo_assessor_can_calibrate_on_the_leads_written_anchors():
    load()
    (calibration_set,) = CalibrationSet.objects.all()
    assert [a.source for a in calibration_set.anchors.all()] == ["written"] * 5
    assert sorted(a.master_total for a in calibration_set.anchors.all()) == [2, 5, 7, 8, 9]
    # Never scored live: calibration material only.
    assert not Assignment.objects.filter(
        submission__anchors__calibration_set=calibration_set
    ).exists()
    assessor = AssessorProfile.objects.get(user__email="assessor@demo.microcred.org")
    assert anchors.sets_to_start(assessor) == [calibration_set]


def test_running_again_creates_no_duplicates():
    load()
    first = snapshot()
    out = load()
    assert "0 created, 11 already present" in out
    assert snapshot() == first
    out = load("--if-new")
    assert "the demo was not loaded" in out
    assert snapshot() == first


def test_if_new_leaves_a_database_in_use_alone(org_tree):
    before = snapshot()
    out = load("--if-new")
    assert "already has users or organizations" in out
    assert snapshot() == before
    assert not User.objects.exists()


def test_if_new_loads_an_empty_database():
    load("--if-new")
    assert User.objects.count() == len({a.email for a in ACCOUNTS})
    assert MicroCredential.objects.filter(slug=COACHING_SLUG).exists()


def test_a_failure_part_way_leaves_nothing_behind(monkeypatch):
    def broken_publish(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "publish_stack", broken_publish)
    with pytest.raises(RuntimeError):
        load()
    assert all(count == 0 for count in snapshot().values()), snapshot()


def test_the_demo_has_the_state_renewal_policy_one_district_policy_of_each_kind_and_entries():
    from microcred.recognition.models import LedgerEntry, License, RecognitionPolicy

    out = load()
    in_force = RecognitionPolicy.objects.filter(status=RecognitionPolicy.Status.ACTIVE)
    state_kinds = set(
        in_force.filter(recognizer__slug="state-dpi").values_list("rules__kind", flat=True)
    )
    district_kinds = set(
        in_force.filter(recognizer__slug="pine-ridge-county").values_list("rules__kind", flat=True)
    )
    assert state_kinds == {"ceu", "renewal_count"}
    assert district_kinds == {"stipend", "salary", "masters", "contact_units", "role"}
    assert License.objects.filter(cycles__isnull=False).count() == 2
    maya = LedgerEntry.objects.filter(educator__email="earner@demo.microcred.org")
    assert set(maya.values_list("kind", flat=True)) >= {"ceu", "renewal_count", "stipend", "salary"}
    assert maya.filter(kind="role", title="Formative assessment lead").exists()
    assert maya.filter(kind="ceu", status="approved").exists()
    # Daniel's phonics credential was revoked: its entries are reversed, not removed.
    daniel = LedgerEntry.objects.filter(educator__email="teacher@demo.microcred.org")
    assert daniel.filter(reverses__isnull=False).exists()
    assert "Recognition:" in out and "ledger entries posted" in out
    before = LedgerEntry.objects.count()
    load()
    assert LedgerEntry.objects.count() == before
