"""Registering endpoints, writing events to the outbox, and sending deliveries.

`webhook_event_record` is called by the services where events happen, inside their
transaction: the delivery rows stand or fall with the event. Sending happens only in a
Celery worker (or beat's sweep), never in a web request, and outside any transaction.
"""

import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from config.celery import app as celery_app
from config.celery import task_named
from config.emails import templated_email
from members.models import User
from webhooks import transport
from webhooks.addresses import url_resolve
from webhooks.crypto import secret_decrypt, secret_encrypt, secret_new, signature
from webhooks.events import ping_data
from webhooks.models import SENDABLE_STATUSES, Delivery, DeliveryStatus, Endpoint, EventType

logger = logging.getLogger(__name__)

ERROR_MAX = 500
DESCRIPTION_MAX = 200
# Longer than a send can take (connect + read timeouts, resolving, recording).
CLAIM_LEASE = timedelta(seconds=60)
# A delivery handed to the broker this recently is not handed out again by the sweep (every
# minute): a message lost with the broker goes again within 2 minutes (decision 0022). One
# still waiting in a backlog is merely doubled; the claim above sends it once.
ENQUEUE_LEASE = timedelta(seconds=60)
SWEEP_BATCH = 500
# Which endpoints take which events, cached so that an event with no subscriber costs no
# query. The key holds a version that every endpoint change replaces (at once, and again on
# commit), so a reader never keeps using a list from before a committed change; the timeout
# bounds how stale a per-process cache (no Redis) can be.
SUBSCRIPTIONS_VERSION_KEY = "webhooks:subscriptions:version"
SUBSCRIPTIONS_TIMEOUT = 60

HEADER_EVENT_ID = "X-Webhook-Id"
HEADER_EVENT_TYPE = "X-Webhook-Event"
HEADER_TIMESTAMP = "X-Webhook-Timestamp"
HEADER_SIGNATURE = "X-Webhook-Signature"

_random = secrets.SystemRandom()


# --- Subscriptions ------------------------------------------------------------------------


def _subscriptions_key() -> str:
    return f"webhooks:subscriptions:{cache.get(SUBSCRIPTIONS_VERSION_KEY, 0)}"


def _subscriptions_read() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    active = Endpoint.objects.filter(paused_at__isnull=True, deleted_at__isnull=True)
    for pk, events in active.order_by("pk").values_list("pk", "events"):
        for event_type in events:
            found.setdefault(event_type, []).append(pk)
    return found


def _subscriptions() -> dict[str, list[int]]:
    """Event type -> ids of the active endpoints that take it. The cache only saves a query:
    with it unreachable (Redis down) the list is read from the database, so that recording an
    event, and the certificate or change that records it, never fails for the cache's sake."""
    try:
        key = _subscriptions_key()
        found = cache.get(key)
    except Exception:  # the cache's client raises its own errors (redis.ConnectionError, ...)
        logger.warning("Webhook subscriptions read from the database: the cache is unreachable")
        return _subscriptions_read()
    if found is None:
        found = _subscriptions_read()
        try:
            cache.set(key, found, SUBSCRIPTIONS_TIMEOUT)
        except Exception:
            logger.warning("Webhook subscriptions not kept: the cache is unreachable")
    return found


def _subscriptions_changed() -> None:
    def bump():
        cache.set(SUBSCRIPTIONS_VERSION_KEY, uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump, robust=True)


# --- The outbox -----------------------------------------------------------------------------


def _envelope(*, event_id: uuid.UUID, event_type: str, data: dict, now) -> dict:
    return {"id": str(event_id), "type": event_type, "created_at": now.isoformat(), "data": data}


def _workers_send() -> bool:
    """Whether a broker's workers send. When tasks run in-process (no broker: `make run`,
    tests), nothing is asked of them after commit: beat's sweep sends, in its own process,
    so a slow receiver never holds a web request."""
    return not celery_app.conf.task_always_eager


