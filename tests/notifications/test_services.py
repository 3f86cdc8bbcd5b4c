"""notify(): once per event, emailed after commit when the person wants it, never twice."""

from __future__ import annotations

import pytest
from django.core import mail

from microcred.notifications import selectors, services
from microcred.notifications.models import EmailPreference, Kind, Notification
from microcred.notifications.tasks import send_notification_email

pytestmark = pytest.mark.django_db


def _notify(user, key="submission:1:received", **extra):
    return services.notify(
        user,
        Kind.SUBMISSION_RECEIVED,
        title="Your submission was received",
        body="An assessor will score it within three weeks.",
        url="/earn/abc/",
        dedupe_key=key,
        **extra,
    )


def test_notify_creates_once_per_event_and_emails_once(
    make_user, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://mc.example.org"
    teacher = make_user("earner", email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = _notify(teacher)
        second = _notify(teacher)
    assert first is not None and second is None
    assert Notification.objects.filter(user=teacher).count() == 1
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your submission was received"
    assert "An assessor will score it within three weeks." in message.body
    link = f"https://mc.example.org/notifications/{first.pk}/open/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html
    first.refresh_from_db()
    assert first.emailed_at is not None


def test_the_same_key_for_another_person_is_another_notification(make_user):
    ana, ben = make_user("earner"), make_user("earner")
    assert _notify(ana) is not None
    assert _notify(ben) is not None


def test_no_email_when_the_person_turned_that_kind_off(
    make_user, django_capture_on_commit_callbacks
):
    teacher = make_user("earner")
    services.save_email_preferences(teacher, {Kind.SCORED})
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(teacher)
    assert notification is not None  # still shown in the product
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.emailed_at is None


def test_nothing_is_sent_when_the_transaction_rolls_back(
    make_user, django_capture_on_commit_callbacks
):
    teacher = make_user("earner")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify(teacher)
    assert len(callbacks) == 1  # queued for commit only
    assert mail.outbox == []


def test_the_email_task_is_idempotent(make_user, django_capture_on_commit_callbacks):
    teacher = make_user("earner")
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(teacher)
    assert len(mail.outbox) == 1
    # A retried or duplicated task finds emailed_at set and sends nothing.
    result = send_notification_email.enqueue(notification.pk)
    assert result.return_value is False
    assert len(mail.outbox) == 1


def test_a_failed_send_can_be_retried(make_user, settings):
    teacher = make_user("earner")
    notification = _notify(teacher)
    settings.MAILERS = {"default": {"BACKEND": "tests.notifications.failing_mail.EmailBackend"}}
    with pytest.raises(ConnectionError):
        send_notification_email.call(notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is None  # released for the retry
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert send_notification_email.call(notification.pk) is True
    assert len(mail.outbox) == 1


def test_unknown_kind_or_missing_key_is_refused(make_user):
    teacher = make_user("earner")
    with pytest.raises(ValueError):
        services.notify(teacher, "party", title="x", dedupe_key="k")
    with pytest.raises(ValueError):
        services.notify(teacher, Kind.SCORED, title="x", dedupe_key="")
    assert not Notification.objects.exists()


def test_mark_read_and_all_read(make_user):
    teacher = make_user("earner")
    one = _notify(teacher, key="a")
    _notify(teacher, key="b")
    _notify(teacher, key="c")
    assert selectors.unread_count(teacher) == 3
    assert services.mark_read(teacher, one) is True
    assert services.mark_read(teacher, one) is False  # second click changes nothing
    assert selectors.unread_count(teacher) == 2
    assert services.mark_all_read(teacher) == 2
    assert services.mark_all_read(teacher) == 0
    assert selectors.unread_count(teacher) == 0


def test_mark_read_never_touches_another_persons_notification(make_user):
    ana, ben = make_user("earner"), make_user("earner")
    bens = _notify(ben)
    assert services.mark_read(ana, bens) is False
    bens.refresh_from_db()
    assert bens.read_at is None


def test_preferences_default_to_email_and_are_saved_per_person(make_user):
    ana, ben = make_user("earner"), make_user("earner")
    assert all(row.send_email for row in selectors.email_preferences(ana))
    services.save_email_preferences(ana, {Kind.EARNED})
    choices = {row.kind: row.send_email for row in selectors.email_preferences(ana)}
    assert choices[Kind.EARNED] is True
    assert choices[Kind.SCORED] is False
    assert selectors.wants_email(ana, Kind.SCORED) is False
    assert selectors.wants_email(ben, Kind.SCORED) is True
    assert EmailPreference.objects.filter(user=ana).count() == len(Kind.values)
    with pytest.raises(ValueError):
        services.save_email_preferences(ana, {"party"})
    assert selectors.wants_email(ana, Kind.EARNED) is True  # unchanged by the refused call
