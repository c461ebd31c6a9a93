"""Marking: marks against the rubric, corrections, and moderation. Marks are only ever added.

Whoever must act next is told through the notice ledger (training.notices_marking): the
trainee when a mark becomes the one they see, a second marker when work is sent to them,
the first marker when moderation reaches an outcome.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from training.models import (
    Mark,
    MarkKind,
    MarkLevel,
    Moderation,
    Outcome,
    RubricLevel,
    Submission,
    SubmissionStatus,
)
from training.notices_marking import (
    AGREED,
    SETTLED,
    moderation_outcome_notify,
    resubmission_reminder_notify,
    second_marking_notify,
    work_marked_notify,
)
from training.rubric import outcome_from_levels
from training.services.submissions import assignment_due_on, assignment_due_override
from training.signals import enrolments_changed_announce, standing_changed_announce

FEEDBACK_MAX = 5000
REASON_MAX = 1000
# The furthest a marker may set a resubmission's due date, in days from today.
RESUBMIT_DUE_MAX_DAYS = 90


class MarkConflict(ValidationError):
    """Someone else marked the submission after this marker opened it."""


def _criterion_field(criterion_id: int) -> str:
    return f"criterion_{criterion_id}"


def _levels_check(*, submission: Submission, chosen: dict[int, int]) -> list[RubricLevel]:
    """The levels chosen, one per criterion of the assignment's rubric, or a ValidationError per field."""
    criteria = list(submission.assignment.criteria.prefetch_related("levels"))
    if not criteria:
        raise ValidationError(_("This assignment has no rubric yet. Ask national staff to add one."))
    errors, levels = {}, []
    for criterion in criteria:
        level = next((lv for lv in criterion.levels.all() if lv.pk == chosen.get(criterion.pk)), None)
        if level is None:
            errors[_criterion_field(criterion.pk)] = _("Choose a level for “%(criterion)s”.") % {
                "criterion": criterion.title
            }
        else:
            levels.append(level)
    if errors:
        raise ValidationError(errors)
    return levels


