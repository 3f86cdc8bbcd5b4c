"""The assessor's own pages for someone with no assessor profile: a page saying what to do,
never a 500 (a superuser passes every permission check, yet has no profile to show)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.assessment.models import AssessorProfile
from microcred.orgs.models import User

pytestmark = pytest.mark.django_db

EXPLAINED = "You are not in the assessor pool"
WHAT_TO_DO = "ask your scoring lead to add you to the assessor pool"


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(email="root@example.org", password="pw-for-tests-1")


@pytest.mark.parametrize("who", ["superuser", "earner", "assessor_role_only"])
def test_my_assessor_page_without_a_profile_says_what_to_do(
    client, who, superuser, make_earner, make_user, org_tree
):
    user = {
        "superuser": superuser,
        "earner": make_earner(),
        "assessor_role_only": make_user("assessor", org_tree["assess"]),
    }[who]
    client.force_login(user)

    response = client.get(reverse("assessment:me"))

    assert response.status_code == 403
    html = response.content.decode()
    assert EXPLAINED in html and WHAT_TO_DO in html


def test_pausing_without_a_profile_changes_nothing_and_says_what_to_do(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("assessment:pause"), {"paused": "1"})
    assert response.status_code == 403
    assert EXPLAINED in response.content.decode()
    assert not AssessorProfile.objects.exists()


def test_an_assessor_still_gets_their_page(client, make_assessor):
    profile = make_assessor()
    client.force_login(profile.user)
    response = client.get(reverse("assessment:me"))
    assert response.status_code == 200
    assert "My assessor page" in response.content.decode()
