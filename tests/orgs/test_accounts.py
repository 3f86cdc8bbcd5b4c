"""Sign in, sign up, sign out and passwords (allauth) inside the site's layout."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from microcred.orgs import services
from microcred.orgs.models import Role, User


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def labelled_inputs(page: str) -> tuple[set[str], set[str]]:
    """Ids of the visible inputs, and ids that a <label for> names."""
    inputs = set(re.findall(r'<input(?![^>]*type="hidden")[^>]*id="([^"]+)"', page))
    labels = set(re.findall(r'<label for="([^"]+)"', page))
    return inputs, labels


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_account_pages_use_the_site_layout_and_label_every_input(client, db, name):
    page = text_of(client.get(reverse(name)))
    assert 'class="site-header"' in page and 'href="#main"' in page  # web/base.html
    inputs, labels = labelled_inputs(page)
    assert inputs and inputs <= labels


def test_sign_in_lands_on_my_work(client, make_user):
    user = make_user(email="ana@example.org")
    response = client.post(
        reverse("account_login"), {"login": "ana@example.org", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")
    assert client.get(reverse("web:dashboard")).context["user"] == user


def test_wrong_password_is_explained_in_an_error_summary(client, make_user):
    make_user(email="ana@example.org")
    response = client.post(
        reverse("account_login"), {"login": "ana@example.org", "password": "wrong"}
    )
    page = text_of(response)
    assert response.status_code == 200
    assert 'class="error-summary" role="alert"' in page
    assert "email address and/or password you specified are not correct" in page


def test_sign_up_creates_an_account(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "New@Example.org",
            "password1": "a-long-Pass-phrase-9",
            "password2": "a-long-Pass-phrase-9",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="new@example.org").exists()


def test_sign_up_errors_point_at_the_field(client, db):
    response = client.post(
        reverse("account_signup"), {"email": "not-an-email", "password1": "x", "password2": "y"}
    )
    page = text_of(response)
    assert 'href="#id_email"' in page
    assert not User.objects.exists()


def test_sign_out_needs_a_post(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("account_logout")).status_code == 200  # a confirmation page
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_invited_person_sets_a_password_with_the_emailed_link(
    client, org_tree, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])
    with django_capture_on_commit_callbacks(execute=True):
        services.add_membership(
            admin, org_tree["school1"], email="new@example.org", role=Role.EARNER
        )
    [message] = mailoutbox
    link = urlsplit(re.search(r"http://\S+/accounts/password/reset/key/\S+/", message.body)[0])
    # allauth moves the key from the address into the session, then shows the form.
    form_page = client.get(link.path, follow=True)
    assert "Choose your password" in text_of(form_page)
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"password1": "a-long-Pass-phrase-9", "password2": "a-long-Pass-phrase-9"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert user.check_password("a-long-Pass-phrase-9")
    again = client.get(link.path, follow=True)
    assert "This link no longer works" in text_of(again)


def test_password_reset_sends_an_email(client, make_user, mailoutbox):
    make_user(email="ana@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "ana@example.org"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["ana@example.org"]]