def _send_on_commit(delivery_ids: list[int], *, mark: bool = True) -> None:
    """Ask a worker to send once the transaction commits (never if it rolls back). `mark`:
    note the rows as enqueued (one UPDATE; webhook_event_record sets it on insert instead)."""
    if not _workers_send() or not delivery_ids:
        return
    ids = list(delivery_ids)
    if mark:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    transaction.on_commit(partial(deliveries_enqueue, ids), robust=True)


def deliveries_enqueue(delivery_ids: list[int]) -> int:
    """Ask workers to send; returns how many were handed to the broker. If the broker cannot
    be reached the rows wait and the next sweep sends them: nothing is lost, nothing fails."""
    handed = 0
    for delivery_id in delivery_ids:
        try:
            task_named("webhooks.delivery_send").delay(delivery_id)
        except Exception as error:  # noqa: BLE001 - whatever the broker raised, the outbox keeps them
            logger.warning(
                "Broker unreachable; %s webhook deliveries wait for the sweep: %s",
                len(delivery_ids) - handed,
                error,
            )
            deliveries_unmark_enqueued(delivery_ids[handed:])
            return handed
        handed += 1
    return handed


def webhook_event_record(*, event_type: str, payload: dict) -> list[Delivery]:
    """Write one delivery per active endpoint that takes `event_type`, in the caller's
    transaction; `payload` is the event's data (webhooks.events builds each kind). With no
    subscriber this costs no query; with some, one INSERT."""
    if event_type not in EventType.values:
        raise ValueError(f"Unknown webhook event type: {event_type!r}")
    endpoint_ids = _subscriptions().get(event_type)
    if not endpoint_ids:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    envelope = _envelope(event_id=event_id, event_type=event_type, data=payload, now=now)
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            endpoint_id=endpoint_id,
            event_type=event_type,
            event_id=event_id,
            payload=envelope,
            next_attempt_at=now,
            enqueued_at=now if _workers_send() else None,
        )
        for endpoint_id in endpoint_ids
    )
    _send_on_commit([delivery.pk for delivery in deliveries], mark=False)
    return deliveries


# --- Endpoints ----------------------------------------------------------------------------


def _events_clean(events) -> list[str]:
    events = sorted(set(events or []))
    allowed = {choice.value for choice in EventType if choice != EventType.PING}
    unknown = [event for event in events if event not in allowed]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event types: %(events)s") % {"events": ", ".join(unknown)}}
        )
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    return events


def _endpoint_label(endpoint: Endpoint) -> str:
    return endpoint.url


@transaction.atomic
def endpoint_create(*, url: str, events: list[str], description: str = "", actor) -> tuple[Endpoint, str]:
    """Register an endpoint; returns it and its secret, which is shown once and stored encrypted."""
    try:
        url_resolve(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from error
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": _("Keep the description under %(max)s characters.") % {"max": DESCRIPTION_MAX}}
        )
    secret = secret_new()
    endpoint = Endpoint(
        url=url.strip(),
        events=_events_clean(events),
        description=description,
        secret_encrypted=secret_encrypt(secret),
        created_by=actor,
    )
    endpoint.full_clean(exclude=["secret_encrypted"])
    endpoint.save()
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_ENDPOINT_CREATED,
        obj=endpoint,
        label=_endpoint_label(endpoint),
        changes={"url": endpoint.url, "events": endpoint.events},
    )
    _subscriptions_changed()
    return endpoint, secret


def _endpoint_lock(endpoint: Endpoint) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.deleted_at is not None:
        raise ValidationError(_("This endpoint has been deleted."))
    return endpoint


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint, actor) -> tuple[Endpoint, str]:
    """A new secret at once; deliveries from now on (retries included) are signed with it."""
    endpoint = _endpoint_lock(endpoint)
    secret = secret_new()
    endpoint.secret_encrypted = secret_encrypt(secret)
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret_encrypted", "secret_rotated_at"])
    audit_record(
        actor=actor, action=AuditAction.WEBHOOK_SECRET_ROTATED, obj=endpoint, label=_endpoint_label(endpoint)
    )
    return endpoint, secret


