"""Sending: signed as documented, retried with backoff, given up, paused, never twice."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from members.permissions import Role
from tests.factories import CohortFactory, UserFactory
from training.services.enrolment import enrolment_apply
from webhooks.crypto import signature, signature_verify
from webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from webhooks.services import (
    ENQUEUE_LEASE,
    deliveries_due_ids,
    deliveries_enqueue,
    delivery_send,
    delivery_send_again,
    endpoint_paused_notify,
    endpoint_resume,
    payload_body,
    webhook_event_record,
)
from webhooks.tasks import deliveries_sweep, delivery_send_task

pytestmark = pytest.mark.django_db


def _event(event_type=EventType.ENROLMENT_CHANGED) -> list[Delivery]:
    return webhook_event_record(event_type=event_type, payload={"enrolment_id": 1, "member_id": 2})


def _make_due(delivery: Delivery) -> None:
    """As if the wait before the next try had passed."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_delivery_reaches_the_receiver_signed_as_documented(receiver, endpoint_for):
    """The receiver gets one POST of the JSON payload with the id, event, timestamp and
    signature headers; its own HMAC check (the documented scheme) accepts it."""
    endpoint = endpoint_for(receiver)
    (delivery,) = _event()

    report = delivery_send(delivery_id=delivery.pk)

    assert report.result == "delivered"
    (got,) = receiver.received
    assert got.signature_ok
    assert got.path == "/hooks/future-leaders?source=fl"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Webhook-Id"] == str(delivery.event_id)
    assert got.headers["X-Webhook-Event"] == "enrolment.changed"
    assert got.body == payload_body(delivery.payload)
    assert got.json == {
        "id": str(delivery.event_id),
        "type": "enrolment.changed",
        "created_at": delivery.payload["created_at"],
        "data": {"enrolment_id": 1, "member_id": 2},
    }
    # The shipped helper agrees with the receiver's independent check, and refuses a
    # replay whose timestamp is old.
    timestamp = got.headers["X-Webhook-Timestamp"]
    header = got.headers["X-Webhook-Signature"]
    assert header == signature(secret=receiver.secret, timestamp=timestamp, body=got.body)
    now = int(timestamp)
    assert signature_verify(
        secret=receiver.secret, timestamp=timestamp, body=got.body, header=header, now=now
    )
    assert not signature_verify(
        secret=receiver.secret, timestamp=timestamp, body=got.body, header=header, now=now + 301
    )
    assert not signature_verify(
        secret="whsec_other", timestamp=timestamp, body=got.body, header=header, now=now
    )
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None
    assert endpoint.last_success_at is not None


def test_an_event_in_a_transaction_that_rolls_back_writes_no_delivery(receiver, endpoint_for):
    """The outbox row is written with the event: the application rolled back, so did it."""
    endpoint_for(receiver)
    cohort = CohortFactory()
    member = UserFactory()
    written = []

    def apply_then_fail():
        with transaction.atomic():
            enrolment_apply(cohort=cohort, member=member)
            written.append(Delivery.objects.count())
            raise RuntimeError("something later in the request failed")

    with pytest.raises(RuntimeError):
        apply_then_fail()
    assert written == [1]
    assert not Delivery.objects.exists()
    deliveries_sweep()
    assert receiver.received == []


