"""Delivery: signed POSTs to a real receiver, retries on the backoff schedule with the same
event id, timeouts, order per endpoint, giving up, one sender at a time, the sweep."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from microcred.webhooks import delivery as sending
from microcred.webhooks import events, sealing, selectors, services
from microcred.webhooks.delivery import BACKOFF, MAX_ATTEMPTS, sweep
from microcred.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent

from .receiver import verify

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture
def emit(org_tree, django_capture_on_commit_callbacks):
    """emit(n) -> a ledger-style event in Pine County's scope, committed (so sent at once)."""
    counter = {"n": 0}

    def do(payload: dict | None = None) -> WebhookEvent:
        counter["n"] += 1
        with django_capture_on_commit_callbacks(execute=True):
            return events.record_event(
                "ledger_entry.posted",
                payload or {"entry": {"id": counter["n"]}},
                [org_tree["lea1"].pk],
                source_key=f"test:{counter['n']}",
            )

    return do


def first_attempt_at(delivery: WebhookDelivery):
    return delivery.attempt_log.order_by("number").first().attempted_at


def test_an_event_reaches_the_receiver_signed_with_its_id_type_and_attempt(
    receiver, lea_endpoint, emit
):
    event = emit({"entry": {"id": 7, "title": "Coaching"}})
    [request] = receiver.requests
    assert request.signature_ok and request.answered == 200
    assert request.headers["Content-Type"] == "application/json"
    assert request.event_id == str(event.id)
    assert request.headers["Microcred-Event-Type"] == "ledger_entry.posted"
    assert request.attempt == 1
    assert request.json == {
        "id": str(event.id),
        "type": "ledger_entry.posted",
        "created": event.created.isoformat().replace("+00:00", "+00:00"),
        "data": {"entry": {"id": 7, "title": "Coaching"}},
    }
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        1,
        200,
    )
    assert selectors.delivery_message(delivery).startswith("Delivered at ")


def test_the_receiver_refuses_a_stale_timestamp_a_changed_body_and_another_secret():
    body = b'{"id":"x"}'
    header = sending.signature("whsec_a", 1_000_000, body)
    assert verify("whsec_a", header, body, now=1_000_000 + 299)
    assert not verify("whsec_a", header, body, now=1_000_000 + 301)  # replayed later
    assert not verify("whsec_a", header, b'{"id":"y"}', now=1_000_000)
    assert not verify("whsec_b", header, body, now=1_000_000)


def test_a_500_is_retried_after_a_minute_with_the_same_id_and_body_and_delivered_once(
    receiver, lea_endpoint, emit
):
    receiver.misbehave("500")
    event = emit()
    delivery = WebhookDelivery.objects.get()
    started = first_attempt_at(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.PENDING,
        1,
        500,
    )
    assert delivery.next_attempt_at == started + timedelta(minutes=1)
    retry_at = timezone.localtime(delivery.next_attempt_at).strftime("%H:%M")
    message = selectors.delivery_message(delivery)
    assert message.startswith("The endpoint answered 500 Internal Server Error; we will try")
    assert retry_at in message

    assert sweep(now=started + timedelta(seconds=59)) == 0  # not due yet: nothing is sent
    assert len(receiver.requests) == 1
    assert sweep(now=started + timedelta(minutes=1)) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        2,
        200,
    )
    assert [r.event_id for r in receiver.requests] == [str(event.id)] * 2
    assert [r.attempt for r in receiver.requests] == [1, 2]
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.accepted_ids == [str(event.id)]
    log = list(delivery.attempt_log.order_by("number").values_list("number", "ok", "status_code"))
    assert log == [(1, False, 500), (2, True, 200)]
    # Delivered is final: later sweeps never send it again.
    assert sweep(now=started + timedelta(days=3)) == 0
    assert len(receiver.requests) == 2


def test_an_endpoint_that_hangs_past_the_timeout_is_a_failed_attempt_then_retried(
    receiver, lea_endpoint, emit
):
    receiver.misbehave("hang")
    event = emit()
    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert (attempt.ok, attempt.status_code) == (False, None)
    assert attempt.error == "The endpoint did not answer within 0.5 seconds."
    assert delivery.status == Status.PENDING
    assert selectors.delivery_message(delivery).startswith(
        "The endpoint did not answer within 0.5 seconds; we will try again at "
    )
    assert sweep(now=attempt.attempted_at + BACKOFF[0]) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert receiver.accepted_ids == [str(event.id)]


def test_a_refused_connection_is_explained(make_endpoint, lea_admin, org_tree, emit):
    make_endpoint(lea_admin, org_tree["lea1"], url="http://127.0.0.1:9/hooks")
    emit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING
    assert "refused the connection" in delivery.last_error


