"""Opening cohorts and scheduling their sessions."""

import secrets
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from members.models import Constituency, Region
from training.models import (
    Assignment,
    AssignmentDueDate,
    Cohort,
    CohortStatus,
    Module,
    ProgrammeVersion,
    Session,
    SessionMode,
    SessionStatus,
    VersionStatus,
)
from training.services.cohort_lifecycle import (
    cohort_status_by_dates,
    site_today,
    status_follows_dates_resolve,
)
from training.services.completion import cohort_enrolments_settle
from training.services.enrolment import (
    cohort_capacity_check,
    cohort_enrolments_cancel,
    cohort_places_rebalance,
)
from training.services.reminders import cohort_cancelled_notify, session_change_notify
from training.signals import training_offer_changed_announce

# No 0/O or 1/I/L: codes are read aloud and typed on phones.
CHECKIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECKIN_CODE_LENGTH = 6
# A change to any of these is news to the people coming; a new title is not.
SESSION_NOTICE_FIELDS = {"starts_at", "ends_at", "mode", "venue", "address", "online_link", "preparation"}


def checkin_code_new() -> str:
    while True:
        code = "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))
        if not Session.objects.filter(checkin_code=code).exists():
            return code


def _trainers_check(trainers) -> None:
    not_trainers = [user for user in trainers if not user.has_perm("training.run_cohorts")]
    if not_trainers:
        raise ValidationError(
            {
                "trainers": _("%(names)s cannot run cohorts: give them the trainer role first.")
                % {"names": ", ".join(str(user) for user in not_trainers)}
            }
        )


