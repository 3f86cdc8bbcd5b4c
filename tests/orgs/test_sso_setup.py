"""Setting up identity providers: the pages under /manage/sso/, the API, and their limits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.orgs.models import AuditEvent, IdentityProvider, Role

FORM = {
    "organization": "",
    "kind": "oidc",
    "name": "Pine Cloud",
    "organization_attribute": "school_code, lea_code",
    "role_attribute": "roles",
    "role_map": "teacher = earner\ncoach = coach",
    "default_role": "",
    "email_domains": "pine.k12.example",
    "active": "on",
    "server_url": "https://idp.pine.example",
    "client_id": "microcred",
    "client_secret": "top-secret-value",
}


@pytest.fixture
def pine_idp(client, org_tree, lea_admin) -> IdentityProvider:
    client.force_login(lea_admin)
    response = client.post(
        reverse("orgs:sso_create"), {**FORM, "organization": org_tree["lea1"].pk}
    )
    assert response.status_code == 302
    client.logout()
    return IdentityProvider.objects.get(name="Pine Cloud")


def test_a_district_admin_adds_an_oidc_idp_audited_without_its_secret(pine_idp, lea_admin):
    app = pine_idp.social_app
    assert (app.provider, app.client_id, app.secret) == (
        "openid_connect",
        "microcred",
        "top-secret-value",
    )
    assert app.settings["server_url"] == "https://idp.pine.example"
    assert pine_idp.role_map == {"teacher": Role.EARNER, "coach": Role.COACH}
    event = AuditEvent.objects.get(action="sso.idp_created")
    assert event.actor == lea_admin
    assert "top-secret-value" not in str(event.data)


def test_the_edit_page_never_shows_the_secret_and_an_empty_secret_keeps_it(
    client, pine_idp, lea_admin, org_tree
):
    client.force_login(lea_admin)
    page = client.get(reverse("orgs:sso_edit", args=[pine_idp.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "top-secret-value" not in body
    assert "/manage/sso/oidc/" in body  # the callback URL to register at the IdP

    data = {**FORM, "organization": org_tree["lea1"].pk, "client_secret": "", "name": "Pine ID"}
    data.pop("kind")  # disabled on edit
    response = client.post(reverse("orgs:sso_edit", args=[pine_idp.pk]), data)

    assert response.status_code == 302
    pine_idp.refresh_from_db()
    assert pine_idp.name == "Pine ID" and pine_idp.social_app.secret == "top-secret-value"
    event = AuditEvent.objects.get(action="sso.idp_updated")
    assert event.data["before"]["name"] == "Pine Cloud" and not event.data["secret_changed"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"role_map": "admin = program_admin"}, "role_map", "Admin roles are given in microcred"),
        ({"role_map": "teacher earner"}, "role_map", "should read like"),
        ({"server_url": "not a url"}, "server_url", "such as https://idp.example.org"),
        ({"client_secret": ""}, "client_secret", "Enter the client secret"),
        ({"organization_attribute": ""}, "organization_attribute", "Enter the attribute"),
        ({"email_domains": "not_a domain!"}, "email_domains", "is not a domain"),
    ],
)
def test_bad_input_is_named_plainly_and_nothing_is_saved(
    client, org_tree, lea_admin, change, field, words
):
    client.force_login(lea_admin)
    data = {**FORM, "organization": org_tree["lea1"].pk, **change}

    response = client.post(reverse("orgs:sso_create"), data)

    assert response.status_code == 400
    assert words in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert not IdentityProvider.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="sso.").exists()


def test_a_saml_idp_needs_a_real_certificate(client, org_tree, state_admin):
    client.force_login(state_admin)
    data = {
        **FORM,
        "kind": "saml",
        "organization": org_tree["state"].pk,
        "idp_entity_id": "https://idp.example/saml",
        "sso_url": "https://idp.example/sso",
        "x509_cert": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----",
    }

    response = client.post(reverse("orgs:sso_create"), data)

    assert response.status_code == 400
    assert "This is not a certificate" in response.content.decode()
    assert not IdentityProvider.objects.exists()


def test_another_districts_admin_cannot_see_or_edit_the_idp(client, pine_idp, org_tree, make_user):
    oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"], email="oak-admin@example.org")
    client.force_login(oak_admin)

    assert "Pine Cloud" not in client.get(reverse("orgs:sso")).content.decode()
    assert client.get(reverse("orgs:sso_edit", args=[pine_idp.pk])).status_code == 404
    data = {**FORM, "organization": org_tree["lea1"].pk, "name": "Hijacked"}
    assert client.post(reverse("orgs:sso_edit", args=[pine_idp.pk]), data).status_code == 404
    # Nor can they create one for Pine County: it is not among their choices.
    response = client.post(reverse("orgs:sso_create"), data)
    assert response.status_code == 400
    pine_idp.refresh_from_db()
    assert pine_idp.name == "Pine Cloud"
    assert IdentityProvider.objects.count() == 1


def test_the_state_admin_sees_the_districts_idp(client, pine_idp, state_admin):
    client.force_login(state_admin)
    assert client.get(reverse("orgs:sso_edit", args=[pine_idp.pk])).status_code == 200


def test_a_teacher_is_turned_away_from_the_setup(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse("orgs:sso")).status_code == 403
    assert client.get(reverse("orgs:sso_create")).status_code == 403


def test_the_api_lists_and_changes_idps_without_secrets(client, pine_idp, lea_admin, org_tree):
    client.force_login(lea_admin)
    listed = client.get("/api/v1/sso/").json()
    assert [row["name"] for row in listed] == ["Pine Cloud"]
    assert listed[0]["client_secret_saved"] is True
    assert "top-secret-value" not in str(listed)

    payload = {
        "organization": "pine",
        "kind": "oidc",
        "name": "Pine ID",
        "organization_attribute": "lea_code",
        "default_role": "earner",
        "server_url": "https://idp.pine.example",
        "client_id": "microcred",
    }
    response = client.put(f"/api/v1/sso/{pine_idp.pk}", payload, content_type="application/json")
    assert response.status_code == 200, response.content
    pine_idp.refresh_from_db()
    assert pine_idp.name == "Pine ID" and pine_idp.default_role == Role.EARNER

    bad = client.put(
        f"/api/v1/sso/{pine_idp.pk}",
        {**payload, "default_role": "program_admin"},
        content_type="application/json",
    )
    assert bad.status_code in {400, 422}
    pine_idp.refresh_from_db()
    assert pine_idp.default_role == Role.EARNER


def test_the_api_hides_another_districts_idp(client, pine_idp, org_tree, make_user):
    oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"], email="oak-admin@example.org")
    client.force_login(oak_admin)
    assert client.get("/api/v1/sso/").json() == []
    assert client.get(f"/api/v1/sso/{pine_idp.pk}").status_code == 404
