"""Search and filters of the public catalog (catalog/search.py), on the database under test."""

from __future__ import annotations

import pytest
from django.db import connection

from microcred.catalog import services
from microcred.catalog.models import ApprovedUse, MicroCredentialVersion
from microcred.catalog.search import (
    CatalogQuery,
    facets,
    fts5_expression,
    install_fulltext,
    resolve_filters,
    search,
    text_match,
)

from .factories import (
    approve,
    approve_use,
    catalog_people,
    publish_next_version,
    publish_stack,
    standard,
    vary,
)

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5 only")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


def titles(query: CatalogQuery) -> list[str]:
    return [v.title for v in search(query)]


def found(text: str = "", **filters) -> set[str]:
    query = CatalogQuery(q=text, **{k: tuple(v) for k, v in filters.items()})
    return {v.title for v in search(query)}


# ---------------------------------------------------------------------------- text
def test_finds_words_in_title_competency_and_key_method(people):
    people.publish(title="Whiteboard routines")
    people.publish(title="Reading conferences", competency_statement="Uses fluency probes.")
    people.publish(title="Number talks", key_method="Students share mental arithmetic aloud.")

    assert found("whiteboard") == {"Whiteboard routines"}
    assert found("fluency") == {"Reading conferences"}
    assert found("arithmetic") == {"Number talks"}


def test_does_not_find_words_only_in_other_fields(people):
    content = vary(title="Exit tickets", research_basis="Wiliam on formative zebrafish.")
    content["evidence"][0]["instructions"] = "Describe one platypus lesson."
    content["components"][0]["title"] = "Gather the narwhal data"
    people.publish(content)

    assert found("zebrafish") == set()
    assert found("platypus") == set()
    assert found("narwhal") == set()
    assert found("exit tickets") == {"Exit tickets"}


def test_stems_and_ignores_case_and_function_words(people):
    people.publish(title="Coaching School Leaders")

    assert found("coach") == {"Coaching School Leaders"}
    assert found("COACHES for the leader") == {"Coaching School Leaders"}


def test_ranks_a_title_match_above_a_match_elsewhere(people):
    people.publish(title="Questioning in science", key_method="Students write a lab report.")
    people.publish(title="Lab safety", key_method="Students rehearse the lab routine.")
    people.publish(
        title="Discourse moves",
        competency_statement="Teacher plans questioning sequences.",
        key_method="Questioning, questioning, and wait time for questioning.",
    )

    assert titles(CatalogQuery(q="questioning")) == ["Questioning in science", "Discourse moves"]
    assert titles(CatalogQuery(q="lab"))[0] == "Lab safety"


def test_web_search_syntax_phrases_or_and_exclusion(people):
    people.publish(title="Guided reading groups", key_method="Small groups read leveled texts.")
    people.publish(title="Reading aloud", key_method="Teacher models fluent reading to groups.")
    people.publish(title="Math stations", key_method="Students rotate through stations.")

    assert found('"guided reading"') == {"Guided reading groups"}
    assert found("reading -guided") == {"Reading aloud"}
    assert found("stations OR aloud") == {"Math stations", "Reading aloud"}
    assert found("reading groups") == {"Guided reading groups", "Reading aloud"}


@pytest.mark.parametrize(
    "text",
    ['"', "NEAR(a b)", "title:coaching", "coach*", "'; DROP TABLE x; --", "(((", "-", "OR", "^x"],
)
def test_search_syntax_never_breaks_the_query(people, text):
    people.publish(title="Coaching conversations")

    list(search(CatalogQuery(q=text)))  # no database error, whatever was typed
    assert {f.name for f in facets(CatalogQuery(q=text))}  # counts run too


def test_fts5_expression_quotes_every_term():
    assert fts5_expression("exit tickets") == '("exit") AND ("tickets")'
    assert fts5_expression('"exit ticket" OR quiz -pop') == ('("exit ticket" OR "quiz") NOT "pop"')
    assert fts5_expression("co-develop plans") == '("co develop") AND ("plans")'
    assert fts5_expression('title:x NEAR("a"') == '("title x") AND ("near")'
    assert fts5_expression("the and of") is None
    assert fts5_expression("-only") is None


