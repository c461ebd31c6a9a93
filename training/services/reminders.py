"""Which notices are due: the sweep's reminders, and the notices that follow a change.

The sweep writes reminders with one INSERT ... SELECT per kind, whatever the number of
recipients: it reads the few sessions, assignments or cohorts that are due, and the database
joins them to their people. The unique constraint makes a second sweep write nothing.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from training.models import (
    Assignment,
    AssignmentDueDate,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    NoticeMute,
    Session,
    SessionStatus,
    Submission,
    SubmissionStatus,
)
from training.models.curriculum import MAX_REMINDER_HOURS, reminder_hours_parse
from training.services.notices import notices_create, notices_send_on_commit, notices_waiting_ids

logger = logging.getLogger(__name__)

# Reminders about work and marking go out at this local time, not in the night.
DAYTIME_REMINDER_AT = time(9, 0)
ACTIVE_COHORT_STATUSES = [CohortStatus.OPEN, CohortStatus.RUNNING]


@dataclass
class SweepReport:
    written: int
    waiting_ids: list[int]


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Write every reminder due by now (once), and list every notice waiting to be sent."""
    now = now or timezone.now()
    written = (
        session_reminders_write(now=now)
        + assignment_reminders_write(now=now)
        + marking_backlog_write(now=now)
    )
    return SweepReport(written=written, waiting_ids=notices_waiting_ids(now=now))


def _local_daytime(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, DAYTIME_REMINDER_AT))


def _not_yet_written(*, kind: str, due: list[tuple[int, int, str, datetime]]) -> list:
    """Leave out items whose notices were written by an earlier sweep (one indexed query), so
    that a sweep with nothing new to write costs little however many people are due. Someone
    who joins after a reminder went gets the next one."""
    if not due:
        return due
    written = set(
        Notice.objects.filter(kind=kind, subject__in={row[2] for row in due})
        .values_list("subject", "scheduled_for")
        .distinct()
    )
    return [row for row in due if (row[2], row[3]) not in written]


