"""Deep linking, grade passback and dynamic registration, each against the test platform."""

from __future__ import annotations

import jwt
import pytest
from django.urls import reverse

from microcred.credentials import services as credentials
from microcred.lti import claims
from microcred.lti.models import GradePassback, LtiDeepLinking, LtiPlatform
from microcred.lti.tasks import retry_passbacks

from .platform import ACCESS_TOKEN, CLIENT_ID, DEPLOYMENT_ID, REGISTRATION_TOKEN

pytestmark = pytest.mark.django_db
INSTRUCTOR = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",)


# ---------------------------------------------------------------------------- deep linking
def test_designer_places_an_mc_and_gets_a_signed_response(client, launch, version, test_platform):
    response = launch(message_type=claims.DEEP_LINKING_REQUEST, roles=INSTRUCTOR)
    assert response.status_code == 302
    picker = client.get(response["Location"])
    assert picker.status_code == 200
    title = version.title
    assert title in picker.content.decode()
    assert "frame-ancestors " + test_platform.base in picker["Content-Security-Policy"]
    found = client.get(response["Location"], {"q": title[:6]})
    assert title in found.content.decode()
    answer = client.post(response["Location"], {"mc": [version.micro_credential.slug]})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert f'action="{test_platform.base}/courses/7/deep_linking_response"' in page
    assert "lti/auto_post.js" in page and "<script>" not in page
    assert f"form-action 'self' {test_platform.base}" in answer["Content-Security-Policy"]
    token = answer.context["answer"].jwt
    jwks = client.get(reverse("lti:jwks")).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    body = jwt.decode(token, key, algorithms=["RS256"], audience=test_platform.issuer)
    assert body["iss"] == CLIENT_ID
    assert body[claims.MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert body[claims.DEPLOYMENT_ID] == DEPLOYMENT_ID
    assert body[claims.DL_DATA] == "opaque-dl-data"
    (item,) = body[claims.DL_CONTENT_ITEMS]
    slug = version.micro_credential.slug
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"mc": slug}
    assert item["url"].endswith(f"/lti/launch/?mc={slug}") and item["lineItem"]["scoreMaximum"] == 1
    # Used up: a second answer is refused.
    again = client.post(response["Location"], {"mc": [slug]})
    assert again.status_code == 410


def test_deep_linking_with_no_choice_says_so_and_sends_nothing(client, launch, version):
    response = launch(message_type=claims.DEEP_LINKING_REQUEST, roles=INSTRUCTOR)
    answer = client.post(response["Location"], {})
    assert answer.status_code == 400
    assert "Choose at least one micro-credential" in answer.content.decode()
    assert LtiDeepLinking.objects.get().answered_at is None


def test_learners_cannot_deep_link(launch):
    response = launch(message_type=claims.DEEP_LINKING_REQUEST)
    assert response.status_code == 403
    assert "instructors and designers can add" in response.content.decode()
    assert not LtiDeepLinking.objects.exists()


# ---------------------------------------------------------------------------- grade passback
@pytest.fixture
def earned(launch, make_earner, make_award, version, django_capture_on_commit_callbacks):
    """A teacher launched the MC from the course, then earned it; returns a function that
    issues the credential (sending credential_issued on commit)."""
    teacher = make_earner(email="teacher@example.org")
    assert launch(custom={"mc": version.micro_credential.slug}).status_code == 302
    award = make_award(teacher)

    def issue():
        with django_capture_on_commit_callbacks(execute=True):
            return credentials.issue_for_award(award)

    return issue


def test_earning_posts_the_score_to_the_line_item(earned, test_platform, version):
    credential = earned()
    (token_request,) = test_platform.requests_to("/token")
    form = token_request.form()
    assert form["grant_type"] == "client_credentials" and claims.SCOPE_SCORE in form["scope"]
    assert (
        jwt.decode(form["client_assertion"], options={"verify_signature": False})["sub"]
        == CLIENT_ID
    )
    (score,) = test_platform.requests_to("/courses/7/line_items/31/scores")
    assert score.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert score.headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    body = score.json()
    assert body["userId"] == "canvas-user-1"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (1, 1)
    assert body["activityProgress"] == "Completed" and body["gradingProgress"] == "FullyGraded"
    assert body["comment"] == f"Earned {version.title}"
    passback = GradePassback.objects.get()
    assert passback.credential == credential
    assert (passback.status, passback.response_code, passback.tries) == ("sent", 200, 1)


