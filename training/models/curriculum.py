"""What is taught: programmes, their versions, modules, materials and assignments."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A reminder more than a fortnight ahead is not a reminder.
MAX_REMINDER_HOURS = 14 * 24


def reminder_hours_parse(value: str) -> list[int]:
    """ "48, 2" -> [48, 2]. Raises ValidationError for anything else."""
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    try:
        hours = sorted({int(part) for part in parts}, reverse=True)
    except ValueError:
        raise ValidationError(
            _("Give whole numbers of hours separated by commas, for example 48,2.")
        ) from None
    if any(hour < 1 or hour > MAX_REMINDER_HOURS for hour in hours):
        raise ValidationError(
            _("Each reminder must be between 1 and %(max)s hours before.") % {"max": MAX_REMINDER_HOURS}
        )
    return hours


def validate_reminder_hours(value: str) -> None:
    reminder_hours_parse(value)


# --- Curricula -----------------------------------------------------------------


class Programme(models.Model):
    """A course of training. Its content lives in versions; cohorts follow one version."""

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # How we remind people. Operational, not content: staff change these at any time.
    session_reminder_hours = models.CharField(
        _("session reminders (hours before)"),
        max_length=40,
        default="48,2",
        blank=True,  # blank: no session reminders for this programme
        validators=[validate_reminder_hours],
        help_text=_("Comma-separated, for example 48,2. Leave blank for no session reminders."),
    )
    assignment_reminder_days = models.PositiveSmallIntegerField(
        _("assignment reminder (days before due)"),
        default=3,
        help_text=_("Trainees who have not submitted are reminded this many days before. 0 for none."),
    )
    absence_warning_after = models.PositiveSmallIntegerField(
        _("absence warning after (sessions missed in a row)"),
        default=2,
        help_text=_("The trainee and their trainers hear after this many absences in a row. 0 for none."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        permissions = [
            ("author_programmes", "Can author programmes and publish versions"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def session_reminder_offsets(self) -> list[int]:
        """Hours before a session at which reminders go, largest first."""
        return reminder_hours_parse(self.session_reminder_hours)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ProgrammeVersion(models.Model):
    """One version of a programme's content. Published versions never change."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    summary = models.TextField(_("what this version covers"), blank=True)
    # The completion rule: the attendance share here, and the assignments marked required.
    min_attendance_percent = models.PositiveSmallIntegerField(
        _("minimum attendance (%)"),
        default=75,
        help_text=_("The share of a cohort's sessions a trainee must attend to complete."),
    )
    marking_turnaround_days = models.PositiveSmallIntegerField(
        _("marking turnaround (days)"),
        default=7,
        help_text=_("How soon trainers should mark a submission; older work shows as overdue."),
    )
    certificate_valid_months = models.PositiveSmallIntegerField(
        _("certificate valid for (months)"),
        null=True,
        blank=True,
        help_text=_("Leave blank for a certificate that never lapses."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="training_version_number_unique"),
            models.UniqueConstraint(
                fields=["programme"],
                condition=Q(status="draft"),
                name="training_one_draft_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(min_attendance_percent__lte=100),
                name="training_attendance_percent_max_100",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="training_published_version_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.title} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class Module(models.Model):
    """A unit of a programme version, in order, with its teaching materials."""

    version = models.ForeignKey(ProgrammeVersion, on_delete=models.CASCADE, related_name="modules")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    learning_outcomes = models.TextField(_("learning outcomes"), blank=True, help_text=_("One per line."))
    materials = models.TextField(_("materials"), blank=True, help_text=_("Teaching notes, in Markdown."))

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="training_module_position_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def outcome_list(self) -> list[str]:
        return [line.strip() for line in self.learning_outcomes.splitlines() if line.strip()]


class MaterialKind(models.TextChoices):
    FILE = "file", _("File")
    LINK = "link", _("Link")


class Material(models.Model):
    """A file or a link attached to a module."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=4, choices=MaterialKind.choices)
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), blank=True)
    file = models.FileField(_("file"), upload_to="materials/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["module", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="link") & ~Q(url="") & Q(file=""))
                | (Q(kind="file") & Q(url="") & ~Q(file="")),
                name="training_material_is_link_or_file",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Assignment(models.Model):
    """Work a trainee submits for a module, judged against its rubric."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(_("title"), max_length=200)
    brief = models.TextField(_("brief"), help_text=_("In Markdown."))
    due_offset_days = models.PositiveSmallIntegerField(_("due (days after the cohort starts)"), default=14)
    required_for_completion = models.BooleanField(_("must be passed to complete"), default=True)
    # Keys of training.uploads.FILE_TYPES, comma-separated; empty means a written answer only.
    accepted_file_types = models.CharField(
        _("file types accepted"), max_length=100, blank=True, default="pdf,docx,odt"
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts allowed"),
        default=3,
        help_text=_("Including the first. A resubmit outcome opens the next."),
    )

    class Meta:
        ordering = ["module", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="training_assignment_attempts_min_1"
            ),
        ]

    def __str__(self) -> str:
        return self.title
