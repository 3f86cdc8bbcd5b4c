"""The catalog's read-only JSON API and its OpenAPI document."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from microcred.catalog import services
from microcred.catalog.samples import coaching_content

from .factories import (
    approve_use,
    catalog_people,
    publish_next_version,
    publish_stack,
    standard,
    vary,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/catalog"


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


@pytest.fixture
def coaching(people):
    item = standard(code="NCPTS 1.a", statement="Teachers lead in their classrooms.")
    version = people.publish(coaching_content(), alignments=[str(item.identifier)])
    approve_use(version, people.recognizer_org, people.recognizer, "license_renewal")
    return version


def get_json(client, path: str, params=None, status: int = 200):
    response = client.get(path, params or {})
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# ---------------------------------------------------------------------------- search
def test_search_returns_published_micro_credentials_with_filters(client, people, coaching):
    people.publish(title="Phonics routines", grade_bands=["k-2"], subjects=["literacy"])
    services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Draft phonics")
    )

    everything = get_json(client, f"{API}/micro-credentials")
    phonics = get_json(client, f"{API}/micro-credentials", {"q": "phonics"})
    renewal = get_json(client, f"{API}/micro-credentials", {"use": "license_renewal"})
    bands = get_json(client, f"{API}/micro-credentials", {"grade_band": ["k-2", "k-12"]})
    both = get_json(
        client, f"{API}/micro-credentials", {"grade_band": "k-2", "subject": "leadership"}
    )

    assert everything["count"] == 2
    assert [i["title"] for i in phonics["items"]] == ["Phonics routines"]
    assert [i["slug"] for i in renewal["items"]] == [coaching.micro_credential.slug]
    assert bands["count"] == 2
    assert both == {"items": [], "count": 0}
    item = renewal["items"][0]
    assert item["approved_uses"] == ["license_renewal"]
    assert item["provider"] == {"slug": "lfl", "name": "Learning Forward Lab"}
    assert item["estimated_hours"] == 15.0
    assert item["grade_bands"] == [{"code": "k-12", "name": "All grades (K-12)"}]
    assert item["url"] == f"http://testserver/catalog/mc/{coaching.micro_credential.slug}/"
    assert get_json(client, item["api_url"])["slug"] == coaching.micro_credential.slug


def test_search_is_paginated(client, people):
    for n in range(23):
        people.publish(title=f"Skill {n + 1:02d}")

    first = get_json(client, f"{API}/micro-credentials")
    last = get_json(client, f"{API}/micro-credentials", {"page": 3, "page_size": 10})

    assert first["count"] == 23 and len(first["items"]) == 20
    assert [i["title"] for i in last["items"]] == ["Skill 21", "Skill 22", "Skill 23"]


def test_search_query_count_does_not_grow_with_results(client, people):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            get_json(client, f"{API}/micro-credentials", {"q": "skill"})
        return len(captured)

    for n in range(2):
        approve_use(
            people.publish(title=f"Skill {n}"),
            people.recognizer_org,
            people.recognizer,
            "license_renewal",
        )
    few = queries()
    for n in range(2, 12):
        people.publish(title=f"Skill {n}")
    assert queries() == few


def test_invalid_filters_get_a_clear_422(client):
    body = get_json(
        client,
        f"{API}/micro-credentials",
        {"difficulty": "hard", "framework": "x"},
        status=422,
    )
    problems = {p["field"]: p["message"] for p in body["errors"]}
    assert "foundational" in problems["difficulty.0"]
    assert "UUID" in problems["framework.0"]


# ---------------------------------------------------------------------------- one micro-credential
def test_detail_has_the_full_published_version(client, coaching):
    body = get_json(client, f"{API}/micro-credentials/{coaching.micro_credential.slug}")

    assert body["accepting_attempts"] is True
    assert body["current_version"] == 1
    version = body["version"]
    assert version["status"] == "published"
    assert len(version["components"]) == 4
    evidence = version["evidence_requirements"]
    assert [e["kind"] for e in evidence] == ["written", "video", "reflection"]
    assert evidence[0]["word_limit"] == 1000
    assert (evidence[1]["min_duration_seconds"], evidence[1]["max_duration_seconds"]) == (600, 900)
    assert evidence[1]["requires_annotations"] is True
    assert evidence[2]["word_limit"] == 500
    rubric = version["rubric"]
    assert rubric["total_points"] == 20
    assert [len(c["criteria"]) for c in rubric["components"]] == [5, 5, 5, 5]
    assert [
        (b["label"], b["min_points"], b["max_points"], b["passing"]) for b in rubric["bands"]
    ] == [
        ("Yes", 16, 20, True),
        ("Almost", 13, 15, False),
        ("Not Yet", 8, 12, False),
    ]
    item = coaching.alignments.get().standard_item
    assert version["alignments"] == [
        {
            "identifier": str(item.identifier),
            "uri": item.uri,
            "human_coding_scheme": "NCPTS 1.a",
            "full_statement": "Teachers lead in their classrooms.",
            "framework": {
                "identifier": str(item.framework.identifier),
                "uri": item.framework.uri,
                "title": item.framework.title,
            },
        }
    ]
    (approval,) = body["approvals"]
    assert approval["use"] == "license_renewal"
    assert approval["recognizer"] == {"slug": "dpi", "name": "State DPI"}
    assert approval["credit"] == []  # State DPI has no policy in force yet


def test_detail_of_an_earlier_version_and_of_a_retired_one(client, people):
    first = people.publish(title="Number talks")
    publish_next_version(first.micro_credential, people.author, people.reviewer, title="Talks 2")
    slug = first.micro_credential.slug

    old = get_json(client, f"{API}/micro-credentials/{slug}/versions/1")
    assert old["accepting_attempts"] is False
    assert old["current_version"] == 2
    assert old["version"]["title"] == "Number talks"
    assert [(v["number"], v["status"]) for v in old["versions"]] == [
        (2, "published"),
        (1, "superseded"),
    ]

    current = first.micro_credential.versions.get(number=2)
    services.retire_version(current, actor=people.reviewer, reason="Replaced by a stack.")
    retired = get_json(client, f"{API}/micro-credentials/{slug}")
    assert retired["version"]["status"] == "retired"
    assert retired["accepting_attempts"] is False
    assert retired["current_version"] is None
    assert get_json(client, f"{API}/micro-credentials")["count"] == 0


def test_unpublished_and_unknown_are_404_with_a_message(client, people):
    draft = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Draft")
    )
    slug = draft.micro_credential.slug

    body = get_json(client, f"{API}/micro-credentials/{slug}", status=404)
    assert body["detail"] == f"There is no micro-credential '{slug}' in the catalog."
    get_json(client, f"{API}/micro-credentials/{slug}/versions/1", status=404)
    get_json(client, f"{API}/micro-credentials/nothing", status=404)
    get_json(client, f"{API}/stacks/nothing", status=404)


# ---------------------------------------------------------------------------- stacks, standards
def test_stacks_list_and_pathway(client, people):
    steps = [
        (people.publish(title="Observing lessons").micro_credential, True),
        (people.publish(title="Video coaching").micro_credential, False),
        (people.publish(title="Data meetings").micro_credential, False),
    ]
    stack = publish_stack(people.provider, people.author, steps, min_electives=1)
    draft = services.save_stack(
        provider=people.provider,
        author=people.author,
        data={
            "title": "Draft",
            "description": "Not yet.",
            "target_role": "Coach",
            "level": "foundational",
            "achievement_name": "Draft badge",
        },
        members=steps[:2],
    )

    listed = get_json(client, f"{API}/stacks")
    assert [s["slug"] for s in listed] == [stack.slug]
    assert (listed[0]["required_count"], listed[0]["elective_count"]) == (1, 2)
    assert listed[0]["min_electives"] == 1

    body = get_json(client, f"{API}/stacks/{stack.slug}")
    assert body["stack"]["achievement_name"] == "Certified Instructional Coach"
    assert [
        (s["number"], s["required"], s["micro_credential"]["title"]) for s in body["steps"]
    ] == [
        (1, True, "Observing lessons"),
        (2, False, "Video coaching"),
        (3, False, "Data meetings"),
    ]
    get_json(client, f"{API}/stacks/{draft.slug}", status=404)


def test_standards_lists_frameworks(client):
    item = standard(code="1.a")
    standard(item.framework, code="1.b")

    (framework,) = get_json(client, f"{API}/standards")

    assert framework["identifier"] == str(item.framework.identifier)
    assert framework["title"] == item.framework.title
    assert framework["item_count"] == 2


# ---------------------------------------------------------------------------- OpenAPI
def test_openapi_document_describes_the_catalog(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1.")
    assert {
        "/api/v1/catalog/micro-credentials",
        "/api/v1/catalog/micro-credentials/{slug}",
        "/api/v1/catalog/micro-credentials/{slug}/versions/{number}",
        "/api/v1/catalog/stacks",
        "/api/v1/catalog/stacks/{slug}",
        "/api/v1/catalog/standards",
    } <= set(document["paths"])
    search = document["paths"]["/api/v1/catalog/micro-credentials"]["get"]
    assert {"q", "grade_band", "subject", "difficulty", "use", "provider", "stack", "page"} <= {
        p["name"] for p in search["parameters"]
    }
    assert "MicroCredentialOut" in document["components"]["schemas"]