def test_a_second_signal_or_retry_posts_nothing_more(earned, test_platform):
    from microcred.credentials.models import IssuedCredential
    from microcred.credentials.signals import credential_issued

    credential = earned()
    credential_issued.send(IssuedCredential, credential=credential)
    assert retry_passbacks.enqueue().return_value == 0
    assert len(test_platform.requests_to("/courses/7/line_items/31/scores")) == 1
    assert GradePassback.objects.count() == 1


def test_a_refused_score_is_recorded_and_retried(earned, test_platform):
    test_platform.score_status = 503
    earned()
    passback = GradePassback.objects.get()
    assert (passback.status, passback.response_code) == ("failed", 503)
    assert "Pine Canvas refused the score" in passback.detail
    test_platform.score_status = 200
    assert retry_passbacks.enqueue().return_value == 1
    passback.refresh_from_db()
    assert (passback.status, passback.tries) == ("sent", 2)
    assert len(test_platform.requests_to("/courses/7/line_items/31/scores")) == 2


# ---------------------------------------------------------------------------- registration
def test_dynamic_registration_against_the_platform(client, test_platform, pine_admin, org_tree):
    client.force_login(pine_admin)
    params = {
        "openid_configuration": f"{test_platform.base}/.well-known/openid-configuration",
        "registration_token": REGISTRATION_TOKEN,
    }
    page = client.get(reverse("lti:register"), params)
    assert page.status_code == 200
    response = client.post(reverse("lti:register"), {**params, "organization": org_tree["lea1"].pk})
    assert response.status_code == 200, response.content
    assert "lti/registered.js" in response.content.decode()
    platform = LtiPlatform.objects.get()
    assert (platform.issuer, platform.client_id) == (test_platform.base, "dyn-client-9")
    assert platform.key_set_url == f"{test_platform.base}/jwks" and platform.registered_dynamically
    assert list(platform.deployments.values_list("deployment_id", flat=True)) == [
        "dyn-deployment-1"
    ]
    (posted,) = test_platform.requests_to("/register")
    assert posted.headers["Authorization"] == f"Bearer {REGISTRATION_TOKEN}"
    config = posted.json()
    assert config["initiate_login_uri"].endswith("/lti/login/")
    assert config["jwks_uri"].endswith("/lti/jwks/")
    assert config["redirect_uris"][0].endswith("/lti/launch/")


def test_dynamic_registration_for_another_district_is_refused(
    client, test_platform, pine_admin, org_tree
):
    client.force_login(pine_admin)
    response = client.post(
        reverse("lti:register"),
        {
            "openid_configuration": f"{test_platform.base}/.well-known/openid-configuration",
            "organization": org_tree["lea2"].pk,
        },
    )
    assert response.status_code == 400
    assert not LtiPlatform.objects.exists() and not test_platform.requests_to("/register")


def test_dynamic_registration_with_a_bad_configuration_address(
    client, test_platform, pine_admin, org_tree
):
    client.force_login(pine_admin)
    response = client.post(
        reverse("lti:register"),
        {
            "openid_configuration": f"{test_platform.base}/nothing-here",
            "organization": org_tree["lea1"].pk,
        },
    )
    assert response.status_code == 400
    assert "could not read the platform" in response.content.decode()
    assert not LtiPlatform.objects.exists()


def test_the_hourly_command_sends_the_refused_scores_again(earned, test_platform, capsys):
    from django.core.management import call_command

    test_platform.score_status = 503
    earned()
    test_platform.score_status = 200
    call_command("retry_lti_passbacks")
    assert "1 grade passback(s) queued again." in capsys.readouterr().out
    assert GradePassback.objects.get().status == "sent"
    call_command("retry_lti_passbacks")
    assert "0 grade passback(s) queued again." in capsys.readouterr().out


def test_a_chosen_mc_is_found_by_slug_even_when_not_among_the_titles_shown(version, monkeypatch):
    from microcred.lti import selectors

    monkeypatch.setattr(selectors, "CHOICES_SHOWN", 0)  # as if 50 other titles came first
    slug = version.micro_credential.slug
    assert selectors.deep_link_choices() == []
    chosen = selectors.chosen_micro_credentials([slug, "no-such-mc", slug])
    assert [(mc.slug, title) for mc, title in chosen] == [(slug, version.title)]