@transaction.atomic
def endpoint_pause(*, endpoint: Endpoint) -> Endpoint:
    endpoint = _endpoint_lock(endpoint)
    if endpoint.paused_at is None:
        endpoint.paused_at = timezone.now()
        endpoint.paused_automatically = False
        endpoint.save(update_fields=["paused_at", "paused_automatically"])
        _subscriptions_changed()
    return endpoint


@transaction.atomic
def endpoint_resume(*, endpoint: Endpoint) -> Endpoint:
    """Sending starts again: deliveries that waited are due now, and the failure count restarts."""
    endpoint = _endpoint_lock(endpoint)
    if endpoint.paused_at is not None:
        endpoint.paused_at = None
        endpoint.paused_automatically = False
        endpoint.consecutive_failures = 0
        endpoint.save(update_fields=["paused_at", "paused_automatically", "consecutive_failures"])
        waiting = Delivery.objects.filter(endpoint=endpoint, status__in=SENDABLE_STATUSES)
        waiting.update(next_attempt_at=timezone.now())
        _send_on_commit(list(waiting.values_list("pk", flat=True)[:SWEEP_BATCH]))
        _subscriptions_changed()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor) -> None:
    """The endpoint stops for good: its secret is wiped and its deliveries removed; the row
    stays (see Endpoint.deleted_at) and the audit trail says who deleted it."""
    endpoint = _endpoint_lock(endpoint)
    endpoint.deleted_at = timezone.now()
    endpoint.secret_encrypted = ""
    endpoint.save(update_fields=["deleted_at", "secret_encrypted"])
    removed, _per_model = Delivery.objects.filter(endpoint=endpoint).delete()
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_ENDPOINT_DELETED,
        obj=endpoint,
        label=_endpoint_label(endpoint),
        changes={"deliveries_removed": removed},
    )
    _subscriptions_changed()


@transaction.atomic
def endpoint_test_send(*, endpoint: Endpoint) -> Delivery:
    """A test event (webhook.ping) to this endpoint alone, whatever it subscribes to."""
    endpoint = _endpoint_lock(endpoint)
    if endpoint.paused_at is not None:
        raise ValidationError(_("Resume the endpoint before sending it a test event."))
    now = timezone.now()
    event_id = uuid.uuid4()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type=EventType.PING,
        event_id=event_id,
        payload=_envelope(event_id=event_id, event_type=EventType.PING, data=ping_data(), now=now),
        next_attempt_at=now,
    )
    _send_on_commit([delivery.pk])
    return delivery


