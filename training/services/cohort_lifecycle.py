"""Cohorts move by their dates: open, then running, then finished.

Beat runs `cohorts_move_by_dates` every hour (config.settings CELERY_BEAT_SCHEDULE). Days are
the site's (settings.TIME_ZONE): a cohort starts running on its first day once applications
have closed (a cohort still taking applications stays "open for applications" until they
close), and finishes the day after its last day, when its enrolled trainees are settled
(training.services.completion). Draft and cancelled cohorts are left alone, and so is any
cohort whose status staff set by hand (`status_follows_dates` off).

Moves only go forward, and each is one UPDATE of one cohort row, made under that row's lock
and only if the row still qualifies: two beats at once, or a run repeated, move nothing twice.
No cohort history is kept beyond its row (the audit trail records people's actions, not
these), so each move is logged; the enrolments' own events record their ends.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from training.models import Cohort, CohortStatus, Enrolment, EnrolmentStatus
from training.services.completion import cohort_enrolments_settle
from training.signals import training_offer_changed_announce

logger = logging.getLogger(__name__)

# The statuses the dates decide; draft (not yet published) and cancelled are staff's alone.
DATED_STATUSES = [CohortStatus.OPEN, CohortStatus.RUNNING, CohortStatus.FINISHED]


@dataclass
class LifecycleReport:
    started: list[int] = field(default_factory=list)  # cohort ids
    finished: list[int] = field(default_factory=list)
    completed: int = 0  # enrolments settled
    incomplete: int = 0


def site_today(now: datetime | None = None) -> date:
    """Today in the site's time zone, whatever zone a request may have activated."""
    return timezone.localdate(now, timezone=ZoneInfo(settings.TIME_ZONE))


def cohort_status_by_dates(*, starts_on: date, ends_on: date, enrolment_closes_on: date, today: date) -> str:
    """The status a published cohort with these dates has on `today`."""
    if ends_on < today:
        return CohortStatus.FINISHED
    if starts_on <= today and enrolment_closes_on < today:
        return CohortStatus.RUNNING
    return CohortStatus.OPEN


def status_follows_dates_resolve(
    *,
    status_before: str | None,
    status: str,
    follows_before: bool,
    follows_asked: bool | None,
    status_by_dates: str,
) -> bool:
    """Whether a cohort's status follows its dates after staff change it (`status_before` None:
    a new cohort). When staff say (`follows_asked`: the form's box changed, or the API's field
    sent), they decide; otherwise setting by hand a status its dates would not give (reopening
    applications, finishing early) turns it off. Publishing a draft as open before it starts,
    or cancelling, leaves it as it was."""
    if follows_asked is not None:
        return follows_asked
    if status != status_before and status in DATED_STATUSES and status != status_by_dates:
        return False
    return follows_before


def _due_to_start(today: date) -> Q:
    return Q(
        status=CohortStatus.OPEN,
        starts_on__lte=today,
        enrolment_closes_on__lt=today,
        ends_on__gte=today,
    )


def _due_to_finish(today: date) -> Q:
    return Q(status__in=[CohortStatus.OPEN, CohortStatus.RUNNING], ends_on__lt=today)


def _move(*, due: Q, to: str, report: LifecycleReport) -> list[int]:
    candidates = list(
        Cohort.objects.filter(due, status_follows_dates=True).order_by("pk").values_list("pk", flat=True)
    )
    moved = []
    for pk in candidates:
        with transaction.atomic():
            # Locked and checked again: another beat may have moved it, or staff changed it.
            cohort = Cohort.objects.select_for_update().filter(due, pk=pk, status_follows_dates=True).first()
            if cohort is None:
                continue
            before = cohort.status
            cohort.status = to
            cohort.save(update_fields=["status"])
            training_offer_changed_announce()
            logger.info("Cohort %s moved by its dates from %s to %s", pk, before, to)
            if to == CohortStatus.FINISHED:
                settled = cohort_enrolments_settle(cohort=cohort)
                report.completed += len(settled.completed)
                report.incomplete += len(settled.incomplete)
            moved.append(pk)
    return moved


def cohorts_move_by_dates(*, today: date | None = None) -> LifecycleReport:
    """Move every cohort due to start or finish (see the module's docstring), then settle
    the enrolled trainees of any finished cohort left unsettled (one finished by hand through
    the admin, say). Safe to run twice, or twice at once."""
    today = today or site_today()
    report = LifecycleReport()
    report.finished = _move(due=_due_to_finish(today), to=CohortStatus.FINISHED, report=report)
    report.started = _move(due=_due_to_start(today), to=CohortStatus.RUNNING, report=report)
    unsettled = (
        Enrolment.objects.filter(status=EnrolmentStatus.ENROLLED, cohort__status=CohortStatus.FINISHED)
        .order_by("cohort_id")
        .values_list("cohort_id", flat=True)
        .distinct()
    )
    for cohort in Cohort.objects.filter(pk__in=list(unsettled)).order_by("pk"):
        settled = cohort_enrolments_settle(cohort=cohort)
        report.completed += len(settled.completed)
        report.incomplete += len(settled.incomplete)
    return report
