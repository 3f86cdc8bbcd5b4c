"""The public catalog pages, through HTTP: search, micro-credential pages, stacks."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from microcred.catalog import services
from microcred.catalog.samples import coaching_content

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
SEARCH = reverse("catalog:search")


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


def text_of(response) -> str:
    """The page's visible text, whitespace collapsed, for phrase assertions."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def result_titles(response) -> list[str]:
    return [v.title for v, _uses in response.context["results"]]


# ---------------------------------------------------------------------------- search page
def test_search_page_is_public_and_lists_results(client, people, org_tree):
    coaching = people.publish()
    approve_use(coaching, people.recognizer_org, people.recognizer, "license_renewal")

    response = client.get(SEARCH, {"q": "coaching"})

    assert response.status_code == 200
    page = text_of(response)
    assert "1 micro-credential for “coaching”" in page
    assert "Collaborative Leadership Coaching" in page
    assert "By Learning Forward Lab" in page
    assert "Advanced" in page and "About 15 hours" in page
    assert "All grades (K-12)" in page and "Leadership and coaching" in page
    assert "Approved for license renewal" in page
    assert f'href="{reverse("catalog:detail", args=[coaching.micro_credential.slug])}"' in (
        response.content.decode()
    )


def test_home_page_form_and_header_link_reach_the_search(client, people):
    people.publish()
    home = client.get(reverse("web:home")).content.decode()

    assert f'action="{SEARCH}"' in home
    assert f'href="{SEARCH}"' in home
    assert client.get(SEARCH, {"q": "leadership"}).status_code == 200


def test_filters_are_labelled_and_narrow_results(client, people):
    people.publish(title="Phonics routines", grade_bands=["k-2"], subjects=["literacy"])
    people.publish(title="Fraction talks", grade_bands=["3-5"], subjects=["mathematics"])

    response = client.get(SEARCH, {"grade_band": "k-2"})
    html = response.content.decode()

    assert result_titles(response) == ["Phonics routines"]
    assert "<legend>Grade band</legend>" in html
    assert re.search(r'<label for="f-grade_band-\d+">Grades K-2 <span', html)
    assert re.search(r'value="k-2" checked', html)
    assert '<label for="f-provider">Provider</label>' in html
    # Subject counts follow the grade band chosen: mathematics would give nothing more.
    assert re.search(r"Mathematics <span[^>]*>\(0", html)
    assert re.search(r"Literacy and reading <span[^>]*>\(1", html)


def test_a_chosen_provider_stays_selected(client, people, org_tree, make_user):
    people.publish(title="Phonics routines")
    other = catalog_people({**org_tree, "provider": org_tree["other_provider"]}, make_user)
    other.publish(title="Science labs")

    response = client.get(SEARCH, {"provider": "other"})

    assert result_titles(response) == ["Science labs"]
    assert '<option value="other" selected>Other Provider (1)</option>' in (
        response.content.decode()
    )
    assert '<option value="lfl">Learning Forward Lab (1)</option>' in response.content.decode()


def test_no_results_says_so_and_offers_to_clear_filters(client, people):
    people.publish(title="Phonics routines", grade_bands=["k-2"])

    response = client.get(SEARCH, {"q": "phonics", "grade_band": "9-12"})

    page = text_of(response)
    assert "No published micro-credential matches “phonics” with these filters." in page
    assert f'href="{SEARCH}?q=phonics">clear the filters' in response.content.decode()
    assert result_titles(client.get(SEARCH, {"q": "phonics"})) == ["Phonics routines"]


def test_unknown_filter_values_are_explained_not_fatal(client, people):
    people.publish(title="Phonics routines")

    response = client.get(SEARCH, {"subject": "astrology", "framework": "1'; --"})

    assert response.status_code == 200
    assert "Subject: “astrology” is not one of the choices" in text_of(response)
    assert result_titles(response) == ["Phonics routines"]