@transaction.atomic
def delivery_send_again(*, delivery: Delivery) -> Delivery:
    """Staff send a delivery that failed or was given up once more: same event id (so the
    receiver can tell it from a new event), attempts counted afresh. A delivered one never."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.DELIVERED:
        raise ValidationError(_("This delivery was received; it is not sent again."))
    if delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0:
        raise ValidationError(_("This delivery has not been tried yet; it goes shortly."))
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.claimed_until = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until"])
    _send_on_commit([delivery.pk])
    return delivery


# --- Sending ------------------------------------------------------------------------------


def backoff_delay(attempts: int) -> timedelta | None:
    """How long to wait after the `attempts`-th failed try, with ±20% jitter (so endpoints
    that failed together do not all come back at once); None once every try is spent."""
    schedule = settings.WEBHOOKS_BACKOFF_SECONDS
    if attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1] * _random.uniform(0.8, 1.2))


def max_attempts() -> int:
    return len(settings.WEBHOOKS_BACKOFF_SECONDS) + 1


def request_headers(*, delivery: Delivery, secret: str, body: bytes, now) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "FutureLeaders-Webhooks/1",
        HEADER_EVENT_ID: str(delivery.event_id),
        HEADER_EVENT_TYPE: delivery.event_type,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGNATURE: signature(secret=secret, timestamp=timestamp, body=body),
    }


def payload_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class SendReport:
    result: str  # delivered, failed, gave_up, not_due, paused, deleted
    status_code: int | None = None


def _claim(delivery_id: int, now) -> bool:
    """One conditional UPDATE on the delivery's own columns: of two workers (or a task run
    twice) one claims it; a delivered or given-up delivery is never claimed again."""
    return bool(
        Delivery.objects.filter(pk=delivery_id, status__in=SENDABLE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_LEASE)
    )


def _release(delivery_id: int) -> None:
    Delivery.objects.filter(pk=delivery_id).update(claimed_until=None, enqueued_at=None)


def _endpoint_failed(endpoint_id: int) -> None:
    """Count a failure; at WEBHOOKS_PAUSE_AFTER_FAILURES in a row the endpoint is paused
    (the endpoints page flags it for staff), so a dead receiver stops costing tries."""
    Endpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    paused = Endpoint.objects.filter(
        pk=endpoint_id,
        paused_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOKS_PAUSE_AFTER_FAILURES,
    ).update(paused_at=timezone.now(), paused_automatically=True, paused_notified_at=None)
    if paused:
        logger.warning(
            "Webhook endpoint %s paused after %s failures in a row.",
            endpoint_id,
            settings.WEBHOOKS_PAUSE_AFTER_FAILURES,
        )
        _subscriptions_changed()
        notify = task_named("webhooks.endpoint_paused_notify")
        transaction.on_commit(partial(notify.delay, endpoint_id), robust=True)


def endpoint_paused_recipients() -> list:
    """Who is told of an automatic pause: everyone who may manage webhooks, still active."""
    return list(
        User.objects.with_perm(
            "webhooks.add_endpoint",
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",  # where roles give permissions
        )
        .filter(is_active=True, erased_at__isnull=True)
        .order_by("pk")
    )


def endpoint_paused_notify(*, endpoint_id: int) -> int:
    """Email the staff who manage webhooks that an endpoint was paused after failing (text
    and HTML). Only while it is still paused automatically and not yet told
    (`paused_notified_at`): a task run late, after someone resumed it or after the sweep
    told them, sends nothing. Marked told once sent, so a task lost with the broker or a
    worker killed mid-send is re-done by the sweep (one duplicate at most). Returns how
    many were told."""
    endpoint = Endpoint.objects.filter(
        pk=endpoint_id,
        paused_automatically=True,
        paused_at__isnull=False,
        paused_notified_at__isnull=True,
        deleted_at__isnull=True,
    ).first()
    if endpoint is None:
        return 0
    recipients = endpoint_paused_recipients()
    with get_connection() as connection:
        for recipient in recipients:
            _endpoint_paused_message(endpoint, recipient, connection=connection).send()
    Endpoint.objects.filter(pk=endpoint.pk, paused_at=endpoint.paused_at).update(
        paused_notified_at=timezone.now()
    )
    return len(recipients)


# An automatic pause still untold this long after it is owed (the task lost with the broker,
# or its worker killed): webhooks.deliveries_sweep (every 60 s) tells the staff, so within
# 2 minutes of the pause, or of the broker coming back.
PAUSED_NOTICE_GRACE = timedelta(seconds=60)


def endpoints_paused_untold(*, now=None):
    """Endpoints paused automatically, the staff not yet told, a grace after the pause."""
    now = now or timezone.now()
    return Endpoint.objects.filter(
        paused_automatically=True,
        paused_at__lte=now - PAUSED_NOTICE_GRACE,
        paused_notified_at__isnull=True,
        deleted_at__isnull=True,
    )


def endpoints_paused_notify_sweep(*, now=None) -> int:
    """Tell the staff of each automatic pause still untold a grace after it. Running it
    twice tells them once. Returns how many endpoints were told of."""
    owed = endpoints_paused_untold(now=now).values_list("pk", flat=True)
    told = 0
    for pk in list(owed[:100]):
        try:
            endpoint_paused_notify(endpoint_id=pk)
        except OSError:  # the mail server: the next sweep tries again
            logger.warning("Webhook endpoint %s: its pause could not be told yet.", pk, exc_info=True)
            continue
        told += 1
    return told


def _endpoint_paused_message(endpoint: Endpoint, recipient, *, connection) -> EmailMultiAlternatives:
    context = {
        "recipient": recipient,
        "endpoint": endpoint,
        "failures": settings.WEBHOOKS_PAUSE_AFTER_FAILURES,
        "endpoints_url": settings.SITE_URL + reverse("webhooks:endpoint-list"),
        "preferences_url": settings.SITE_URL + reverse("training:notice-preferences"),
        "unsubscribe_url": "",
    }
    return templated_email(
        "webhooks/email/endpoint_paused", context, to=[recipient.email], connection=connection
    )


def delivery_send(*, delivery_id: int) -> SendReport:
    """Send one delivery if it is due and nobody else holds it; record the outcome.

    Safe to run twice: a delivered delivery is never claimed again. Runs outside any
    transaction, so a slow receiver holds no lock and no connection's transaction open.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return SendReport("not_due")
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.deleted_at is not None:
        _release(delivery_id)
        return SendReport("deleted")
    if endpoint.paused_at is not None:
        _release(delivery_id)  # it waits; resuming makes it due
        return SendReport("paused")
    try:
        # Checked again at send time: DNS may have changed since registration.
        target = url_resolve(endpoint.url)
    except ValidationError as error:
        outcome = transport.Outcome(
            status_code=None, error=_("Refused: %(reason)s") % {"reason": " ".join(error.messages)}
        )
    else:
        body = payload_body(delivery.payload)
        try:
            secret = secret_decrypt(endpoint.secret_encrypted)
        except InvalidToken:
            # SECRET_KEY changed with no fallback: never send unsigned; staff rotate the secret.
            outcome = transport.Outcome(status_code=None, error=_("The secret cannot be read; rotate it."))
        else:
            headers = request_headers(delivery=delivery, secret=secret, body=body, now=now)
            outcome = transport.post(target=target, body=body, headers=headers)
    return _outcome_record(delivery=delivery, outcome=outcome)


