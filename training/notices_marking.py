"""Marking's hand-offs, told through the notice ledger: the trainee hears that their work was
marked, a second marker that work waits for them, and a first marker what moderation found.

Each `*_notify` function is called by services.marking inside the transaction that made the
change, and writes its notices under a subject that names the event, so that the same event
never writes twice and sending waits for the commit. Each letter writer loads fresh data for a
whole batch in a fixed number of queries and says why not to send when the notice stopped
being true before it went.

When the trainee is told (second marking included). Moderation here is a check made after
the event: a mark becomes what the trainee sees the moment it is saved (services.marking
`_make_current`), and staff later send a sample of marks to a second marker, who marks blind
without changing anything the trainee sees. So the trainee is told when a mark becomes the
one they see (a first mark, a correction, or the final mark staff settle after moderation),
and never about a second marker's blind mark. Waiting for moderation would hold back an
outcome already on the trainee's page, for a check that most marks never get. The notice
names the mark's version (Submission.mark_version): if another mark replaced it before it
went, it is skipped and the newer mark's own notice says what stands.

Resubmitting. A resubmit outcome with an attempt left carries its own due date, set by the
marker (services.marking; Submission.resubmit_due_on), and the next attempt is due then rather
than on the cohort's date (services.submissions.work_due_on), even once the cohort has
finished. The work-marked notice names that date, and an assignment-due reminder is written
for the days before it (resubmission_reminder_notify; its letter is in training.notice_letters,
dropped once the attempt is handed in or the date has changed). The attempt rule
(submission_may_start) says when no attempt is left or the cohort has closed.

Second marking is told as one notice per request (a staff sample of several marks for one
second marker is one email listing them all), not one per mark, and not held for a daily
digest: requests are few and come from staff in one go, and the second marker should know
while the work is fresh. A notice lists only what still waits when it goes.

The moderation outcome goes to the first marker once the moderation has one: when the second
marker reaches the same outcome ("agreed"), or when staff settle the final mark ("settled").
A disagreement waiting for staff is not an outcome yet, so it tells nobody.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from training import permissions
from training.models import (
    AssignmentDueDate,
    Cohort,
    Mark,
    Moderation,
    Notice,
    NoticeKind,
    Outcome,
    Submission,
    SubmissionStatus,
)
from training.selectors.submissions import SHOWN_MARK_KINDS
from training.services.notices import Letter, letter_writer_register, notices_create, notices_send_on_commit
from training.services.reminders import DAYTIME_REMINDER_AT
from training.services.submissions import submission_may_start, work_due_on

GONE = "What this was about no longer exists."
# A second-marking notice lists this many pieces of work; the rest are on the list page.
SECOND_MARKING_LISTED = 20
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _numbers(subject: str) -> list[int]:
    """The numbers in a subject: "submission:12:v3" -> [12, 3]; "moderations:4-9" -> [4, 9]."""
    numbers = []
    for part in subject.replace("-", ":").split(":"):
        digits = part.lstrip("v")
        if digits.isdigit():
            numbers.append(int(digits))
    return numbers


def _holders_of(permission: str, user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who hold `permission` (through a role or directly): one query."""
    if not user_ids:
        return set()
    holders = get_user_model().objects.with_perm(permission, backend=MODEL_BACKEND)
    return set(holders.filter(pk__in=user_ids).values_list("pk", flat=True))


# --- Work marked (to the trainee) -------------------------------------------------------


def work_marked_subject(submission: Submission) -> str:
    return f"submission:{submission.pk}:v{submission.mark_version}"


def work_marked_notify(*, submission: Submission, marked_at: datetime) -> list[int]:
    """The trainee hears (once) of the mark that has just become the one they see."""
    ids = notices_create(
        kind=NoticeKind.WORK_MARKED,
        subject=work_marked_subject(submission),
        recipient_ids=[submission.enrolment.member_id],
        scheduled_for=marked_at,
    )
    notices_send_on_commit(ids)
    return ids


