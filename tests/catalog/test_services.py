"""The life of a micro-credential through catalog.services, its audit trail, and the
invariant that a version which left draft never changes: not by model save, not by any part,
not by the services, not by the admin. (The edit URL is pinned in test_authoring_views.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from microcred.catalog import selectors, services
from microcred.catalog.models import (
    Alignment,
    Approval,
    ApprovedUse,
    EvidenceRequirement,
    FrozenVersionError,
    GradeBand,
    KeyMethodComponent,
    LearningResource,
    MicroCredential,
    MicroCredentialVersion,
    OutcomeBand,
    Rubric,
    RubricComponent,
    RubricCriterion,
    Stack,
    Subject,
    VettingReview,
)
from microcred.catalog.samples import coaching_content
from microcred.catalog.selectors import content_of
from microcred.orgs.models import AuditEvent, Membership, User
from tests.catalog.factories import approve, catalog_people, meets_everything, standard, vary

Status = MicroCredentialVersion.Status


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


def new_draft(people, **changes: Any) -> MicroCredentialVersion:
    return services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(**changes)
    )


def actions_on(version: MicroCredentialVersion) -> list[str]:
    events = AuditEvent.objects.filter(
        target_type="catalog.microcredentialversion", target_id=str(version.pk)
    ).order_by("created", "id")
    return list(events.values_list("action", flat=True))


def request_changes(version: MicroCredentialVersion, reviewer: Any) -> VettingReview:
    ratings = meets_everything()
    ratings[next(iter(ratings))] = ("partially", "Cite your sources.")
    return services.record_review(
        version,
        reviewer=reviewer,
        decision="changes_requested",
        comments="Strengthen the research basis.",
        ratings=ratings,
    )


# ---------------------------------------------------------------------------- lifecycle
def test_full_lifecycle_with_changes_requested_and_its_audit_trail(people):
    version = new_draft(people)
    assert version.status == Status.DRAFT and version.number == 1

    services.submit_for_vetting(version, author=people.author)
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW and version.submitted_at is not None

    request_changes(version, people.reviewer)
    version.refresh_from_db()
    assert version.status == Status.CHANGES_REQUESTED

    edited = services.update_draft(
        version, author=people.author, content=vary(research_basis="Kee (2010), with pages.")
    )
    assert edited.research_basis == "Kee (2010), with pages."

    services.submit_for_vetting(version, author=people.author)
    services.record_review(
        version,
        reviewer=people.reviewer,
        decision="approved",
        comments="",
        ratings=meets_everything(),
    )
    version.refresh_from_db()
    assert version.status == Status.APPROVED

    services.publish_version(version, actor=people.author)
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED and version.published_at is not None
    assert list(selectors.published_versions()) == [version]
    assert actions_on(version) == [
        "catalog.version.created",
        "catalog.version.submitted",
        "catalog.version.changes_requested",
        "catalog.version.edited",
        "catalog.version.submitted",
        "catalog.version.approved",
        "catalog.version.published",
    ]
    changes = AuditEvent.objects.get(action="catalog.version.changes_requested")
    assert changes.actor == people.reviewer and changes.reason == "Strengthen the research basis."
    assert changes.organization == people.provider


def test_rejected_version_is_final(people):
    version = services.submit_for_vetting(new_draft(people), author=people.author)
    services.record_review(
        version,
        reviewer=people.reviewer,
        decision="rejected",
        comments="This is a course, not a skill.",
        ratings=meets_everything(),
    )
    version.refresh_from_db()
    assert version.status == Status.REJECTED
    with pytest.raises(services.TransitionError):
        services.submit_for_vetting(version, author=people.author)
    with pytest.raises(services.TransitionError):
        services.publish_version(version, actor=people.author)


def test_publishing_a_new_version_supersedes_the_previous_one(people):
    v1 = people.publish()
    v2 = services.start_new_version(v1.micro_credential, author=people.author)
    services.update_draft(v2, author=people.author, content=vary(summary="Sharper summary."))
    approve(v2, author=people.author, reviewer=people.reviewer)
    services.publish_version(v2, actor=people.reviewer)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (Status.SUPERSEDED, Status.PUBLISHED)
    assert list(selectors.published_versions()) == [v2]
    assert actions_on(v1)[-1] == "catalog.version.superseded"


def test_a_new_version_is_a_draft_copy_and_leaves_the_old_one_unchanged(people):
    item = standard()
    v1 = people.publish(alignments=[str(item.identifier)])
    before = content_of(v1)

    v2 = services.start_new_version(v1.micro_credential, author=people.author)
    assert (v2.number, v2.status) == (2, Status.DRAFT)
    assert content_of(v2) == before
    assert actions_on(v2) == ["catalog.version.started"]

    services.update_draft(v2, author=people.author, content=vary(title="Coaching, revised"))
    v1.refresh_from_db()
    assert v1.status == Status.PUBLISHED
    assert content_of(v1) == before
    # Parts are copies, not shared rows.
    assert not set(v1.components.values_list("pk", flat=True)) & set(
        v2.components.values_list("pk", flat=True)
    )


def test_only_one_version_is_worked_on_at_a_time(people):
    v1 = people.publish()
    services.start_new_version(v1.micro_credential, author=people.author)
    with pytest.raises(services.TransitionError, match="already being worked on"):
        services.start_new_version(v1.micro_credential, author=people.author)
    assert v1.micro_credential.versions.count() == 2


def test_retire_keeps_the_version_and_hides_it(people):
    version = people.publish()
    with pytest.raises(ValidationError, match="Say why"):
        services.retire_version(version, actor=people.author, reason=" ")
    services.retire_version(version, actor=people.author, reason="Superseded by state policy.")
    version.refresh_from_db()
    assert version.status == Status.RETIRED and version.retired_at is not None
    assert MicroCredentialVersion.objects.filter(pk=version.pk).exists()
    assert content_of(version)["title"] == "Collaborative Leadership Coaching"
    assert not selectors.published_versions().exists()
    with pytest.raises(services.TransitionError):
        services.retire_version(version, actor=people.author, reason="Again.")
    assert actions_on(version).count("catalog.version.retired") == 1


def test_a_draft_cannot_be_retired_published_or_reviewed(people):
    version = new_draft(people)
    with pytest.raises(services.TransitionError):
        services.retire_version(version, actor=people.author, reason="No.")
    with pytest.raises(services.TransitionError):
        services.publish_version(version, actor=people.author)
    with pytest.raises(services.TransitionError):
        request_changes(version, people.reviewer)


def test_a_reviewer_cannot_review_their_own_micro_credential(people, org_tree):
    Membership.objects.create(
        user=people.author, organization=org_tree["state"], role="vetting_reviewer"
    )
    version = services.submit_for_vetting(new_draft(people), author=people.author)
    with pytest.raises(ValidationError, match="you authored"):
        services.record_review(
            version,
            reviewer=people.author,
            decision="approved",
            comments="",
            ratings=meets_everything(),
        )
    assert not VettingReview.objects.exists()
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW


def test_a_review_posted_twice_records_one_decision(people):
    version = services.submit_for_vetting(new_draft(people), author=people.author)
    request_changes(version, people.reviewer)
    with pytest.raises(services.TransitionError, match="changes requested"):
        request_changes(version, people.reviewer)
    assert VettingReview.objects.count() == 1


def test_create_with_the_same_form_key_twice_makes_one(people):
    key = uuid.uuid4()
    first = services.create_micro_credential(
        provider=people.provider, author=people.author, content=coaching_content(), key=key
    )
    with pytest.raises(services.AlreadySavedError) as raised:
        services.create_micro_credential(
            provider=people.provider, author=people.author, content=coaching_content(), key=key
        )
    assert raised.value.existing == first.micro_credential
    assert MicroCredential.objects.count() == 1


# ---------------------------------------------------------------------------- approvals for use
def test_approvals_are_unique_per_use_and_recognizer(people, org_tree):
    version = people.publish()
    args = {"recognizer": people.recognizer_org, "actor": people.recognizer}
    services.approve_for_use(version, use=ApprovedUse.LICENSE_RENEWAL, **args)
    with pytest.raises(ValidationError, match="already approved for that use"):
        services.approve_for_use(version, use=ApprovedUse.LICENSE_RENEWAL, **args)
    services.approve_for_use(version, use=ApprovedUse.ADVANCED_ROLES, **args)
    services.approve_for_use(
        version,
        use=ApprovedUse.LICENSE_RENEWAL,
        recognizer=org_tree["lea1"],
        actor=people.recognizer,
    )
    assert Approval.objects.count() == 3
    assert AuditEvent.objects.filter(action="catalog.approval.granted").count() == 3


def test_withdrawing_twice_is_refused_and_a_fresh_approval_is_then_possible(people):
    version = people.publish()
    approval = services.approve_for_use(
        version,
        recognizer=people.recognizer_org,
        actor=people.recognizer,
        use=ApprovedUse.LICENSE_RENEWAL,
    )
    services.withdraw_approval(approval, actor=people.recognizer, reason="Policy changed.")
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.withdraw_approval(approval, actor=people.recognizer, reason="Again.")
    assert AuditEvent.objects.filter(action="catalog.approval.withdrawn").count() == 1
    services.approve_for_use(
        version,
        recognizer=people.recognizer_org,
        actor=people.recognizer,
        use=ApprovedUse.LICENSE_RENEWAL,
    )
    assert Approval.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_only_vetted_versions_can_be_approved_for_use(people):
    version = services.submit_for_vetting(new_draft(people), author=people.author)
    with pytest.raises(services.TransitionError):
        services.approve_for_use(
            version,
            recognizer=people.recognizer_org,
            actor=people.recognizer,
            use=ApprovedUse.PROFESSIONAL_LEARNING,
        )
    assert not Approval.objects.exists()


# ---------------------------------------------------------------------------- stacks
def test_stack_saved_twice_with_one_key_and_published_once(people):
    one, two = people.publish(), people.publish(vary(title="Feedback conversations"))
    data = {
        "title": "Coaching pathway",
        "description": "Grow as a coach.",
        "target_role": "Coaches",
        "level": "advanced",
        "achievement_name": "Coaching Leader",
    }
    members = [(one.micro_credential, True), (two.micro_credential, True)]
    key = uuid.uuid4()
    stack = services.save_stack(
        provider=people.provider, author=people.author, data=data, members=members, key=key
    )
    with pytest.raises(services.AlreadySavedError):
        services.save_stack(
            provider=people.provider, author=people.author, data=data, members=members, key=key
        )
    services.publish_stack(stack, actor=people.author)
    with pytest.raises(services.TransitionError):
        services.publish_stack(stack, actor=people.author)
    with pytest.raises(ValidationError, match="Only a draft stack"):
        services.save_stack(
            provider=people.provider,
            author=people.author,
            data=data,
            members=members,
            stack=Stack.objects.get(pk=stack.pk),
        )
    assert Stack.objects.count() == 1


# ---------------------------------------------------------------------------- invariants
FROZEN = [Status.IN_REVIEW, Status.APPROVED, Status.PUBLISHED]


@pytest.fixture(params=FROZEN)
def frozen(request, people) -> MicroCredentialVersion:
    version = new_draft(people, alignments=[str(standard().identifier)])
    if request.param == Status.IN_REVIEW:
        services.submit_for_vetting(version, author=people.author)
    else:
        approve(version, author=people.author, reviewer=people.reviewer)
    if request.param == Status.PUBLISHED:
        services.publish_version(version, actor=people.author)
    version.refresh_from_db()
    assert version.status == request.param
    return version


def test_frozen_version_refuses_a_model_save(frozen):
    before = content_of(frozen)
    frozen.title = "Changed behind the service's back"
    with pytest.raises(FrozenVersionError):
        frozen.save()
    with pytest.raises(FrozenVersionError):
        frozen.delete()
    assert content_of(frozen) == before


def _parts(version: MicroCredentialVersion) -> list[Any]:
    rubric = version.rubric
    component = rubric.components.first()
    return [
        version.components.first(),
        version.resources.first(),
        version.evidence_requirements.first(),
        version.alignments.first(),
        rubric,
        component,
        component.criteria.first(),
        rubric.bands.first(),
    ]


def test_frozen_version_refuses_every_parts_save_and_delete(frozen):
    before = content_of(frozen)
    parts = _parts(frozen)
    assert all(part is not None for part in parts)
    for part in parts:
        with pytest.raises(FrozenVersionError):
            part.save()
        with pytest.raises(FrozenVersionError):
            part.delete()
    assert content_of(frozen) == before


def test_frozen_version_refuses_new_parts_and_vocabulary_links(frozen):
    rubric = frozen.rubric
    component = rubric.components.first()
    new_parts = [
        KeyMethodComponent(version=frozen, title="Extra"),
        LearningResource(version=frozen, title="Extra"),
        EvidenceRequirement(version=frozen, kind="written", title="Extra", instructions="x"),
        Alignment(version=frozen, standard_item=standard()),
        RubricComponent(rubric=rubric, title="Extra", max_points=1),
        RubricCriterion(rubric_component=component, text="Extra"),
        OutcomeBand(rubric=rubric, label="Extra", min_points=0, max_points=7),
    ]
    for part in new_parts:
        with pytest.raises(FrozenVersionError):
            part.save()
    with pytest.raises(FrozenVersionError):
        Rubric.objects.filter(version=frozen).first().save()
    # Django's related managers write inside atomic(savepoint=False): a savepoint per attempt
    # keeps the test's transaction usable, as a request's own transaction would be rolled back.
    leadership = Subject.objects.get(code="leadership")
    with pytest.raises(FrozenVersionError), transaction.atomic():
        frozen.grade_bands.add(GradeBand.objects.get(code="k-2"))
    with pytest.raises(FrozenVersionError), transaction.atomic():
        leadership.versions.remove(frozen)
    with pytest.raises(FrozenVersionError), transaction.atomic():
        frozen.subjects.clear()
    assert content_of(frozen)["grade_bands"] == ["k-12"]
    assert content_of(frozen)["subjects"] == ["leadership"]


def test_frozen_version_refuses_update_draft(frozen, people):
    before = content_of(frozen)
    with pytest.raises(services.TransitionError, match="cannot be edited"):
        services.update_draft(frozen, author=people.author, content=vary(title="Changed"))
    assert content_of(frozen) == before
    assert "catalog.version.edited" not in actions_on(frozen)


def test_a_draft_still_takes_vocabulary_changes(people):
    version = new_draft(people)
    version.grade_bands.add(GradeBand.objects.get(code="k-2"))
    assert set(content_of(version)["grade_bands"]) == {"k-12", "k-2"}


def test_admin_change_views_refuse_frozen_versions_and_their_parts(client, frozen):
    admin = User.objects.create_superuser(email="admin@example.org", password="pw-for-tests-1")
    client.force_login(admin)
    before = content_of(frozen)
    version_url = reverse("admin:catalog_microcredentialversion_change", args=[frozen.pk])
    rubric_url = reverse("admin:catalog_rubric_change", args=[frozen.rubric.pk])
    component_url = reverse(
        "admin:catalog_rubriccomponent_change", args=[frozen.rubric.components.first().pk]
    )
    for url in (version_url, rubric_url, component_url):
        page = client.get(url)
        assert page.status_code == 200  # shown read-only
        assert 'name="_save"' not in page.content.decode()
        assert client.post(url, {"title": "Changed in admin"}).status_code == 403
    delete_url = reverse("admin:catalog_microcredentialversion_delete", args=[frozen.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert content_of(frozen) == before


def test_admin_edits_a_draft_and_the_vocabularies(client, people):
    version = new_draft(people)
    admin = User.objects.create_superuser(email="admin@example.org", password="pw-for-tests-1")
    client.force_login(admin)
    page = client.get(reverse("admin:catalog_microcredentialversion_change", args=[version.pk]))
    assert 'name="_save"' in page.content.decode()
    for name in ("qualitycriterion", "gradeband", "subject"):
        assert client.get(reverse(f"admin:catalog_{name}_add")).status_code == 200
    for name in ("standardframework", "standarditem", "vettingreview", "approval"):
        assert client.get(reverse(f"admin:catalog_{name}_add")).status_code == 403
        assert client.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200
