"""Trainees' work: drafts, files, submitting, withdrawing. Marking is in services.marking."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from training.models import (
    Assignment,
    AssignmentDueDate,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Outcome,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from training.services.milestones import milestones_refresh
from training.signals import enrolments_changed_announce
from training.uploads import SUBMISSION_MAX_BYTES, SUBMISSION_MAX_FILES, file_check

SUBMISSION_TEXT_MAX = 20_000
CLOSED_FOR_WORK = [CohortStatus.FINISHED, CohortStatus.CANCELLED]
# Once the cohort has finished, its end has settled the enrolment as one of these.
AFTER_END_STATUSES = [EnrolmentStatus.ENROLLED, EnrolmentStatus.INCOMPLETE, EnrolmentStatus.COMPLETED]


def assignment_due_on(*, assignment: Assignment, cohort: Cohort, override: date | None = None) -> date:
    """The cohort's own due date if set, else the cohort's start plus the assignment's offset."""
    if override is not None:
        return override
    return cohort.starts_on + timedelta(days=assignment.due_offset_days)


def assignment_due_override(*, assignment: Assignment, cohort: Cohort) -> date | None:
    """The cohort's own due date for the assignment (AssignmentDueDate), if it set one."""
    row = AssignmentDueDate.objects.filter(cohort=cohort, assignment=assignment).first()
    return row.due_on if row else None


def resubmission_due_on(*, attempts: list[Submission]) -> date | None:
    """The day the next attempt is due when the latest handed-in attempt was sent back for
    resubmission (the marker's date), else None: the cohort's date stands.

    `attempts` are the trainee's attempts at one assignment, oldest first (drafts and
    withdrawn ones are passed over). One rule for the pages, the emails and lateness.
    """
    handed_in = [s for s in attempts if s.status == SubmissionStatus.SUBMITTED]
    if handed_in and handed_in[-1].outcome == Outcome.RESUBMIT:
        return handed_in[-1].resubmit_due_on
    return None


def work_due_on(*, assignment: Assignment, cohort: Cohort, attempts: list[Submission], override=None) -> date:
    """When the trainee's next piece of work at the assignment is due: the resubmission's own
    date while one is asked for, else the cohort's date (see assignment_due_on)."""
    return resubmission_due_on(attempts=attempts) or assignment_due_on(
        assignment=assignment, cohort=cohort, override=override
    )


def _resubmission_open_after_end(*, enrolment: Enrolment, attempts: list[Submission], today: date) -> bool:
    """The one exception to "no work after the cohort has finished": a resubmission asked
    for (with its own due date) may be handed in until that date, once the cohort has
    finished too (not when it was cancelled). The end settles the enrolment as not completed
    (or completed) meanwhile; a pass then completes it and issues the certificate
    (services.completion)."""
    due_on = resubmission_due_on(attempts=attempts)
    return (
        due_on is not None
        and today <= due_on
        and enrolment.cohort.status == CohortStatus.FINISHED
        and enrolment.status in AFTER_END_STATUSES
    )


def submission_may_hand_in(
    *, enrolment: Enrolment, attempts: list[Submission], today: date | None = None
) -> str:
    """Why the enrolment and its cohort stop the trainee handing in work now, or "" if not.

    `attempts` are the trainee's attempts at the assignment, oldest first: an open
    resubmission keeps the door open past the cohort's end, until its due date.
    """
    today = today or timezone.localdate()
    if _resubmission_open_after_end(enrolment=enrolment, attempts=attempts, today=today):
        return ""
    if enrolment.status not in AFTER_END_STATUSES:
        return _("Only trainees enrolled in the cohort can hand in work.")
    if enrolment.cohort.status in CLOSED_FOR_WORK:
        return _("This cohort has finished, so work can no longer be handed in.")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        return _("Only trainees enrolled in the cohort can hand in work.")
    return ""


def submission_may_start(
    *, enrolment: Enrolment, assignment: Assignment, attempts: list[Submission], today: date | None = None
) -> str:
    """Why the trainee may not start a new attempt now, or "" if they may.

    `attempts` are the trainee's earlier submissions for the assignment, oldest first.
    """
    refusal = submission_may_hand_in(enrolment=enrolment, attempts=attempts, today=today)
    if refusal:
        return refusal
    if assignment.module.version_id != enrolment.cohort.version_id:
        return _("This assignment is not part of your cohort's programme.")
    handed_in = [s for s in attempts if s.status == SubmissionStatus.SUBMITTED]
    if handed_in:
        latest = handed_in[-1]
        if not latest.outcome:
            return _("Your last attempt is waiting to be marked.")
        if latest.outcome == Outcome.PASS:
            return _("You have passed this assignment.")
        if latest.outcome == Outcome.FAIL:
            return _("This assignment was marked as not passed, so it is closed.")
    if len(handed_in) >= assignment.max_attempts:
        return _("You have used all %(count)s attempts for this assignment.") % {
            "count": assignment.max_attempts
        }
    return ""


