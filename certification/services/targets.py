"""Setting targets. A changed number or date is added to the target's history, never overwritten."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from certification.models import Target, TargetChange, TargetScope
from certification.signals import targets_changed_announce
from members.models import Constituency, Region
from training.models import Programme

TARGET_LEADERS_MAX = 1_000_000


def _check(*, scope: str, region, constituency, leaders: int, deadline: dt.date) -> None:
    errors = {}
    if scope not in TargetScope.values:
        errors["scope"] = _("Choose what the target is for.")
    elif scope == TargetScope.REGION and region is None:
        errors["region"] = _("Choose the region.")
    elif scope == TargetScope.CONSTITUENCY and constituency is None:
        errors["constituency"] = _("Choose the constituency.")
    if not 1 <= leaders <= TARGET_LEADERS_MAX:
        errors["leaders"] = _("Give a number of leaders between 1 and %(max)s.") % {
            "max": f"{TARGET_LEADERS_MAX:,}"
        }
    if deadline < timezone.localdate():
        errors["deadline"] = _("Choose a deadline from today on.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def target_create(
    *,
    scope: str,
    leaders: int,
    deadline: dt.date,
    actor,
    region: Region | None = None,
    constituency: Constituency | None = None,
    programme: Programme | None = None,
    note: str = "",
) -> Target:
    _check(scope=scope, region=region, constituency=constituency, leaders=leaders, deadline=deadline)
    target = Target.objects.create(
        scope=scope,
        region=region if scope == TargetScope.REGION else None,
        constituency=constituency if scope == TargetScope.CONSTITUENCY else None,
        programme=programme,
        leaders=leaders,
        deadline=deadline,
        created_at=timezone.now(),
    )
    targets_changed_announce()
    TargetChange.objects.create(
        target=target,
        leaders=leaders,
        deadline=deadline,
        actor=actor,
        note=note.strip(),
        at=target.created_at,
    )
    audit_record(
        actor=actor,
        action=AuditAction.TARGET_CREATED,
        obj=target,
        label=target.place_label,
        changes={
            "leaders": {"before": None, "after": leaders},
            "deadline": {"before": None, "after": deadline.isoformat()},
            "programme": programme.pk if programme else None,
        },
    )
    return target


@transaction.atomic
def target_change(*, target: Target, leaders: int, deadline: dt.date, actor, note: str) -> Target:
    """A new number or date, with the reason. The old ones stay in the history."""
    target = (
        Target.objects.select_for_update(of=("self",))
        .select_related("region", "constituency")
        .get(pk=target.pk)
    )
    _check(
        scope=target.scope,
        region=target.region,
        constituency=target.constituency,
        leaders=leaders,
        deadline=deadline,
    )
    if not note.strip():
        raise ValidationError({"note": _("Say why the target changes: the history keeps it.")})
    if (leaders, deadline) == (target.leaders, target.deadline):
        raise ValidationError(_("The number and the date are the same as before: nothing to change."))
    changes = {
        "leaders": {"before": target.leaders, "after": leaders},
        "deadline": {"before": target.deadline.isoformat(), "after": deadline.isoformat()},
    }
    target.leaders, target.deadline = leaders, deadline
    target.save(update_fields=["leaders", "deadline"])
    targets_changed_announce()
    audit_record(
        actor=actor, action=AuditAction.TARGET_CHANGED, obj=target, label=target.place_label, changes=changes
    )
    TargetChange.objects.create(
        target=target, leaders=leaders, deadline=deadline, actor=actor, note=note.strip(), at=timezone.now()
    )
    return target