def test_overlong_query_and_bad_page_numbers_are_handled(client, people):
    people.publish(title="Phonics routines")

    assert client.get(SEARCH, {"q": "phonics " * 100}).status_code == 200
    assert result_titles(client.get(SEARCH, {"page": "abc"})) == ["Phonics routines"]
    assert result_titles(client.get(SEARCH, {"page": "99"})) == ["Phonics routines"]


@pytest.fixture
def many(people):
    """Published micro-credentials named "Skill 01" ... so their order is known."""

    def make(n: int) -> None:
        stack_members = []
        for i in range(n):
            version = people.publish(
                title=f"Skill {i + 1:02d}",
                grade_bands=["k-2", "3-5"],
                subjects=["literacy", "assessment"],
            )
            approve_use(version, people.recognizer_org, people.recognizer, "license_renewal")
            stack_members.append((version.micro_credential, i % 2 == 0))
        publish_stack(people.provider, people.author, stack_members)

    return make


def test_results_are_paginated_twenty_a_page(client, many):
    many(23)

    first = client.get(SEARCH)
    second = client.get(SEARCH, {"page": 2})

    assert result_titles(first) == [f"Skill {i:02d}" for i in range(1, 21)]
    assert result_titles(second) == ["Skill 21", "Skill 22", "Skill 23"]
    assert "Page 1 of 2" in text_of(first)
    assert 'href="?page=2"' in first.content.decode()
    assert "Showing 21 to 23" in text_of(second)


def test_pagination_keeps_the_query_and_filters(client, many):
    many(21)

    response = client.get(SEARCH, {"q": "skill", "grade_band": "k-2"})

    assert 'href="?q=skill&amp;grade_band=k-2&amp;page=2"' in response.content.decode()


SEARCH_PARAMS = {"q": "skill", "grade_band": ["k-2", "3-5"], "use": "license_renewal"}


def test_search_page_runs_a_constant_number_of_queries(client, many, django_assert_max_num_queries):
    many(3)
    with CaptureQueriesContext(connection) as with_three:
        assert len(client.get(SEARCH, SEARCH_PARAMS).context["results"]) == 3
    # Filter counts, the page and its prefetches: a handful, one per kind of data.
    assert 8 < len(with_three) < 25
    many(27)  # 30 in all, more than a page

    with django_assert_max_num_queries(len(with_three)):
        response = client.get(SEARCH, SEARCH_PARAMS)
    assert len(response.context["results"]) == 20


# ---------------------------------------------------------------------------- a micro-credential
@pytest.fixture
def coaching(people, org_tree):
    item = standard(code="NCPTS 1.a", statement="Teachers lead in their classrooms.")
    version = people.publish(coaching_content(), alignments=[str(item.identifier)])
    approve_use(version, people.recognizer_org, people.recognizer, "license_renewal")
    publish_stack(
        people.provider,
        people.author,
        [
            (version.micro_credential, True),
            (people.publish(title="Mentoring").micro_credential, True),
        ],
        title="Leadership coach pathway",
    )
    return version


def detail_url(version) -> str:
    return reverse("catalog:detail", args=[version.micro_credential.slug])


def test_page_shows_what_to_demonstrate_and_submit(client, coaching):
    response = client.get(detail_url(coaching))

    assert response.status_code == 200
    page = text_of(response)
    assert "What you will demonstrate Coach engages the educational leader" in page
    assert "Why it matters Collaborative Leadership Coaching is collegial" in page
    assert "Key method The coach utilizes two-way communication" in page
    assert "Communicate collaboratively in an outcomes-based conversation" in page
    assert "Illinois Principals Association Mentor and Coach Development Program" in page
    # Exactly what to submit, with its limits in plain words.
    assert "Part 1. Overview questions Written response" in page
    assert "Up to 1,000 words." in page
    assert "Length: 10 minutes to 15 minutes." in page
    assert "Add at least 1 time-stamped note saying which components" in page
    assert "Accepted files: MP4 video (.mp4), QuickTime video (.mov), WebM video (.webm)." in page
    assert "Largest file: 4,096 MB." in page
    assert "Up to 500 words." in page
    assert "Estimated time About 15 hours" in page
    assert "Difficulty Advanced" in page


