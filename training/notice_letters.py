"""What each of training's notices says. Each writer loads fresh data for a whole batch in a
fixed number of queries, and says why not to send when things changed since it was written
(the session was cancelled or moved, the member withdrew, the work was handed in)."""

from collections import defaultdict
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Value
from django.urls import reverse
from django.utils import timezone

from training.models import (
    Apology,
    AssignmentDueDate,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    Outcome,
    Session,
    SessionConfirmation,
    SessionStatus,
    Submission,
    SubmissionStatus,
)
from training.models.curriculum import Assignment
from training.services.calendar import sessions_ics
from training.services.notices import Letter, letter_writer_register, reply_token
from training.services.submissions import AFTER_END_STATUSES

# Reminders sent at least this long before a session ask the trainee to confirm or apologise.
REPLY_ASKED_BEFORE = timedelta(hours=12)

# The sweep writes reminders for sessions and work of these cohorts only.
RUNNING_COHORT_STATUSES = [CohortStatus.OPEN, CohortStatus.RUNNING]

GONE = "What this was about no longer exists."
LEFT = "The recipient is no longer in the cohort."


def _ids(notices: list[Notice], position: int) -> dict[int, int]:
    """{notice id: the number at this position of its subject ("session:12" -> 12)}."""
    ids = {}
    for notice in notices:
        try:
            ids[notice.pk] = int(notice.subject.split(":")[position])
        except (IndexError, ValueError):
            ids[notice.pk] = 0
    return ids


