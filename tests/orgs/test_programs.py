"""Roll-out settings per district (orgs.programs): the one write, its checks and audit, and
the state view's rows, counts and filters."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from microcred.catalog import services as catalog_services
from microcred.orgs import programs
from microcred.orgs.models import AuditEvent, LeaProgram, Organization, Role

from ..catalog.factories import catalog_people, vary

pytestmark = pytest.mark.django_db

Stage = LeaProgram.Stage
PS = programs.ProgramSettings


@pytest.fixture
def pine_middle(org_tree) -> Organization:
    return Organization.objects.create(
        kind=Organization.Kind.SCHOOL, name="Pine Middle", slug="pine-ms", parent=org_tree["lea1"]
    )


@pytest.fixture
def mc(org_tree, make_user):
    people = catalog_people(org_tree, make_user)
    return people.publish(vary(title="Questioning")).micro_credential


def state(program_lea: Organization) -> tuple:
    program = programs.program_for(program_lea)
    return programs.settings_of(program), AuditEvent.objects.count()


def test_a_save_is_audited_with_before_and_after_and_a_repeat_changes_nothing(
    org_tree, lea_admin, pine_middle, mc
):
    pine = org_tree["lea1"]
    wanted = PS(Stage.PILOT, frozenset({pine_middle.pk}), frozenset({mc.pk}), True)
    assert programs.save_program(lea_admin, pine, wanted, seen="") is True

    program = LeaProgram.objects.get(lea=pine)
    assert programs.settings_of(program) == wanted
    assert program.updated_by == lea_admin
    event = AuditEvent.objects.get(action="program.updated")
    assert event.organization == pine and event.actor == lea_admin
    assert event.data["before"] == {
        "stage": "not_started",
        "pilot_schools": [],
        "funded_micro_credentials": [],
        "requires_preapproval": False,
    }
    assert event.data["after"] == {
        "stage": "pilot",
        "pilot_schools": ["pine-ms"],
        "funded_micro_credentials": [mc.slug],
        "requires_preapproval": True,
    }
    # The same form posted again (a double click, a reload): nothing new, nothing recorded.
    assert programs.save_program(lea_admin, pine, wanted, seen="") is False
    assert AuditEvent.objects.filter(action="program.updated").count() == 1


def test_a_change_made_after_the_form_was_opened_is_not_overwritten(
    org_tree, lea_admin, state_admin, pine_middle
):
    pine = org_tree["lea1"]
    programs.save_program(lea_admin, pine, PS(Stage.PLANNING), seen="")
    opened = programs.stamp_of(programs.program_for(pine))
    programs.save_program(state_admin, pine, PS(Stage.FULL), seen=opened)
    before = state(pine)
    with pytest.raises(programs.AlreadyChanged, match="changed these settings after you opened"):
        programs.save_program(lea_admin, pine, PS(Stage.EXPANDING), seen=opened)
    assert state(pine) == before
    assert programs.program_for(pine).stage == Stage.FULL


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (
            lambda t, s, mc: PS(Stage.PILOT, frozenset({t["school2"].pk})),
            "pilot_schools",
            "Only schools of Pine County Schools",
        ),
        (lambda t, s, mc: PS(Stage.PILOT), "pilot_schools", "Choose at least one school"),
        (
            lambda t, s, mc: PS(Stage.EXPANDING, frozenset({s.pk})),
            "pilot_schools",
            "applies only in the pilot stage",
        ),
        (lambda t, s, mc: PS("launched"), "stage", "Choose one of the stages"),
        (
            lambda t, s, mc: PS(Stage.FULL, funded_ids=frozenset({mc.pk})),
            "funded",
            "only micro-credentials in the catalog",
        ),
    ],
    ids=["school-of-another-district", "empty-pilot", "cohort-outside-pilot", "stage", "draft"],
)
def test_bad_settings_are_refused_on_their_field_and_change_nothing(
    org_tree, make_user, lea_admin, pine_middle, make, field, message
):
    people = catalog_people(org_tree, make_user)
    draft = catalog_services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Not yet vetted")
    ).micro_credential
    pine = org_tree["lea1"]
    before = state(pine)
    with pytest.raises(ValidationError) as error:
        programs.save_program(lea_admin, pine, make(org_tree, pine_middle, draft), seen="")
    assert message in " ".join(error.value.message_dict[field])
    assert state(pine) == before
    assert not LeaProgram.objects.exists()


def test_only_program_staff_of_the_district_or_the_state_may_save(
    org_tree, make_user, lea_admin, state_admin, teacher
):
    pine = org_tree["lea1"]
    oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
    for outsider in (oak_admin, teacher):
        with pytest.raises(PermissionDenied):
            programs.save_program(outsider, pine, PS(Stage.PLANNING), seen="")
    assert not LeaProgram.objects.exists()
    assert programs.save_program(state_admin, pine, PS(Stage.PLANNING), seen="")
    # A school is not a district, whoever asks.
    with pytest.raises(ValidationError):
        programs.save_program(state_admin, org_tree["school1"], PS(Stage.PLANNING), seen="")


def test_the_overview_counts_every_stage_and_filters(org_tree, state_admin, pine_middle, mc):
    pine, oak = org_tree["lea1"], org_tree["lea2"]
    Organization.objects.create(
        kind=Organization.Kind.LEA, name="Birch Schools", slug="birch", parent=org_tree["state"]
    )
    programs.save_program(
        state_admin,
        pine,
        PS(Stage.PILOT, frozenset({pine_middle.pk, org_tree["school1"].pk}), frozenset({mc.pk})),
        seen="",
    )
    programs.save_program(state_admin, oak, PS(Stage.FULL, requires_preapproval=True), seen="")

    leas = programs.program_leas(state_admin)
    everything = programs.overview(leas, programs.ProgramFilters())
    rows = {row.lea.slug: row for row in everything.rows}
    assert [row.lea.name for row in everything.rows] == [
        "Birch Schools",
        "Oak City Schools",
        "Pine County Schools",
    ]
    # Two schools and one MC: the counts are not multiplied by each other.
    assert (rows["pine"].stage, rows["pine"].pilot_schools, rows["pine"].funded) == ("pilot", 2, 1)
    assert (rows["oak"].stage_label, rows["oak"].requires_preapproval) == ("Full program", True)
    assert rows["birch"].stage == "not_started" and rows["birch"].pilot_schools == 0
    assert everything.counts == [
        ("not_started", "Not started", 1),
        ("planning", "Planning", 0),
        ("pilot", "Pilot", 1),
        ("expanding", "Expanding", 0),
        ("full", "Full program", 1),
    ]
    assert everything.chart["labels"][4] == "Full program"
    assert everything.chart["datasets"][0]["data"] == [1, 0, 1, 0, 1]

    def slugs(**filters):
        return [
            row.lea.slug for row in programs.overview(leas, programs.ProgramFilters(**filters)).rows
        ]

    assert slugs(stage="pilot") == ["pine"]
    assert slugs(region="East") == ["oak"]
    assert slugs(locale="rural") == ["pine"]
    assert slugs(low_wealth=True) == ["pine"]
    assert slugs(low_wealth=False) == ["birch", "oak"]
    # The stage filter narrows the rows, not the counts.
    only_pilot = programs.overview(leas, programs.ProgramFilters(stage="pilot"))
    assert only_pilot.counts == everything.counts
    assert programs.overview(leas, programs.ProgramFilters(region="West")).counts[2][2] == 1


def test_a_district_admin_sees_only_their_district(org_tree, lea_admin, teacher):
    assert list(programs.program_leas(lea_admin)) == [org_tree["lea1"]]
    assert not programs.sees_whole_state(lea_admin)
    assert list(programs.program_leas(teacher)) == []