def _notices_insert(*, kind: str, due: list[tuple[int, int, str, datetime]], recipients_sql: str, now) -> int:
    """Write a notice of this kind for each recipient of each due item, in one statement.

    `due` rows are (key_a, key_b, subject, scheduled_for); `recipients_sql` selects
    (key_a, key_b, recipient_id) and may read the `due` table. Muted members are left out.
    """
    due = _not_yet_written(kind=kind, due=due)
    if not due:
        return 0
    ops = connection.ops
    params: list = []
    for key_a, key_b, subject, scheduled_for in due:
        params += [key_a, key_b, subject, ops.adapt_datetimefield_value(scheduled_for)]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(due))
    notice, mute = Notice._meta.db_table, NoticeMute._meta.db_table
    # INSERT comes first, the WITH inside it: Python's sqlite3 counts the rows written only
    # for statements that start with INSERT.
    sql = f"""INSERT INTO {notice}
            (recipient_id, kind, subject, scheduled_for, status, attempts, next_attempt_at,
             claimed_by, outcome, created_at)
        WITH due (key_a, key_b, subject, scheduled_for) AS (VALUES {values}),
        recipients (key_a, key_b, recipient_id) AS ({recipients_sql})
        SELECT DISTINCT r.recipient_id, %s, due.subject, due.scheduled_for, 'pending', 0,
            due.scheduled_for, '', '', %s
        FROM due JOIN recipients r ON r.key_a = due.key_a AND r.key_b = due.key_b
        WHERE NOT EXISTS (SELECT 1 FROM {mute} m WHERE m.member_id = r.recipient_id AND m.kind = %s)
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - table names from our models; every value is a parameter
    params += [kind, ops.adapt_datetimefield_value(now), kind]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _tables() -> dict[str, str]:
    return {
        "session": Session._meta.db_table,
        "enrolment": Enrolment._meta.db_table,
        "trainers": Cohort.trainers.through._meta.db_table,
        "submission": Submission._meta.db_table,
    }


# --- Session reminders ------------------------------------------------------------------


def _offsets(hours: str) -> list[int]:
    try:
        return reminder_hours_parse(hours)
    except ValidationError:
        logger.warning("Unreadable reminder hours %r: no session reminders for that programme.", hours)
        return []


def session_reminders_write(*, now: datetime) -> int:
    """For each coming session, the latest reminder time that has passed (so a session
    added at short notice gets one reminder, not all of them), to its trainees and trainers."""
    sessions = Session.objects.filter(
        status=SessionStatus.SCHEDULED,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(hours=MAX_REMINDER_HOURS),
        cohort__status__in=ACTIVE_COHORT_STATUSES,
    ).values_list("pk", "starts_at", "cohort__version__programme__session_reminder_hours")
    due = []
    for session_id, starts_at, hours in sessions:
        passed = [
            starts_at - timedelta(hours=h) for h in _offsets(hours) if starts_at - timedelta(hours=h) <= now
        ]
        if passed:
            due.append((session_id, 0, f"session:{session_id}", max(passed)))
    tables = _tables()
    recipients = f"""
        SELECT s.id, 0, e.member_id FROM {tables["session"]} s
            JOIN {tables["enrolment"]} e ON e.cohort_id = s.cohort_id AND e.status = 'enrolled'
            WHERE s.id IN (SELECT key_a FROM due)
        UNION
        SELECT s.id, 0, t.user_id FROM {tables["session"]} s
            JOIN {tables["trainers"]} t ON t.cohort_id = s.cohort_id
            WHERE s.id IN (SELECT key_a FROM due)
    """  # noqa: S608
    return _notices_insert(kind=NoticeKind.SESSION_REMINDER, due=due, recipients_sql=recipients, now=now)


# --- Assignments due -------------------------------------------------------------------


def assignment_reminders_write(*, now: datetime) -> int:
    """Trainees who have not submitted hear some days before the due date, at 9 a.m."""
    today = timezone.localdate(now)
    rows = Assignment.objects.filter(
        module__version__cohorts__status__in=ACTIVE_COHORT_STATUSES,
        module__version__programme__assignment_reminder_days__gt=0,
    ).values_list(
        "pk",
        "due_offset_days",
        "module__version__cohorts__pk",
        "module__version__cohorts__starts_on",
        "module__version__programme__assignment_reminder_days",
    )
    rows = list(rows)
    overrides = {
        (row.cohort_id, row.assignment_id): row.due_on
        for row in AssignmentDueDate.objects.filter(cohort_id__in={row[2] for row in rows})
    }
    due = []
    for assignment_id, offset_days, cohort_id, starts_on, days_before in rows:
        due_on = overrides.get((cohort_id, assignment_id)) or starts_on + timedelta(days=offset_days)
        remind_at = _local_daytime(due_on - timedelta(days=days_before))
        if remind_at <= now and today <= due_on:
            due.append(
                (cohort_id, assignment_id, f"assignment:{assignment_id}:cohort:{cohort_id}", remind_at)
            )
    tables = _tables()
    recipients = f"""
        SELECT due.key_a, due.key_b, e.member_id FROM due
            JOIN {tables["enrolment"]} e ON e.cohort_id = due.key_a AND e.status = 'enrolled'
            WHERE NOT EXISTS (
                SELECT 1 FROM {tables["submission"]} sub
                WHERE sub.enrolment_id = e.id AND sub.assignment_id = due.key_b AND sub.status = 'submitted'
            )
    """  # noqa: S608
    return _notices_insert(kind=NoticeKind.ASSIGNMENT_DUE, due=due, recipients_sql=recipients, now=now)


# --- Marking backlog ---------------------------------------------------------------------


def marking_backlog_write(*, now: datetime) -> int:
    """Trainers of a cohort whose oldest unmarked work is past the turnaround target hear
    once a day, at 9 a.m."""
    today_at = _local_daytime(timezone.localdate(now))
    if now < today_at:
        return 0
    oldest = (
        Submission.objects.filter(status=SubmissionStatus.SUBMITTED, outcome="")
        .values("enrolment__cohort_id", "enrolment__cohort__version__marking_turnaround_days")
        .annotate(oldest=Min("submitted_at"))
    )
    due = [
        (row["enrolment__cohort_id"], 0, f"backlog:cohort:{row['enrolment__cohort_id']}", today_at)
        for row in oldest
        if row["oldest"] < now - timedelta(days=row["enrolment__cohort__version__marking_turnaround_days"])
    ]
    tables = _tables()
    recipients = f"""
        SELECT t.cohort_id, 0, t.user_id FROM {tables["trainers"]} t
            WHERE t.cohort_id IN (SELECT key_a FROM due)
    """  # noqa: S608
    return _notices_insert(kind=NoticeKind.MARKING_BACKLOG, due=due, recipients_sql=recipients, now=now)


# --- Notices that follow a change -----------------------------------------------------------


def _session_people(session: Session) -> set[int]:
    enrolled = Enrolment.objects.filter(cohort_id=session.cohort_id, status=EnrolmentStatus.ENROLLED)
    return set(enrolled.values_list("member_id", flat=True)) | set(
        Cohort.trainers.through.objects.filter(cohort_id=session.cohort_id).values_list("user_id", flat=True)
    )


def session_change_notify(*, session: Session) -> list[int]:
    """A coming session moved or changed place: everyone in it hears, with the new details.
    Call inside the transaction that changed it; sending waits for the commit."""
    if session.starts_at <= timezone.now():
        return []
    kind = NoticeKind.SESSION_CANCELLED if session.is_cancelled else NoticeKind.SESSION_CHANGED
    ids = notices_create(
        kind=kind,
        subject=f"session:{session.pk}:v{session.sequence}",
        recipient_ids=_session_people(session),
    )
    notices_send_on_commit(ids)
    return ids


def cohort_cancelled_subject(cohort_id: int) -> str:
    return f"cohort:{cohort_id}:cancelled"


def cohort_cancelled_notify(*, cohort: Cohort, member_ids: set[int]) -> list[int]:
    """A cohort was cancelled: each of these people hears once (one notice for the cohort, not
    one per session), never again on a later call. Call inside the transaction that cancelled
    it; sending waits for the commit."""
    subject = cohort_cancelled_subject(cohort.pk)
    told = set(
        Notice.objects.filter(kind=NoticeKind.COHORT_CANCELLED, subject=subject).values_list(
            "recipient_id", flat=True
        )
    )
    ids = notices_create(kind=NoticeKind.COHORT_CANCELLED, subject=subject, recipient_ids=member_ids - told)
    notices_send_on_commit(ids)
    return ids


def absence_warnings_write(*, session: Session, enrolment_ids: list[int]) -> list[int]:
    """Trainees whose run of absences (ending at this session) has just reached the
    programme's threshold hear a supportive word, and their trainers a nudge. Once per run."""
    threshold = session.cohort.version.programme.absence_warning_after
    if not threshold or not enrolment_ids:
        return []
    history = (
        Attendance.objects.filter(
            enrolment_id__in=enrolment_ids,
            session__cohort_id=session.cohort_id,
            session__status=SessionStatus.SCHEDULED,
            session__starts_at__lte=session.starts_at,
        )
        .order_by("enrolment_id", "-session__starts_at")
        .values_list("enrolment_id", "session_id", "status")
    )
    runs: dict[int, list[tuple[int, str]]] = {}
    for enrolment_id, session_id, status in history:
        runs.setdefault(enrolment_id, []).append((session_id, status))
    reached = [
        enrolment_id
        for enrolment_id, rows in runs.items()
        if rows[0][0] == session.pk
        and len(rows) >= threshold
        and all(status == AttendanceStatus.ABSENT for _session, status in rows[:threshold])
        and (len(rows) == threshold or rows[threshold][1] != AttendanceStatus.ABSENT)
    ]
    if not reached:
        return []
    members = dict(Enrolment.objects.filter(pk__in=reached).values_list("pk", "member_id"))
    trainers = set(
        Cohort.trainers.through.objects.filter(cohort_id=session.cohort_id).values_list("user_id", flat=True)
    )
    ids = []
    for enrolment_id in reached:
        subject = f"absence:enrolment:{enrolment_id}:session:{session.pk}"
        ids += notices_create(
            kind=NoticeKind.ABSENCE_WARNING,
            subject=subject,
            recipient_ids=[members[enrolment_id]],
            scheduled_for=session.starts_at,
        )
        ids += notices_create(
            kind=NoticeKind.ABSENCE_NUDGE,
            subject=subject,
            recipient_ids=trainers,
            scheduled_for=session.starts_at,
        )
    notices_send_on_commit(ids)
    return ids


def enrolment_decision_notify(*, enrolment: Enrolment) -> list[int]:
    """The member hears of a decision about their place (accepted, declined, waitlisted, offered)."""
    ids = notices_create(
        kind=NoticeKind.ENROLMENT_DECISION,
        subject=f"enrolment:{enrolment.pk}:{enrolment.status}",
        recipient_ids=[enrolment.member_id],
        scheduled_for=enrolment.status_changed_at,
    )
    notices_send_on_commit(ids)
    return ids
