"""How work is judged: rubrics, submissions with their files, marks and moderation.

Marks are never edited: a correction, a moderator's second opinion or a settled final mark
is a new row, so who marked what and when is always there to see.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from training.models.cohorts import Cohort
from training.models.curriculum import Assignment
from training.models.enrolment import Enrolment


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    RESUBMIT = "resubmit", _("Resubmit")
    FAIL = "fail", _("Fail")


class RubricCriterion(models.Model):
    """One thing an assignment is judged on, with its levels from lowest to highest."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(_("criterion"), max_length=200)
    description = models.TextField(_("what it looks for"), blank=True)

    class Meta:
        ordering = ["assignment", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "position"], name="training_criterion_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RubricLevel(models.Model):
    """A level of one criterion. Its outcome says what choosing it means for the whole work."""

    criterion = models.ForeignKey(RubricCriterion, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField()  # 0 is the lowest
    title = models.CharField(_("level"), max_length=100)
    description = models.TextField(_("description"))
    outcome = models.CharField(_("outcome if chosen"), max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["criterion", "position"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "position"], name="training_level_position_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class AssignmentDueDate(models.Model):
    """A due date set for one cohort, instead of the cohort's start plus the offset."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="due_dates")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField(_("due on"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "assignment"], name="training_one_due_date_per_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} due {self.due_on}"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Submission(models.Model):
    """One attempt at an assignment by an enrolled trainee. Fixed once submitted."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="submissions")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    attempt = models.PositiveSmallIntegerField()
    status = models.CharField(
        _("status"), max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    text = models.TextField(_("your answer"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    is_late = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The current mark's outcome, kept in step by the marking services so that lists and the
    # gradebook read one row per submission. Blank until marked; marking has then started.
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    # When the current mark asks for a resubmission: the day the next attempt is due, instead
    # of the cohort's date (kept in step with the mark, like `outcome`). Empty otherwise, and
    # when no attempt is left.
    resubmit_due_on = models.DateField(_("resubmission due on"), null=True, blank=True)
    # Bumped by every mark: a marker who saw an older number is told someone marked first.
    mark_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["enrolment", "assignment", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "assignment", "attempt"], name="training_submission_attempt_unique"
            ),
            models.UniqueConstraint(
                fields=["enrolment", "assignment"],
                condition=Q(status="draft"),
                name="training_one_draft_per_assignment",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="training_submission_has_date",
            ),
            models.CheckConstraint(
                condition=Q(outcome="resubmit") | Q(resubmit_due_on__isnull=True),
                name="training_submission_resubmit_due_only_for_resubmit",
            ),
        ]
        indexes = [
            # The marking queue: submitted, not yet marked, oldest first.
            models.Index(fields=["status", "outcome", "submitted_at"], name="training_submission_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} #{self.attempt}"


def _submission_file_path(instance, filename: str) -> str:
    # A random folder per upload: names are never guessable and never collide.
    return f"submissions/{secrets.token_hex(16)}/{filename}"


class FileRemoval(models.TextChoices):
    RETENTION = "retention", _("Removed after the retention period")
    ERASURE = "erasure", _("Removed when the member's account was erased")


class SubmissionFile(models.Model):
    """A file handed in with a submission, kept in private storage."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    # Blank once the stored file is removed (by retention or erasure); the row stays as the
    # record that a file was handed in.
    file = models.FileField(upload_to=_submission_file_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=150)
    size = models.PositiveIntegerField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=10, choices=FileRemoval.choices, blank=True)

    class Meta:
        ordering = ["submission", "pk"]
        indexes = [
            # Retention looks for files still held.
            models.Index(fields=["removed_at"], name="training_subfile_removed"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class MarkKind(models.TextChoices):
    FIRST = "first", _("Mark")
    CORRECTION = "correction", _("Correction")
    MODERATION = "moderation", _("Second marking")
    FINAL = "final", _("Final mark")


class Mark(models.Model):
    """A judgement of a submission against its rubric. Never changed once written."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="marks")
    marker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=MarkKind.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    feedback = models.TextField(_("feedback"))
    reason = models.TextField(_("reason"), blank=True)
    # A resubmit outcome with an attempt left names the day the next attempt is due.
    resubmit_due_on = models.DateField(_("resubmission due on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "created_at", "pk"]
        permissions = [("moderate_marks", "Can moderate marking and settle marks")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["first", "moderation"]) | ~Q(reason=""),
                name="training_mark_change_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(outcome="resubmit") | Q(resubmit_due_on__isnull=True),
                name="training_mark_resubmit_due_only_for_resubmit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class MarkLevel(models.Model):
    """The level a mark chose for one criterion."""

    mark = models.ForeignKey(Mark, on_delete=models.CASCADE, related_name="levels")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(RubricLevel, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mark", "criterion"], name="training_one_level_per_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.level}"


class Moderation(models.Model):
    """A mark sent to a second marker, who marks blind; staff settle any disagreement."""

    first_mark = models.OneToOneField(Mark, on_delete=models.PROTECT, related_name="moderation")
    second_marker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    second_mark = models.OneToOneField(
        Mark, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    settled_mark = models.OneToOneField(
        Mark, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Moderation of {self.first_mark}"
