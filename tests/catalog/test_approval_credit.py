"""Approvals for use choose among structured uses, and every page and the API show what the
approving office's policies in force grant for the use (computed, never typed); the old
free-text notes are kept in the audit log by the migration that removed them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from microcred.catalog import services
from microcred.catalog.models import Approval, ApprovedUse, MicroCredential, Stack, StackMember
from microcred.catalog.samples import coaching_content
from microcred.catalog.selectors import active_approvals, credit_for
from microcred.orgs.models import AuditEvent
from microcred.recognition import services as recognition

from .factories import catalog_people, publish_next_version

pytestmark = pytest.mark.django_db
API = "/api/v1/catalog"


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


@pytest.fixture
def coaching(people):
    """The coaching MC, published: 15 hours, advanced."""
    return people.publish(coaching_content())


@pytest.fixture
def pine_hr(make_user, org_tree):
    return make_user("recognizer_admin", org_tree["lea1"])


def policy(actor, office, *rules, name="Policy", active=True, **dates):
    made = recognition.create_policy(
        actor, office, name=name, effective_from=dates.get("effective_from", date(2020, 1, 1))
    )
    for fields in rules:
        recognition.add_rule(actor, made, **fields)
    return recognition.activate(actor, made) if active else made


CEU = {"kind": "ceu", "ceu_source": "hours", "hours_per_ceu": D("10")}
COUNT = {"kind": "renewal_count", "mcs_required": 4}


@pytest.fixture
def state_renewal(people):
    return policy(people.recognizer, people.recognizer_org, CEU, COUNT, name="State renewal")


# ---------------------------------------------------------------------------- the computed credit
def test_credit_for_each_use_from_the_policies_in_force(people, coaching, state_renewal):
    credit = credit_for(coaching, people.recognizer_org)
    assert credit[ApprovedUse.LICENSE_RENEWAL] == [
        "1.5 CEUs (State renewal)",
        "1 MC toward renewal: 4 approved micro-credentials renew a license (State renewal)",
    ]
    assert set(credit) == set(ApprovedUse.values)
    assert all(credit[use] == [] for use in ApprovedUse.values if use != "license_renewal")


def test_credit_of_every_kind_of_rule(pine_hr, org_tree, coaching):
    stack = Stack.objects.create(
        provider=coaching.micro_credential.provider,
        slug="coaches",
        title="Coaches",
        description="x",
        target_role="Coach",
        level="advanced",
        achievement_name="Coach",
        status=Stack.Status.PUBLISHED,
    )
    StackMember.objects.create(stack=stack, micro_credential=coaching.micro_credential)
    policy(
        pine_hr,
        org_tree["lea1"],
        {"kind": "stipend", "amount": D("300"), "budget": D("600"), "funding_source": "Title II"},
        {"kind": "salary", "salary_foundational": D("200"), "salary_advanced": D("600")},
        {"kind": "masters", "mcs_per_credit": 2, "cap": D("15")},
        {"kind": "contact_units", "units_per_hour": D("2"), "cap": D("30")},
        {"kind": "role", "role_title": "Coach", "stacks": [stack]},
        {"kind": "role", "role_title": "Mentor", "micro_credentials": [coaching.micro_credential]},
        name="Pine pay",
    )
    other = MicroCredential.objects.create(provider=stack.provider, slug="another-mc")
    lead = {"kind": "role", "role_title": "Lead", "micro_credentials": [other]}
    policy(pine_hr, org_tree["lea1"], lead, name="Pine roles")
    credit = credit_for(coaching, org_tree["lea1"])
    assert credit["stipend"] == ["$300.00 stipend, $600.00 of $600.00 left (Pine pay)"]
    assert credit["salary"] == ["$600.00 a year added to base salary (advanced) (Pine pay)"]
    assert credit["masters_equivalency"] == ["0.5 credits, up to 15 credits in all (Pine pay)"]
    assert credit["professional_learning"] == [
        "30 contact units, up to 30 contact units in all (Pine pay)"
    ]
    assert credit["advanced_roles"] == [
        "Counts toward eligibility for the role “Coach” (Pine pay)",
        "Counts toward eligibility for the role “Mentor” (Pine pay)",
        "Not among what the role “Lead” asks for (Pine roles)",
    ]


def test_only_the_offices_own_policies_in_force_count(people, pine_hr, org_tree, coaching):
    policy(pine_hr, org_tree["lea1"], CEU, name="Pine renewal")  # another office
    policy(people.recognizer, people.recognizer_org, COUNT, name="Draft", active=False)
    ended = policy(people.recognizer, people.recognizer_org, CEU, name="Old")
    recognition.retire(people.recognizer, ended, date(2021, 12, 31))
    assert credit_for(coaching, people.recognizer_org)["license_renewal"] == []


def test_a_spent_stipend_budget_says_so(pine_hr, org_tree, coaching):
    policy(
        pine_hr,
        org_tree["lea1"],
        {"kind": "stipend", "amount": D("300"), "budget": D("200"), "funding_source": "Title II"},
        name="Small",
    )
    (line,) = credit_for(coaching, org_tree["lea1"])["stipend"]
    assert "the budget is spent, new stipends are not paid" in line


# ---------------------------------------------------------------------------- the approval page
def test_the_approval_page_offers_every_use_with_its_credit(
    client, people, coaching, state_renewal
):
    client.force_login(people.recognizer)
    text = client.get(reverse("vetting:approval", args=[coaching.pk])).content.decode()
    for _use, label in ApprovedUse.choices:
        assert f">{label}" in text.replace("&#x27;", "'")
    assert "1.5 CEUs (State renewal)" in text
    assert 'aria-describedby="use-credit-license_renewal"' in text
    assert "No policy of State DPI grants anything for stipend yet." in text
    assert reverse("recognition:policies") in text
    assert "What it counts for" not in text  # the free-text note is gone


def test_approve_for_a_structured_use_then_see_its_credit(client, people, coaching, state_renewal):
    client.force_login(people.recognizer)
    url = reverse("vetting:approval", args=[coaching.pk])
    response = client.post(url, {"use": "license_renewal"}, follow=True)
    approval = Approval.objects.get()
    assert approval.use == ApprovedUse.LICENSE_RENEWAL
    text = response.content.decode()
    assert "Approved for license renewal by State DPI." in text
    assert "Worth, under the policies in force:" in text and "1.5 CEUs (State renewal)" in text
    assert '<span class="tag">Approved</span>' in text

    listing = client.get(reverse("vetting:approvals")).content.decode()
    assert "License renewal (1.5 CEUs (State renewal); 1 MC toward renewal" in listing


def test_a_use_that_is_not_one_of_the_structured_uses_is_refused(client, people, coaching):
    client.force_login(people.recognizer)
    url = reverse("vetting:approval", args=[coaching.pk])
    response = client.post(url, {"use": "1.5 renewal credits"})
    assert "Select a valid choice" in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.approve_for_use(
            coaching, recognizer=people.recognizer_org, actor=people.recognizer, use="bonus"
        )
    assert refused.value.message_dict == {
        "use": ["Choose what the micro-credential is approved for."]
    }
    assert not Approval.objects.exists()


def test_public_page_authoring_page_and_api_show_the_credit(
    client, people, coaching, state_renewal
):
    services.approve_for_use(
        coaching, recognizer=people.recognizer_org, actor=people.recognizer, use="license_renewal"
    )
    slug = coaching.micro_credential.slug
    public = client.get(reverse("catalog:detail", args=[slug])).content.decode()
    assert "by State DPI: 1.5 CEUs (State renewal); 1 MC toward renewal" in public

    body = client.get(f"{API}/micro-credentials/{slug}").json()
    (approval,) = body["approvals"]
    assert approval["credit"] == [
        "1.5 CEUs (State renewal)",
        "1 MC toward renewal: 4 approved micro-credentials renew a license (State renewal)",
    ]
    assert "credit_note" not in approval

    (shown,) = active_approvals(coaching)
    assert shown.credit == approval["credit"]


def test_the_credit_follows_the_version(people, coaching, state_renewal):
    """A new version with other hours is worth other CEUs under the same policy."""
    second = publish_next_version(
        coaching.micro_credential, people.author, people.reviewer, estimated_hours="12"
    )
    assert credit_for(second, people.recognizer_org)["license_renewal"][0] == (
        "1.2 CEUs (State renewal)"
    )


# ---------------------------------------------------------------------------- the migration
@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_note_in_the_audit_log(seeded_db, people, coaching):
    # seeded_db: an earlier transactional test's flush may have removed the seeded
    # vocabularies the coaching MC needs.
    before = [("catalog", "0004_recognition_uses")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldApproval = old.get_model("catalog", "Approval")
        noted = OldApproval.objects.create(
            version_id=coaching.pk,
            use="license_renewal",
            recognizer_id=people.recognizer_org.pk,
            approved_by_id=people.recognizer.pk,
            credit_note="What it counts for: 1.5 CEUs (15 hours)..",
        )
        OldApproval.objects.create(
            version_id=coaching.pk,
            use="professional_learning",
            recognizer_id=people.recognizer_org.pk,
            approved_by_id=people.recognizer.pk,
            credit_note="",
        )
    finally:
        # Every app's latest migration, not only catalog's: going back to 0004 also unapplied
        # the migrations of other apps that depend on catalog 0005, and later tests need them.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    (event,) = AuditEvent.objects.filter(action="approval.credit_note_retired")
    assert (event.target_type, event.target_id) == ("catalog.approval", str(noted.pk))
    assert event.data["credit_note"] == "What it counts for: 1.5 CEUs (15 hours).."
    assert event.organization_id == people.recognizer_org.pk
    assert "Collaborative Leadership Coaching" in event.target_label
    uses = set(Approval.objects.values_list("use", flat=True))
    assert uses == {"license_renewal", "professional_learning"}  # approvals keep their use
