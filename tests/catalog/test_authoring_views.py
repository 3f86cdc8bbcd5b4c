"""The provider's authoring pages through HTTP: permissions of every view, the editor (a
round trip through the browser's form keeps the content exactly), validation messages that
save nothing, frozen versions, double posts, and stacks."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from microcred.catalog import services
from microcred.catalog.models import MicroCredential, MicroCredentialVersion, Stack
from microcred.catalog.samples import coaching_content
from microcred.catalog.selectors import content_of
from microcred.orgs.models import AuditEvent, User
from tests.catalog.factories import approve, catalog_people, meets_everything, standard, vary

Status = MicroCredentialVersion.Status


# ---------------------------------------------------------------------------- helpers
class _FormReader(HTMLParser):
    """What a browser would send for each POST form of a page (no JavaScript)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self.data: list[tuple[str, str]] = []
        self.in_form = False
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.in_form, self.data = True, []
            self.forms.append(self.data)
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data.append((a["name"], a.get("value", "on")))
            elif kind not in {"submit", "button"}:
                self.data.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select, self._options, self._multiple = a["name"], [], "multiple" in a
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the one newline that follows <textarea>.
            self.data.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]
            self.data.extend((self._select, v) for v in chosen)
            self._select = None


def form_data(response: Any) -> dict[str, Any]:
    """The page's main POST form (the one with most fields; the header has a sign-out form)
    as the test client posts it: name -> value, or a list of values."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    posted: dict[str, Any] = {}
    for name, value in max(reader.forms, key=len):
        if name in posted:
            current = posted[name]
            posted[name] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            posted[name] = value
    return posted


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


@pytest.fixture
def draft(people) -> MicroCredentialVersion:
    return services.create_micro_credential(
        provider=people.provider, author=people.author, content=coaching_content()
    )


def login(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------------------- permissions
def _objects(people, draft) -> dict[str, Any]:
    published = people.publish(vary(title="Published one"))
    stack = services.save_stack(
        provider=people.provider,
        author=people.author,
        data={
            "title": "Coach pathway",
            "description": "Grow as a coach.",
            "target_role": "Coaches",
            "level": "intermediate",
            "achievement_name": "Coach",
        },
        members=[(draft.micro_credential, True), (published.micro_credential, True)],
    )
    return {"draft": draft, "published": published, "stack": stack}


# (url name, how to get its argument, method)
AUTHOR_VIEWS = [
    ("authoring:list", None, "get"),
    ("authoring:create", "provider", "get"),
    ("authoring:stack_create", "provider", "get"),
    ("authoring:version", "draft", "get"),
    ("authoring:edit", "draft", "get"),
    ("authoring:submit", "draft", "post"),
    ("authoring:publish", "draft", "post"),
    ("authoring:retire", "published", "post"),
    ("authoring:new_version", "published_mc", "post"),
    ("authoring:stack_edit", "stack", "get"),
    ("authoring:stack_publish", "stack", "post"),
]


def _url(name: str, arg: str | None, objs: dict[str, Any], people) -> str:
    if arg is None:
        return reverse(name)
    pk = {
        "provider": people.provider.pk,
        "published_mc": objs["published"].micro_credential_id,
    }.get(arg) or objs[arg].pk
    return reverse(name, args=[pk])


@pytest.mark.parametrize(("name", "arg", "method"), AUTHOR_VIEWS[1:])
def test_author_views_refuse_anonymous_wrong_role_and_other_provider(
    client, people, draft, make_user, org_tree, name, arg, method
):
    objs = _objects(people, draft)
    url = _url(name, arg, objs, people)
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    outsiders = [
        make_user("earner", org_tree["school1"]),
        make_user("provider_author", org_tree["other_provider"]),
    ]
    if name != "authoring:publish":  # vetting reviewers may publish what they approved
        outsiders.append(people.reviewer)
    for outsider in outsiders:
        login(client, outsider)
        assert getattr(client, method)(url).status_code == 403, outsider


@pytest.mark.parametrize(("name", "arg", "method"), AUTHOR_VIEWS)
def test_author_views_let_the_providers_author_in(client, people, draft, name, arg, method):
    objs = _objects(people, draft)
    login(client, people.author)
    response = getattr(client, method)(_url(name, arg, objs, people))
    # GET pages render; steps redirect back with a message (some steps do not apply to the
    # object's state: the author is told why, which is still not a 403).
    assert response.status_code == (200 if method == "get" else 302)


def test_list_is_for_authors_and_shows_only_their_providers(
    client, people, draft, make_user, org_tree
):
    url = reverse("authoring:list")
    assert "/accounts/login/" in client.get(url)["Location"]
    for outsider in (people.reviewer, make_user("earner", org_tree["school1"])):
        login(client, outsider)
        assert client.get(url).status_code == 403
    login(client, make_user("provider_author", org_tree["other_provider"]))
    page = client.get(url).content.decode()
    assert "Other Provider" in page and "Collaborative Leadership Coaching" not in page
    login(client, people.author)
    page = client.get(url).content.decode()
    assert "Collaborative Leadership Coaching" in page
    assert "Draft:" in page


def test_preview_is_for_authors_reviewers_and_recognizers(
    client, people, draft, make_user, org_tree
):
    url = reverse("authoring:preview", args=[draft.pk])
    for allowed in (people.author, people.reviewer, people.recognizer):
        login(client, allowed)
        response = client.get(url)
        assert response.status_code == 200
        assert "Collaborative Leadership Coaching" in response.content.decode()
    for refused in (
        make_user("earner", org_tree["school1"]),
        make_user("provider_author", org_tree["other_provider"]),
    ):
        login(client, refused)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


# ---------------------------------------------------------------------------- the editor
def test_edit_page_prefills_every_section_and_saves_the_same_content_back(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    page = client.get(url)
    data = form_data(page)
    assert data["title"] == "Collaborative Leadership Coaching"
    assert data["evidence-1-min_minutes"] == "10" and data["evidence-1-max_minutes"] == "15"
    assert data["rubric-components-3-criteria-4-text"] == "Facilitates growth of leader"
    before = content_of(draft)

    response = client.post(url, data)

    assert response.status_code == 302
    assert response["Location"] == reverse("authoring:version", args=[draft.pk])
    assert content_of(draft) == before
    assert audit_count("catalog.version.edited") == 1


def test_create_page_posts_a_new_draft_with_its_audit_event(client, people, draft):
    login(client, people.author)
    filled = form_data(client.get(reverse("authoring:edit", args=[draft.pk])))
    create_url = reverse("authoring:create", args=[people.provider.pk])
    key = form_data(client.get(create_url))["form_key"]

    response = client.post(create_url, {**filled, "form_key": key, "title": "Coaching, again"})

    created = MicroCredentialVersion.objects.get(title="Coaching, again")
    assert response["Location"] == reverse("authoring:version", args=[created.pk])
    assert created.status == Status.DRAFT and created.micro_credential.provider == people.provider
    assert content_of(created)["rubric"] == content_of(draft)["rubric"]
    assert AuditEvent.objects.filter(
        action="catalog.version.created", target_id=str(created.pk)
    ).exists()


def test_create_posted_twice_makes_one_micro_credential(client, people, draft):
    login(client, people.author)
    filled = form_data(client.get(reverse("authoring:edit", args=[draft.pk])))
    create_url = reverse("authoring:create", args=[people.provider.pk])
    key = form_data(client.get(create_url))["form_key"]
    data = {**filled, "form_key": key, "title": "Twice"}

    first = client.post(create_url, data)
    second = client.post(create_url, data, follow=True)

    created = MicroCredentialVersion.objects.get(title="Twice")
    assert first["Location"] == reverse("authoring:version", args=[created.pk])
    assert second.redirect_chain[0][0] == reverse("authoring:version", args=[created.pk])
    assert "This micro-credential was already saved: the form was sent twice." in messages_of(
        second
    )
    assert audit_count("catalog.version.created") == 2  # the fixture's draft and this one


def test_blank_create_form_lists_what_is_missing_and_saves_nothing(client, people):
    login(client, people.author)
    url = reverse("authoring:create", args=[people.provider.pk])
    response = client.post(url, form_data(client.get(url)))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was saved" in text
    for message in (
        "The title is required.",
        "Describe at least one component of the key method.",
        "Say what evidence the earner must submit",
        "Add at least one rubric component.",
        "Add at least one outcome band",
    ):
        assert message in text, message
    assert not MicroCredential.objects.exists()


@pytest.mark.parametrize(
    ("changes", "section_anchor", "message"),
    [
        # Almost 13-15 -> 13-16 overlaps Yes 16-20.
        ({"bands-1-max_points": "16"}, "section-bands", "overlap"),
        # Almost 13-15 -> 13-14 leaves 15 uncovered.
        ({"bands-1-max_points": "14"}, "section-bands", "No band covers 15-15 points"),
        # Nobody reaches a passing band that starts above the total.
        (
            {"bands-0-min_points": "21", "bands-0-max_points": "25"},
            "section-bands",
            "nobody could pass",
        ),
        ({"evidence-0-word_limit": "0"}, "evidence-0-row", "the word limit must be at least 1"),
        (
            {"evidence-1-min_minutes": "20"},
            "evidence-1-row",
            "the shortest length is longer than the longest length",
        ),
        ({"estimated_hours": "a few"}, "id_estimated_hours", "Estimated hours must be a number"),
        (
            {"evidence-2-requires_annotations": "on"},
            "evidence-2-row",
            "time-stamped notes can only be required on video",
        ),
    ],
)
def test_bad_content_shows_the_problem_at_its_field_and_saves_nothing(
    client, people, draft, changes, section_anchor, message
):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    before = content_of(draft)
    data = {**form_data(client.get(url)), **changes}

    response = client.post(url, data)

    assert response.status_code == 200
    summary = response.context["problems"]
    assert any(message in p.message and p.anchor == section_anchor for p in summary), summary
    page = response.content.decode()
    assert "Nothing was saved" in page and f'href="#{section_anchor}"' in page
    assert f'id="{section_anchor}"' in page
    assert content_of(draft) == before
    assert audit_count("catalog.version.edited") == 0


def test_unknown_file_type_is_named_by_check_content(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    data = form_data(client.get(url))
    data["evidence-1-allowed_types"] = ["video/mp4", "application/x-msdownload"]
    response = client.post(url, data)
    assert "unsupported file types application/x-msdownload" in response.content.decode()
    assert (
        content_of(draft)["evidence"][1]["allowed_types"]
        == coaching_content()["evidence"][1]["allowed_types"]
    )


def test_add_another_row_grows_the_section_without_saving(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    data = form_data(client.get(url))
    assert "evidence-4-title" not in data

    response = client.post(url, {**data, "add_row": "evidence", "title": "Not saved yet"})

    grown = form_data(response)
    assert grown["evidence-TOTAL_FORMS"] == "5" and "evidence-4-title" in grown
    assert grown["title"] == "Not saved yet"  # what was typed stays on the page
    assert not response.context["problems"]
    assert MicroCredentialVersion.objects.get(pk=draft.pk).title != "Not saved yet"

    # A new rubric component comes with blank rows for its details.
    response = client.post(url, {**data, "add_row": "rubric-components"})
    assert form_data(response)["rubric-components-4-criteria-TOTAL_FORMS"] == "3"


def test_rows_can_be_added_and_removed_then_saved(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    data = form_data(client.get(url))
    data.update(
        {
            "resources-0-DELETE": "on",
            "resources-3-title": "A new article",
            "resources-3-url": "https://example.org/article",
            "evidence-3-kind": "file",
            "evidence-3-title": "Part 4. Student work",
            "evidence-3-instructions": "Upload three samples of student work.",
            "evidence-3-allowed_types": ["application/pdf"],
            "evidence-3-max_files": "3",
            "evidence-3-word_limit": "200",  # not a file's field: dropped
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["problems"]
    content = content_of(draft)
    assert [r["title"] for r in content["resources"]][-1] == "A new article"
    assert len(content["resources"]) == 3
    added = content["evidence"][3]
    assert (added["kind"], added["allowed_types"], added["max_files"]) == (
        "file",
        ["application/pdf"],
        3,
    )
    assert added["word_limit"] is None


def test_rubric_component_points_default_to_its_details_and_links_follow_removed_rows(
    client, people, draft
):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    data = form_data(client.get(url))
    data["rubric-components-0-max_points"] = ""  # blank: the sum of its five details
    response = client.post(url, data)
    assert response.status_code == 302
    assert content_of(draft)["rubric"]["components"][0]["max_points"] == 5

    # Linking a rubric component to a key method component being removed is refused.
    data = form_data(client.get(url))
    data["components-3-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "This key method component is being removed" in response.content.decode()
    assert len(content_of(draft)["components"]) == 4


def test_alignments_are_chosen_from_imported_standards(client, people, draft):
    item = standard(code="4.b", statement="Teachers coach colleagues.")
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    page = client.get(url)
    assert item.framework.title in page.content.decode()
    data = {**form_data(page), "alignments": [str(item.identifier)]}
    assert client.post(url, data).status_code == 302
    assert content_of(draft)["alignments"] == [str(item.identifier)]
    # Prefilled on the next visit.
    assert form_data(client.get(url))["alignments"] == str(item.identifier)


@pytest.mark.parametrize("status", [Status.IN_REVIEW, Status.APPROVED, Status.PUBLISHED])
def test_a_frozen_version_has_no_working_edit_page(client, people, draft, status):
    login(client, people.author)
    url = reverse("authoring:edit", args=[draft.pk])
    data = {**form_data(client.get(url)), "title": "Sneaky change"}
    if status == Status.IN_REVIEW:
        services.submit_for_vetting(draft, author=people.author)
    else:
        approve(draft, author=people.author, reviewer=people.reviewer)
    if status == Status.PUBLISHED:
        services.publish_version(draft, actor=people.author)
    before = content_of(draft)

    for response in (client.get(url, follow=True), client.post(url, data, follow=True)):
        assert response.redirect_chain[0] == (reverse("authoring:version", args=[draft.pk]), 302)
        assert any("cannot be edited" in m for m in messages_of(response))

    assert content_of(draft) == before
    assert MicroCredentialVersion.objects.get(pk=draft.pk).status == status
    assert audit_count("catalog.version.edited") == 0


def request_changes(version, people) -> None:
    services.submit_for_vetting(version, author=people.author)
    ratings = meets_everything()
    first = next(iter(ratings))
    ratings[first] = ("partially", "Cite the trust research.")
    services.record_review(
        version,
        reviewer=people.reviewer,
        decision="changes_requested",
        comments="Say more about how trust is built.",
        ratings=ratings,
    )


def test_changes_requested_version_shows_feedback_and_can_be_edited_and_resent(
    client, people, draft
):
    request_changes(draft, people)
    login(client, people.author)
    listing = client.get(reverse("authoring:list")).content.decode()
    assert "Changes requested: 2 comments." in listing

    page = client.get(reverse("authoring:version", args=[draft.pk])).content.decode()
    assert "Say more about how trust is built." in page and "Cite the trust research." in page

    url = reverse("authoring:edit", args=[draft.pk])
    data = {**form_data(client.get(url)), "summary": "A clearer summary."}
    assert client.post(url, data).status_code == 302
    response = client.post(reverse("authoring:submit", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.summary == "A clearer summary."
    assert "Sent for vetting" in " ".join(messages_of(response))


# ---------------------------------------------------------------------------- lifecycle steps
def test_submit_posted_twice_sends_once_and_explains_the_second(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:submit", args=[draft.pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert "Version 1 is in review, so it cannot be sent for vetting." in messages_of(response)
    assert audit_count("catalog.version.submitted") == 1


def test_publish_from_the_version_page_and_twice(client, people, draft):
    approve(draft, author=people.author, reviewer=people.reviewer)
    login(client, people.author)
    page = client.get(reverse("authoring:version", args=[draft.pk])).content.decode()
    assert "Publish in the catalog" in page
    url = reverse("authoring:publish", args=[draft.pk])
    client.post(url)
    response = client.post(url, follow=True)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert "Version 1 is published, so it cannot be published." in messages_of(response)
    assert audit_count("catalog.version.published") == 1


def test_new_version_is_a_draft_copy_and_a_second_post_is_refused(client, people):
    published = people.publish()
    login(client, people.author)
    url = reverse("authoring:new_version", args=[published.micro_credential_id])
    response = client.post(url)
    new = MicroCredentialVersion.objects.get(micro_credential=published.micro_credential, number=2)
    assert response["Location"] == reverse("authoring:edit", args=[new.pk])
    assert new.status == Status.DRAFT
    assert content_of(new) == content_of(published)

    again = client.post(url, follow=True)
    assert any("already being worked on" in m for m in messages_of(again))
    assert published.micro_credential.versions.count() == 2


def test_retire_needs_a_reason_and_keeps_the_version(client, people):
    published = people.publish()
    login(client, people.author)
    url = reverse("authoring:retire", args=[published.pk])
    response = client.post(url, {"reason": "  "}, follow=True)
    assert "Say why the micro-credential is retired." in messages_of(response)
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED

    client.post(url, {"reason": "Replaced by the state's new coaching standards."})
    published.refresh_from_db()
    assert published.status == Status.RETIRED and published.retired_at is not None
    event = AuditEvent.objects.get(action="catalog.version.retired")
    assert event.reason == "Replaced by the state's new coaching standards."
    # The retired version is still there for the credentials pinned to it.
    assert client.get(reverse("authoring:version", args=[published.pk])).status_code == 200


# ---------------------------------------------------------------------------- stacks
def _stack_data(client, url: str, mcs: list[MicroCredential], **fields: str) -> dict[str, Any]:
    """The stack page as filled in by an author: the given MCs, in reverse order."""
    data = form_data(client.get(url))
    data.update(
        {
            "title": "Coaching pathway",
            "description": "Three steps to lead coaching in your school.",
            "target_role": "Instructional coaches",
            "level": "advanced",
            "achievement_name": "Coaching Leader",
            "min_electives": "0",
            "members-TOTAL_FORMS": str(len(mcs)),
        }
    )
    for i, mc in enumerate(mcs):
        data[f"members-{i}-micro_credential"] = str(mc.pk)
        data[f"members-{i}-required"] = "on"
        data[f"members-{i}-ORDER"] = str(len(mcs) - i)
    data.update(fields)
    return data


def _stack_post(client, url: str, mcs: list[MicroCredential], **fields: str) -> Any:
    return client.post(url, _stack_data(client, url, mcs, **fields))


def test_stack_is_created_in_the_order_given_and_a_double_post_makes_one(client, people, draft):
    other = people.publish(vary(title="Feedback conversations"))
    login(client, people.author)
    url = reverse("authoring:stack_create", args=[people.provider.pk])
    assert (
        "Collaborative Leadership Coaching (not published yet)" in client.get(url).content.decode()
    )
    data = _stack_data(client, url, [draft.micro_credential, other.micro_credential])

    first = client.post(url, data)
    second = client.post(url, data, follow=True)

    assert first.status_code == 302
    stack = Stack.objects.get()
    assert [m.micro_credential for m in stack.members.order_by("order")] == [
        other.micro_credential,
        draft.micro_credential,
    ]
    assert "This stack was already saved: the form was sent twice." in messages_of(second)
    assert audit_count("catalog.stack.saved") == 1


def test_stack_form_errors_are_shown_and_nothing_saved(client, people, draft):
    login(client, people.author)
    url = reverse("authoring:stack_create", args=[people.provider.pk])
    response = _stack_post(client, url, [draft.micro_credential], title="", min_electives="2")
    text = response.content.decode()
    assert response.status_code == 200
    assert "The title is required." in text
    assert "A stack needs at least two micro-credentials." in text
    assert "asks for 2 electives but offers only 0" in text
    assert not Stack.objects.exists()


def test_stack_cannot_include_another_providers_micro_credential(
    client, people, draft, make_user, org_tree
):
    foreign = services.create_micro_credential(
        provider=org_tree["other_provider"],
        author=make_user("provider_author", org_tree["other_provider"]),
        content=vary(title="Not yours"),
    )
    login(client, people.author)
    url = reverse("authoring:stack_create", args=[people.provider.pk])
    response = _stack_post(client, url, [draft.micro_credential, foreign.micro_credential])
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Stack.objects.exists()


def test_stack_publish_needs_published_members_then_freezes_the_stack(client, people, draft):
    other = people.publish(vary(title="Feedback conversations"))
    login(client, people.author)
    _stack_post(
        client,
        reverse("authoring:stack_create", args=[people.provider.pk]),
        [draft.micro_credential, other.micro_credential],
    )
    stack = Stack.objects.get()
    publish_url = reverse("authoring:stack_publish", args=[stack.pk])
    response = client.post(publish_url, follow=True)
    assert any("not published yet" in m for m in messages_of(response))
    assert Stack.objects.get().status == Stack.Status.DRAFT

    approve(draft, author=people.author, reviewer=people.reviewer)
    services.publish_version(draft, actor=people.author)
    client.post(publish_url)
    assert Stack.objects.get().status == Stack.Status.PUBLISHED
    assert audit_count("catalog.stack.published") == 1

    # Published: the edit page and a second publish explain instead of changing anything.
    for response in (
        client.get(reverse("authoring:stack_edit", args=[stack.pk]), follow=True),
        client.post(publish_url, follow=True),
    ):
        assert any("This stack is published" in m for m in messages_of(response))
    assert audit_count("catalog.stack.published") == 1


def test_stack_edit_keeps_order_and_saves_changes(client, people, draft):
    other = people.publish(vary(title="Feedback conversations"))
    stack = services.save_stack(
        provider=people.provider,
        author=people.author,
        data={
            "title": "Pathway",
            "description": "Grow.",
            "target_role": "Coaches",
            "level": "foundational",
            "achievement_name": "Coach",
            "min_electives": 1,
        },
        members=[(draft.micro_credential, True), (other.micro_credential, False)],
    )
    login(client, people.author)
    url = reverse("authoring:stack_edit", args=[stack.pk])
    data = form_data(client.get(url))
    assert data["members-0-micro_credential"] == str(draft.micro_credential_id)
    assert "members-1-required" not in data  # the elective
    data["title"] = "Pathway, renamed"
    assert client.post(url, data).status_code == 302
    stack.refresh_from_db()
    assert stack.title == "Pathway, renamed" and stack.min_electives == 1
    assert [(m.micro_credential_id, m.required) for m in stack.members.order_by("order")] == [
        (draft.micro_credential_id, True),
        (other.micro_credential_id, False),
    ]


def test_even_a_superuser_gets_no_editor_for_a_frozen_version(client, people, draft):
    services.submit_for_vetting(draft, author=people.author)
    admin = User.objects.create_superuser(email="root@example.org", password="pw-for-tests-1")
    login(client, admin)
    url = reverse("authoring:edit", args=[draft.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain[0][0] == reverse("authoring:version", args=[draft.pk])
    assert any("cannot be edited" in m for m in messages_of(response))
    assert client.post(url, {"title": "x"}).status_code == 302
    assert MicroCredentialVersion.objects.get(pk=draft.pk).title == draft.title


@pytest.mark.parametrize(
    "data",
    [
        {"title": "Only a title"},  # no management forms at all
        {"add_row": "nonsense"},
        {"add_row": "evidence", "evidence-TOTAL_FORMS": "many"},
        {"add_row": "rubric-components-7-criteria"},
    ],
)
def test_forged_or_partial_posts_get_the_page_back_not_a_500(client, people, draft, data):
    login(client, people.author)
    before = content_of(draft)
    for url in (
        reverse("authoring:edit", args=[draft.pk]),
        reverse("authoring:create", args=[people.provider.pk]),
    ):
        response = client.post(url, data)
        assert response.status_code == 200
    assert content_of(draft) == before
    assert MicroCredential.objects.count() == 1