def test_a_500_is_retried_after_a_backoff_then_delivered(receiver, endpoint_for):
    """A 500 fails the try: the next one is about a minute later (with jitter), not sooner;
    the sweep sends it when due, with the same event id."""
    endpoint_for(receiver)
    receiver.answer(500)
    (delivery,) = _event()

    assert delivery_send(delivery_id=delivery.pk).result == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert "HTTP 500" in delivery.last_error
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=47) <= wait <= timedelta(seconds=73)

    assert deliveries_sweep()["due"] == 0  # not yet
    assert len(receiver.received) == 1
    _make_due(delivery)
    assert deliveries_sweep()["due"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert [r.headers["X-Webhook-Id"] for r in receiver.received] == [str(delivery.event_id)] * 2


def test_a_receiver_slower_than_the_read_timeout_fails_the_try_then_succeeds(receiver, endpoint_for):
    endpoint_for(receiver)
    receiver.answer(("sleep", 1.5))
    (delivery,) = _event()

    assert delivery_send(delivery_id=delivery.pk).result == "failed"
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error.lower()
    assert delivery.next_attempt_at > timezone.now()

    _make_due(delivery)
    assert delivery_send(delivery_id=delivery.pk).result == "delivered"


def test_the_backoff_grows_and_the_delivery_is_given_up_after_the_last_try(receiver, endpoint_for, settings):
    settings.WEBHOOKS_BACKOFF_SECONDS = [60, 300]
    endpoint_for(receiver)
    receiver.answer(500, 503, 502)
    (delivery,) = _event()

    waits = []
    for _try in range(2):
        assert delivery_send(delivery_id=delivery.pk).result == "failed"
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
        _make_due(delivery)
    assert 48 <= waits[0] <= 72
    assert 240 <= waits[1] <= 360

    assert delivery_send(delivery_id=delivery.pk).result == "gave_up"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.GAVE_UP, 3, 502)
    _make_due(delivery)
    assert delivery_send(delivery_id=delivery.pk).result == "not_due"
    assert deliveries_sweep()["due"] == 0
    assert len(receiver.received) == 3

    # Staff send it again: same event id, tries counted afresh.
    delivery_send_again(delivery=delivery)
    assert delivery_send(delivery_id=delivery.pk).result == "delivered"
    assert receiver.received[-1].headers["X-Webhook-Id"] == str(delivery.event_id)


def test_running_the_send_twice_sends_once(receiver, endpoint_for):
    """A task delivered twice by the broker (or the sweep and the on-commit task both
    asking) sends once: the second finds the delivery delivered."""
    endpoint_for(receiver)
    (delivery,) = _event()

    delivery_send_task.delay(delivery.pk)
    delivery_send_task.delay(delivery.pk)
    assert delivery_send(delivery_id=delivery.pk).result == "not_due"
    deliveries_sweep()

    assert len(receiver.received) == 1
    with pytest.raises(Exception, match="not sent again"):
        delivery_send_again(delivery=Delivery.objects.get(pk=delivery.pk))


def test_a_delivery_held_by_another_worker_is_not_sent_until_its_claim_lapses(receiver, endpoint_for):
    endpoint_for(receiver)
    (delivery,) = _event()
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() + timedelta(seconds=30))

    assert delivery_send(delivery_id=delivery.pk).result == "not_due"
    assert deliveries_sweep()["due"] == 0
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert delivery_send(delivery_id=delivery.pk).result == "delivered"
    assert len(receiver.received) == 1


