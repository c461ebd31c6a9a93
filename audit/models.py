"""The audit trail: who did what, to what and to whom, when, from where. Only ever added to.

Rows are refused updates and deletes twice: by the model here (every database), and on
PostgreSQL by a trigger (migration 0002) that also stops raw SQL, the admin and anything
else that reaches the table. The one exception is `services.audit_subject_pseudonymise`,
which replaces an erased member's email snapshots and address (see docs/decisions/0011).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntryImmutable(Exception):
    """An audit entry was about to be changed or deleted."""


class AuditAction(models.TextChoices):
    MEMBER_LIST_VIEWED = "member_list_viewed", _("Member list viewed")
    MEMBER_LIST_EXPORTED = "member_list_exported", _("Member list exported")
    MARK_ADDED = "mark_added", _("Mark added")
    MARK_CHANGED = "mark_changed", _("Mark changed")
    CERTIFICATE_ISSUED = "certificate_issued", _("Certificate issued")
    CERTIFICATE_REVOKED = "certificate_revoked", _("Certificate revoked")
    ROLE_CHANGED = "role_changed", _("Role changed")
    TARGET_CREATED = "target_created", _("Target set")
    TARGET_CHANGED = "target_changed", _("Target changed")
    AUDIT_EXPORTED = "audit_exported", _("Audit trail exported")
    DATA_EXPORTED = "data_exported", _("Member's data exported")
    ACCOUNT_ERASED = "account_erased", _("Account erased")
    API_CALL = "api_call", _("API call")
    MEMBERS_IMPORTED = "members_imported", _("Members imported")
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint_created", _("Webhook endpoint created")
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint_deleted", _("Webhook endpoint deleted")
    WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated", _("Webhook secret rotated")


class AuditEntryQuerySet(models.QuerySet):
    def delete(self):
        raise AuditEntryImmutable("Audit entries are never deleted.")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Snapshots: the trail must still say who, after an account changes its email or goes.
    actor_label = models.CharField(_("by (as recorded)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    object_type = models.ForeignKey(
        ContentType, verbose_name=_("object type"), on_delete=models.PROTECT, null=True, blank=True
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("about"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The member the entry is about, if one; their data export lists it."),
    )
    subject_label = models.CharField(_("about (as recorded)"), max_length=254, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        # Only reading is a permission anyone can hold: writing goes through the services.
        default_permissions = ("view",)
        indexes = [models.Index(fields=["action", "at"], name="audit_action_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # Append-only: a new row may be written once; an existing one never again.
        if not self._state.adding:
            raise AuditEntryImmutable("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable("Audit entries are never deleted.")