def _text_check(*, feedback: str, reason: str, reason_needed: bool) -> tuple[str, str]:
    feedback, reason = feedback.strip(), reason.strip()
    errors = {}
    if not feedback:
        errors["feedback"] = _("Write some feedback for the trainee.")
    elif len(feedback) > FEEDBACK_MAX:
        errors["feedback"] = _("Keep feedback under %(max)s characters (it is %(length)s).") % {
            "max": f"{FEEDBACK_MAX:,}",
            "length": f"{len(feedback):,}",
        }
    if reason_needed and not reason:
        errors["reason"] = _("Say why the mark is being changed.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("Keep the reason under %(max)s characters.") % {"max": f"{REASON_MAX:,}"}
    if errors:
        raise ValidationError(errors)
    return feedback, reason


def _own_work_refuse(*, submission: Submission, marker) -> None:
    if submission.enrolment.member_id == marker.pk:
        raise ValidationError(_("You cannot mark your own work."))


def resubmit_due_default(*, assignment_due_on: date, today: date) -> date:
    """The due date a resubmission gets unless the marker sets another: RESUBMIT_DAYS from
    today, or the assignment's own due date for the cohort when that is later."""
    return max(assignment_due_on, today + timedelta(days=settings.RESUBMIT_DAYS))


def _attempt_left(submission: Submission) -> bool:
    # Counted up to this attempt, as the marking page counts them (selectors.marking).
    handed_in = Submission.objects.filter(
        enrolment_id=submission.enrolment_id,
        assignment_id=submission.assignment_id,
        status=SubmissionStatus.SUBMITTED,
        attempt__lte=submission.attempt,
    ).count()
    return handed_in < submission.assignment.max_attempts


def _resubmit_due_check(*, submission: Submission, outcome: str, chosen: date | None) -> date | None:
    """The resubmission's due date for a mark with this outcome: the marker's (checked), else
    the default; None when the work is not sent back or no attempt is left to hand in."""
    if outcome != Outcome.RESUBMIT or not _attempt_left(submission):
        return None
    today = timezone.localdate()
    if chosen is None:
        cohort = submission.enrolment.cohort
        cohort_due_on = assignment_due_on(
            assignment=submission.assignment,
            cohort=cohort,
            override=assignment_due_override(assignment=submission.assignment, cohort=cohort),
        )
        return resubmit_due_default(assignment_due_on=cohort_due_on, today=today)
    # A correction may keep the date already set, even once it has passed.
    if chosen < today and chosen != submission.resubmit_due_on:
        raise ValidationError({"resubmit_due_on": _("Choose today or a later day.")})
    latest = today + timedelta(days=RESUBMIT_DUE_MAX_DAYS)
    if chosen > latest:
        raise ValidationError(
            {
                "resubmit_due_on": _("Choose a day at most %(days)s days from today (by %(latest)s).")
                % {"days": RESUBMIT_DUE_MAX_DAYS, "latest": date_format(latest, "j F Y")}
            }
        )
    return chosen


def _write(
    *,
    submission: Submission,
    marker,
    kind: str,
    levels,
    feedback: str,
    reason: str = "",
    resubmit_due_on: date | None = None,
) -> Mark:
    mark = Mark.objects.create(
        submission=submission,
        marker=marker,
        kind=kind,
        outcome=outcome_from_levels(levels),
        feedback=feedback,
        reason=reason,
        resubmit_due_on=resubmit_due_on,
    )
    MarkLevel.objects.bulk_create(
        MarkLevel(mark=mark, criterion_id=level.criterion_id, level=level) for level in levels
    )
    return mark


def _audit(*, submission: Submission, mark: Mark, marker, before: str | None) -> None:
    """One audit entry per mark. A moderator's blind mark changes nothing the trainee sees,
    so it records its outcome alone; the others record the submission's outcome before and
    after. The reason and feedback stay on the mark itself, not in the trail."""
    changed = mark.kind in (MarkKind.CORRECTION, MarkKind.FINAL)
    outcome = mark.outcome if mark.kind == MarkKind.MODERATION else {"before": before, "after": mark.outcome}
    audit_record(
        actor=marker,
        action=AuditAction.MARK_CHANGED if changed else AuditAction.MARK_ADDED,
        obj=mark,
        subject=submission.enrolment.member,
        label=_("Mark (%(kind)s) on “%(assignment)s”")
        % {
            "kind": mark.get_kind_display(),
            "assignment": submission.assignment.title,
        },
        changes={"submission": submission.pk, "kind": mark.kind, "outcome": outcome},
    )


def _make_current(*, submission: Submission, mark: Mark) -> None:
    """The mark becomes the one the trainee sees and completion counts; the trainee is told
    once the transaction commits (a mark replaced before then is not told: notices_marking),
    and reminded before a resubmission's due date."""
    submission.outcome = mark.outcome
    submission.marked_at = mark.created_at
    submission.resubmit_due_on = mark.resubmit_due_on
    submission.mark_version += 1
    submission.save(update_fields=["outcome", "marked_at", "resubmit_due_on", "mark_version"])
    # The mark's notice first: on commit, the standing change may issue a certificate, whose
    # email goes at once; the trainee should read that the work passed before that it earned one.
    work_marked_notify(submission=submission, marked_at=mark.created_at)
    standing_changed_announce(sender=Mark, enrolment_ids=[submission.enrolment_id], cause="mark")
    enrolments_changed_announce(enrolment_ids=[submission.enrolment_id])
    if mark.resubmit_due_on is not None:
        resubmission_reminder_notify(submission=submission)


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("enrolment__member", "enrolment__cohort__version__programme", "assignment")
        .get(pk=submission.pk)
    )


@transaction.atomic
def mark_save(
    *,
    submission: Submission,
    marker,
    levels: dict[int, int],
    feedback: str,
    seen_version: int,
    reason: str = "",
    resubmit_due_on: date | None = None,
) -> Mark:
    """Mark a submission, or correct its mark (a new mark with a reason).

    `seen_version` is the submission's `mark_version` when the marker opened it: if someone
    marked it since, nothing is saved and MarkConflict says so. `resubmit_due_on` is when a
    resubmission is due, used only if the levels chosen ask for one (resubmit_due_default
    when not given).
    """
    submission = _lock(submission)
    _own_work_refuse(submission=submission, marker=marker)
    if submission.status != SubmissionStatus.SUBMITTED:
        raise ValidationError(_("The trainee withdrew this attempt, so there is nothing to mark."))
    if submission.mark_version != seen_version:
        raise MarkConflict(
            _(
                "Someone else marked this while you had it open, so your mark was not saved. "
                "Their mark is shown below; add a correction if you disagree."
            )
        )
    correcting = bool(submission.outcome)
    before = submission.outcome or None
    feedback, reason = _text_check(feedback=feedback, reason=reason, reason_needed=correcting)
    chosen = _levels_check(submission=submission, chosen=levels)
    due_on = _resubmit_due_check(
        submission=submission, outcome=outcome_from_levels(chosen), chosen=resubmit_due_on
    )
    mark = _write(
        submission=submission,
        marker=marker,
        kind=MarkKind.CORRECTION if correcting else MarkKind.FIRST,
        levels=chosen,
        feedback=feedback,
        reason=reason if correcting else "",
        resubmit_due_on=due_on,
    )
    _make_current(submission=submission, mark=mark)
    _audit(submission=submission, mark=mark, marker=marker, before=before)
    return mark


# --- Moderation ----------------------------------------------------------------------


