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
from training.uploads import SUBMISSION_MAX_BYTES, SUBMISSION_MAX_FILES, file_check

SUBMISSION_TEXT_MAX = 20_000
CLOSED_FOR_WORK = [CohortStatus.FINISHED, CohortStatus.CANCELLED]


def assignment_due_on(*, assignment: Assignment, cohort: Cohort, override: date | None = None) -> date:
    """The cohort's own due date if set, else the cohort's start plus the assignment's offset."""
    if override is not None:
        return override
    return cohort.starts_on + timedelta(days=assignment.due_offset_days)


def _due_override(*, assignment: Assignment, cohort: Cohort) -> date | None:
    row = AssignmentDueDate.objects.filter(cohort=cohort, assignment=assignment).first()
    return row.due_on if row else None


def submission_may_start(*, enrolment: Enrolment, assignment: Assignment, attempts: list[Submission]) -> str:
    """Why the trainee may not start a new attempt now, or "" if they may.

    `attempts` are the trainee's earlier submissions for the assignment, oldest first.
    """
    if enrolment.status != EnrolmentStatus.ENROLLED:
        return _("Only trainees enrolled in the cohort can hand in work.")
    if enrolment.cohort.status in CLOSED_FOR_WORK:
        return _("This cohort has finished, so work can no longer be handed in.")
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
    elif enrolment.cohort.status in CLOSED_FOR_WORK:
        raise ValidationError(_("This cohort has finished, so work can no longer be handed in."))
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
    if cohort.status in CLOSED_FOR_WORK or submission.enrolment.status != EnrolmentStatus.ENROLLED:
        raise ValidationError(_("This cohort has finished, so work can no longer be handed in."))
    if not submission.text and not submission.files.exists():
        raise ValidationError(_("Your submission is empty. Write an answer or add a file first."))
    due_on = assignment_due_on(
        assignment=submission.assignment,
        cohort=cohort,
        override=_due_override(assignment=submission.assignment, cohort=cohort),
    )
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    # Late is judged by the UK calendar day, as trainees read their due dates.
    submission.is_late = timezone.localdate(now) > due_on
    submission.save(update_fields=["status", "submitted_at", "is_late"])
    milestones_refresh(enrolment_ids=[submission.enrolment_id])
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
    return submission