def _cohort_dates_check(*, opens: date, closes: date, starts: date, ends: date) -> None:
    errors = {}
    if closes < opens:
        errors["enrolment_closes_on"] = _("Applications must close after they open.")
    if ends < starts:
        errors["ends_on"] = _("The cohort must end on or after the day it starts.")
    if closes > ends:
        errors.setdefault("enrolment_closes_on", _("Applications must close before the cohort ends."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cohort_create(
    *,
    version: ProgrammeVersion,
    name: str,
    region: Region,
    constituency: Constituency | None,
    trainers,
    capacity: int,
    enrolment_opens_on: date,
    enrolment_closes_on: date,
    starts_on: date,
    ends_on: date,
    reviews_applications: bool,
    status: str = CohortStatus.DRAFT,
    status_follows_dates: bool | None = None,
) -> Cohort:
    """Open a cohort. Its status follows its dates (see services.cohort_lifecycle) unless the
    status given is not the one its dates give; `status_follows_dates` (if not None) decides."""
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError({"version": _("A cohort can only run a published version.")})
    _cohort_dates_check(opens=enrolment_opens_on, closes=enrolment_closes_on, starts=starts_on, ends=ends_on)
    _trainers_check(trainers)
    cohort = Cohort(
        version=version,
        name=name,
        region=region,
        constituency=constituency,
        capacity=capacity,
        enrolment_opens_on=enrolment_opens_on,
        enrolment_closes_on=enrolment_closes_on,
        starts_on=starts_on,
        ends_on=ends_on,
        reviews_applications=reviews_applications,
        status=status,
    )
    cohort.status_follows_dates = _status_follows_dates(
        cohort=cohort, status_before=None, follows_before=True, follows_asked=status_follows_dates
    )
    if constituency and constituency.region_id != region.pk:
        raise ValidationError({"constituency": _("That constituency is not in the region.")})
    cohort.full_clean()
    cohort.save()
    cohort.trainers.set(trainers)
    training_offer_changed_announce()
    return cohort


@transaction.atomic
def cohort_update(*, cohort: Cohort, actor, trainers=None, **fields) -> Cohort:
    """Change a cohort's details. The programme version it runs never changes. Setting the
    status to cancelled cancels it as cohort_cancel does; a cancelled cohort is not reopened.
    Setting it to finished settles its enrolled trainees (services.completion). Setting by
    hand a status its dates would not give stops it following its dates, unless
    `status_follows_dates` is given (staff said so): then that decides."""
    locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
    fields.pop("version", None)
    status_before, follows_before = locked.status, locked.status_follows_dates
    follows_asked = fields.pop("status_follows_dates", None)
    was_cancelled = locked.status == CohortStatus.CANCELLED
    if was_cancelled and fields.get("status", CohortStatus.CANCELLED) != CohortStatus.CANCELLED:
        raise ValidationError(
            {"status": _("A cancelled cohort cannot be reopened: its sessions and places are cancelled.")}
        )
    for name, value in fields.items():
        setattr(locked, name, value)
    _cohort_dates_check(
        opens=locked.enrolment_opens_on,
        closes=locked.enrolment_closes_on,
        starts=locked.starts_on,
        ends=locked.ends_on,
    )
    locked.status_follows_dates = _status_follows_dates(
        cohort=locked, status_before=status_before, follows_before=follows_before, follows_asked=follows_asked
    )
    if locked.constituency and locked.constituency.region_id != locked.region_id:
        raise ValidationError({"constituency": _("That constituency is not in the region.")})
    cohort_capacity_check(cohort=locked, capacity=locked.capacity)
    locked.full_clean()
    changed = set(fields)
    if locked.status_follows_dates != follows_before:
        changed.add("status_follows_dates")
    locked.save(update_fields=sorted(changed))
    if trainers is not None:
        _trainers_check(trainers)
        locked.trainers.set(trainers)
    training_offer_changed_announce()
    if locked.status == CohortStatus.CANCELLED and not was_cancelled:
        _cancelled_cohort_settle(cohort=locked, actor=actor)
    if locked.status == CohortStatus.FINISHED and status_before != CohortStatus.FINISHED:
        cohort_enrolments_settle(cohort=locked, actor=actor)
    cohort_places_rebalance(cohort=locked, actor=actor)
    return locked


def _status_follows_dates(*, cohort: Cohort, status_before, follows_before: bool, follows_asked) -> bool:
    return status_follows_dates_resolve(
        status_before=status_before,
        status=cohort.status,
        follows_before=follows_before,
        follows_asked=follows_asked,
        status_by_dates=cohort_status_by_dates(
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on,
            enrolment_closes_on=cohort.enrolment_closes_on,
            today=site_today(),
        ),
    )


@transaction.atomic
def cohort_cancel(*, cohort: Cohort, actor) -> Cohort:
    """Cancel a cohort, in one transaction: each of its sessions still to come is cancelled
    (calendars see its SEQUENCE rise and STATUS:CANCELLED), its active enrolments end as
    cancelled, and each person in it hears once. Sessions already started and completed
    enrolments stay as they are. Cancelling again changes nothing (and settles whatever an
    earlier cancellation left, such as a cohort cancelled before cancelling did all this)."""
    locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
    if locked.status != CohortStatus.CANCELLED:
        locked.status = CohortStatus.CANCELLED
        locked.save(update_fields=["status"])
        training_offer_changed_announce()
    _cancelled_cohort_settle(cohort=locked, actor=actor)
    return locked


def _cancelled_cohort_settle(*, cohort: Cohort, actor) -> None:
    """Cancel what is left of a cancelled cohort (locked): sessions to come, then places.

    One notice per person (the cohort's), not one per session: the sessions are cancelled
    without their own notices, and the cohort's notice carries their calendar cancellations.
    Trainers hear only when something changed now, and nobody hears twice.
    """
    now = timezone.now()
    coming = Session.objects.filter(
        cohort_id=cohort.pk, status=SessionStatus.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at", "pk")
    cancelled = [session_cancel(session=session, notify=False) for session in coming]
    ended = cohort_enrolments_cancel(cohort=cohort, actor=actor)
    if not (cancelled or ended):
        return
    trainers = Cohort.trainers.through.objects.filter(cohort_id=cohort.pk).values_list("user_id", flat=True)
    cohort_cancelled_notify(cohort=cohort, member_ids={e.member_id for e in ended} | set(trainers))


def _session_check(
    *,
    cohort: Cohort,
    starts_at: datetime,
    ends_at: datetime,
    mode: str,
    venue: str,
    online_link: str,
    modules,
) -> None:
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = _("A session must end after it starts.")
    first_day = timezone.localtime(starts_at).date()
    last_day = timezone.localtime(ends_at).date()
    if first_day < cohort.starts_on or last_day > cohort.ends_on:
        errors["starts_at"] = _("Sessions must fall within the cohort's dates, %(start)s to %(end)s.") % {
            "start": cohort.starts_on.strftime("%-d %B %Y"),
            "end": cohort.ends_on.strftime("%-d %B %Y"),
        }
    if mode == SessionMode.ONLINE and not online_link:
        errors["online_link"] = _("An online session needs its link.")
    if mode == SessionMode.IN_PERSON and not venue:
        errors["venue"] = _("An in-person session needs a venue.")
    if mode == SessionMode.IN_PERSON and online_link:
        errors["online_link"] = _("Only online sessions have a link.")
    if any(module.version_id != cohort.version_id for module in modules):
        errors["modules"] = _("Choose modules of the programme version this cohort follows.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(
    *,
    cohort: Cohort,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    mode: str,
    venue: str = "",
    address: str = "",
    online_link: str = "",
    preparation: str = "",
    modules: list[Module] | None = None,
) -> Session:
    modules = list(modules or [])
    # Read afresh: the cohort may have been cancelled since the caller loaded it.
    if Cohort.objects.filter(pk=cohort.pk, status=CohortStatus.CANCELLED).exists():
        raise ValidationError(_("This cohort was cancelled: it has no new sessions."))
    _session_check(
        cohort=cohort,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        online_link=online_link,
        modules=modules,
    )
    session = Session(
        cohort=cohort,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        address=address,
        online_link=online_link,
        preparation=preparation,
        checkin_code=checkin_code_new(),
    )
    session.full_clean()
    session.save()
    session.modules.set(modules)
    training_offer_changed_announce()
    return session


@transaction.atomic
def session_update(*, session: Session, modules: list[Module] | None = None, **fields) -> Session:
    """Reschedule or change a session. Calendars see a new sequence number and update."""
    session = Session.objects.select_for_update().select_related("cohort").get(pk=session.pk)
    if session.is_cancelled:
        raise ValidationError(_("A cancelled session cannot be changed."))
    changed = {name for name, value in fields.items() if getattr(session, name) != value}
    for name, value in fields.items():
        setattr(session, name, value)
    modules = list(session.modules.all()) if modules is None else list(modules)
    _session_check(
        cohort=session.cohort,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        mode=session.mode,
        venue=session.venue,
        online_link=session.online_link,
        modules=modules,
    )
    session.sequence += 1
    session.full_clean()
    session.save()
    session.modules.set(modules)
    training_offer_changed_announce()
    if changed & SESSION_NOTICE_FIELDS:
        session_change_notify(session=session)
    return session


@transaction.atomic
def session_cancel(*, session: Session, notify: bool = True) -> Session:
    """Cancel a session: its SEQUENCE rises, so calendars mark the event cancelled. `notify`:
    tell its people (False when the whole cohort is cancelled, whose notice tells them once)."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.is_cancelled:
        return session  # cancelling twice changes nothing
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    session.save(update_fields=["status", "sequence", "updated_at"])
    training_offer_changed_announce()
    if notify:
        session_change_notify(session=session)
    return session


@transaction.atomic
def cohort_due_dates_set(*, cohort: Cohort, due_dates: dict[int, date | None]) -> int:
    """Set the cohort's own due dates ({assignment id: date}; None returns to the default).

    Returns how many changed. Dates before the cohort starts are refused.
    """
    assignments = set(
        Assignment.objects.filter(module__version_id=cohort.version_id).values_list("pk", flat=True)
    )
    if set(due_dates) - assignments:
        raise ValidationError(_("Some of those assignments are not part of this cohort's programme."))
    early = {pk: day for pk, day in due_dates.items() if day is not None and day < cohort.starts_on}
    if early:
        raise ValidationError(
            {
                f"due_{pk}": _("Choose a date on or after the cohort starts (%(start)s).")
                % {"start": date_format(cohort.starts_on, "j F Y")}
                for pk in early
            }
        )
    existing = {row.assignment_id: row for row in AssignmentDueDate.objects.filter(cohort=cohort)}
    changed = 0
    for assignment_id, day in due_dates.items():
        row = existing.get(assignment_id)
        if day is None and row is not None:
            row.delete()
            changed += 1
        elif day is not None and row is None:
            AssignmentDueDate.objects.create(cohort=cohort, assignment_id=assignment_id, due_on=day)
            changed += 1
        elif day is not None and row.due_on != day:
            row.due_on = day
            row.save(update_fields=["due_on"])
            changed += 1
    if changed:
        training_offer_changed_announce()
    return changed
