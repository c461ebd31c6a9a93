"""Enrolment milestones: when a person first held a place, first attended, and had handed in
every required assignment. Kept on the enrolment so that funnels and forecasts read one table.

Computed from the source rows by one function, used both by the services after each change
and by `manage.py pipeline_rebuild`, which recomputes everything and says what differed.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Min

from training.models import (
    Assignment,
    Attendance,
    AttendanceStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Submission,
    SubmissionStatus,
)

MILESTONE_FIELDS = ["first_enrolled_at", "first_attended_at", "work_submitted_at"]
Milestones = tuple[datetime | None, datetime | None, datetime | None]


def milestones_compute(enrolments: list[Enrolment]) -> dict[int, Milestones]:
    """{enrolment id: (first enrolled, first attended, all required work submitted)}.
    Four queries, whatever the number of enrolments."""
    ids = [enrolment.pk for enrolment in enrolments]
    enrolled = dict(
        EnrolmentEvent.objects.filter(enrolment_id__in=ids, to_status=EnrolmentStatus.ENROLLED)
        .values("enrolment_id")
        .annotate(first=Min("at"))
        .values_list("enrolment_id", "first")
    )
    attended = dict(
        Attendance.objects.filter(enrolment_id__in=ids, status=AttendanceStatus.PRESENT)
        .values("enrolment_id")
        .annotate(first=Min("session__starts_at"))
        .values_list("enrolment_id", "first")
    )
    version_ids = {enrolment.cohort.version_id for enrolment in enrolments}
    required: dict[int, set[int]] = defaultdict(set)
    for version_id, assignment_id in Assignment.objects.filter(
        module__version_id__in=version_ids, required_for_completion=True
    ).values_list("module__version_id", "pk"):
        required[version_id].add(assignment_id)
    handed_in: dict[int, dict[int, datetime]] = defaultdict(dict)
    for enrolment_id, assignment_id, first in (
        Submission.objects.filter(enrolment_id__in=ids, status=SubmissionStatus.SUBMITTED)
        .values("enrolment_id", "assignment_id")
        .annotate(first=Min("submitted_at"))
        .values_list("enrolment_id", "assignment_id", "first")
    ):
        handed_in[enrolment_id][assignment_id] = first
    result: dict[int, Milestones] = {}
    for enrolment in enrolments:
        first_enrolled = enrolled.get(enrolment.pk)
        if first_enrolled is None and enrolment.status in (
            EnrolmentStatus.ENROLLED,
            EnrolmentStatus.COMPLETED,
            EnrolmentStatus.INCOMPLETE,
        ):
            first_enrolled = enrolment.status_changed_at  # enrolled without a recorded event (imports)
        needed = required[enrolment.cohort.version_id]
        work = handed_in.get(enrolment.pk, {})
        submitted = max(work[pk] for pk in needed) if needed and needed <= set(work) else None
        result[enrolment.pk] = (first_enrolled, attended.get(enrolment.pk), submitted)
    return result


def milestones_refresh(*, enrolment_ids: Iterable[int]) -> int:
    """Bring these enrolments' milestones up to date; returns how many changed."""
    enrolments = list(
        Enrolment.objects.filter(pk__in=set(enrolment_ids))
        .select_related("cohort")
        .only("pk", "status", "status_changed_at", "cohort__version_id", *MILESTONE_FIELDS)
    )
    return _apply(enrolments, milestones_compute(enrolments))


def _apply(enrolments: list[Enrolment], computed: dict[int, Milestones]) -> int:
    changed = []
    for enrolment in enrolments:
        values = computed[enrolment.pk]
        if tuple(getattr(enrolment, name) for name in MILESTONE_FIELDS) != values:
            for name, value in zip(MILESTONE_FIELDS, values, strict=True):
                setattr(enrolment, name, value)
            changed.append(enrolment)
    Enrolment.objects.bulk_update(changed, MILESTONE_FIELDS, batch_size=1000)
    return len(changed)


def milestones_rebuild(*, fix: bool, batch_size: int = 2000) -> tuple[int, int]:
    """Recompute every enrolment's milestones in batches. Returns (checked, differing); with
    fix=True the differing ones are corrected."""
    checked = differing = 0
    last_pk = 0
    while True:
        batch = list(
            Enrolment.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .select_related("cohort")
            .only("pk", "status", "status_changed_at", "cohort__version_id", *MILESTONE_FIELDS)[:batch_size]
        )
        if not batch:
            return checked, differing
        computed = milestones_compute(batch)
        wrong = [
            enrolment
            for enrolment in batch
            if tuple(getattr(enrolment, name) for name in MILESTONE_FIELDS) != computed[enrolment.pk]
        ]
        differing += len(wrong)
        if fix and wrong:
            _apply(wrong, computed)
        checked += len(batch)
        last_pk = batch[-1].pk