# ---------------------------------------------------------------------------- what is public
def test_only_published_versions_are_found(people):
    draft = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Draft phonics")
    )
    in_review = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Review phonics")
    )
    services.submit_for_vetting(in_review, author=people.author)
    approved = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Approved phonics")
    )
    approve(approved, author=people.author, reviewer=people.reviewer)
    retired = people.publish(title="Retired phonics")
    services.retire_version(retired, actor=people.reviewer, reason="Replaced by a new design.")
    people.publish(title="Published phonics")

    assert found("phonics") == {"Published phonics"}
    assert found() == {"Published phonics"}
    assert draft.pk and in_review.pk


def test_a_new_version_replaces_the_old_one_in_results(people):
    first = people.publish(title="Anchor charts", key_method="Students build anchor charts.")
    second = publish_next_version(
        first.micro_credential,
        people.author,
        people.reviewer,
        title="Co-created anchor charts",
        key_method="Students and teacher co-create charts with sticky notes.",
    )

    results = list(search(CatalogQuery(q="charts")))
    assert [v.pk for v in results] == [second.pk]
    assert found("sticky") == {"Co-created anchor charts"}
    # Words only the superseded version had are no longer found.
    assert found("build") == set()


# ---------------------------------------------------------------------------- filters
@pytest.fixture
def catalog(people, org_tree, make_user):
    """Four published micro-credentials that differ on every filter."""
    item_a = standard(code="1.a", statement="Leads collaborative learning.")
    item_b = standard(item_a.framework, code="1.b", statement="Plans with colleagues.")
    other_framework_item = standard(code="ISTE 2", statement="Uses technology to coach.")
    mcs = {
        "coaching": people.publish(
            title="Coaching leaders",
            grade_bands=["k-12"],
            subjects=["leadership"],
            difficulty="advanced",
            alignments=[str(item_a.identifier)],
        ),
        "phonics": people.publish(
            title="Phonics routines",
            grade_bands=["k-2"],
            subjects=["literacy"],
            difficulty="foundational",
            alignments=[str(item_b.identifier)],
        ),
        "fractions": people.publish(
            title="Fraction talks",
            grade_bands=["3-5", "6-8"],
            subjects=["mathematics"],
            difficulty="intermediate",
            alignments=[str(other_framework_item.identifier)],
        ),
    }
    other = catalog_people({**org_tree, "provider": org_tree["other_provider"]}, make_user)
    mcs["labs"] = other.publish(
        title="Science labs",
        grade_bands=["6-8"],
        subjects=["science"],
        difficulty="intermediate",
        alignments=[],
    )
    approve_use(mcs["coaching"], people.recognizer_org, people.recognizer, "license_renewal")
    approve_use(mcs["coaching"], org_tree["lea1"], people.recognizer, "license_renewal")
    approve_use(mcs["fractions"], people.recognizer_org, people.recognizer, "advanced_roles")
    withdrawn = approve_use(
        mcs["phonics"], people.recognizer_org, people.recognizer, "professional_learning"
    )
    services.withdraw_approval(withdrawn, actor=people.recognizer, reason="Under review again.")
    stack = publish_stack(
        people.provider,
        people.author,
        [(mcs["coaching"].micro_credential, True), (mcs["fractions"].micro_credential, False)],
        title="Math coach pathway",
    )
    return {"mcs": mcs, "items": (item_a, item_b, other_framework_item), "stack": stack}


def test_each_filter_narrows(catalog, org_tree):
    item_a, item_b, iste = catalog["items"]
    assert found(grade_band=["k-2"]) == {"Phonics routines"}
    assert found(grade_band=["6-8"]) == {"Fraction talks", "Science labs"}
    assert found(subject=["literacy"]) == {"Phonics routines"}
    assert found(difficulty=["intermediate"]) == {"Fraction talks", "Science labs"}
    assert found(use=["license_renewal"]) == {"Coaching leaders"}
    assert found(use=["advanced_roles"]) == {"Fraction talks"}
    # A withdrawn approval no longer counts.
    assert found(use=["professional_learning"]) == set()
    assert found(provider=["other"]) == {"Science labs"}
    assert found(provider=["lfl"]) == {"Coaching leaders", "Phonics routines", "Fraction talks"}
    assert found(stack=[catalog["stack"].slug]) == {"Coaching leaders", "Fraction talks"}
    assert found(standard=[str(item_b.identifier)]) == {"Phonics routines"}
    assert found(framework=[str(item_a.framework.identifier)]) == {
        "Coaching leaders",
        "Phonics routines",
    }
    assert found(framework=[str(iste.framework.identifier)]) == {"Fraction talks"}


