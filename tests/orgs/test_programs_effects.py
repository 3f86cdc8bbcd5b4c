"""What a district's program settings do elsewhere: a pilot keeps schools outside its cohort
from starting, a district that asks for pre-approval makes every start wait for the
principal, and a funded micro-credential says so on its page. Through the services and HTTP."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from microcred.catalog import services as catalog_services
from microcred.earning import selectors, services
from microcred.earning.models import Attempt, PreApproval
from microcred.notifications.models import Notification
from microcred.orgs import programs
from microcred.orgs.models import AuditEvent, LeaProgram, Organization, Role

from ..earning.portfolio_helpers import world_fixture  # noqa: F401 (the `world` fixture)

pytestmark = pytest.mark.django_db
Stage = LeaProgram.Stage


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def set_program(world, admin, **settings) -> None:
    programs.save_program(admin, world.school.parent, programs.ProgramSettings(**settings), seen="")


@pytest.fixture
def pine_admin(world, make_user):
    return make_user(
        Role.PROGRAM_ADMIN, world.school.parent, first_name="Dana", last_name="Whitfield"
    )


@pytest.fixture
def outside_school_earner(world, make_user):
    """An earner of Pine Middle, a school of the same district that is not in the pilot."""
    middle = Organization.objects.create(
        kind=Organization.Kind.SCHOOL,
        name="Pine Middle",
        slug="pine-ms",
        parent=world.school.parent,
    )
    return make_user(Role.EARNER, middle)


# ---------------------------------------------------------------------------- the pilot
def test_a_pilot_refuses_starts_outside_its_cohort_and_writes_nothing(
    world, pine_admin, outside_school_earner
):
    set_program(world, pine_admin, stage=Stage.PILOT, pilot_school_ids=frozenset({world.school.pk}))
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        services.start_attempt(world.version, user=outside_school_earner)
    message = error.value.messages[0]
    assert "Pine County Schools" in message and "Pine Middle is not one of them" in message
    assert "Dana Whitfield" in message  # whom to ask
    assert not Attempt.objects.exists() and AuditEvent.objects.count() == events

    # The cohort's own school starts as usual; another district is untouched by Pine's pilot.
    attempt, created = services.start_attempt(world.version, user=world.earner)
    assert created and attempt.status == Attempt.Status.IN_PROGRESS
    assert services.start_attempt(world.version, user=world.other_school_earner)[1]


def test_an_api_client_gets_the_same_refusal(world, pine_admin, outside_school_earner):
    set_program(world, pine_admin, stage=Stage.PILOT, pilot_school_ids=frozenset({world.school.pk}))
    response = signed_in(outside_school_earner).post(
        "/api/v1/earning/attempts",
        {"micro_credential": world.version.micro_credential.slug},
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert "Pine Middle is not one of them yet" in text_of(response)
    assert not Attempt.objects.exists()


def test_outside_the_pilot_stage_every_school_may_start(world, pine_admin, outside_school_earner):
    set_program(world, pine_admin, stage=Stage.EXPANDING)
    attempt, created = services.start_attempt(world.version, user=outside_school_earner)
    assert created and attempt.status == Attempt.Status.IN_PROGRESS


def test_the_start_button_shows_the_pilot_message_on_the_catalog_page(
    world, pine_admin, outside_school_earner
):
    set_program(world, pine_admin, stage=Stage.PILOT, pilot_school_ids=frozenset({world.school.pk}))
    slug = world.version.micro_credential.slug
    client = signed_in(outside_school_earner)
    # Browsing stays open.
    assert client.get(reverse("catalog:detail", args=[slug])).status_code == 200
    response = client.post(reverse("earning:start", args=[slug]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("catalog:detail", args=[slug])
    page = text_of(response)
    assert "Pine Middle is not one of them yet" in page and "Dana Whitfield" in page
    assert not Attempt.objects.exists()


def test_the_pilot_message_comes_before_any_preapproval_form(
    world, pine_admin, outside_school_earner
):
    set_program(
        world,
        pine_admin,
        stage=Stage.PILOT,
        pilot_school_ids=frozenset({world.school.pk}),
        requires_preapproval=True,
    )
    slug = world.version.micro_credential.slug
    response = signed_in(outside_school_earner).post(
        reverse("earning:start", args=[slug]),
        {"use": "professional_learning", "rationale": "I want to."},
        follow=True,
    )
    assert "Pine Middle is not one of them yet" in text_of(response)
    assert not Attempt.objects.exists() and not PreApproval.objects.exists()


# ---------------------------------------------------------------------------- pre-approval
def test_a_district_asking_for_preapproval_makes_every_start_wait_for_the_principal(
    world, pine_admin, django_capture_on_commit_callbacks
):
    assert selectors.preapproval_uses(world.version, world.school) == []
    set_program(world, pine_admin, stage=Stage.FULL, requires_preapproval=True)
    # No approval for use asks for it: the start counts as professional learning.
    assert selectors.preapproval_uses(world.version, world.school) == ["professional_learning"]
    # Oak's earners are not Pine's: no pre-approval for them.
    other_school = world.other_school_earner.memberships.get().organization
    assert selectors.preapproval_uses(world.version, other_school) == []

    with pytest.raises(ValidationError) as error:
        services.start_attempt(world.version, user=world.earner)
    assert set(error.value.message_dict) == {"use", "rationale"}
    assert not Attempt.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        attempt, _ = services.start_attempt(
            world.version, user=world.earner, use="professional_learning", rationale="My goal."
        )
    assert attempt.status == Attempt.Status.AWAITING_PREAPPROVAL
    request = attempt.preapproval
    # The principal decides: only they are asked (no recognizer asked for it).
    asked = set(Notification.objects.filter(kind="preapproval").values_list("user", flat=True))
    assert asked == {world.principal.pk}
    assert selectors.pending_preapprovals(world.principal) == [request]
    assert selectors.can_decide_preapproval(world.principal, request)
    assert not selectors.can_decide_preapproval(world.district_recognizer, request)
    services.decide_preapproval(request, user=world.principal, approve=True)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS


def test_preapproval_offers_the_uses_the_version_is_approved_for(world, pine_admin):
    # The state approved it for license renewal, without asking for pre-approval itself.
    catalog_services.approve_for_use(
        world.version,
        recognizer=world.catalog.recognizer_org,
        actor=world.catalog.recognizer,
        use="license_renewal",
    )
    assert selectors.preapproval_uses(world.version, world.school) == []
    set_program(world, pine_admin, stage=Stage.FULL, requires_preapproval=True)
    assert selectors.preapproval_uses(world.version, world.school) == ["license_renewal"]


def test_the_start_page_asks_for_the_preapproval_and_the_request_waits(world, pine_admin):
    set_program(world, pine_admin, stage=Stage.PLANNING, requires_preapproval=True)
    slug = world.version.micro_credential.slug
    client = signed_in(world.earner)
    form = client.post(reverse("earning:start", args=[slug]))
    assert form.status_code == 200 and "Ask for pre-approval" in text_of(form)
    assert not Attempt.objects.exists()
    response = client.post(
        reverse("earning:start", args=[slug]),
        {"use": "professional_learning", "rationale": "To ask better questions."},
        follow=True,
    )
    assert "Your request for pre-approval was sent." in text_of(response)
    assert Attempt.objects.get().status == Attempt.Status.AWAITING_PREAPPROVAL


# ---------------------------------------------------------------------------- funding
def test_the_catalog_page_says_which_district_funds_it(world, pine_admin, make_user):
    mc = world.version.micro_credential
    set_program(world, pine_admin, stage=Stage.FULL, funded_ids=frozenset({mc.pk}))
    url = reverse("catalog:detail", args=[mc.slug])
    assert "Funded by Pine County Schools" in text_of(signed_in(world.earner).get(url))
    district_earner = make_user(Role.EARNER, world.school.parent)
    assert "Funded by Pine County Schools" in text_of(signed_in(district_earner).get(url))
    assert programs.funding_leas(world.earner, mc) == [world.school.parent]
    # Oak's earner, a visitor and Pine's principal (not an earner) see no such line.
    assert "Funded by" not in text_of(signed_in(world.other_school_earner).get(url))
    assert "Funded by" not in text_of(Client().get(url))
    assert "Funded by" not in text_of(signed_in(world.principal).get(url))
