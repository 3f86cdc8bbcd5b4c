"""Issuer pages: public ones for everyone, management ones for the issuer's own admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.credentials.models import IssuerProfile
from microcred.orgs.models import AuditEvent, Organization, Role

from .helpers import set_up_issuer


@pytest.fixture
def issuer_org(org_tree) -> Organization:
    return org_tree["issuer"]


@pytest.fixture
def admin(make_user, issuer_org):
    return make_user(Role.ISSUER_ADMIN, issuer_org)


@pytest.fixture
def outsider(make_user, org_tree):
    """An issuer admin, but of another issuer: must not touch this one."""
    other = Organization.objects.create(
        kind=Organization.Kind.ISSUER, name="Other Issuer", slug="other-issuer"
    )
    return make_user(Role.ISSUER_ADMIN, other)


@pytest.fixture
def profile(issuer_org) -> IssuerProfile:
    return set_up_issuer(issuer_org)


def _url(name: str, slug: str) -> str:
    return reverse(f"credentials:{name}", args=[slug])


# ---------------------------------------------------------------------------- set up


def test_an_issuer_admin_sees_and_uses_the_set_up_button(client, admin, issuer_org):
    client.force_login(admin)
    page = client.get(reverse("credentials:issuers")).content.decode()
    assert f"Set up {issuer_org.name} as an issuer" in page
    response = client.post(_url("issuer_setup", issuer_org.slug))
    assert response.status_code == 302
    assert response["Location"] == _url("issuer_edit", issuer_org.slug)
    profile = IssuerProfile.objects.get(organization=issuer_org)
    assert profile.keys.count() == 1
    assert AuditEvent.objects.get(action="issuer.created").actor == admin


def test_setting_up_twice_says_so_and_changes_nothing(client, admin, profile, issuer_org):
    client.force_login(admin)
    response = client.post(_url("issuer_setup", issuer_org.slug), follow=True)
    assert "already set up as an issuer" in response.content.decode()
    assert profile.keys.count() == 1


def test_someone_else_cannot_set_up_the_issuer(client, outsider, make_user, issuer_org):
    for user in (outsider, make_user(Role.EARNER, Organization.objects.get(slug="pine-es"))):
        client.force_login(user)
        page = client.get(reverse("credentials:issuers")).content.decode()
        assert f"Set up {issuer_org.name}" not in page
        assert client.post(_url("issuer_setup", issuer_org.slug)).status_code == 403
    assert not IssuerProfile.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, issuer_org):
    response = client.post(_url("issuer_setup", issuer_org.slug))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


# ---------------------------------------------------------------------------- public pages


def test_the_issuer_page_is_public_and_lists_its_keys(client, profile):
    page = client.get(_url("issuer", profile.slug)).content.decode()
    assert profile.keys.get().public_key_multibase in page
    assert "Signs new credentials" in page
    assert "Replace the signing key" not in page  # management only for its admins
    listing = client.get(reverse("credentials:issuers")).content.decode()
    assert _url("issuer", profile.slug) in listing
    assert client.get(_url("issuer", "nobody")).status_code == 404


def test_the_issuer_page_offers_management_to_its_admin_only(client, admin, outsider, profile):
    client.force_login(admin)
    assert "Replace the signing key" in client.get(_url("issuer", profile.slug)).content.decode()
    client.force_login(outsider)
    page = client.get(_url("issuer", profile.slug)).content.decode()
    assert "Replace the signing key" not in page


# ---------------------------------------------------------------------------- editing


def test_the_admin_edits_the_profile_and_it_is_audited(client, admin, profile):
    client.force_login(admin)
    assert client.get(_url("issuer_edit", profile.slug)).status_code == 200
    response = client.post(
        _url("issuer_edit", profile.slug),
        {
            "name": "NC Micro-credential Issuer",
            "url": "https://www.dpi.nc.gov/",
            "email": "mc@dpi.nc.gov",
            "description": "Issues the state's educator micro-credentials.",
            "image_url": "",
            "identifier_method": IssuerProfile.Method.DID_WEB,
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.name == "NC Micro-credential Issuer" and profile.email == "mc@dpi.nc.gov"
    event = AuditEvent.objects.get(action="issuer.updated")
    assert event.actor == admin and set(event.data["fields"]) == {
        "name",
        "url",
        "email",
        "description",
    }


def test_a_bad_email_is_named_and_nothing_is_saved(client, admin, profile):
    client.force_login(admin)
    response = client.post(
        _url("issuer_edit", profile.slug),
        {"name": "Renamed", "email": "not-an-email", "identifier_method": "did:web"},
    )
    assert response.status_code == 200
    assert "Contact email: Enter a valid email address." in response.content.decode()
    profile.refresh_from_db()
    assert profile.name == "State MC Issuer"


def test_someone_else_cannot_edit(client, outsider, profile):
    client.force_login(outsider)
    assert client.get(_url("issuer_edit", profile.slug)).status_code == 403
    response = client.post(_url("issuer_edit", profile.slug), {"name": "Hijacked"})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.name == "State MC Issuer"


# ---------------------------------------------------------------------------- key rotation


def test_the_admin_confirms_and_rotates_the_key(client, admin, profile):
    client.force_login(admin)
    page = client.get(_url("key_rotate", profile.slug)).content.decode()
    assert "The current key, key-1" in page and "Why replace the key" in page
    response = client.post(_url("key_rotate", profile.slug), {"reason": "Yearly rotation"})
    assert response.status_code == 302
    assert [k.fragment for k in profile.keys.order_by("number")] == ["key-1", "key-2"]
    event = AuditEvent.objects.get(action="issuer.key_rotated")
    assert event.actor == admin and event.reason == "Yearly rotation"
    page = client.get(_url("issuer", profile.slug)).content.decode()
    assert "still verifies earlier credentials" in page


def test_rotating_without_a_reason_is_refused_plainly(client, admin, profile):
    client.force_login(admin)
    response = client.post(_url("key_rotate", profile.slug), {"reason": ""})
    assert response.status_code == 200
    assert "Say why the key is being replaced" in response.content.decode()
    assert profile.keys.count() == 1


def test_someone_else_cannot_rotate(client, outsider, profile):
    client.force_login(outsider)
    assert client.get(_url("key_rotate", profile.slug)).status_code == 403
    assert client.post(_url("key_rotate", profile.slug), {"reason": "x"}).status_code == 403
    assert profile.keys.count() == 1
    client.logout()
    response = client.post(_url("key_rotate", profile.slug), {"reason": "x"})
    assert response.status_code == 302 and profile.keys.count() == 1


def test_a_superuser_manages_every_issuer(client, make_user, profile):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    assert client.get(_url("issuer_edit", profile.slug)).status_code == 200
    assert client.get(_url("key_rotate", profile.slug)).status_code == 200


def test_the_admin_site_shows_public_keys_never_sealed_seeds(client, make_user, admin, profile):
    change = reverse("admin:credentials_issuerprofile_change", args=[profile.pk])
    client.force_login(make_user(is_superuser=True, is_staff=True))
    page = client.get(change).content.decode()
    assert profile.keys.get().public_key_multibase in page
    assert "encrypted_seed" not in page and "wrapping_key_id" not in page
    client.force_login(admin)  # an issuer admin is not staff: the admin site is not theirs
    assert client.get(change).status_code == 302