def _lock_enrolment(enrolment: Enrolment) -> Enrolment:
    # One writer at a time per trainee: two tabs cannot both open attempt 2.
    return Enrolment.objects.select_for_update().select_related("cohort").get(pk=enrolment.pk)


def _check_files(uploads, *, assignment: Assignment, already: int) -> list[tuple[object, str]]:
    accepted = [key for key in assignment.accepted_file_types.split(",") if key]
    if uploads and not accepted:
        raise ValidationError({"files": _("This assignment takes a written answer only, not files.")})
    if already + len(uploads) > SUBMISSION_MAX_FILES:
        raise ValidationError(
            {"files": _("Hand in at most %(count)s files.") % {"count": SUBMISSION_MAX_FILES}}
        )
    return [
        (upload, file_check(upload, accepted_keys=accepted, max_bytes=SUBMISSION_MAX_BYTES, field="files"))
        for upload in uploads
    ]


@transaction.atomic
def submission_draft_save(
    *,
    enrolment: Enrolment,
    assignment: Assignment,
    text: str,
    uploads=(),
    remove_file_ids=(),
) -> Submission:
    """Save the trainee's draft for the assignment, starting a new attempt if there is none."""
    enrolment = _lock_enrolment(enrolment)
    text = text.strip()
    if len(text) > SUBMISSION_TEXT_MAX:
        raise ValidationError(
            {"text": _("Keep your answer under %(max)s characters.") % {"max": f"{SUBMISSION_TEXT_MAX:,}"}}
        )
    attempts = list(Submission.objects.filter(enrolment=enrolment, assignment=assignment).order_by("attempt"))
    draft = next((s for s in attempts if s.status == SubmissionStatus.DRAFT), None)
    if draft is None:
        refusal = submission_may_start(enrolment=enrolment, assignment=assignment, attempts=attempts)
        if refusal:
            raise ValidationError(refusal)
        draft = Submission(
            enrolment=enrolment,
            assignment=assignment,
            attempt=(attempts[-1].attempt + 1) if attempts else 1,
        )
    else:
        refusal = submission_may_hand_in(enrolment=enrolment, attempts=attempts)
        if refusal:
            raise ValidationError(refusal)
    kept = draft.files.exclude(pk__in=remove_file_ids).count() if draft.pk else 0
    checked = _check_files(list(uploads), assignment=assignment, already=kept)
    draft.text = text
    draft.full_clean()
    draft.save()
    if remove_file_ids:
        for stale in draft.files.filter(pk__in=remove_file_ids):
            stale.file.delete(save=False)
            stale.delete()
    for upload, content_type in checked:
        SubmissionFile.objects.create(
            submission=draft,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
        )
    return draft


@transaction.atomic
def submission_submit(*, submission: Submission, now=None) -> Submission:
    """Hand the draft in. From here it cannot change; it waits for marking."""
    now = now or timezone.now()
    submission = (
        Submission.objects.select_for_update()
        .select_related("enrolment__cohort", "assignment")
        .get(pk=submission.pk)
    )
    if submission.status != SubmissionStatus.DRAFT:
        raise ValidationError(_("This attempt has already been handed in."))
    cohort = submission.enrolment.cohort
    earlier = list(
        Submission.objects.filter(
            enrolment_id=submission.enrolment_id,
            assignment_id=submission.assignment_id,
            attempt__lt=submission.attempt,
        ).order_by("attempt")
    )
    today = timezone.localdate(now)
    refusal = submission_may_hand_in(enrolment=submission.enrolment, attempts=earlier, today=today)
    if refusal:
        raise ValidationError(refusal)
    if not submission.text and not submission.files.exists():
        raise ValidationError(_("Your submission is empty. Write an answer or add a file first."))
    # A resubmission is judged against its own due date, the first attempt against the cohort's.
    due_on = work_due_on(
        assignment=submission.assignment,
        cohort=cohort,
        attempts=earlier,
        override=assignment_due_override(assignment=submission.assignment, cohort=cohort),
    )
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    # Late is judged by the UK calendar day, as trainees read their due dates.
    submission.is_late = today > due_on
    submission.save(update_fields=["status", "submitted_at", "is_late"])
    milestones_refresh(enrolment_ids=[submission.enrolment_id])
    enrolments_changed_announce(enrolment_ids=[submission.enrolment_id])
    return submission


@transaction.atomic
def submission_withdraw(*, submission: Submission, now=None) -> Submission:
    """Take back a handed-in attempt before anyone has marked it. The attempt is not counted."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != SubmissionStatus.SUBMITTED:
        raise ValidationError(_("Only work that has been handed in can be withdrawn."))
    if submission.outcome or submission.marks.exists():
        raise ValidationError(_("Marking has started, so this attempt can no longer be withdrawn."))
    submission.status = SubmissionStatus.WITHDRAWN
    submission.withdrawn_at = now or timezone.now()
    submission.save(update_fields=["status", "withdrawn_at"])
    milestones_refresh(enrolment_ids=[submission.enrolment_id])
    enrolments_changed_announce(enrolment_ids=[submission.enrolment_id])
    return submission