def _outcome_record(*, delivery: Delivery, outcome: transport.Outcome) -> SendReport:
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:ERROR_MAX],
        "claimed_until": None,
        "enqueued_at": None,
    }
    if outcome.ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
        result = "delivered"
    else:
        delay = backoff_delay(attempts)
        if delay is None:
            fields.update(status=DeliveryStatus.GAVE_UP)
            result = "gave_up"
        else:
            fields.update(status=DeliveryStatus.FAILED, next_attempt_at=now + delay)
            result = "failed"
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status__in=SENDABLE_STATUSES).update(**fields)
        if outcome.ok:
            Endpoint.objects.filter(pk=delivery.endpoint_id).update(
                consecutive_failures=0, last_success_at=now
            )
        else:
            _endpoint_failed(delivery.endpoint_id)
    return SendReport(result, outcome.status_code)


def deliveries_due_ids(*, limit: int = SWEEP_BATCH) -> list[int]:
    """Deliveries to send now, oldest first: due, to an active endpoint, not held by a
    worker, and not handed to the broker in the last ENQUEUE_LEASE. They are marked as
    handed out (one UPDATE); deliveries_unmark_enqueued undoes it if the broker is down."""
    now = timezone.now()
    ids = list(
        Delivery.objects.filter(
            status__in=SENDABLE_STATUSES,
            next_attempt_at__lte=now,
            endpoint__paused_at__isnull=True,
            endpoint__deleted_at__isnull=True,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - ENQUEUE_LEASE))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def deliveries_unmark_enqueued(delivery_ids: list[int]) -> None:
    """The broker did not take them: the next sweep may hand them out at once."""
    Delivery.objects.filter(pk__in=list(delivery_ids)).update(enqueued_at=None)


def deliveries_purge() -> int:
    """Finished deliveries older than WEBHOOKS_DELIVERY_RETENTION_DAYS go: they hold member ids."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_DELIVERY_RETENTION_DAYS)
    removed, _per_model = Delivery.objects.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.GAVE_UP], created_at__lt=cutoff
    ).delete()
    return removed