def work_marked_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """Four queries for any batch: the submissions, their shown marks, the attempts at the
    same assignments, and the cohorts' own due dates."""
    asked = {notice.pk: (_numbers(notice.subject) + [0, 0])[:2] for notice in notices}
    submissions = Submission.objects.select_related(
        "assignment__module", "enrolment__cohort__version__programme"
    ).in_bulk({submission_id for submission_id, _version in asked.values()})
    shown: dict[int, list[Mark]] = defaultdict(list)
    for mark in Mark.objects.filter(submission_id__in=set(submissions), kind__in=SHOWN_MARK_KINDS).order_by(
        "created_at", "pk"
    ):
        shown[mark.submission_id].append(mark)
    pairs = Q(pk__in=[])
    for submission in submissions.values():
        pairs |= Q(enrolment_id=submission.enrolment_id, assignment_id=submission.assignment_id)
    attempts: dict[tuple[int, int], list[Submission]] = defaultdict(list)
    for attempt in (
        Submission.objects.filter(pairs)
        .exclude(status=SubmissionStatus.DRAFT)
        .only("pk", "enrolment_id", "assignment_id", "attempt", "status", "outcome", "resubmit_due_on")
        .order_by("attempt")
    ):
        attempts[(attempt.enrolment_id, attempt.assignment_id)].append(attempt)
    overrides = {
        (row.cohort_id, row.assignment_id): row.due_on
        for row in AssignmentDueDate.objects.filter(
            cohort_id__in={s.enrolment.cohort_id for s in submissions.values()},
            assignment_id__in={s.assignment_id for s in submissions.values()},
        )
    }
    today = timezone.localdate()
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        submission_id, version = asked[notice.pk]
        submission = submissions.get(submission_id)
        if submission is None or submission.enrolment.member_id != notice.recipient_id:
            letters[notice.pk] = GONE
            continue
        enrolment, assignment = submission.enrolment, submission.assignment
        marks = shown[submission.pk]
        later = [
            a
            for a in attempts[(enrolment.pk, assignment.pk)]
            if a.attempt > submission.attempt and a.status == SubmissionStatus.SUBMITTED
        ]
        if submission.mark_version != version or not marks or marks[-1].outcome != submission.outcome:
            letters[notice.pk] = "A later mark replaced this one; its own notice says what stands."
        elif submission.status != SubmissionStatus.SUBMITTED:
            letters[notice.pk] = GONE
        elif enrolment.status not in permissions.ATTENDING_STATUSES:
            letters[notice.pk] = "The trainee is no longer in the cohort."
        elif later:
            letters[notice.pk] = "The trainee has already handed in a later attempt."
        else:
            mark = marks[-1]
            tried = attempts[(enrolment.pk, assignment.pk)]
            previous = marks[-2].outcome if len(marks) > 1 else ""
            changed_from = Outcome(previous).label if previous and previous != mark.outcome else ""
            refusal = ""
            if mark.outcome == Outcome.RESUBMIT:
                refusal = submission_may_start(enrolment=enrolment, assignment=assignment, attempts=tried)
            # For a resubmit, the resubmission's own date (the attempt marked is the latest).
            due_on = work_due_on(
                assignment=assignment,
                cohort=enrolment.cohort,
                attempts=tried,
                override=overrides.get((enrolment.cohort_id, assignment.pk)),
            )
            letters[notice.pk] = Letter(
                template="notices/email/work_marked",
                context={
                    "submission": submission,
                    "assignment": assignment,
                    "cohort": enrolment.cohort,
                    "programme": enrolment.cohort.version.programme,
                    "mark": mark,
                    "outcome": mark.outcome,
                    "outcome_label": Outcome(mark.outcome).label,
                    "is_review": len(marks) > 1,
                    "previous_label": changed_from,
                    "may_resubmit": mark.outcome == Outcome.RESUBMIT and not refusal,
                    "refusal": refusal,
                    # Withdrawn attempts keep their number but are not counted (as the rule).
                    "next_attempt": max(a.attempt for a in tried) + 1,
                    "attempts_left": assignment.max_attempts
                    - sum(1 for a in tried if a.status == SubmissionStatus.SUBMITTED),
                    "due_on": due_on,
                    "due_passed": due_on < today,
                    "feedback_path": reverse("training:assignment-detail", args=[assignment.pk])
                    + f"#attempt-{submission.pk}",
                },
            )
    return letters