def test_values_in_one_filter_add_up_and_filters_combine(catalog):
    assert found(grade_band=["k-2", "k-12"]) == {"Phonics routines", "Coaching leaders"}
    assert found(grade_band=["6-8"], provider=["lfl"]) == {"Fraction talks"}
    assert found("talks", grade_band=["6-8"], difficulty=["intermediate"]) == {"Fraction talks"}
    assert found("labs", grade_band=["6-8"], subject=["mathematics"]) == set()


def test_no_duplicate_rows_when_several_values_match(catalog):
    results = list(search(CatalogQuery(grade_band=("3-5", "6-8"), use=("advanced_roles",))))
    assert [v.title for v in results] == ["Fraction talks"]


def test_counts_apply_every_other_filter(catalog):
    query = CatalogQuery(grade_band=("6-8",), subject=("science",))
    by_name = {f.name: f for f in facets(query)}

    def count(name: str, value: str) -> int:
        return next(o.count for o in by_name[name].options if o.value == value)

    # Grade bands are counted with the subject filter only.
    assert count("grade_band", "6-8") == 1
    assert count("grade_band", "k-2") == 0
    # Subjects are counted with the grade band filter only: choosing mathematics would add one.
    assert count("subject", "mathematics") == 1
    assert count("subject", "science") == 1
    assert count("difficulty", "intermediate") == 1
    assert count("provider", "other") == 1
    assert "lfl" not in {o.value for o in by_name["provider"].options if o.count}
    assert next(o for o in by_name["subject"].options if o.value == "science").selected


def test_filter_options_list_only_what_is_published(catalog, people):
    services.create_micro_credential(
        provider=people.provider,
        author=people.author,
        content=vary(title="Draft", alignments=[str(standard().identifier)]),
    )
    by_name = {f.name: f for f in facets(CatalogQuery())}

    assert by_name["provider"].values == {"lfl", "other"}
    assert by_name["stack"].values == {catalog["stack"].slug}
    assert by_name["framework"].values == {
        str(catalog["items"][0].framework.identifier),
        str(catalog["items"][2].framework.identifier),
    }
    assert {o.group for o in by_name["standard"].options} == {
        catalog["items"][0].framework.title,
        catalog["items"][2].framework.title,
    }
    assert by_name["use"].values == set(ApprovedUse.values)


def test_unknown_values_are_left_out_and_reported(catalog):
    filters = resolve_filters(
        CatalogQuery(subject=("literacy", "astrology"), standard=("not-a-uuid",))
    )

    assert filters.query.subject == ("literacy",)
    assert filters.query.standard == ()
    assert len(filters.ignored) == 2
    assert "Subject: “astrology” is not one of the choices" in filters.ignored[0]
    assert {v.title for v in search(filters.query)} == {"Phonics routines"}


def test_query_from_get_parameters_drops_blanks_and_duplicates():
    from django.http import QueryDict

    params = QueryDict("q=+phonics+&grade_band=k-2&grade_band=k-2&provider=&subject=literacy")
    query = CatalogQuery.from_params(params)

    assert query == CatalogQuery(q="phonics", grade_band=("k-2",), subject=("literacy",))
    assert query.has_filters
    assert not CatalogQuery.from_params(QueryDict("q=x&provider=")).has_filters


# ---------------------------------------------------------------------------- the index
@sqlite_only
def test_sqlite_index_is_repaired_when_its_triggers_are_lost(people):
    people.publish(title="Before the loss")
    with connection.cursor() as cursor:
        for event in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER catalog_version_fts_{event}")
    people.publish(title="Written while unindexed")
    assert found("unindexed") == set()

    assert install_fulltext(connection) is True

    assert found("unindexed") == {"Written while unindexed"}
    assert found("loss") == {"Before the loss"}
    assert install_fulltext(connection) is False  # nothing left to repair


@postgres_only
def test_postgres_search_uses_the_gin_index(people):
    people.publish(title="Phonics routines")
    qs = text_match(MicroCredentialVersion.objects.all(), "phonics", ranked=False)
    with connection.cursor() as cursor:
        # Too few rows for the planner to prefer an index unless told to: what matters here is
        # that the query's expression is the indexed one, so the index can serve it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "catalog_version_search_gin" in plan
    assert [v.title for v in qs] == ["Phonics routines"]


def test_status_of_results_is_published(catalog):
    assert {v.status for v in search(CatalogQuery())} == {MicroCredentialVersion.Status.PUBLISHED}