@transaction.atomic
def moderation_request(*, marks: list[Mark], second_marker, actor) -> list[Moderation]:
    """Send marks to a second marker, who will mark the same work without seeing them."""
    if not marks:
        raise ValidationError(_("Choose at least one mark to moderate."))
    if not second_marker.has_perm("training.run_cohorts"):
        raise ValidationError({"second_marker": _("The second marker must be a trainer.")})
    moderations = []
    for mark in marks:
        if mark.kind not in (MarkKind.FIRST, MarkKind.CORRECTION):
            raise ValidationError(_("Only a trainer's own marks can be moderated."))
        if mark.marker_id == second_marker.pk:
            raise ValidationError({"second_marker": _("The second marker must not be the first marker.")})
        if mark.submission.enrolment.member_id == second_marker.pk:
            raise ValidationError({"second_marker": _("The second marker cannot mark their own work.")})
        if Moderation.objects.filter(first_mark=mark).exists():
            raise ValidationError(_("One of those marks is already being moderated."))
        moderations.append(Moderation(first_mark=mark, second_marker=second_marker, requested_by=actor))
    moderations = Moderation.objects.bulk_create(moderations)
    second_marking_notify(moderations=moderations)
    return moderations


@transaction.atomic
def moderation_sample(*, first_marker, second_marker, size: int, actor) -> list[Moderation]:
    """Moderate a random sample of a trainer's marks that have not been moderated yet."""
    if size < 1:
        raise ValidationError({"size": _("Sample at least one mark.")})
    marks = list(
        Mark.objects.filter(
            marker=first_marker,
            kind__in=[MarkKind.FIRST, MarkKind.CORRECTION],
            moderation__isnull=True,
        )
        .select_related("submission__enrolment")
        .order_by("?")[:size]
    )
    if not marks:
        raise ValidationError(_("This trainer has no marks left to moderate."))
    return moderation_request(marks=marks, second_marker=second_marker, actor=actor)


@transaction.atomic
def moderation_mark(*, moderation: Moderation, marker, levels: dict[int, int], feedback: str) -> Mark:
    """The second marker's blind mark. It is recorded but does not change what the trainee sees."""
    moderation = Moderation.objects.select_for_update().select_related("first_mark").get(pk=moderation.pk)
    if moderation.second_marker_id != marker.pk:
        raise ValidationError(_("This moderation was sent to someone else."))
    if moderation.second_mark_id:
        raise ValidationError(_("You have already marked this for moderation."))
    submission = _lock(moderation.first_mark.submission)
    _own_work_refuse(submission=submission, marker=marker)
    feedback, _reason = _text_check(feedback=feedback, reason="", reason_needed=False)
    chosen = _levels_check(submission=submission, chosen=levels)
    mark = _write(
        submission=submission, marker=marker, kind=MarkKind.MODERATION, levels=chosen, feedback=feedback
    )
    moderation.second_mark = mark
    moderation.save(update_fields=["second_mark"])
    _audit(submission=submission, mark=mark, marker=marker, before=None)
    if mark.outcome == moderation.first_mark.outcome:
        # Agreement settles it; a disagreement waits for staff, who settle and tell then.
        moderation_outcome_notify(moderation=moderation, state=AGREED, actor=marker)
    return mark


@transaction.atomic
def moderation_settle(
    *,
    moderation: Moderation,
    actor,
    levels: dict[int, int],
    feedback: str,
    reason: str,
    resubmit_due_on: date | None = None,
) -> Mark:
    """Staff decide the final mark after moderation; it becomes the mark the trainee sees
    (with a resubmission's due date, as mark_save)."""
    moderation = Moderation.objects.select_for_update().select_related("first_mark").get(pk=moderation.pk)
    if not moderation.second_mark_id:
        raise ValidationError(_("Wait for the second marker before settling."))
    if moderation.settled_mark_id:
        raise ValidationError(_("This moderation has already been settled."))
    submission = _lock(moderation.first_mark.submission)
    _own_work_refuse(submission=submission, marker=actor)
    feedback, reason = _text_check(feedback=feedback, reason=reason, reason_needed=True)
    chosen = _levels_check(submission=submission, chosen=levels)
    due_on = _resubmit_due_check(
        submission=submission, outcome=outcome_from_levels(chosen), chosen=resubmit_due_on
    )
    mark = _write(
        submission=submission,
        marker=actor,
        kind=MarkKind.FINAL,
        levels=chosen,
        feedback=feedback,
        reason=reason,
        resubmit_due_on=due_on,
    )
    before = submission.outcome or None
    moderation.settled_mark = mark
    moderation.save(update_fields=["settled_mark"])
    _make_current(submission=submission, mark=mark)
    _audit(submission=submission, mark=mark, marker=actor, before=before)
    moderation_outcome_notify(moderation=moderation, state=SETTLED, actor=actor)
    return mark
