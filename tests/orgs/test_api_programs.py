"""Roll-out settings over the API (invariant 8): the same reach and refusals as the pages, and
a change that names a stale `updated` is refused with 409 and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from microcred.orgs import programs
from microcred.orgs.models import AuditEvent, Organization, Role
from microcred.orgs.tokens import create_token

from .test_programs_views import mc, pine_middle  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/programs"


def bearer(user) -> Client:
    _, secret = create_token(user, name="script")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def put(client: Client, slug: str, data: dict):
    return client.put(f"{BASE}/{slug}", data, content_type="application/json")


def test_a_district_office_reads_and_changes_its_settings(
    make_user,
    org_tree,
    pine_middle,  # noqa: F811
    mc,  # noqa: F811
):
    admin = bearer(make_user(Role.PROGRAM_ADMIN, org_tree["lea1"]))
    read = admin.get(f"{BASE}/pine").json()
    assert read == {
        "district": "pine",
        "stage": "not_started",
        "pilot_schools": [],
        "funded_micro_credentials": [],
        "requires_preapproval": False,
        "updated": "",
    }
    changed = put(
        admin,
        "pine",
        {
            "stage": "pilot",
            "pilot_schools": ["pine-ms"],
            "funded_micro_credentials": [mc.slug],
            "requires_preapproval": True,
            "updated": "",
        },
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["stage"], body["pilot_schools"], body["funded_micro_credentials"]) == (
        "pilot",
        ["pine-ms"],
        [mc.slug],
    )
    assert programs.requires_preapproval(pine_middle)
    assert AuditEvent.objects.filter(action="program.updated").count() == 1
    # The stamp read before the change is stale now: 409, nothing changes.
    stale = put(admin, "pine", {"stage": "full", "updated": ""})
    assert stale.status_code == 409 and stale.json()["code"] == "changed_since_read"
    assert programs.program_for(org_tree["lea1"]).stage == "pilot"


def test_bad_settings_are_refused_with_the_pages_words(make_user, org_tree):
    admin = bearer(make_user(Role.PROGRAM_ADMIN, org_tree["lea1"]))
    unknown = put(admin, "pine", {"stage": "planning", "pilot_schools": ["nowhere"], "updated": ""})
    assert unknown.status_code == 400 and "nowhere" in unknown.json()["detail"]
    other_district = put(
        admin, "pine", {"stage": "pilot", "pilot_schools": ["oak-ms"], "updated": ""}
    )
    assert other_district.status_code == 400
    assert "Only schools of Pine County Schools" in other_district.json()["errors"][0]["message"]
    assert programs.program_for(org_tree["lea1"]) is None
    assert not AuditEvent.objects.filter(action="program.updated").exists()


def test_reach(make_user, org_tree):
    state = bearer(make_user(Role.PROGRAM_ADMIN, org_tree["state"]))
    assert {row["district"] for row in state.get(f"{BASE}/").json()} == {"pine", "oak"}
    district = bearer(make_user(Role.PROGRAM_ADMIN, org_tree["lea1"]))
    assert [row["district"] for row in district.get(f"{BASE}/").json()] == ["pine"]
    assert district.get(f"{BASE}/oak").status_code == 404
    assert put(district, "oak", {"stage": "planning", "updated": ""}).status_code == 404
    earner = bearer(make_user(Role.EARNER, org_tree["school1"]))
    assert earner.get(f"{BASE}/").status_code == 403
    assert Organization.objects.filter(slug="oak").exists()