def _people_of(cohort_ids: set[int]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(cohort id, member id) pairs of enrolled trainees, and of trainers."""
    trainees = set(
        Enrolment.objects.filter(cohort_id__in=cohort_ids, status=EnrolmentStatus.ENROLLED).values_list(
            "cohort_id", "member_id"
        )
    )
    trainers = set(
        Cohort.trainers.through.objects.filter(cohort_id__in=cohort_ids).values_list("cohort_id", "user_id")
    )
    return trainees, trainers


def _session_context(session: Session) -> dict:
    return {
        "session": session,
        "cohort": session.cohort,
        "starts_at": timezone.localtime(session.starts_at),
        "ends_at": timezone.localtime(session.ends_at),
        "modules": list(session.modules.all()),
        "my_training_path": reverse("training:my-training"),
    }


def _sessions_for(notices: list[Notice]) -> tuple[dict[int, int], dict[int, Session]]:
    session_ids = _ids(notices, 1)
    sessions = Session.objects.select_related("cohort__version__programme").prefetch_related("modules")
    return session_ids, sessions.in_bulk(set(session_ids.values()))


def _reminder_offsets(programme) -> set[timedelta]:
    try:
        return {timedelta(hours=hours) for hours in programme.session_reminder_offsets}
    except ValidationError:  # unreadable hours: the sweep writes no reminders for them either
        return set()


def _replies_of(session_ids: set[int]) -> dict[str, set[tuple[int, int]]]:
    """{"apology" | "yes" | "present": (session id, member id) pairs}: who sent apologies,
    said they will come, and checked in (or were marked present). One query, however many."""

    def pairs(model, kind: str, **filters):
        return (
            model.objects.filter(session_id__in=session_ids, **filters)
            .order_by()
            .annotate(kind=Value(kind))
            .values_list("kind", "session_id", "enrolment__member_id")
        )

    replies: dict[str, set[tuple[int, int]]] = {"apology": set(), "yes": set(), "present": set()}
    rows = pairs(Apology, "apology").union(
        pairs(SessionConfirmation, "yes"),
        pairs(Attendance, "present", status=AttendanceStatus.PRESENT),
        all=True,
    )
    for kind, session_id, member_id in rows:
        replies[kind].add((session_id, member_id))
    return replies


def session_reminders_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """A reminder says only what is still true: none for a cancelled session, a cohort no
    longer running, a place that ended or someone who sent apologies; no "tell us whether
    you can come" to someone who has said so or already checked in."""
    now = timezone.now()
    session_ids, sessions = _sessions_for(notices)
    trainees, trainers = _people_of({session.cohort_id for session in sessions.values()})
    replies = _replies_of(set(sessions))
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        session = sessions.get(session_ids[notice.pk])
        if session is None:
            letters[notice.pk] = GONE
            continue
        before = session.starts_at - notice.scheduled_for
        key = (session.cohort_id, notice.recipient_id)
        reply = (session.pk, notice.recipient_id)
        is_trainee = key in trainees
        if session.is_cancelled:
            letters[notice.pk] = "The session was cancelled."
        elif session.cohort.status not in RUNNING_COHORT_STATUSES:
            letters[notice.pk] = "The cohort is no longer running."
        elif session.starts_at <= now:
            letters[notice.pk] = "The session has started."
        elif before not in _reminder_offsets(session.cohort.version.programme):
            letters[notice.pk] = "The session moved (or its reminder times changed); reminders follow."
        elif not is_trainee and key not in trainers:
            letters[notice.pk] = LEFT
        elif is_trainee and reply in replies["apology"] and reply not in replies["present"]:
            letters[notice.pk] = "The recipient sent apologies for this session."
        else:
            checked_in = is_trainee and reply in replies["present"]
            said_yes = is_trainee and reply in replies["yes"]
            asks_reply = is_trainee and before >= REPLY_ASKED_BEFORE and not (checked_in or said_yes)
            token = reply_token(notice_id=notice.pk) if asks_reply else ""
            letters[notice.pk] = Letter(
                template="notices/email/session_reminder",
                context={
                    **_session_context(session),
                    "is_trainer": key in trainers,
                    "checked_in": checked_in,
                    "confirmed": said_yes,
                    "register_path": reverse("training:session-register", args=[session.pk]),
                    "reply_path": reverse("training:session-reply", args=[token]) if asks_reply else "",
                },
                attachments=[
                    ("session.ics", sessions_ics([session], name=session.cohort.name), "text/calendar")
                ],
            )
    return letters


def _change_version(subject: str) -> int:
    """ "session:12:v3" -> 3."""
    try:
        return int(subject.rsplit(":v", 1)[1])
    except (IndexError, ValueError):
        return 0


def _latest_change_notices(notices: list[Notice], session_ids: set[int]) -> dict[tuple[int, int], int]:
    """{(session id, recipient id): the version of the latest change notice written for them}.

    A change notice is replaced only by a later notice to the same person: the session's own
    sequence also rises for changes nobody is told about (a new title), and those must not
    swallow a notice that the time moved.
    """
    if not session_ids:
        return {}
    about = Q()
    for session_id in session_ids:
        about |= Q(subject__startswith=f"session:{session_id}:v")
    rows = Notice.objects.filter(
        about,
        kind__in=[NoticeKind.SESSION_CHANGED, NoticeKind.SESSION_CANCELLED],
        recipient_id__in={notice.recipient_id for notice in notices},
    ).values_list("subject", "recipient_id")
    latest: dict[tuple[int, int], int] = {}
    for subject, recipient_id in rows:
        key = (int(subject.split(":")[1]), recipient_id)
        latest[key] = max(latest.get(key, 0), _change_version(subject))
    return latest


def session_changes_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    now = timezone.now()
    session_ids, sessions = _sessions_for(notices)
    latest = _latest_change_notices(notices, set(sessions))
    trainees, trainers = _people_of({session.cohort_id for session in sessions.values()})
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        session = sessions.get(session_ids[notice.pk])
        cancelled_notice = notice.kind == NoticeKind.SESSION_CANCELLED
        key = (session.cohort_id, notice.recipient_id) if session else None
        if session is None:
            letters[notice.pk] = GONE
        elif session.is_cancelled and not cancelled_notice:
            letters[notice.pk] = "The session was cancelled."
        elif session.starts_at <= now:
            letters[notice.pk] = "The session's time has passed."
        elif latest.get((session.pk, notice.recipient_id), 0) > _change_version(notice.subject):
            letters[notice.pk] = "A later change replaced this one."
        elif key not in trainees and key not in trainers:
            letters[notice.pk] = LEFT
        else:
            letters[notice.pk] = Letter(
                template=f"notices/email/{notice.kind}",
                context={**_session_context(session), "is_trainer": key in trainers},
                attachments=[
                    ("session.ics", sessions_ics([session], name=session.cohort.name), "text/calendar")
                ],
            )
    return letters


def cohort_cancelled_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """One letter per person for a cancelled cohort: its trainers, those whose place ended
    (with the cancelled sessions still to come, and an .ics that cancels them in their
    calendar), and those whose application, waiting-list place or offer ended."""
    now = timezone.now()
    cohort_ids = _ids(notices, 1)
    cohorts = Cohort.objects.select_related("version__programme").in_bulk(set(cohort_ids.values()))
    _trainees, trainers = _people_of(set(cohorts))
    # What each member held when the cohort was cancelled, from the enrolment's history.
    ended = {
        (cohort_id, member_id): from_status
        for cohort_id, member_id, from_status in EnrolmentEvent.objects.filter(
            enrolment__cohort_id__in=set(cohorts), to_status=EnrolmentStatus.CANCELLED
        ).values_list("enrolment__cohort_id", "enrolment__member_id", "from_status")
    }
    coming: dict[int, list[Session]] = defaultdict(list)
    for session in (
        Session.objects.filter(cohort_id__in=set(cohorts), status=SessionStatus.CANCELLED, starts_at__gt=now)
        .select_related("cohort")
        .order_by("starts_at", "pk")
    ):
        coming[session.cohort_id].append(session)
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        cohort = cohorts.get(cohort_ids[notice.pk])
        if cohort is None:
            letters[notice.pk] = GONE
            continue
        key = (cohort.pk, notice.recipient_id)
        is_trainer = key in trainers
        if cohort.status != CohortStatus.CANCELLED:
            letters[notice.pk] = "The cohort is no longer cancelled."
        elif not is_trainer and key not in ended:
            letters[notice.pk] = LEFT
        else:
            had_place = is_trainer or ended.get(key) == EnrolmentStatus.ENROLLED
            sessions = coming[cohort.pk] if had_place else []
            letters[notice.pk] = Letter(
                template="notices/email/cohort_cancelled",
                context={
                    "cohort": cohort,
                    "programme": cohort.version.programme,
                    "is_trainer": is_trainer,
                    "had_place": had_place,
                    "sessions": [
                        {
                            "session": session,
                            "cohort": cohort,
                            "starts_at": timezone.localtime(session.starts_at),
                            "ends_at": timezone.localtime(session.ends_at),
                        }
                        for session in sessions
                    ],
                    "my_training_path": reverse("training:my-training"),
                    "finder_path": reverse("training:cohort-list"),
                    "cohort_path": reverse("training:cohort-manage", args=[cohort.pk]),
                },
                attachments=(
                    [("sessions.ics", sessions_ics(sessions, name=cohort.name), "text/calendar")]
                    if sessions
                    else []
                ),
            )
    return letters


def absence_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    enrolment_ids = _ids(notices, 2)
    session_ids = _ids(notices, 4)
    enrolments = Enrolment.objects.select_related("member", "cohort__version__programme").in_bulk(
        set(enrolment_ids.values())
    )
    sessions = Session.objects.in_bulk(set(session_ids.values()))
    trainees, trainers = _people_of({enrolment.cohort_id for enrolment in enrolments.values()})
    # Still recorded absent: a corrected register (or a cancelled session) ends the warning.
    still_absent = set(
        Attendance.objects.filter(
            enrolment_id__in=set(enrolment_ids.values()),
            session_id__in=set(session_ids.values()),
            status=AttendanceStatus.ABSENT,
        ).values_list("enrolment_id", "session_id")
    )
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        enrolment = enrolments.get(enrolment_ids[notice.pk])
        session = sessions.get(session_ids[notice.pk])
        if enrolment is None or session is None:
            letters[notice.pk] = GONE
            continue
        if session.is_cancelled:
            letters[notice.pk] = "The session was cancelled."
            continue
        if (enrolment.pk, session.pk) not in still_absent:
            letters[notice.pk] = "The absence was corrected on the register."
            continue
        is_warning = notice.kind == NoticeKind.ABSENCE_WARNING
        people = trainees if is_warning else trainers
        if (
            enrolment.cohort_id,
            notice.recipient_id,
        ) not in people or enrolment.status != EnrolmentStatus.ENROLLED:
            letters[notice.pk] = LEFT
            continue
        letters[notice.pk] = Letter(
            template=f"notices/email/{notice.kind}",
            context={
                "enrolment": enrolment,
                "trainee": enrolment.member,
                "cohort": enrolment.cohort,
                "missed": enrolment.cohort.version.programme.absence_warning_after,
                "my_training_path": reverse("training:my-training"),
                "cohort_path": reverse("training:cohort-manage", args=[enrolment.cohort_id]),
            },
        )
    return letters


def assignment_due_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """Reminders of the cohort's due date, and of a resubmission's own due date (a subject
    ending ":resubmit:<submission id>", written when the mark asked for it)."""
    assignment_ids = _ids(notices, 1)
    cohort_ids = _ids(notices, 3)
    resubmit_ids = _ids(notices, 5)
    assignments = Assignment.objects.in_bulk(set(assignment_ids.values()))
    cohorts = Cohort.objects.select_related("version__programme").in_bulk(set(cohort_ids.values()))
    overrides = {
        (row.cohort_id, row.assignment_id): row.due_on
        for row in AssignmentDueDate.objects.filter(cohort_id__in=set(cohort_ids.values()))
    }
    trainees, _trainers = _people_of(set(cohort_ids.values()))
    submitted = set(
        Submission.objects.filter(
            status=SubmissionStatus.SUBMITTED,
            assignment_id__in=set(assignment_ids.values()),
            enrolment__cohort_id__in=set(cohort_ids.values()),
        ).values_list("enrolment__member_id", "assignment_id", "enrolment__cohort_id")
    )
    resubmissions = _resubmissions_for(set(resubmit_ids.values()) - {0})
    today = timezone.localdate()
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        assignment = assignments.get(assignment_ids[notice.pk])
        cohort = cohorts.get(cohort_ids[notice.pk])
        if assignment is None or cohort is None:
            letters[notice.pk] = GONE
            continue
        if resubmit_ids[notice.pk]:
            letters[notice.pk] = _resubmission_letter(
                notice, resubmissions.get(resubmit_ids[notice.pk]), assignment, cohort, today=today
            )
            continue
        due_on = overrides.get((cohort.pk, assignment.pk)) or cohort.starts_on + timedelta(
            days=assignment.due_offset_days
        )
        if cohort.status not in RUNNING_COHORT_STATUSES:
            letters[notice.pk] = "The cohort is no longer running."
        elif (cohort.pk, notice.recipient_id) not in trainees:
            letters[notice.pk] = LEFT
        elif (notice.recipient_id, assignment.pk, cohort.pk) in submitted:
            letters[notice.pk] = "The work has been handed in."
        elif due_on < today:
            letters[notice.pk] = "The due date has passed."
        elif not _reminds_for(notice, cohort=cohort, due_on=due_on):
            letters[notice.pk] = "The due date moved (or the reminder days changed); a reminder follows it."
        else:
            letters[notice.pk] = Letter(
                template="notices/email/assignment_due",
                context={
                    "assignment": assignment,
                    "cohort": cohort,
                    "due_on": due_on,
                    "assignment_path": reverse("training:assignment-detail", args=[assignment.pk]),
                },
            )
    return letters


def _reminds_for(notice: Notice, *, cohort: Cohort, due_on) -> bool:
    """Whether the notice was written for this due date (it went out the reminder days before)."""
    days_before = cohort.version.programme.assignment_reminder_days
    return timezone.localdate(notice.scheduled_for) + timedelta(days=days_before) == due_on


def _resubmissions_for(submission_ids: set[int]) -> dict[int, Submission]:
    """The attempts sent back for resubmission, each knowing whether a later attempt has been
    handed in since. One query, none when there are none."""
    if not submission_ids:
        return {}
    handed_in_later = Submission.objects.filter(
        enrolment_id=OuterRef("enrolment_id"),
        assignment_id=OuterRef("assignment_id"),
        attempt__gt=OuterRef("attempt"),
        status=SubmissionStatus.SUBMITTED,
    )
    return (
        Submission.objects.select_related("enrolment")
        .annotate(handed_in_later=Exists(handed_in_later))
        .in_bulk(submission_ids)
    )


def _resubmission_letter(notice: Notice, submission, assignment, cohort, *, today) -> Letter | str:
    """A reminder before a resubmission's own due date: sent while the cohort has not been
    cancelled, even once it has finished (a resubmission may be handed in until its date)."""
    if submission is None or submission.enrolment.member_id != notice.recipient_id:
        return GONE
    if cohort.status == CohortStatus.CANCELLED:
        return "The cohort was cancelled."
    if submission.enrolment.status not in AFTER_END_STATUSES:
        return LEFT
    if submission.handed_in_later:
        return "The work has been handed in."
    if submission.outcome != Outcome.RESUBMIT or submission.resubmit_due_on is None:
        return "A later mark no longer asks for a resubmission."
    if submission.resubmit_due_on < today:
        return "The due date has passed."
    if not _reminds_for(notice, cohort=cohort, due_on=submission.resubmit_due_on):
        return "The resubmission's due date moved; a reminder follows it."
    return Letter(
        template="notices/email/assignment_due",
        context={
            "assignment": assignment,
            "cohort": cohort,
            "due_on": submission.resubmit_due_on,
            "is_resubmission": True,
            "assignment_path": reverse("training:assignment-detail", args=[assignment.pk]),
        },
    )


def marking_backlog_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    cohort_ids = _ids(notices, 2)
    cohorts = Cohort.objects.select_related("version").in_bulk(set(cohort_ids.values()))
    _trainees, trainers = _people_of(set(cohort_ids.values()))
    waiting: dict[int, list] = defaultdict(list)
    for cohort_id, submitted_at in Submission.objects.filter(
        status=SubmissionStatus.SUBMITTED, outcome="", enrolment__cohort_id__in=set(cohort_ids.values())
    ).values_list("enrolment__cohort_id", "submitted_at"):
        waiting[cohort_id].append(submitted_at)
    now = timezone.now()
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        cohort = cohorts.get(cohort_ids[notice.pk])
        if cohort is None:
            letters[notice.pk] = GONE
            continue
        limit = now - timedelta(days=cohort.version.marking_turnaround_days)
        overdue = [at for at in waiting[cohort.pk] if at < limit]
        if (cohort.pk, notice.recipient_id) not in trainers:
            letters[notice.pk] = "The recipient no longer trains this cohort."
        elif not overdue:
            letters[notice.pk] = "The work has been marked."
        else:
            letters[notice.pk] = Letter(
                template="notices/email/marking_backlog",
                context={
                    "cohort": cohort,
                    "overdue": len(overdue),
                    "waiting": len(waiting[cohort.pk]),
                    "oldest": timezone.localtime(min(overdue)),
                    "turnaround_days": cohort.version.marking_turnaround_days,
                    "queue_path": reverse("training:marking-queue") + f"?cohort={cohort.pk}",
                },
            )
    return letters


def enrolment_decision_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    enrolment_ids = _ids(notices, 1)
    enrolments = Enrolment.objects.select_related("cohort__version__programme").in_bulk(
        set(enrolment_ids.values())
    )
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        enrolment = enrolments.get(enrolment_ids[notice.pk])
        status = notice.subject.split(":")[-1]
        if enrolment is None or enrolment.member_id != notice.recipient_id:
            letters[notice.pk] = GONE
        elif enrolment.status != status:
            letters[notice.pk] = "A later decision replaced this one."
        else:
            letters[notice.pk] = Letter(
                template="notices/email/enrolment_decision",
                context={
                    "enrolment": enrolment,
                    "cohort": enrolment.cohort,
                    "programme": enrolment.cohort.version.programme,
                    "my_training_path": reverse("training:my-training"),
                },
            )
    return letters


def register() -> None:
    letter_writer_register(NoticeKind.SESSION_REMINDER, session_reminders_write_letters)
    letter_writer_register(NoticeKind.SESSION_CHANGED, session_changes_write_letters)
    letter_writer_register(NoticeKind.SESSION_CANCELLED, session_changes_write_letters)
    letter_writer_register(NoticeKind.COHORT_CANCELLED, cohort_cancelled_write_letters)
    letter_writer_register(NoticeKind.ABSENCE_WARNING, absence_write_letters)
    letter_writer_register(NoticeKind.ABSENCE_NUDGE, absence_write_letters)
    letter_writer_register(NoticeKind.ASSIGNMENT_DUE, assignment_due_write_letters)
    letter_writer_register(NoticeKind.MARKING_BACKLOG, marking_backlog_write_letters)
    letter_writer_register(NoticeKind.ENROLMENT_DECISION, enrolment_decision_write_letters)