def test_an_endpoint_failing_n_times_in_a_row_is_paused_and_gets_nothing_new(
    receiver, endpoint_for, settings
):
    settings.WEBHOOKS_PAUSE_AFTER_FAILURES = 3
    endpoint = endpoint_for(receiver)
    receiver.answer(500, 500, 500)
    deliveries = [_event()[0] for _ in range(4)]

    results = [delivery_send(delivery_id=d.pk).result for d in deliveries]

    assert results == ["failed", "failed", "failed", "paused"]
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert endpoint.paused_automatically
    assert endpoint.consecutive_failures == 3
    assert _event() == []  # a paused endpoint gets no new deliveries
    for delivery in deliveries:
        _make_due(delivery)
    assert deliveries_sweep()["due"] == 0
    assert len(receiver.received) == 3

    # Resumed: what waited is due at once, and goes.
    endpoint_resume(endpoint=endpoint)
    deliveries_sweep()
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_success_resets_the_endpoints_failure_count(receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    receiver.answer(500)
    first, second = _event()[0], _event()[0]
    delivery_send(delivery_id=first.pk)
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 1
    delivery_send(delivery_id=second.pk)
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_a_redirect_is_a_failure_and_is_not_followed(receiver, endpoint_for):
    endpoint_for(receiver)
    receiver.answer(302)
    (delivery,) = _event()
    assert delivery_send(delivery_id=delivery.pk).result == "failed"
    assert len(receiver.received) == 1
    assert Delivery.objects.get(pk=delivery.pk).last_status_code == 302


def test_a_receiver_that_is_down_fails_the_try_without_raising(local_http, endpoint_for):
    """Nothing listens on the port: the send records the error, the platform goes on."""
    import socket

    from tests.webhooks.conftest import Receiver

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_for(Receiver(port=port))
    (delivery,) = _event()
    assert delivery_send(delivery_id=delivery.pk).result == "failed"
    assert Delivery.objects.get(pk=delivery.pk).last_error


def test_the_body_sent_is_compact_sorted_json(receiver, endpoint_for):
    endpoint_for(receiver)
    (delivery,) = webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={"b": 1, "a": "é"})
    delivery_send(delivery_id=delivery.pk)
    body = receiver.received[0].body
    assert body == json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def test_the_sweep_leaves_a_delivery_already_with_the_broker_for_a_while(receiver, endpoint_for):
    """A backlog in the queue is not queued again every minute: what was handed to the
    broker is handed out again only after ENQUEUE_LEASE (if the worker never got to it)."""
    endpoint_for(receiver)
    (delivery,) = _event()
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=now)  # as the on-commit task did
    assert deliveries_due_ids() == []

    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=now - ENQUEUE_LEASE - timedelta(seconds=1))
    assert deliveries_due_ids() == [delivery.pk]
    assert deliveries_due_ids() == []  # the first sweep marked it


def test_with_workers_an_event_is_marked_enqueued_in_its_one_insert(
    receiver, endpoint_for, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from config.celery import app

    endpoint_for(receiver)
    _event()  # the subscriptions are cached
    app.conf.task_always_eager = False  # tests/conftest.py puts it back after each test
    try:
        with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):
            (delivery,) = _event()
    finally:
        app.conf.task_always_eager = True
    assert Delivery.objects.get(pk=delivery.pk).enqueued_at is not None
    assert [
        callback.args for callback in callbacks if getattr(callback, "func", None) is deliveries_enqueue
    ] == [([delivery.pk],)]


def test_staff_who_manage_webhooks_are_emailed_when_an_endpoint_is_paused(
    receiver, endpoint_for, national, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """Once, in text and HTML, to each active holder of the permission; a trainee is not told."""
    settings.WEBHOOKS_PAUSE_AFTER_FAILURES = 2
    UserFactory(role=Role.TRAINEE)
    endpoint = endpoint_for(receiver)
    receiver.answer(500, 500, 500)
    deliveries = [_event()[0] for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        results = [delivery_send(delivery_id=d.pk).result for d in deliveries]

    assert results == ["failed", "failed", "paused"]
    assert [message.to for message in mailoutbox] == [[national.email]]
    message = mailoutbox[0]
    assert endpoint.url in message.subject
    assert "2 failed deliveries in a row" in message.body
    assert "/manage/webhooks/" in message.body
    html = message.alternatives[0][0]
    assert endpoint.url in html
    assert "resume" in html


def test_a_late_pause_email_after_a_resume_sends_nothing(receiver, endpoint_for, mailoutbox, settings):
    settings.WEBHOOKS_PAUSE_AFTER_FAILURES = 1
    endpoint = endpoint_for(receiver)
    receiver.answer(500)
    delivery_send(delivery_id=_event()[0].pk)
    endpoint_resume(endpoint=endpoint)
    assert endpoint_paused_notify(endpoint_id=endpoint.pk) == 0
    assert mailoutbox == []


def test_the_pause_emails_subject_is_plain_text(receiver, endpoint_for, mailoutbox):
    """An address with a query string reads as typed in the subject, not HTML-escaped."""
    endpoint = endpoint_for(receiver)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        url=f"{endpoint.url}?a=1&b=2", paused_at=timezone.now(), paused_automatically=True
    )
    assert endpoint_paused_notify(endpoint_id=endpoint.pk) == 1
    assert mailoutbox[0].subject.endswith("?a=1&b=2")
    assert "?a=1&amp;b=2" in mailoutbox[0].alternatives[0][0]
