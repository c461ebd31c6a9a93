"""Reading the audit trail: national staff's filtered list, and a member's own entries."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` where the site is (Europe/London), as an aware time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entry_list(
    *,
    action: str = "",
    actor_email: str = "",
    subject_email: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries, newest first, filtered by the allow-listed keys only (each optional).
    Emails match the address recorded at the time or the account's address now; the dates
    are whole local days, `until` included."""
    entries = AuditEntry.objects.select_related("object_type")
    if action:
        entries = entries.filter(action=action)
    if actor_email:
        entries = entries.filter(Q(actor_label__iexact=actor_email) | Q(actor__email__iexact=actor_email))
    if subject_email:
        entries = entries.filter(
            Q(subject_label__iexact=subject_email) | Q(subject__email__iexact=subject_email)
        )
    if since:
        entries = entries.filter(at__gte=_day_start(since))
    if until:
        entries = entries.filter(at__lt=_day_start(until + dt.timedelta(days=1)))
    return entries.order_by("-at", "-pk")


def audit_entries_about(user) -> QuerySet[AuditEntry]:
    """The entries about this member (they are the subject), oldest first: for their data
    export. Lists of many members (member_list_viewed) name no subject, so are not here."""
    return AuditEntry.objects.filter(subject_id=user.pk).select_related("object_type").order_by("at", "pk")


def audit_entry_as_dict(entry: AuditEntry) -> dict:
    """One entry as plain JSON, as the CSV export and a member's data export show it."""
    return {
        "at": entry.at.isoformat(),
        "action": entry.action,
        "action_label": str(entry.get_action_display()),
        "by": entry.actor_label,
        "object_type": entry.object_type.model if entry.object_type_id else "",
        "object_id": entry.object_id,
        "object": entry.object_label,
        "about": entry.subject_label,
        "changes": entry.changes,
        "client_address": entry.client_address or "",
    }
