"""Applying, deciding, withdrawing, and the waiting list.

Every change that can take or free a place first locks the cohort row
(`select_for_update`), so that places are counted and given one request at a time:
they are never double-booked, whatever the number of concurrent applications.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    PLACE_HOLDING_STATUSES,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    VersionStatus,
)
from training.services.application_notices import application_received_notify
from training.services.reminders import enrolment_decision_notify
from training.signals import enrolments_changed_announce
from webhooks.events import enrolment_data
from webhooks.models import EventType
from webhooks.services import webhook_event_record

CLOSED_COHORT_STATUSES = [CohortStatus.FINISHED, CohortStatus.CANCELLED]
DECISION_STATUSES = [
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.DECLINED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.OFFERED,
    EnrolmentStatus.WITHDRAWN,
]


def _cohort_lock(cohort_id: int) -> Cohort:
    return Cohort.objects.select_for_update().select_related("version").get(pk=cohort_id)


def _places_taken(cohort: Cohort) -> int:
    return cohort.enrolments.filter(status__in=PLACE_HOLDING_STATUSES).count()


def _status_set(enrolment: Enrolment, status: str, *, actor, note: str = "") -> None:
    now = timezone.now()
    previous = enrolment.status
    enrolment.status = status
    enrolment.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if status == EnrolmentStatus.ENROLLED and enrolment.first_enrolled_at is None:
        enrolment.first_enrolled_at = now
        fields.append("first_enrolled_at")
    if status == EnrolmentStatus.WAITLISTED and enrolment.waitlisted_at is None:
        enrolment.waitlisted_at = now
        fields.append("waitlisted_at")
    enrolment.save(update_fields=fields)
    EnrolmentEvent.objects.create(
        enrolment=enrolment, from_status=previous, to_status=status, actor=actor, note=note, at=now
    )
    enrolments_changed_announce(enrolment_ids=[enrolment.pk])
    webhook_event_record(
        event_type=EventType.ENROLMENT_CHANGED, payload=enrolment_data(enrolment, previous_status=previous)
    )
    # A decision someone else made (or the waiting list moving) is news to the member.
    if status in DECISION_STATUSES and (actor is None or actor.pk != enrolment.member_id):
        enrolment_decision_notify(enrolment=enrolment)


def _free_places_offer(cohort: Cohort, *, actor) -> list[Enrolment]:
    """Offer each free place to the next person on the waiting list. Cohort must be locked."""
    free = cohort.capacity - _places_taken(cohort)
    if free <= 0 or cohort.status in CLOSED_COHORT_STATUSES:
        return []
    offered = list(
        cohort.enrolments.filter(status=EnrolmentStatus.WAITLISTED).order_by("waitlisted_at", "pk")[:free]
    )
    for enrolment in offered:
        _status_set(enrolment, EnrolmentStatus.OFFERED, actor=actor, note=_("A place became free."))
    return offered


def cohort_accepts_applications(cohort: Cohort, *, today=None) -> bool:
    today = today or timezone.localdate()
    return (
        cohort.status == CohortStatus.OPEN
        and cohort.version.status == VersionStatus.PUBLISHED
        and cohort.enrolment_opens_on <= today <= cohort.enrolment_closes_on
    )


@transaction.atomic
def enrolment_apply(*, cohort: Cohort, member, motivation: str = "", actor=None) -> Enrolment:
    """Apply for a place: enrolled at once, waitlisted when full, or left for review. `actor`:
    who made the application, when not the member (staff, through the API)."""
    cohort = _cohort_lock(cohort.pk)
    if not cohort_accepts_applications(cohort):
        raise ValidationError(_("This cohort is not taking applications."), code="closed")
    programme_id = cohort.version.programme_id
    if Enrolment.objects.filter(
        member=member, programme_id=programme_id, status__in=ACTIVE_ENROLMENT_STATUSES
    ).exists():
        raise ValidationError(
            _("You already have a place or an application in this programme."), code="duplicate"
        )
    if cohort.reviews_applications:
        status = EnrolmentStatus.APPLIED
    elif _places_taken(cohort) < cohort.capacity:
        status = EnrolmentStatus.ENROLLED
    else:
        status = EnrolmentStatus.WAITLISTED
    now = timezone.now()
    enrolment = Enrolment(
        cohort=cohort,
        member=member,
        programme_id=programme_id,
        status=status,
        applied_at=now,
        status_changed_at=now,
        waitlisted_at=now if status == EnrolmentStatus.WAITLISTED else None,
        first_enrolled_at=now if status == EnrolmentStatus.ENROLLED else None,
        motivation=motivation,
    )
    enrolment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrolment.save()
    except IntegrityError as error:  # a concurrent application in another cohort of the programme
        raise ValidationError(
            _("You already have a place or an application in this programme."), code="duplicate"
        ) from error
    EnrolmentEvent.objects.create(
        enrolment=enrolment, from_status="", to_status=status, actor=actor or member, at=now
    )
    # reporting copies the member's place onto it, in this transaction.
    enrolments_changed_announce(enrolment_ids=[enrolment.pk], made=True)
    webhook_event_record(
        event_type=EventType.ENROLMENT_CHANGED, payload=enrolment_data(enrolment, previous_status="")
    )
    # Whoever applied (the member, staff through the API, an import), the member is told what
    # happened and what comes next; no decision notice goes for this first status.
    application_received_notify(enrolment=enrolment)
    return enrolment


@transaction.atomic
def enrolment_decide(*, enrolment: Enrolment, accept: bool, message: str = "", actor) -> Enrolment:
    """A trainer's or staff decision on an application to a reviewed cohort."""
    cohort = _cohort_lock(enrolment.cohort_id)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.APPLIED:
        raise ValidationError(_("This application has already been decided."), code="decided")
    if not accept and not message.strip():
        raise ValidationError({"message": _("Give the applicant a reason when you decline.")}, code="reason")
    enrolment.decision_message = message.strip()
    enrolment.save(update_fields=["decision_message"])
    if not accept:
        _status_set(enrolment, EnrolmentStatus.DECLINED, actor=actor, note=message)
    elif _places_taken(cohort) < cohort.capacity:
        _status_set(enrolment, EnrolmentStatus.ENROLLED, actor=actor, note=message)
    else:
        _status_set(
            enrolment, EnrolmentStatus.WAITLISTED, actor=actor, note=_("Accepted; the cohort is full.")
        )
    return enrolment


