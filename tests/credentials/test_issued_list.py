"""The issuer admin's list of what their issuer signed: search, filter, links to revoke, only
their own issuer's credentials, a bounded number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.credentials import issued, services
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import Organization, Role
from tests.credentials.awards import *  # noqa: F403
from tests.credentials.helpers import set_up_issuer

pytestmark = pytest.mark.django_db

URL = reverse("credentials:issued")


@pytest.fixture
def issue(make_award, make_earner):
    """issue(first, last, email) -> a credential our issuer signed for a new earner."""

    def do(first: str, last: str, email: str) -> IssuedCredential:
        earner = make_earner(first_name=first, last_name=last, email=email)
        return services.issue_for_award(make_award(earner))

    return do


@pytest.fixture
def two(issue) -> tuple[IssuedCredential, IssuedCredential]:
    return (
        issue("Inez", "Earner", "inez@pine.example.org"),
        issue("Omar", "Okafor", "omar@pine.example.org"),
    )


@pytest.fixture
def elsewhere(issue, make_user) -> tuple[IssuedCredential, object]:
    """A credential of another issuer organization, and that issuer's admin."""
    other = Organization.objects.create(
        kind=Organization.Kind.ISSUER, name="Other State Issuer", slug="other-issuer"
    )
    profile = set_up_issuer(other)
    credential = issue("Zelda", "Zimmer", "zelda@oak.example.org")
    IssuedCredential.objects.filter(pk=credential.pk).update(issuer=profile)
    return credential, make_user(Role.ISSUER_ADMIN, other)


def listed(client, user, **params) -> list[str]:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return [row.credential.uuid.hex for row in response.context["rows"]]


def test_the_list_shows_every_credential_newest_first_with_open_and_revoke_links(
    client, issuer_admin, two
):
    first, second = two
    client.force_login(issuer_admin)
    response = client.get(URL)
    assert [row.credential for row in response.context["rows"]] == [second, first]
    page = response.content.decode()
    assert "Omar Okafor" in page and "omar@pine.example.org" in page
    assert reverse("credentials:credential", args=[first.uuid]) in page
    assert reverse("credentials:credential_revoke", args=[first.uuid]) in page
    assert "2 credentials" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("omar", [1]),
        ("OKAFOR", [1]),
        ("Inez Earner", [0]),
        ("inez@pine", [0]),
        ("pine.example.org", [1, 0]),
        ("leadership coaching", [1, 0]),
        ("nobody at all", []),
    ],
)
def test_search_by_earner_name_email_and_credential_name(
    client, issuer_admin, two, query, expected
):
    assert listed(client, issuer_admin, q=query) == [two[i].uuid.hex for i in expected]


def test_search_by_the_credentials_code(client, issuer_admin, two):
    assert listed(client, issuer_admin, q=str(two[0].uuid)) == [two[0].uuid.hex]


def test_filter_revoked_and_valid(client, issuer_admin, two):
    first, second = two
    services.revoke(issuer_admin, first, "Evidence was not the earner's own.")
    assert listed(client, issuer_admin, revoked="yes") == [first.uuid.hex]
    assert listed(client, issuer_admin, revoked="no") == [second.uuid.hex]
    assert listed(client, issuer_admin, revoked="perhaps") == [second.uuid.hex, first.uuid.hex]
    page = client.get(URL, {"revoked": "yes"}).content.decode()
    assert "Revoked" in page and "Evidence was not the earner" in page
    assert reverse("credentials:credential_revoke", args=[first.uuid]) not in page


def test_another_issuers_credentials_are_never_listed(client, issuer_admin, two, elsewhere):
    theirs, their_admin = elsewhere
    assert theirs.uuid.hex not in listed(client, issuer_admin)
    assert listed(client, issuer_admin, q="zelda") == []
    assert listed(client, issuer_admin, q=str(theirs.uuid)) == []
    assert listed(client, their_admin) == [theirs.uuid.hex]


def test_an_earner_is_refused(client, two):
    client.force_login(two[0].award.earner)
    assert client.get(URL).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_empty_search_says_what_to_do_next(client, issuer_admin, two):
    client.force_login(issuer_admin)
    page = client.get(URL, {"q": "nobody at all"}).content.decode()
    assert "No credential your issuer signed matches" in page


def test_pages_keep_the_search(client, issuer_admin, two, monkeypatch):
    from microcred.credentials import views_issued

    monkeypatch.setattr(views_issued, "PAGE_SIZE", 1)
    client.force_login(issuer_admin)
    page = client.get(URL, {"q": "pine"}).content.decode()
    assert "Page 1 of 2" in page and "q=pine&amp;page=2" in page
    assert listed(client, issuer_admin, q="pine", page=2) == [two[0].uuid.hex]


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client, issuer_admin, issue, two, django_assert_max_num_queries
):
    client.force_login(issuer_admin)
    client.get(URL)  # sessions and permissions warmed up
    services.revoke(issuer_admin, two[0], "Withdrawn")
    for n in range(3):
        issue("Extra", f"Earner{n}", f"extra{n}@pine.example.org")
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(response.context["rows"]) == 5


def test_a_superuser_sees_every_issuer(client, two, elsewhere, make_user):
    admin = make_user(is_superuser=True, is_staff=True)
    assert len(listed(client, admin)) == 3
    assert issued.can_list_issued(admin)
