"""Outbound webhooks: the endpoints staff register, and the outbox of deliveries to them.

A Delivery row is written in the same transaction as the event it reports (the outbox), so
an event that rolls back sends nothing and one that commits is never lost: a worker sends it
after commit, and beat's sweep picks up whatever the broker did not. See
docs/decisions/0015-webhooks.md.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    CERTIFICATE_ISSUED = "certificate.issued", _("Certificate issued")
    CERTIFICATE_REVOKED = "certificate.revoked", _("Certificate revoked")
    ENROLMENT_CHANGED = "enrolment.changed", _("Enrolment created or its status changed")
    LEADER_REGISTERED = "leader.registered", _("Leader entered the registry")
    # Sent only by staff's "send test event", to one endpoint, whatever it subscribes to.
    PING = "webhook.ping", _("Test event")


SUBSCRIBABLE_EVENTS = [choice for choice in EventType if choice != EventType.PING]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")


# Statuses a worker may still send.
SENDABLE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Endpoint(models.Model):
    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, help_text=_("Event types this endpoint receives."))
    # Fernet token (webhooks.crypto): the secret must be read back to sign, so it cannot be
    # hashed; encrypted, a copy of the database alone does not let anyone forge deliveries.
    secret_encrypted = models.TextField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # Paused: nothing is sent to it and no new deliveries are written for it.
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_automatically = models.BooleanField(
        default=False, help_text=_("Paused by the platform after too many failures in a row.")
    )
    # When the staff were told of the automatic pause; empty while paused automatically, it
    # is owed, and webhooks.deliveries_sweep sends it (the task lost with the broker).
    paused_notified_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Deleting keeps the row (its secret wiped, its deliveries removed): an event written at
    # that moment still finds the row its delivery points at, so it cannot fail the event's
    # transaction; the sender skips deliveries of a deleted endpoint.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.paused_at is None and self.deleted_at is None


class Delivery(models.Model):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # One id per event and endpoint, the same on every retry: receivers drop duplicates by it.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker sending the delivery holds it until then (a conditional UPDATE claims it);
    # a worker that died mid-send lets the claim lapse and the sweep hands the row out again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Handed to the broker then: the sweep leaves it alone for a while, so a backlog in the
    # queue is not queued again every minute (a duplicate would only find it claimed).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhooks_delivery_event_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhooks_delivery_status_valid"
            ),
        ]
        indexes = [
            # The sweep: what is sendable and due.
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
