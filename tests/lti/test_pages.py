"""The management pages and API: registering by hand, the values to paste, a course's
members from NRPS, and another district's platform (404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.lti.models import LtiPlatform
from microcred.orgs.models import AuditEvent

from .platform import ACCESS_TOKEN, CLIENT_ID

pytestmark = pytest.mark.django_db


def form_data(base: str, org_pk: int, **changes: str) -> dict[str, object]:
    data = {
        "organization": org_pk,
        "name": "Oak Moodle",
        "issuer": base,
        "client_id": "moodle-1",
        "auth_login_url": f"{base}/auth",
        "auth_token_url": f"{base}/token",
        "key_set_url": f"{base}/jwks",
        "auth_audience": "",
        "deployment_ids": "3\n4\n",
    }
    data.update(changes)
    return data


def test_program_admin_registers_a_platform_by_hand(client, oak_admin, org_tree):
    client.force_login(oak_admin)
    assert client.get(reverse("lti:platform_new")).status_code == 200
    response = client.post(
        reverse("lti:platform_new"), form_data("https://moodle.oak.test", org_tree["lea2"].pk)
    )
    platform = LtiPlatform.objects.get()
    assert response["Location"] == reverse("lti:platform", args=[platform.pk])
    assert sorted(platform.deployments.values_list("deployment_id", flat=True)) == ["3", "4"]
    assert AuditEvent.objects.filter(action="lti.platform_registered").exists()
    page = client.get(response["Location"]).content.decode()
    for value in ("/lti/login/", "/lti/launch/", "/lti/jwks/"):
        assert value in page


def test_bad_registration_names_each_field_and_saves_nothing(client, oak_admin, org_tree):
    client.force_login(oak_admin)
    empty = client.post(
        reverse("lti:platform_new"), form_data("https://x.test", org_tree["lea2"].pk, client_id="")
    )
    assert empty.status_code == 400 and "Enter the Client ID" in empty.content.decode()
    response = client.post(
        reverse("lti:platform_new"),
        form_data("not a url", org_tree["lea2"].pk, key_set_url="ftp://x", deployment_ids=""),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Issuer: Enter a full web address" in page
    assert "Public key set URL: Enter a full web address" in page
    assert "Deployment IDs: Enter at least one deployment ID" in page
    assert not LtiPlatform.objects.exists()


def test_admin_cannot_register_for_another_district(client, oak_admin, org_tree):
    client.force_login(oak_admin)
    response = client.post(
        reverse("lti:platform_new"), form_data("https://x.test", org_tree["lea1"].pk)
    )
    assert response.status_code == 400  # lea1 is not among the form's choices
    assert not LtiPlatform.objects.exists()


def test_another_districts_platform_is_not_found(client, oak_admin, registered):
    client.force_login(oak_admin)
    assert client.get(reverse("lti:platform", args=[registered.pk])).status_code == 404
    assert client.get(reverse("lti:platform_edit", args=[registered.pk])).status_code == 404
    url = reverse("lti:course", args=[registered.pk, "course-7"])
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/lti/platforms").json() == []
    assert client.get(f"/api/v1/lti/platforms/{registered.pk}/passbacks").status_code == 404


def test_earners_have_no_platform_pages(client, make_earner):
    client.force_login(make_earner())
    response = client.get(reverse("lti:platforms"))
    assert response.status_code == 403
    assert "connected by program staff" in response.content.decode()
    assert client.get("/api/v1/lti/platforms").status_code == 403


def test_course_members_with_their_progress(
    client, launch, make_earner, pine_admin, registered, test_platform, version
):
    teacher = make_earner(email="teacher@example.org")
    launch(custom={"mc": version.micro_credential.slug})
    client.logout()
    test_platform.members = [
        {
            "user_id": "canvas-user-1",
            "name": "Tess Teacher",
            "email": "teacher@example.org",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            "status": "Active",
        },
        {
            "user_id": "u-2",
            "name": "Nobody Yet",
            "email": "nobody@example.org",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        },
    ]
    client.force_login(pine_admin)
    listing = client.get(reverse("lti:platform", args=[registered.pk])).content.decode()
    assert "Coaching PLC, Fall" in listing
    response = client.get(reverse("lti:course", args=[registered.pk, "course-7"]))
    assert response.status_code == 200
    members = {m.name: m for m in response.context["members"]}
    assert members["Tess Teacher"].user == teacher
    assert [p.status for p in members["Tess Teacher"].progress] == ["Not started"]
    assert members["Nobody Yet"].user is None
    (nrps,) = test_platform.requests_to("/courses/7/names_and_roles")
    assert nrps.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    api = client.get("/api/v1/lti/platforms").json()
    assert [p["client_id"] for p in api] == [CLIENT_ID]
    assert client.get(f"/api/v1/lti/platforms/{registered.pk}/passbacks").json() == []


def test_course_page_when_the_platform_fails(
    client, launch, make_earner, pine_admin, registered, test_platform, version
):
    launch(custom={"mc": version.micro_credential.slug})
    client.logout()
    registered.auth_token_url = f"{test_platform.base}/no-token-here"
    registered.save()
    client.force_login(pine_admin)
    response = client.get(reverse("lti:course", args=[registered.pk, "course-7"]))
    assert response.status_code == 502
    assert "Pine Canvas refused an access token" in response.content.decode()
