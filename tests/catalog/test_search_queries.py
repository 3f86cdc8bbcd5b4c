"""The catalog page's cost in queries, and the counts its filters show (issue 8, finding 14).

Query counts are pinned here; timings are not (bench/catalog_search.py measures those). Every
count is taken on a page the process has not kept yet: a warm-up request to another address
first reads the catalog's generation token and its filter choices, as any earlier visitor would.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from microcred.catalog import services
from microcred.catalog.models import Subject
from microcred.catalog.search import (
    FILTERS,
    CatalogQuery,
    catalog_changed,
    catalog_generation,
    facets,
    filter_choices,
    matching,
    resolve_filters,
)

from .factories import approve_use, catalog_people, publish_stack, standard

pytestmark = pytest.mark.django_db
SEARCH = reverse("catalog:search")
MAX_QUERIES = 6

BANDS = ["pre-k", "k-2", "3-5", "6-8", "9-12", "k-12"]
SUBJECTS = ["literacy", "mathematics", "science", "assessment", "leadership"]
DIFFICULTIES = ["foundational", "intermediate", "advanced"]
USES = ["license_renewal", "professional_learning", "advanced_roles"]


def build_catalog(org_tree, make_user, size: int) -> dict:
    """`size` published micro-credentials from two providers that vary on every filter, with
    approvals (one withdrawn), standards from two frameworks and a stack."""
    rng = random.Random(8)
    people = catalog_people(org_tree, make_user)
    other = catalog_people({**org_tree, "provider": org_tree["other_provider"]}, make_user)
    first = standard(code="1.a")
    items = [first, standard(first.framework, code="1.b"), standard(code="ISTE 2")]
    versions = []
    for i in range(size):
        version = (people if i % 3 else other).publish(
            title=f"Skill {i + 1:02d} with exit tickets" if i % 2 else f"Skill {i + 1:02d}",
            grade_bands=rng.sample(BANDS, rng.randint(1, 3)),
            subjects=rng.sample(SUBJECTS, rng.randint(1, 2)),
            difficulty=rng.choice(DIFFICULTIES),
            alignments=[str(x.identifier) for x in rng.sample(items, rng.randint(0, 2))],
        )
        for use in rng.sample(USES, rng.randint(0, 2)):
            approve_use(version, people.recognizer_org, people.recognizer, use)
        versions.append(version)
    # A second recognizer approving the same use must not count the version twice.
    approve_use(versions[1], org_tree["lea1"], people.recognizer, "license_renewal")
    if not versions[1].approvals.filter(use="license_renewal", recognizer=people.recognizer_org):
        approve_use(versions[1], people.recognizer_org, people.recognizer, "license_renewal")
    withdrawn = approve_use(versions[2], org_tree["lea1"], people.recognizer, "advanced_roles")
    services.withdraw_approval(withdrawn, actor=people.recognizer, reason="Under review.")
    own = [v for v in versions if v.micro_credential.provider == people.provider]
    stack = publish_stack(
        people.provider,
        people.author,
        [(own[0].micro_credential, True), (own[1].micro_credential, False)],
    )
    return {"people": people, "versions": versions, "items": items, "stack": stack}


@pytest.fixture
def catalog(org_tree, make_user):
    """More than a page of results."""
    return build_catalog(org_tree, make_user, 22)


@pytest.fixture
def small(org_tree, make_user):
    return build_catalog(org_tree, make_user, 8)


PAGES = {
    "no filter": {},
    "a query": {"q": "exit tickets"},
    "several filters": {
        "grade_band": ["k-2", "3-5", "6-8"],
        "subject": ["literacy", "mathematics", "science"],
        "use": ["license_renewal", "professional_learning"],
        "provider": "lfl",
    },
    "page 2": {"page": 2},
}


def warm_up(client) -> None:
    """Another address: reads the generation token and keeps the filter choices."""
    assert client.get(SEARCH, {"q": "warm-up"}).status_code == 200


def test_a_catalog_page_takes_at_most_six_queries(client, catalog):
    # One test for the four pages, as building the catalog is the slow part.
    warm_up(client)
    for name, params in PAGES.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(SEARCH, params)
        sql = [q["sql"] for q in captured.captured_queries]
        assert len(sql) <= MAX_QUERIES, (name, sql)
        # Rendered for this request (not a kept page), with results to show.
        assert response.status_code == 200
        assert response.context["results"], name
        # The number of results comes with the filter counts: no separate COUNT(*) query.
        assert not [s for s in sql if s.startswith("SELECT COUNT(*)")], name
        if name == "page 2":
            assert [v.title for v, _uses in response.context["results"]] == [
                f"Skill {i:02d}" + (" with exit tickets" if i % 2 == 0 else "")
                for i in range(21, 23)
            ]


def test_a_kept_page_costs_one_query_and_is_the_same_page(client, small, django_assert_num_queries):
    first = client.get(SEARCH, PAGES["several filters"])

    with django_assert_num_queries(1):  # the generation token
        again = client.get(SEARCH, PAGES["several filters"])

    assert again.content == first.content


def test_a_change_to_the_catalog_shows_at_once(client, small):
    people = small["people"]
    before = client.get(SEARCH, {"q": "fresh"}).content.decode()
    assert "0 micro-credentials" in before

    people.publish(title="Fresh skill", subjects=["science"])
    after = client.get(SEARCH, {"q": "fresh"}).content.decode()

    assert "1 micro-credential for" in after and "Fresh skill" in after


def test_an_approval_withdrawn_leaves_the_counts_and_the_cards(client, small):
    people, version = small["people"], small["versions"][0]
    approval = approve_use(version, people.recognizer_org, people.recognizer, "advanced_roles")
    shown = client.get(SEARCH, {"use": "advanced_roles"})
    assert version in [v for v, _uses in shown.context["results"]]

    services.withdraw_approval(approval, actor=people.recognizer, reason="Withdrawn.")
    later = client.get(SEARCH, {"use": "advanced_roles"})

    assert version not in [v for v, _uses in later.context["results"]]


def test_filter_choices_are_kept_until_the_catalog_changes(small, django_assert_num_queries):
    generation = catalog_generation()
    filter_choices(generation)

    with django_assert_num_queries(0):
        filter_choices(generation)

    Subject.objects.create(code="astronomy", name="Astronomy")
    subjects = {value for value, _label, _group in filter_choices()["subject"]}
    assert "astronomy" in subjects


QUERIES = [
    CatalogQuery(),
    CatalogQuery(q="exit tickets"),
    CatalogQuery(grade_band=("k-2", "6-8"), subject=("literacy", "science")),
    CatalogQuery(q="skill", use=("license_renewal",), difficulty=("advanced", "foundational")),
    CatalogQuery(provider=("lfl",), grade_band=("3-5",)),
]


def test_counts_match_a_naive_count_per_option(small):
    """Each option's count is how many results choosing it would give: counted here the slow
    way, one filtered query per option, with every other filter applied."""
    specs = {spec.name: spec for spec in FILTERS}
    stack, items = small["stack"], small["items"]
    extras = ({}, {"stack": (stack.slug,)}, {"standard": (str(items[0].identifier),)})
    for asked in [replace(query, **extra) for query in QUERIES for extra in extras]:
        filters = resolve_filters(asked)
        assert filters.ignored == []
        assert filters.total == matching(asked).count()
        for facet in filters.facets:
            others = matching(asked, without=facet.name)
            for option in facet.options:
                naive = others.filter(specs[facet.name].narrow((option.value,))).distinct().count()
                assert option.count == naive, (asked, facet.name, option.value)
        assert filters.facets == facets(asked)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_token_is_read_once_a_second(django_assert_num_queries):
    token = catalog_generation()
    with django_assert_num_queries(0):
        assert catalog_generation() == token

    catalog_changed()  # a change in this process is seen at once

    assert catalog_generation() != token


def test_a_transaction_asks_for_one_new_generation_on_commit(small):
    # The fixture's writes ran in this test's transaction: many saves, one callback.
    from microcred.catalog.search import _new_generation

    catalog_changed()
    catalog_changed()

    pending = [func for _sids, func, _robust in connection.run_on_commit]
    assert pending.count(_new_generation) == 1