def test_a_later_event_waits_behind_a_failing_one_and_order_is_kept(receiver, lea_endpoint, emit):
    receiver.misbehave("500")
    first = emit()
    second = emit()
    third = emit()
    assert [r.event_id for r in receiver.requests] == [str(first.id)]  # the others wait
    waiting = WebhookDelivery.objects.get(event=second)
    assert (waiting.status, waiting.attempts) == (Status.PENDING, 0)
    assert selectors.delivery_message(waiting) == (
        "Waiting behind an earlier delivery to this endpoint."
    )

    started = first_attempt_at(WebhookDelivery.objects.get(event=first))
    assert sweep(now=started + BACKOFF[0]) == 3
    assert receiver.accepted_ids == [str(first.id), str(second.id), str(third.id)]
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 3


def test_after_the_last_attempt_we_give_up_and_the_queue_moves_on(receiver, lea_endpoint, emit):
    receiver.misbehave(*["500"] * MAX_ATTEMPTS)
    doomed = emit()
    behind = emit()
    delivery = WebhookDelivery.objects.get(event=doomed)
    clock = first_attempt_at(delivery)
    for wait in BACKOFF:
        clock += wait
        sweep(now=clock)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        Status.GAVE_UP,
        MAX_ATTEMPTS,
        None,
    )
    times = list(delivery.attempt_log.order_by("number").values_list("attempted_at", flat=True))
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == list(BACKOFF)
    assert selectors.delivery_message(delivery) == (
        "The endpoint answered 500 Internal Server Error. We tried 8 times and gave up; use "
        "“Redeliver” to send it again."
    )
    # Given up, it no longer holds the queue: the next event went out right after it.
    assert receiver.accepted_ids == [str(behind.id)]
    assert sweep(now=clock + timedelta(days=7)) == 0


def test_redeliver_resends_the_same_event_id_and_body(
    receiver, lea_endpoint, emit, lea_admin, django_capture_on_commit_callbacks
):
    event = emit()
    delivered = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.redeliver(lea_admin, delivered)
    again.refresh_from_db()
    assert again.status == Status.DELIVERED and again.redelivery_of == delivered
    assert [r.event_id for r in receiver.requests] == [str(event.id)] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.accepted_ids == [str(event.id)]  # the receiver deduped the repeat


def test_a_waiting_delivery_cannot_be_redelivered(receiver, lea_endpoint, emit, lea_admin):
    receiver.misbehave("500")
    emit()
    waiting = WebhookDelivery.objects.get()
    with pytest.raises(services.ValidationError, match="still waiting"):
        services.redeliver(lea_admin, waiting)
    assert WebhookDelivery.objects.count() == 1


def test_one_sender_at_a_time_per_endpoint(receiver, lea_endpoint, emit):
    token = sending.claim(lea_endpoint.pk)
    assert token is not None
    assert sending.claim(lea_endpoint.pk) is None  # a second worker stays out
    emit()  # its worker finds the endpoint busy: nothing is sent twice, nothing now
    assert receiver.requests == []
    sending.release(lea_endpoint.pk, token)
    assert sweep() == 1
    assert len(receiver.requests) == 1


def test_an_expired_lease_is_taken_over(lea_endpoint):
    assert sending.claim(lea_endpoint.pk) is not None
    type(lea_endpoint).objects.filter(pk=lea_endpoint.pk).update(
        busy_until=timezone.now() - timedelta(seconds=1)
    )
    assert sending.claim(lea_endpoint.pk) is not None


def test_the_sweep_command_sends_what_a_lost_task_left(receiver, lea_endpoint, org_tree, capsys):
    # Stored without its on-commit task (as if the worker died): only the sweep finds it.
    event = events.record_event(
        "decision.made", {"decision": {"id": 1}}, [org_tree["lea1"].pk], source_key="lost"
    )
    assert receiver.requests == []
    call_command("send_webhooks")
    assert "Made 1 delivery attempt; forgot 0 old events." in capsys.readouterr().out
    assert receiver.accepted_ids == [str(event.id)]


def test_finished_events_are_forgotten_after_the_keeping_days_waiting_ones_never(
    receiver, lea_endpoint, org_tree, settings, capsys
):
    from microcred.webhooks.models import WebhookAttempt, WebhookEvent

    settings.MICROCRED_WEBHOOK_KEEP_DAYS = 30
    lea = [org_tree["lea1"].pk]
    sent = events.record_event("decision.made", {"decision": {"id": 1}}, lea, source_key="a")
    call_command("send_webhooks")
    receiver.misbehave("500")
    waiting = events.record_event("decision.made", {"decision": {"id": 2}}, lea, source_key="b")
    call_command("send_webhooks")  # the receiver answers 500: it waits for its retry
    capsys.readouterr()
    WebhookEvent.objects.update(created=timezone.now() - timedelta(days=31))

    call_command("send_webhooks")
    assert "forgot 1 old event." in capsys.readouterr().out
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert not WebhookDelivery.objects.filter(event_id=sent.pk).exists()
    assert not WebhookAttempt.objects.filter(delivery__event_id=sent.pk).exists()