@transaction.atomic
def enrolment_withdraw(*, enrolment: Enrolment, actor, note: str = "") -> Enrolment:
    """Leave a cohort (or its waiting list). A freed place goes to the next in line."""
    cohort = _cohort_lock(enrolment.cohort_id)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status not in ACTIVE_ENROLMENT_STATUSES:
        raise ValidationError(_("This enrolment is no longer active."), code="inactive")
    if cohort.status in CLOSED_COHORT_STATUSES:
        raise ValidationError(_("The cohort has finished; there is nothing to withdraw from."))
    _status_set(enrolment, EnrolmentStatus.WITHDRAWN, actor=actor, note=note)
    _free_places_offer(cohort, actor=actor)
    return enrolment


@transaction.atomic
def enrolment_offer_respond(*, enrolment: Enrolment, accept: bool, actor) -> Enrolment:
    """The member takes up an offered place, or turns it down (freeing it for the next)."""
    cohort = _cohort_lock(enrolment.cohort_id)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.OFFERED:
        raise ValidationError(_("There is no open offer of a place."), code="no_offer")
    if accept:
        _status_set(enrolment, EnrolmentStatus.ENROLLED, actor=actor, note=_("Offer accepted."))
    else:
        _status_set(enrolment, EnrolmentStatus.WITHDRAWN, actor=actor, note=_("Offer declined."))
        _free_places_offer(cohort, actor=actor)
    return enrolment


def cohort_enrolments_cancel(*, cohort: Cohort, actor) -> list[Enrolment]:
    """End every active enrolment (applied, waitlisted, offered, enrolled) of a cohort being
    cancelled, as "cancelled"; completed ones stay. Nobody is offered the freed places, and no
    decision notice goes: the cohort's cancellation tells each of them once. Cohort must be
    locked."""
    ended = list(
        Enrolment.objects.select_for_update()
        .filter(cohort_id=cohort.pk, status__in=ACTIVE_ENROLMENT_STATUSES)
        .order_by("pk")
    )
    for enrolment in ended:
        _status_set(enrolment, EnrolmentStatus.CANCELLED, actor=actor, note=_("The cohort was cancelled."))
    return ended


def cohort_capacity_check(*, cohort: Cohort, capacity: int) -> None:
    """Capacity may not fall below the places already taken. Cohort must be locked."""
    taken = _places_taken(cohort)
    if capacity < taken:
        raise ValidationError(
            {
                "capacity": _("%(taken)s people already hold places; the capacity cannot be lower.")
                % {"taken": taken}
            },
            code="capacity",
        )


def cohort_places_rebalance(*, cohort: Cohort, actor) -> list[Enrolment]:
    """After capacity rises, offer the new places. Cohort must be locked."""
    return _free_places_offer(cohort, actor=actor)
