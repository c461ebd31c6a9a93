from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Constituency, Region

# --- Curricula -----------------------------------------------------------------


class Programme(models.Model):
    """A course of training. Its content lives in versions; cohorts follow one version."""

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        permissions = [
            ("author_programmes", "Can author programmes and publish versions"),
        ]

    def __str__(self) -> str:
        return self.title


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
    """Work a trainee submits for a module. Marking arrives with the assessment work."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(_("title"), max_length=200)
    brief = models.TextField(_("brief"), help_text=_("In Markdown."))
    due_offset_days = models.PositiveSmallIntegerField(_("due (days after the cohort starts)"), default=14)
    required_for_completion = models.BooleanField(_("must be passed to complete"), default=True)

    class Meta:
        ordering = ["module", "pk"]

    def __str__(self) -> str:
        return self.title


# --- Cohorts and sessions ---------------------------------------------------------


class CohortStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for applications")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Cohort(models.Model):
    """One run of a programme version, with its trainers, places and sessions."""

    version = models.ForeignKey(ProgrammeVersion, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    constituency = models.ForeignKey(
        Constituency, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    trainers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="trained_cohorts", blank=True)
    capacity = models.PositiveIntegerField(_("places"))
    enrolment_opens_on = models.DateField(_("applications open"))
    enrolment_closes_on = models.DateField(_("applications close"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=CohortStatus.choices, default=CohortStatus.DRAFT
    )
    reviews_applications = models.BooleanField(
        _("applications are reviewed"),
        default=False,
        help_text=_("If off, applicants are enrolled at once while places remain."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "name"]
        permissions = [
            ("manage_cohorts", "Can open, edit and schedule any cohort"),
            ("run_cohorts", "Can run the cohorts they train"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="training_cohort_capacity_min_1"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="training_cohort_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(enrolment_closes_on__gte=F("enrolment_opens_on")),
                name="training_cohort_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_on"])]

    def __str__(self) -> str:
        return self.name


class SessionMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Session(models.Model):
    """One scheduled meeting of a cohort. Times are stored in UTC."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    mode = models.CharField(_("where"), max_length=10, choices=SessionMode.choices)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.TextField(_("address"), blank=True)
    online_link = models.URLField(_("online link"), blank=True)
    modules = models.ManyToManyField(Module, related_name="sessions", blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    checkin_code = models.CharField(_("check-in code"), max_length=8, unique=True)
    # Raised on every change, so calendars replace the event instead of adding one.
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="training_session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(mode="in_person", online_link="") | Q(mode="online"),
                name="training_session_link_only_online",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cohort.name}: {self.title}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


# --- Enrolment ---------------------------------------------------------------------


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("Applied, awaiting a decision")
    WAITLISTED = "waitlisted", _("On the waiting list")
    OFFERED = "offered", _("Offered a place")
    ENROLLED = "enrolled", _("Enrolled")
    DECLINED = "declined", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    COMPLETED = "completed", _("Completed")


# Holding or seeking a place: at most one of these per member and programme.
ACTIVE_ENROLMENT_STATUSES = [
    EnrolmentStatus.APPLIED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.OFFERED,
    EnrolmentStatus.ENROLLED,
]
# Taking up one of the cohort's places.
PLACE_HOLDING_STATUSES = [EnrolmentStatus.OFFERED, EnrolmentStatus.ENROLLED]


class Enrolment(models.Model):
    """A member's place (or wish for one) in a cohort."""

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrolments")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    # Copied from the cohort so that the database can refuse two active enrolments
    # in one programme.
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=EnrolmentStatus.choices)
    applied_at = models.DateTimeField(_("applied at"))
    # The waiting list is served in order of this timestamp.
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    motivation = models.TextField(_("why you want to take part"), blank=True)
    decision_message = models.TextField(_("message from the trainer"), blank=True)

    class Meta:
        ordering = ["applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "programme"],
                condition=Q(status__in=["applied", "waitlisted", "offered", "enrolled"]),
                name="training_one_active_enrolment_per_programme",
            ),
        ]
        indexes = [models.Index(fields=["cohort", "status"])]

    def __str__(self) -> str:
        return f"{self.member} in {self.cohort}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ENROLMENT_STATUSES


class EnrolmentEvent(models.Model):
    """One change of an enrolment's status: the history is never rewritten."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=EnrolmentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


# --- Attendance --------------------------------------------------------------------


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


class AttendanceSource(models.TextChoices):
    REGISTER = "register", _("Register")
    CHECK_IN = "check_in", _("Self check-in")
    APOLOGY = "apology", _("Apology")


class Attendance(models.Model):
    """Whether a trainee was at a session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    source = models.CharField(max_length=10, choices=AttendanceSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"], name="training_attendance_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return self.get_status_display()


class Apology(models.Model):
    """A trainee's advance notice that they cannot come to a session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="apologies")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="apologies")
    note = models.TextField(_("note for your trainer"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = _("apologies")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"], name="training_apology_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"Apology for {self.session}"


class CalendarFeed(models.Model):
    """A member's private calendar feed address. Replacing the token revokes the old one."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Calendar feed of {self.member}"