def test_a_paused_endpoint_gets_nothing_new_and_resumes_what_waited(
    receiver, lea_endpoint, emit, lea_admin, django_capture_on_commit_callbacks
):
    receiver.misbehave("500")
    waiting = emit()
    services.update_endpoint(
        lea_admin,
        lea_endpoint,
        url=lea_endpoint.url,
        event_types=lea_endpoint.event_types,
        active=False,
    )
    assert emit() is None  # no active endpoint listens: nothing is stored
    assert WebhookDelivery.objects.count() == 1
    assert selectors.delivery_message(WebhookDelivery.objects.get()).startswith("Waiting: the")
    lea_endpoint.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_endpoint(
            lea_admin,
            lea_endpoint,
            url=lea_endpoint.url,
            event_types=lea_endpoint.event_types,
            active=True,
        )
    # Resumed: the worker runs, but the failed delivery keeps its retry time.
    started = first_attempt_at(WebhookDelivery.objects.get())
    sweep(now=started + BACKOFF[0])
    assert receiver.accepted_ids == [str(waiting.id)]


def test_a_rotated_secret_signs_from_the_next_attempt(receiver, lea_endpoint, emit, lea_admin):
    old = receiver.secret
    new = services.rotate_secret(lea_admin, lea_endpoint)
    assert new != old and new.startswith("whsec_")
    emit()  # the receiver still holds the old secret: 401, a failed attempt
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (Status.PENDING, 401)
    receiver.secret = new
    sweep(now=first_attempt_at(delivery) + BACKOFF[0])
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED


def test_the_secret_is_sealed_at_rest_and_bound_to_its_endpoint(receiver, lea_endpoint):
    stored = bytes(type(lea_endpoint).objects.get(pk=lea_endpoint.pk).sealed_secret)
    assert receiver.secret.encode() not in stored
    assert sealing.unseal(stored, lea_endpoint.pk) == receiver.secret
    with pytest.raises(sealing.SealError):
        sealing.unseal(stored, lea_endpoint.pk + 1)


def test_a_test_event_is_sent_at_once_ahead_of_a_waiting_queue_and_tried_once(
    receiver, lea_endpoint, emit, lea_admin
):
    receiver.misbehave("500")
    emit()  # fails: waits a minute
    test = services.send_test(lea_admin, lea_endpoint)
    assert test.status == Status.DELIVERED
    assert receiver.accepted_types() == ["webhook.test"]
    receiver.misbehave("500")
    failed = services.send_test(lea_admin, lea_endpoint)
    assert (failed.status, failed.attempts) == (Status.GAVE_UP, 1)  # no retries for a test
    assert WebhookAttempt.objects.filter(delivery=failed).count() == 1


def test_the_body_is_the_same_bytes_on_every_send(lea_endpoint, emit):
    event = emit({"b": [1, 2], "a": "é"})
    body = sending.body_of(WebhookEvent.objects.get(pk=event.pk))
    assert body == sending.body_of(event)
    assert json.loads(body)["data"] == {"a": "é", "b": [1, 2]}


def test_production_never_sends_to_a_host_on_a_private_network(
    receiver, make_endpoint, lea_admin, org_tree, emit, settings
):
    settings.MICROCRED_CREDENTIAL_KEY = "a-test-master-secret-of-enough-length"
    make_endpoint(lea_admin, org_tree["lea1"])  # made while local addresses were allowed
    settings.PRODUCTION = True
    emit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and receiver.requests == []
    assert delivery.last_error == (
        "The endpoint's host name points to a private network address (127.0.0.1); we send "
        "only to addresses on the internet."
    )


def test_a_secret_sealed_under_another_master_key_fails_plainly(
    receiver, lea_endpoint, emit, settings
):
    settings.MICROCRED_CREDENTIAL_KEY = "another-master-secret-than-the-one-that-sealed"
    emit()
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert "Rotate the endpoint's secret" in delivery.last_error


def test_where_the_queue_can_defer_a_retry_is_enqueued_for_its_time(
    receiver, lea_endpoint, org_tree, settings, django_capture_on_commit_callbacks
):
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]
    receiver.misbehave("500")
    with django_capture_on_commit_callbacks(execute=True):
        events.record_event("decision.made", {}, [org_tree["lea1"].pk], source_key="d")
    [first] = backend.results  # enqueued on commit, not run: a worker would take it
    assert (first.task.name, first.args, first.task.run_after) == (
        "deliver",
        [lea_endpoint.pk],
        None,
    )
    sending.deliver_endpoint(lea_endpoint.pk)  # the worker runs it: a 500
    delivery = WebhookDelivery.objects.get()
    [retry] = backend.results[1:]
    assert retry.task.run_after == delivery.next_attempt_at
    assert retry.args == [lea_endpoint.pk]