# --- A resubmission's due date coming (to the trainee) ------------------------------------


def resubmission_reminder_subject(submission: Submission) -> str:
    """An assignment-due subject ("assignment:3:cohort:5") naming the attempt sent back."""
    cohort_id = submission.enrolment.cohort_id
    return f"assignment:{submission.assignment_id}:cohort:{cohort_id}:resubmit:{submission.pk}"


def resubmission_reminder_at(*, due_on, days_before: int) -> datetime | None:
    """When to remind of a resubmission due on `due_on`: 9 a.m. local time, `days_before`
    days before (as the cohort's assignment reminders), or None for a programme that sends none."""
    if days_before <= 0:
        return None
    day = due_on - timedelta(days=days_before)
    return timezone.make_aware(datetime.combine(day, DAYTIME_REMINDER_AT))


def resubmission_reminder_notify(*, submission: Submission) -> list[int]:
    """Write the reminder before the resubmission's due date, to go out when its day comes.
    None when that moment has already passed: the work-marked email names the date then.
    A correction that moves the date writes another; the letter drops the one for the old date."""
    remind_at = resubmission_reminder_at(
        due_on=submission.resubmit_due_on,
        days_before=submission.enrolment.cohort.version.programme.assignment_reminder_days,
    )
    if remind_at is None or remind_at <= timezone.now():
        return []
    return notices_create(
        kind=NoticeKind.ASSIGNMENT_DUE,
        subject=resubmission_reminder_subject(submission),
        recipient_ids=[submission.enrolment.member_id],
        scheduled_for=remind_at,
    )


# --- Second marking waiting (to the second marker) --------------------------------------


def second_marking_notify(*, moderations: list[Moderation]) -> list[int]:
    """Each second marker hears once of the marks this request sent them: one notice listing
    them all, however many."""
    by_marker: dict[int, list[int]] = defaultdict(list)
    for moderation in moderations:
        by_marker[moderation.second_marker_id].append(moderation.pk)
    ids = []
    for marker_id, moderation_ids in by_marker.items():
        ids += notices_create(
            kind=NoticeKind.SECOND_MARKING,
            subject=f"moderations:{min(moderation_ids)}-{max(moderation_ids)}",
            recipient_ids=[marker_id],
        )
    notices_send_on_commit(ids)
    return ids


def second_marking_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """Three queries for any batch: the moderations named, how many wait in all for each
    recipient, and which recipients still mark."""
    ranges = {notice.pk: (_numbers(notice.subject) + [0, 0])[:2] for notice in notices}
    recipients = {notice.recipient_id for notice in notices}
    named = Q(pk__in=[])
    for low, high in ranges.values():
        named |= Q(pk__gte=low, pk__lte=high)
    waiting = (
        Moderation.objects.filter(second_marker_id__in=recipients, second_mark__isnull=True)
        .select_related("first_mark__submission__assignment", "first_mark__submission__enrolment__cohort")
        .order_by("requested_at", "pk")
    )
    all_waiting: dict[int, list[Moderation]] = defaultdict(list)
    for moderation in waiting:
        # Their own work never reaches them (permissions.moderation_list_for_second_marker).
        if moderation.first_mark.submission.enrolment.member_id != moderation.second_marker_id:
            all_waiting[moderation.second_marker_id].append(moderation)
    markers = _holders_of("training.run_cohorts", recipients)
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        low, high = ranges[notice.pk]
        mine = [m for m in all_waiting[notice.recipient_id] if low <= m.pk <= high]
        if notice.recipient_id not in markers:
            letters[notice.pk] = "The recipient no longer marks."
        elif not mine:
            letters[notice.pk] = "Nothing of this request waits for a second mark any more."
        else:
            letters[notice.pk] = Letter(
                template="notices/email/second_marking",
                context={
                    "items": [
                        {
                            "assignment": m.first_mark.submission.assignment,
                            "cohort": m.first_mark.submission.enrolment.cohort,
                            "attempt": m.first_mark.submission.attempt,
                            "path": reverse("training:moderation-second-mark", args=[m.pk]),
                        }
                        for m in mine[:SECOND_MARKING_LISTED]
                    ],
                    "count": len(mine),
                    "not_listed": max(len(mine) - SECOND_MARKING_LISTED, 0),
                    "waiting_in_all": len(all_waiting[notice.recipient_id]),
                    "list_path": reverse("training:second-marking-list"),
                },
            )
    return letters