def test_page_shows_the_rubric_and_its_bands(client, coaching):
    response = client.get(detail_url(coaching))
    html = response.content.decode()
    page = text_of(response)

    assert "Total: 20 points" in page
    captions = re.findall(r"<caption>(.*?)</caption>", html)
    assert captions[:4] == [
        "Engages in collegial, trusting relationship to address leadership issues or "
        "initiatives (5 points)",
        "Communicates collaboratively with the coach guiding outcome-based conversation (5 points)",
        "Provides evidence-based communicative feedback, resources, and support (5 points)",
        "Strategizes to co-develop plans to improve performance (5 points)",
    ]
    rubric_tables = re.findall(r'<table class="rubric">(.*?)</table>', html, flags=re.S)
    assert [t.count('<td class="points">1</td>') for t in rubric_tables] == [5, 5, 5, 5]
    assert "Creates a safe environment to discuss issues" in page
    assert "Yes 16-20 Passing: credential earned" in page
    assert "Almost 13-15 Not passing" in page
    assert "Not Yet 8-12 Not passing" in page
    assert html.count('class="band-passing"') == 1


def test_page_shows_recognition_stacks_and_standards(client, coaching):
    page = text_of(client.get(detail_url(coaching)))

    assert "Approved for license renewal by State DPI." in page  # no policy grants it yet
    assert (
        "Not yet approved for professional learning, stipend, salary increase, "
        "master&#x27;s-equivalency credit or advanced roles." in page
    )
    assert "Stacks it belongs to Leadership coach pathway" in page
    assert "NCPTS 1.a Teachers lead in their classrooms." in page


def test_anonymous_visitors_are_asked_to_sign_in_to_start(client, coaching):
    url = detail_url(coaching)
    html = client.get(url).content.decode()

    assert f'href="{reverse("account_login")}?next={quote(url)}"' in html
    assert "Sign in to start" in html


def test_signed_in_teachers_see_how_to_earn_it(client, coaching, make_user, org_tree):
    client.force_login(make_user("earner", org_tree["school1"]))

    page = text_of(client.get(detail_url(coaching)))

    assert "How to earn it" in page
    assert "independent, trained assessor scores your evidence" in page
    assert "Sign in to start" not in page


def test_unpublished_and_unknown_micro_credentials_are_not_found(client, people):
    draft = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Draft MC")
    )
    in_review = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="In review MC")
    )
    services.submit_for_vetting(in_review, author=people.author)
    approved = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Approved MC")
    )
    approve(approved, author=people.author, reviewer=people.reviewer)

    for version in (draft, in_review, approved):
        assert client.get(detail_url(version)).status_code == 404
        slug = version.micro_credential.slug
        assert client.get(reverse("catalog:version", args=[slug, 1])).status_code == 404
    assert client.get(reverse("catalog:detail", args=["no-such-mc"])).status_code == 404


def test_a_newer_draft_stays_private_while_the_published_version_shows(client, people):
    published = people.publish(title="Number talks")
    draft = services.start_new_version(published.micro_credential, author=people.author)
    slug = published.micro_credential.slug

    assert "Number talks" in text_of(client.get(detail_url(published)))
    assert client.get(reverse("catalog:version", args=[slug, draft.number])).status_code == 404


