"""Resource-link launches, walked as a platform and a browser do: /lti/login/ -> the
platform's auth URL with state and nonce -> a signed id_token posted to /lti/launch/."""

from __future__ import annotations

import io
import time

import pytest
from django.urls import reverse

from microcred.earning import services as earning
from microcred.lti.models import LtiHandoff, LtiResourceLaunch, LtiUserLink
from microcred.orgs.models import Membership, Role, User

from .conftest import start_login
from .platform import new_key

pytestmark = pytest.mark.django_db


def signed_in(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_existing_account_is_matched_by_email_and_lands_on_the_mc(launch, make_earner, version):
    teacher = make_earner(email="teacher@example.org")
    mc = version.micro_credential
    response = launch(custom={"mc": mc.slug})
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:detail", args=[mc.slug])
    link = LtiUserLink.objects.get()
    assert link.user == teacher and link.sub == "canvas-user-1"
    record = LtiResourceLaunch.objects.get()
    assert record.micro_credential == mc and record.user == teacher
    assert record.lineitem_url.endswith("/courses/7/line_items/31")
    assert record.context_id == "course-7" and record.nrps_url.endswith("/names_and_roles")


def test_signed_in_session_after_launch(client, launch, make_earner, version):
    teacher = make_earner(email="teacher@example.org")
    launch(custom={"mc": version.micro_credential.slug})
    assert signed_in(client) == teacher


def test_launch_opens_the_earners_attempt_when_there_is_one(client, launch, make_earner, version):
    teacher = make_earner(email="teacher@example.org")
    attempt, _ = earning.start_attempt(version, user=teacher)
    response = launch(custom={"mc": version.micro_credential.slug})
    assert response["Location"] == reverse("earning:attempt", args=[attempt.uuid])


def test_new_learner_gets_an_account_and_is_an_earner_of_the_platforms_district(
    client, launch, version, org_tree
):
    response = launch(email="new.person@example.org", sub="s-new")
    assert response.status_code == 302 and response["Location"] == reverse("catalog:search")
    user = User.objects.get(email="new.person@example.org")
    assert (user.first_name, user.last_name, user.display_name) == (
        "Tess",
        "Teacher",
        "Tess Teacher",
    )
    assert not user.has_usable_password()
    assert Membership.objects.filter(
        user=user, organization=org_tree["lea1"], role=Role.EARNER
    ).exists()
    assert signed_in(client) == user
    # The second launch finds the link, whatever the email says now.
    launch(email="changed@example.org", sub="s-new")
    assert User.objects.filter(email="changed@example.org").count() == 0
    assert LtiUserLink.objects.get(sub="s-new").user == user


def test_instructor_account_gets_no_earner_role(launch, version):
    launch(
        email="prof@example.org",
        sub="s-prof",
        roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",),
    )
    assert not Membership.objects.filter(user__email="prof@example.org").exists()


def test_framed_launch_offers_a_one_time_tab_for_the_platform_only(
    client, launch, make_earner, version, test_platform
):
    teacher = make_earner(email="teacher@example.org")
    response = launch(
        custom={"mc": version.micro_credential.slug}, headers={"Sec-Fetch-Dest": "iframe"}
    )
    assert response.status_code == 200
    assert "Open microcred in a new tab" in response.content.decode()
    assert signed_in(client) is None
    csp = response["Content-Security-Policy"]
    assert f"frame-ancestors {test_platform.base}" in csp
    assert "X-Frame-Options" not in response
    url = response.context["url"]
    opened = client.get(url)
    assert opened.status_code == 302
    assert opened["Location"] == reverse("catalog:detail", args=[version.micro_credential.slug])
    assert signed_in(client) == teacher
    again = client.get(url)
    assert again.status_code == 410 and "works once" in again.content.decode()
    assert LtiHandoff.objects.get().used_at is not None


def test_other_pages_still_refuse_framing(client):
    response = client.get(reverse("catalog:search"))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


# ---------------------------------------------------------------------------- bad launches
def assert_refused(response, status: int, words: str) -> None:
    assert response.status_code == status
    assert words in response.content.decode()
    assert not LtiUserLink.objects.exists()
    assert not LtiResourceLaunch.objects.exists()
    assert not User.objects.filter(email="teacher@example.org").exists()


def test_bad_signature_is_refused(launch):
    response = launch(key=new_key())
    assert_refused(response, 400, "signature does not match Pine Canvas")


def test_expired_token_is_refused(launch):
    response = launch(issued=int(time.time()) - 3600, lifetime=60)
    assert_refused(response, 400, "The launch expired")


def test_unknown_deployment_is_refused(launch):
    response = launch(deployment_id="9:elsewhere")
    assert_refused(response, 403, "deployment “9:elsewhere” of Pine Canvas is not registered")


def test_unknown_client_is_refused(launch):
    response = launch(aud="someone-else")
    assert_refused(response, 400, "does not know the learning platform")


def test_unknown_issuer_is_refused_at_login(client, registered):
    response = client.post(
        reverse("lti:login"), {"iss": "https://lms.nowhere.test", "login_hint": "x"}
    )
    assert response.status_code == 400
    assert (
        "does not know the learning platform “https://lms.nowhere.test”"
        in response.content.decode()
    )


def test_replayed_launch_is_refused(client, test_platform, registered, make_earner):
    teacher = make_earner(email="teacher@example.org")
    state, nonce = start_login(client, test_platform)
    token = test_platform.id_token(nonce)
    first = client.post(reverse("lti:launch"), {"id_token": token, "state": state})
    assert first.status_code == 302
    client.logout()
    client.cookies["mc_lti_state"] = state
    replay = client.post(reverse("lti:launch"), {"id_token": token, "state": state})
    assert replay.status_code == 400
    assert "already used once" in replay.content.decode()
    assert signed_in(client) is None
    assert LtiResourceLaunch.objects.get().user == teacher


def test_nonce_must_answer_this_login(client, test_platform, registered):
    state, _ = start_login(client, test_platform)
    token = test_platform.id_token("a-nonce-we-never-issued")
    response = client.post(reverse("lti:launch"), {"id_token": token, "state": state})
    assert_refused(response, 400, "does not answer the sign-in")


def test_launch_without_the_state_cookie_is_refused(client, test_platform, registered):
    state, nonce = start_login(client, test_platform)
    del client.cookies["mc_lti_state"]
    token = test_platform.id_token(nonce)
    response = client.post(reverse("lti:launch"), {"id_token": token, "state": state})
    assert_refused(response, 400, "another browser")


def test_garbage_and_missing_tokens_get_plain_messages(client, registered):
    missing = client.post(reverse("lti:launch"), {})
    assert missing.status_code == 400 and "no launch token was sent" in missing.content.decode()
    garbage = client.post(reverse("lti:launch"), {"id_token": "not-a-jwt", "state": "s"})
    assert (
        garbage.status_code == 400 and "not a readable LTI launch token" in garbage.content.decode()
    )


def test_tool_jwks_publishes_a_public_key_only(client):
    keys = client.get(reverse("lti:jwks")).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    assert "d" not in keys[0] and "p" not in keys[0]


def test_the_daily_cleanup_forgets_old_states_and_links_and_their_launch_is_refused(
    client, launch, make_earner, version, test_platform
):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from microcred.lti.models import LtiLogin

    make_earner(email="teacher@example.org")
    launch(custom={"mc": version.micro_credential.slug}, headers={"Sec-Fetch-Dest": "iframe"})
    state, nonce = start_login(client, test_platform)  # a sign-in started, not finished yet
    call_command("clean_lti", stdout=io.StringIO())
    assert LtiLogin.objects.count() == 2 and LtiHandoff.objects.count() == 1  # still fresh

    long_ago = timezone.now() - timedelta(days=2)
    LtiLogin.objects.update(created=long_ago)
    LtiHandoff.objects.update(expires=long_ago)
    out = io.StringIO()
    call_command("clean_lti", stdout=out)
    assert out.getvalue().startswith("2 sign-in states, 1 new-tab links")
    assert not LtiLogin.objects.exists() and not LtiHandoff.objects.exists()
    # The platform answers the forgotten sign-in (with a token still in date): refused.
    late = client.post(
        reverse("lti:launch"), {"id_token": test_platform.id_token(nonce), "state": state}
    )
    assert late.status_code == 400 and signed_in(client) is None
