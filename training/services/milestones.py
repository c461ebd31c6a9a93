"""Enrolment milestones: when a person first held a place, first attended, and had handed in
every required assignment. Kept on the enrolment so that funnels and forecasts read one table.

Computed from the source rows by one function, used both by the services after each change
and by `manage.py pipeline_rebuild`, which recomputes everything and says what differed.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Min

from training.models import (
    Assignment,
    Attendance,
    AttendanceStatus,
    Cohort,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Module,
    Session,
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


@transaction.atomic
def milestones_rebuild(*, fix: bool) -> tuple[int, int]:
    """Recompute every enrolment's milestones. Returns (checked, differing); with fix=True the
    differing ones are corrected.

    On PostgreSQL the rule of `milestones_compute` is said once more in SQL, so the database
    computes every enrolment in one pass (a Python loop over a million enrolments took
    minutes); the two are held to the same answers by tests/training/test_milestones.py.
    Elsewhere (the SQLite file of `make run`, a few hundred enrolments) the rule itself runs,
    in batches."""
    if connection.vendor != "postgresql":
        return _milestones_rebuild_in_batches(fix=fix)
    enrolment = Enrolment._meta.db_table
    expected = f"""
        SELECT e.id,
            COALESCE(enrolled.first, CASE WHEN e.status IN (%(enrolled)s, %(completed)s, %(incomplete)s)
                THEN e.status_changed_at END) AS first_enrolled_at,
            attended.first AS first_attended_at,
            work.submitted AS work_submitted_at
        FROM {enrolment} e
        LEFT JOIN (
            SELECT enrolment_id, min(at) AS first FROM {EnrolmentEvent._meta.db_table}
            WHERE to_status = %(enrolled)s GROUP BY enrolment_id
        ) enrolled ON enrolled.enrolment_id = e.id
        LEFT JOIN (
            SELECT a.enrolment_id, min(s.starts_at) AS first
            FROM {Attendance._meta.db_table} a JOIN {Session._meta.db_table} s ON s.id = a.session_id
            WHERE a.status = %(present)s GROUP BY a.enrolment_id
        ) attended ON attended.enrolment_id = e.id
        LEFT JOIN (
            -- every required assignment of the enrolment's version handed in: the last first time
            SELECT handed.enrolment_id, max(handed.first) AS submitted
            FROM (
                SELECT enrolment_id, assignment_id, min(submitted_at) AS first
                FROM {Submission._meta.db_table} WHERE status = %(submitted)s
                GROUP BY enrolment_id, assignment_id
            ) handed
            JOIN {enrolment} owner ON owner.id = handed.enrolment_id
            JOIN {Cohort._meta.db_table} c ON c.id = owner.cohort_id
            JOIN {Assignment._meta.db_table} a ON a.id = handed.assignment_id AND a.required_for_completion
            JOIN {Module._meta.db_table} m ON m.id = a.module_id AND m.version_id = c.version_id
            JOIN (
                SELECT m.version_id, count(*) AS needed
                FROM {Assignment._meta.db_table} a JOIN {Module._meta.db_table} m ON m.id = a.module_id
                WHERE a.required_for_completion GROUP BY m.version_id
            ) required ON required.version_id = c.version_id
            GROUP BY handed.enrolment_id, required.needed
            HAVING count(*) = required.needed
        ) work ON work.enrolment_id = e.id
    """  # noqa: S608 - table names from the models; values are parameters
    params = {
        "enrolled": EnrolmentStatus.ENROLLED,
        "completed": EnrolmentStatus.COMPLETED,
        "incomplete": EnrolmentStatus.INCOMPLETE,
        "present": AttendanceStatus.PRESENT,
        "submitted": SubmissionStatus.SUBMITTED,
    }
    differs = (
        "(kept.first_enrolled_at, kept.first_attended_at, kept.work_submitted_at) IS DISTINCT FROM "
        "(x.first_enrolled_at, x.first_attended_at, x.work_submitted_at)"
    )
    with connection.cursor() as cursor:
        # Three grouped passes over the biggest tables: hashed in memory, not sorted on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"SELECT count(*) FROM {enrolment}")  # noqa: S608
        (checked,) = cursor.fetchone()
        if fix:
            cursor.execute(
                f"UPDATE {enrolment} kept SET first_enrolled_at = x.first_enrolled_at, "  # noqa: S608
                f"first_attended_at = x.first_attended_at, work_submitted_at = x.work_submitted_at "
                f"FROM ({expected}) x WHERE x.id = kept.id AND {differs}",
                params,
            )
            differing = cursor.rowcount
        else:
            cursor.execute(
                f"SELECT count(*) FROM {enrolment} kept "  # noqa: S608
                f"JOIN ({expected}) x ON x.id = kept.id WHERE {differs}",
                params,
            )
            (differing,) = cursor.fetchone()
    return checked, differing


def _milestones_rebuild_in_batches(*, fix: bool, batch_size: int = 2000) -> tuple[int, int]:
    checked = differing = 0
    last_pk = 0
    while batch := list(
        Enrolment.objects.filter(pk__gt=last_pk)
        .order_by("pk")
        .select_related("cohort")
        .only("pk", "status", "status_changed_at", "cohort__version_id", *MILESTONE_FIELDS)[:batch_size]
    ):
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
    return checked, differing
