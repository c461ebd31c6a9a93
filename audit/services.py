"""Writing the audit trail. Entries are only ever added (see models.py).

`audit_record` is called inside the caller's transaction, so an entry stands or falls with
the change it records; it costs one INSERT and reads nothing (the content type comes from
Django's per-process cache, the labels from objects the caller already holds).
"""

import ipaddress
import secrets

from allauth.account.adapter import get_adapter
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q

from audit.middleware import current_request
from audit.models import AuditAction, AuditEntry

LABEL_MAX = 200
QUERY_MAX = 500
# Entries whose changes record a query string someone sent (what they searched for).
SEARCH_ACTIONS = (AuditAction.API_CALL, AuditAction.MEMBER_LIST_VIEWED, AuditAction.MEMBER_LIST_EXPORTED)


def _client_address(request) -> str | None:
    """The client's address as allauth's rate limits read it (ALLAUTH_TRUSTED_PROXY_COUNT
    or ALLAUTH_TRUSTED_CLIENT_IP_HEADER behind a proxy), or None if it cannot be told."""
    if request is None:
        return None
    try:
        address = get_adapter(request).get_client_ip(request)
        return str(ipaddress.ip_address(address))
    except (PermissionDenied, ValueError):
        return None


def _user_label(user) -> str:
    return (getattr(user, "email", "") or "")[:254]


def audit_record(
    *,
    actor,
    action: AuditAction | str,
    obj=None,
    subject=None,
    changes: dict | None = None,
    request=None,
    label: str = "",
) -> AuditEntry:
    """Add one entry: `actor` did `action` to `obj` (a model instance), about the member
    `subject`; `changes` holds {field: {"before": ..., "after": ...}} or other plain JSON
    (ids and values, never free text about a person). `label` names the object; by default
    its str(), so pass one where str() would query or name a person. `request` defaults to
    the request being served (audit.middleware), for the client's address."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action: {action!r}")
    actor = actor if actor is not None and actor.is_authenticated else None
    address = _client_address(request if request is not None else current_request())
    actor_label = _user_label(actor)
    if actor is not None and subject is not None and actor.pk == subject.pk:
        # One account, one label: the subject's, the instance the caller has just changed
        # (a member erasing themselves is request.user, still holding the old email).
        actor_label = _user_label(subject)
        if getattr(subject, "erased_at", None) is not None:
            address = None  # nor is an erased member's own address kept
    entry = AuditEntry(
        actor=actor,
        actor_label=actor_label,
        action=action,
        subject=subject,
        subject_label=_user_label(subject),
        changes=changes or {},
        client_address=address,
    )
    if obj is not None:
        entry.object_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        entry.object_id = obj.pk
        entry.object_label = (label or str(obj))[:LABEL_MAX]
    elif label:
        entry.object_label = label[:LABEL_MAX]
    entry.save(force_insert=True)
    return entry


def audit_member_list_record(*, request, label: str, obj=None, exported: bool = False) -> AuditEntry:
    """Someone saw (or downloaded) a list of members: one entry per page view or export,
    never one per member. The query string says which filters and page; it is stored as
    sent (truncated), since the view has already refused what it does not accept."""
    return audit_record(
        actor=request.user,
        action=AuditAction.MEMBER_LIST_EXPORTED if exported else AuditAction.MEMBER_LIST_VIEWED,
        obj=obj,
        label=label,
        changes={"path": request.path, "query": request.META.get("QUERY_STRING", "")[:QUERY_MAX]},
        request=request,
    )


@transaction.atomic
def audit_subject_pseudonymise(user, *, traces=None) -> int:
    """Erasure: replace what the trail recorded of this member (their email where they were
    the actor, the subject or the object, and the addresses they acted from) with a random
    pseudonym, the same on each of their entries so the trail still reads as one person.
    Ids stay: once the account is gone they point at nothing. Returns the entries changed.

    With `traces` (members.data_rights.MemberTraces), what entries hold in their changes and
    object labels goes too: in entries about the member, their names; in recorded searches
    (API calls, member lists), a query for their name or address; in any entry, what names
    them for certain (full name, address, phone). The keys and every other value stay, so the
    entry still says what was done.

    Call it before the account is deleted (deleting it empties actor and subject, and then
    nothing here can find its entries).

    The only change the trail allows: on PostgreSQL the trigger lets these label, address and
    changes columns change only while `audit.pseudonymise` is 'on' (migration 0006). It is set
    LOCAL (never beyond the transaction) and set back at the end, because a caller's outer
    transaction (the erasure's) would otherwise keep it on for whatever it does next; if
    anything here fails, rolling back the savepoint undoes the setting too."""
    pseudonym = f"erased member {secrets.token_hex(4)}"
    _pseudonymising(on=True)
    entries = AuditEntry.objects.all()
    user_type = ContentType.objects.get_for_model(user, for_concrete_model=True)
    theirs = Q(actor_id=user.pk) | Q(subject_id=user.pk) | Q(object_type=user_type, object_id=user.pk)
    changed = 0
    if traces is not None:
        # Before the labels change: a label is found by the address it still holds.
        changed += traces.rows_scrub(entries.filter(theirs), ["changes", "object_label"], weak=True)
        changed += traces.rows_scrub(entries.filter(action__in=SEARCH_ACTIONS), ["changes"], weak=True)
        changed += traces.rows_scrub(entries, ["changes", "object_label"], weak=False)
    changed += entries.filter(actor_id=user.pk).update(actor_label=pseudonym, client_address=None)
    changed += entries.filter(subject_id=user.pk).update(subject_label=pseudonym)
    changed += entries.filter(object_type=user_type, object_id=user.pk).update(object_label=pseudonym)
    _pseudonymising(on=False)
    return changed


def _pseudonymising(*, on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('audit.pseudonymise', %s, true)", ["on" if on else "off"])