def test_earlier_versions_say_they_are_not_current(client, people):
    first = people.publish(title="Number talks")
    second = publish_next_version(
        first.micro_credential, people.author, people.reviewer, title="Number talks, revised"
    )
    slug = first.micro_credential.slug

    old = client.get(reverse("catalog:version", args=[slug, 1]))
    page = text_of(old)
    assert old.status_code == 200
    assert "This is version 1, which is not the current one." in page
    assert "the current version (2)" in page
    assert "Sign in to start" not in page
    assert "Number talks, revised" in text_of(client.get(detail_url(second)))
    # The current version has one address.
    current = client.get(reverse("catalog:version", args=[slug, 2]))
    assert current.status_code == 302 and current["Location"] == detail_url(second)


def test_retired_micro_credentials_take_no_new_attempts(client, people):
    version = people.publish(title="Overhead projectors")
    services.retire_version(version, actor=people.reviewer, reason="Outdated technology.")

    response = client.get(detail_url(version))

    page = text_of(response)
    assert response.status_code == 200
    assert "This micro-credential is retired. It no longer accepts new attempts." in page
    assert "Sign in to start" not in page
    assert "Overhead projectors" not in text_of(client.get(SEARCH))


# ---------------------------------------------------------------------------- stacks
def draft_stack(people, micro_credentials):
    return services.save_stack(
        provider=people.provider,
        author=people.author,
        data={
            "title": "Draft pathway",
            "description": "Not yet.",
            "target_role": "Coach",
            "level": "foundational",
            "achievement_name": "Draft badge",
        },
        members=[(mc, True) for mc in micro_credentials],
    )


@pytest.fixture
def pathway(people):
    steps = [
        (people.publish(title="Observing lessons").micro_credential, True),
        (people.publish(title="Feedback conversations").micro_credential, True),
        (people.publish(title="Video coaching").micro_credential, False),
        (people.publish(title="Data meetings").micro_credential, False),
        (people.publish(title="Modeling lessons").micro_credential, False),
    ]
    return publish_stack(
        people.provider,
        people.author,
        steps,
        min_electives=2,
        title="Instructional coach pathway",
        target_role="Instructional coach",
        level="advanced",
        achievement_name="Certified Instructional Coach",
    )


def test_stack_list_shows_published_stacks_only(client, pathway, people):
    draft_stack(people, [m.micro_credential for m in pathway.members.all()[:2]])

    page = text_of(client.get(reverse("catalog:stacks")))

    assert "Instructional coach pathway" in page
    assert "2 required, at least 2 of 3 electives." in page
    assert "Earns: Certified Instructional Coach" in page
    assert "Draft pathway" not in page


def test_stack_page_shows_the_pathway_in_order(client, pathway):
    response = client.get(reverse("catalog:stack", args=[pathway.slug]))

    page = text_of(response)
    assert response.status_code == 200
    assert "For Instructional coach" in page and "Level Advanced" in page
    assert "What you earn at the end Certified Instructional Coach" in page
    assert "Earn all 2 required micro-credentials, then choose at least 2 of the 3 electives." in (
        page
    )
    order = re.findall(r"(Required|Elective) (Observing|Feedback|Video|Data|Modeling)", page)
    assert order == [
        ("Required", "Observing"),
        ("Required", "Feedback"),
        ("Elective", "Video"),
        ("Elective", "Data"),
        ("Elective", "Modeling"),
    ]


def test_a_retired_step_is_marked_in_the_pathway(client, pathway, people):
    step = pathway.members.get(order=2).micro_credential.versions.get()
    services.retire_version(step, actor=people.reviewer, reason="No longer supported.")

    page = text_of(client.get(reverse("catalog:stack", args=[pathway.slug])))

    assert "Retired: no longer offered. Video coaching" in page
    assert "Required Observing lessons" in page


def test_draft_and_unknown_stacks_are_not_found(client, people):
    draft = draft_stack(people, [people.publish(title=t).micro_credential for t in ("One", "Two")])

    assert client.get(reverse("catalog:stack", args=[draft.slug])).status_code == 404
    assert client.get(reverse("catalog:stack", args=["nothing-here"])).status_code == 404
