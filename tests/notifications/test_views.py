"""The notification pages and the header count, for the recipient and for anyone else."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from microcred.notifications import services
from microcred.notifications.context_processors import unread_notifications
from microcred.notifications.models import Kind, Notification
from microcred.notifications.selectors import wants_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(make_user):
    return make_user("earner", email="ana@example.org")


@pytest.fixture
def other(make_user):
    return make_user("earner", email="ben@example.org")


def _notify(user, key: str, url: str = "/catalog/") -> Notification:
    return services.notify(
        user, Kind.SCORED, title=f"Scored {key}", body="See the feedback.", url=url, dedupe_key=key
    )


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in(client):
    for name in ("notifications:list", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    assert client.post(reverse("notifications:read_all")).status_code == 302


def test_list_shows_own_notifications_newest_first_with_unread_marked(client, teacher, other):
    older = _notify(teacher, "one")
    newer = _notify(teacher, "two")
    services.mark_read(teacher, older)
    _notify(other, "not-mine")
    response = _signed_in(client, teacher).get(reverse("notifications:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Scored two") < page.index("Scored one")
    assert "Scored not-mine" not in page
    assert page.count(">Unread</span>") == 1
    assert "You have 1 unread notification." in page
    assert reverse("notifications:read", args=[newer.pk]) in page
    assert reverse("notifications:read", args=[older.pk]) not in page


def test_mark_one_read_is_post_only_and_safe_to_repeat(client, teacher):
    notification = _notify(teacher, "one")
    client = _signed_in(client, teacher)
    url = reverse("notifications:read", args=[notification.pk])
    assert client.get(url).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None
    assert client.post(url).status_code == 302
    notification.refresh_from_db()
    first_read = notification.read_at
    assert first_read is not None
    assert client.post(url).status_code == 302  # double post: nothing changes
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_another_person_cannot_read_or_open_my_notification(client, teacher, other):
    notification = _notify(teacher, "one")
    client = _signed_in(client, other)
    assert client.post(reverse("notifications:read", args=[notification.pk])).status_code == 404
    assert client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read(client, teacher, other):
    _notify(teacher, "one")
    _notify(teacher, "two")
    theirs = _notify(other, "three")
    response = _signed_in(client, teacher).post(reverse("notifications:read_all"), follow=True)
    assert "Marked 2 notifications as read." in response.content.decode()
    assert not Notification.objects.filter(user=teacher, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    again = client.post(reverse("notifications:read_all"), follow=True)
    assert "You have no unread notifications." in again.content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, teacher):
    notification = _notify(teacher, "one", url="/catalog/")
    response = _signed_in(client, teacher).get(
        reverse("notifications:open", args=[notification.pk])
    )
    assert response.status_code == 302 and response["Location"] == "/catalog/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_never_redirects_to_another_site(client, teacher):
    notification = _notify(teacher, "one", url="https://evil.example.com/")
    response = _signed_in(client, teacher).get(
        reverse("notifications:open", args=[notification.pk])
    )
    assert response["Location"] == reverse("notifications:list")


def test_preferences_page_saves_choices(client, teacher, other):
    client = _signed_in(client, teacher)
    page = client.get(reverse("notifications:preferences")).content.decode()
    for kind in Kind:
        assert f'name="{kind.value}"' in page
    assert page.count("checked") == len(Kind.values)  # every kind emailed by default
    assert '<label for="id_scored">Email me' in page
    response = client.post(reverse("notifications:preferences"), {Kind.EARNED: "on"}, follow=True)
    assert "Your email choices are saved." in response.content.decode()
    assert wants_email(teacher, Kind.EARNED) is True
    assert wants_email(teacher, Kind.SCORED) is False
    assert wants_email(other, Kind.SCORED) is True
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert page.count("checked") == 1


def test_header_shows_unread_count_with_one_query(client, teacher, django_assert_num_queries):
    _notify(teacher, "one")
    _notify(teacher, "two")
    client = _signed_in(client, teacher)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "Notifications (2)</a>" in page
    request = RequestFactory().get("/")
    request.user = teacher
    with django_assert_num_queries(1):
        assert unread_notifications(request) == {"unread_notification_count": 2}
        assert unread_notifications(request) == {"unread_notification_count": 2}


def test_header_has_no_count_for_visitors(client):
    page = client.get(reverse("catalog:search")).content.decode()
    assert "Notifications (" not in page