# --- The moderation outcome (to the first marker) ---------------------------------------

AGREED, SETTLED = "agreed", "settled"


def moderation_outcome_notify(*, moderation: Moderation, state: str, actor) -> list[int]:
    """The first marker hears once what moderation found (`state`: agreed or settled); not
    when they settled it themselves."""
    first_marker_id = moderation.first_mark.marker_id
    if first_marker_id == actor.pk:
        return []
    ids = notices_create(
        kind=NoticeKind.MODERATION_OUTCOME,
        subject=f"moderation:{moderation.pk}:{state}",
        recipient_ids=[first_marker_id],
    )
    notices_send_on_commit(ids)
    return ids


def moderation_outcome_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """Three queries for any batch: the moderations with their marks, the cohorts' trainers
    and who manages every cohort (these two decide whether the link opens for the recipient)."""
    moderation_ids = {notice.pk: (_numbers(notice.subject) + [0])[0] for notice in notices}
    moderations = Moderation.objects.select_related(
        "first_mark__submission__assignment",
        "first_mark__submission__enrolment__cohort",
        "second_mark",
        "settled_mark",
    ).in_bulk(set(moderation_ids.values()))
    cohort_ids = {m.first_mark.submission.enrolment.cohort_id for m in moderations.values()}
    trainers = set(
        Cohort.trainers.through.objects.filter(cohort_id__in=cohort_ids).values_list("cohort_id", "user_id")
    )
    managers = _holders_of("training.manage_cohorts", {notice.recipient_id for notice in notices})
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        moderation = moderations.get(moderation_ids[notice.pk])
        state = notice.subject.rsplit(":", 1)[-1]
        if moderation is None or moderation.first_mark.marker_id != notice.recipient_id:
            letters[notice.pk] = GONE
            continue
        submission = moderation.first_mark.submission
        if state == AGREED and moderation.settled_mark_id:
            letters[notice.pk] = "Staff have settled the mark since; that notice says what stands."
        elif state == AGREED and moderation.second_mark.outcome != moderation.first_mark.outcome:
            letters[notice.pk] = GONE  # marks are never edited: unreachable short of a bad row
        elif state == SETTLED and not moderation.settled_mark_id:
            letters[notice.pk] = GONE
        else:
            final = moderation.settled_mark if state == SETTLED else moderation.first_mark
            reaches_page = (
                notice.recipient_id in managers
                or (submission.enrolment.cohort_id, notice.recipient_id) in trainers
            )
            letters[notice.pk] = Letter(
                template="notices/email/moderation_outcome",
                context={
                    "state": state,
                    "submission": submission,
                    "assignment": submission.assignment,
                    "cohort": submission.enrolment.cohort,
                    "first_mark": moderation.first_mark,
                    "first_label": Outcome(moderation.first_mark.outcome).label,
                    "final_mark": final,
                    "final_label": Outcome(final.outcome).label,
                    "changed": final.outcome != moderation.first_mark.outcome,
                    "mark_path": (
                        reverse("training:submission-mark", args=[submission.pk]) + "#history-heading"
                        if reaches_page
                        else ""
                    ),
                },
            )
    return letters


def register() -> None:
    letter_writer_register(NoticeKind.WORK_MARKED, work_marked_write_letters)
    letter_writer_register(NoticeKind.SECOND_MARKING, second_marking_write_letters)
    letter_writer_register(NoticeKind.MODERATION_OUTCOME, moderation_outcome_write_letters)
