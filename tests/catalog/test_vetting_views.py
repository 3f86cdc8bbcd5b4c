"""Vetting and approvals for use through HTTP: who may open each page, the review form's
plain errors, double posts, and the recognizer's approvals and withdrawals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from microcred.catalog import services
from microcred.catalog.models import (
    Approval,
    ApprovedUse,
    MicroCredentialVersion,
    QualityCriterion,
    VettingReview,
)
from microcred.catalog.samples import coaching_content
from microcred.orgs.models import AuditEvent, Membership
from microcred.recognition import services as recognition
from tests.catalog.factories import catalog_people, meets_everything, vary

Status = MicroCredentialVersion.Status


@pytest.fixture
def people(org_tree, make_user):
    return catalog_people(org_tree, make_user)


@pytest.fixture
def in_review(people) -> MicroCredentialVersion:
    version = services.create_micro_credential(
        provider=people.provider, author=people.author, content=coaching_content()
    )
    return services.submit_for_vetting(version, author=people.author)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def review_data(decision: str, comments: str = "", **overrides: str) -> dict[str, str]:
    """Every active criterion rated 'meets', then the overrides (rating_<id>: ...)."""
    data = {f"rating_{pk}": rating for pk, (rating, _c) in meets_everything().items()}
    data.update({"decision": decision, "comments": comments, **overrides})
    return data


# ---------------------------------------------------------------------------- the queue
def test_queue_is_for_vetting_reviewers(client, people, make_user, org_tree):
    url = reverse("vetting:queue")
    assert "/accounts/login/" in client.get(url)["Location"]
    for refused in (people.author, people.recognizer, make_user("earner", org_tree["school1"])):
        client.force_login(refused)
        assert client.get(url).status_code == 403
    client.force_login(people.reviewer)
    assert client.get(url).status_code == 200


def test_queue_lists_oldest_first_and_marks_resubmissions(client, people, in_review):
    newer = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Feedback talks")
    )
    services.submit_for_vetting(newer, author=people.author)
    ratings = meets_everything()
    services.record_review(
        newer,
        reviewer=people.reviewer,
        decision="changes_requested",
        comments="Add a rubric level.",
        ratings=ratings,
    )
    services.submit_for_vetting(newer, author=people.author)
    draft_only = services.create_micro_credential(
        provider=people.provider, author=people.author, content=vary(title="Still a draft")
    )

    client.force_login(people.reviewer)
    page = client.get(reverse("vetting:queue"))
    rows = list(page.context["page"])
    assert [v.pk for v in rows] == [in_review.pk, newer.pk]
    text = page.content.decode()
    assert "No, first review" in text and "Yes: changes were requested" in text
    assert draft_only.title not in text
    assert "Learning Forward Lab" in text


def test_a_reviewer_who_authored_the_mc_sees_it_but_cannot_review_it(client, people, org_tree):
    Membership.objects.create(
        user=people.author, organization=org_tree["state"], role="vetting_reviewer"
    )
    version = services.create_micro_credential(
        provider=people.provider, author=people.author, content=coaching_content()
    )
    services.submit_for_vetting(version, author=people.author)
    client.force_login(people.author)
    text = client.get(reverse("vetting:queue")).content.decode()
    assert "another reviewer must vet it" in text
    assert client.get(reverse("vetting:review", args=[version.pk])).status_code == 403
    response = client.post(reverse("vetting:review", args=[version.pk]), review_data("approved"))
    assert response.status_code == 403
    assert not VettingReview.objects.exists()


# ---------------------------------------------------------------------------- the review
def test_review_page_permissions(client, people, in_review, make_user, org_tree):
    url = reverse("vetting:review", args=[in_review.pk])
    assert "/accounts/login/" in client.get(url)["Location"]
    for refused in (
        people.author,
        people.recognizer,
        make_user("provider_author", org_tree["other_provider"]),
        make_user("earner", org_tree["school1"]),
    ):
        client.force_login(refused)
        assert client.get(url).status_code == 403
        assert client.post(url, review_data("approved")).status_code == 403
    assert not VettingReview.objects.exists()
    client.force_login(people.reviewer)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    # The whole version as the earner sees it, and a rating for every active criterion.
    assert "Part 2. Work example: coaching video" in text and "10 minutes to 15 minutes" in text
    for criterion in QualityCriterion.objects.filter(active=True):
        assert f'name="rating_{criterion.pk}"' in text


def test_missing_ratings_are_named_and_nothing_saved(client, people, in_review):
    rated = QualityCriterion.objects.filter(active=True).first()
    client.force_login(people.reviewer)
    response = client.post(
        reverse("vetting:review", args=[in_review.pk]),
        {"decision": "approved", f"rating_{rated.pk}": "meets"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was saved" in text and "Rate every criterion; missing:" in text
    assert "Research basis" in text.split("Rate every criterion; missing:")[1].split(".")[0]
    assert not VettingReview.objects.exists()
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_approving_with_an_unmet_criterion_is_refused(client, people, in_review):
    criterion = QualityCriterion.objects.filter(active=True).first()
    client.force_login(people.reviewer)
    data = review_data("approved", **{f"rating_{criterion.pk}": "partially"})
    response = client.post(reverse("vetting:review", args=[in_review.pk]), data)
    assert "approved only when it meets every quality criterion" in response.content.decode()
    assert not VettingReview.objects.exists()


def test_requesting_changes_needs_comments(client, people, in_review):
    client.force_login(people.reviewer)
    response = client.post(
        reverse("vetting:review", args=[in_review.pk]), review_data("changes_requested")
    )
    assert "Tell the provider what to change (comments are required)." in response.content.decode()
    assert not VettingReview.objects.exists()


def test_review_is_saved_audited_and_a_second_post_only_explains(client, people, in_review):
    client.force_login(people.reviewer)
    url = reverse("vetting:review", args=[in_review.pk])
    criterion = QualityCriterion.objects.filter(active=True).first()
    data = review_data(
        "changes_requested",
        "Name the trust research you rely on.",
        **{f"rating_{criterion.pk}": "partially", f"comment_{criterion.pk}": "Too broad."},
    )

    first = client.post(url, data)
    second = client.post(url, data, follow=True)

    assert first["Location"] == reverse("vetting:queue")
    review = VettingReview.objects.get()
    assert review.decision == "changes_requested" and review.reviewer == people.reviewer
    assert review.ratings.get(criterion=criterion).comment == "Too broad."
    in_review.refresh_from_db()
    assert in_review.status == Status.CHANGES_REQUESTED
    assert second.redirect_chain == [(url, 302)]
    assert "This version is changes requested, so it cannot be reviewed." in messages_of(second)
    assert VettingReview.objects.count() == 1
    assert AuditEvent.objects.filter(action="catalog.version.changes_requested").count() == 1
    # The page still shows the version and its review, without a form.
    assert 'name="decision"' not in second.content.decode()
    assert "Too broad." in second.content.decode()


def test_a_reviewer_may_publish_what_was_approved(client, people, in_review):
    client.force_login(people.reviewer)
    url = reverse("vetting:review", args=[in_review.pk])
    client.post(url, review_data("approved"))
    page = client.get(url).content.decode()
    assert "Publish in the catalog" in page
    response = client.post(
        reverse("authoring:publish", args=[in_review.pk]), {"next": url}, follow=True
    )
    assert response.redirect_chain == [(url, 302)]
    in_review.refresh_from_db()
    assert in_review.status == Status.PUBLISHED


# ---------------------------------------------------------------------------- approvals for use
def test_approvals_pages_are_for_recognizers(client, people, make_user, org_tree):
    version = people.publish()
    pages = [
        ("get", reverse("vetting:approvals")),
        ("get", reverse("vetting:approval", args=[version.pk])),
        ("post", reverse("vetting:approval", args=[version.pk])),
    ]
    for method, url in pages:
        assert "/accounts/login/" in getattr(client, method)(url)["Location"]
    for refused in (people.author, people.reviewer, make_user("earner", org_tree["school1"])):
        client.force_login(refused)
        for method, url in pages:
            assert getattr(client, method)(url).status_code == 403, (refused, url)
    client.force_login(people.recognizer)
    for _method, url in pages[:2]:
        assert client.get(url).status_code == 200
    assert not Approval.objects.exists()


def test_approvals_list_shows_vetted_versions_with_this_recognizers_approvals(
    client, people, in_review, org_tree, make_user
):
    published = people.publish(vary(title="Feedback conversations"))
    pine_hr = make_user("recognizer_admin", org_tree["lea1"])
    services.approve_for_use(
        published, recognizer=org_tree["lea1"], actor=pine_hr, use=ApprovedUse.LICENSE_RENEWAL
    )
    pine = recognition.create_policy(
        pine_hr, org_tree["lea1"], name="Pine renewal", effective_from=date(2020, 1, 1)
    )
    recognition.add_rule(pine_hr, pine, kind="ceu", ceu_source="fixed", fixed_ceus=2)
    recognition.activate(pine_hr, pine)
    client.force_login(people.recognizer)
    page = client.get(reverse("vetting:approvals"))
    text = page.content.decode()
    assert "Feedback conversations" in text
    assert in_review.title not in text  # not vetted yet
    assert "Pine renewal" not in text  # another organization's approval and its credit
    assert "Not approved for any use" in text

    client.force_login(pine_hr)
    text = client.get(reverse("vetting:approvals")).content.decode()
    assert "License renewal (2 CEUs (Pine renewal))" in text


def test_approve_for_use_then_duplicate_then_withdraw_twice(client, people):
    version = people.publish()
    client.force_login(people.recognizer)
    url = reverse("vetting:approval", args=[version.pk])
    data = {"use": ApprovedUse.LICENSE_RENEWAL, "requires_preapproval": "on"}

    client.post(url, data)
    duplicate = client.post(url, data)

    approval = Approval.objects.get()
    assert approval.recognizer == people.recognizer_org and approval.requires_preapproval
    assert "already approved for that use by your organization" in duplicate.content.decode()
    assert AuditEvent.objects.filter(action="catalog.approval.granted").count() == 1

    withdraw_url = reverse("vetting:withdraw", args=[approval.pk])
    no_reason = client.post(withdraw_url, {"reason": ""}, follow=True)
    assert "Say why the approval is withdrawn." in messages_of(no_reason)
    client.post(withdraw_url, {"reason": "The renewal rules changed."})
    again = client.post(withdraw_url, {"reason": "Again."}, follow=True)
    assert "This approval was already withdrawn." in messages_of(again)
    approval.refresh_from_db()
    assert approval.withdrawn_at is not None
    assert AuditEvent.objects.filter(action="catalog.approval.withdrawn").count() == 1


def test_use_must_be_chosen(client, people):
    version = people.publish()
    client.force_login(people.recognizer)
    response = client.post(
        reverse("vetting:approval", args=[version.pk]), {"requires_preapproval": "on"}
    )
    assert "Choose what the micro-credential is approved for." in response.content.decode()
    assert not Approval.objects.exists()


def test_a_version_not_yet_vetted_cannot_be_approved_for_use(client, people, in_review):
    client.force_login(people.recognizer)
    response = client.post(
        reverse("vetting:approval", args=[in_review.pk]),
        {"use": ApprovedUse.PROFESSIONAL_LEARNING},
        follow=True,
    )
    assert any("only vetted versions" in m for m in messages_of(response))
    assert not Approval.objects.exists()


def test_recognizer_of_several_organizations_chooses_which(client, people, make_user, org_tree):
    Membership.objects.create(
        user=people.recognizer, organization=org_tree["lea1"], role="recognizer_admin"
    )
    version = people.publish()
    client.force_login(people.recognizer)
    url = reverse("vetting:approval", args=[version.pk])
    page = client.get(url, {"org": org_tree["lea1"].pk}).content.decode()
    assert "Approving for" in page and "Pine County Schools" in page
    client.post(url, {"use": ApprovedUse.PROFESSIONAL_LEARNING, "org": org_tree["lea1"].pk})
    assert Approval.objects.get().recognizer == org_tree["lea1"]
    # Naming an organization the user does not approve for is refused.
    response = client.post(url, {"use": ApprovedUse.ADVANCED_ROLES, "org": org_tree["lea2"].pk})
    assert response.status_code == 403
    assert client.get(reverse("vetting:approvals"), {"org": org_tree["lea2"].pk}).status_code == 403
    assert Approval.objects.count() == 1


def test_withdrawing_another_organizations_approval_is_forbidden(
    client, people, make_user, org_tree
):
    version = people.publish()
    approval = services.approve_for_use(
        version,
        recognizer=people.recognizer_org,
        actor=people.recognizer,
        use=ApprovedUse.LICENSE_RENEWAL,
    )
    district_recognizer = make_user("recognizer_admin", org_tree["lea1"])
    url = reverse("vetting:withdraw", args=[approval.pk])
    for refused in (district_recognizer, people.author, people.reviewer):
        client.force_login(refused)
        assert client.post(url, {"reason": "Not ours."}).status_code == 403
    client.logout()
    assert "/accounts/login/" in client.post(url, {"reason": "x"})["Location"]
    approval.refresh_from_db()
    assert approval.withdrawn_at is None


def test_approved_but_unpublished_versions_can_be_approved_for_use(client, people, in_review):
    services.record_review(
        in_review,
        reviewer=people.reviewer,
        decision="approved",
        comments="",
        ratings=meets_everything(),
    )
    client.force_login(people.recognizer)
    client.post(
        reverse("vetting:approval", args=[in_review.pk]),
        {"use": ApprovedUse.PROFESSIONAL_LEARNING},
    )
    assert Approval.objects.filter(version=in_review).exists()
