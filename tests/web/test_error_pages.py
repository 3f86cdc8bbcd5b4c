"""The 403, 404 and 500 pages: a plain explanation in the site's layout and a way on, never
Django's bare error text or a stack trace."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client

from microcred.orgs.models import Role

from .failing_urls import BROKEN, BUG, FORBIDDEN

pytestmark = pytest.mark.django_db
FAILING_URLS = "tests.web.failing_urls"


def page_text(response: HttpResponse) -> str:
    return " ".join(response.content.decode().split())


def assert_in_site_layout(response: HttpResponse) -> None:
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert 'href="#main"' in html  # the skip link
    assert 'href="/"' in html  # a way home
    assert "Traceback" not in html


def test_a_signed_in_earner_is_told_the_vetting_queue_is_not_for_them(
    client: Client, org_tree, make_user
):
    earner = make_user(Role.EARNER, org_tree["school1"])
    client.force_login(earner)
    response = client.get("/vetting/")
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    assert_in_site_layout(response)
    text = page_text(response)
    assert "You don't have access to this page" in text
    assert f"your account ({earner.email}) does not have it" in text
    assert 'href="/me/">Go to my work</a>' in response.content.decode()


def test_a_vetting_reviewer_opens_the_same_queue(client: Client, org_tree, make_user):
    client.force_login(make_user(Role.VETTING_REVIEWER, org_tree["state"]))
    response = client.get("/vetting/")
    assert response.status_code == 200
    assert "You don't have access" not in page_text(response)


@pytest.mark.urls(FAILING_URLS)
def test_a_visitor_who_is_refused_is_offered_to_sign_in(client: Client):
    response = client.get(FORBIDDEN)
    assert response.status_code == 403
    assert_in_site_layout(response)
    assert f'href="/accounts/login/?next={FORBIDDEN}">Sign in</a>' in response.content.decode()
    assert "Go to my work" not in page_text(response)


def test_an_unknown_address_gets_a_page_that_leads_to_the_catalog(client: Client):
    response = client.get("/catalog/mc/no-such-micro-credential/")
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert_in_site_layout(response)
    assert "We can't find that page" in page_text(response)
    assert 'href="/catalog/">Search the catalog</a>' in response.content.decode()


@pytest.mark.urls(FAILING_URLS)
def test_a_crash_shows_a_plain_apology_without_details(client: Client, make_user):
    # Signed in: the 500 page is rendered without the request, so it must not need the user.
    client.force_login(make_user())
    client.raise_request_exception = False
    response = client.get(BROKEN)
    assert response.status_code == 500
    assert_in_site_layout(response)
    text = page_text(response)
    assert "Something went wrong on our side" in text
    assert "not because of anything you did" in text
    assert BUG not in text
    assert "RuntimeError" not in text
