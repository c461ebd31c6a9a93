"""Who is taught when: cohorts and their sessions."""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from members.models import Constituency, Region
from training.models.curriculum import Module, ProgrammeVersion

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
    # Off once staff set the status by hand: the daily move by dates (open, running,
    # finished) then leaves this cohort alone.
    status_follows_dates = models.BooleanField(
        _("status follows the dates"),
        default=True,
        help_text=_("If on, the cohort opens, runs and finishes by its dates."),
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
        indexes = [
            models.Index(fields=["status", "starts_on"]),
            # The staff's cohort list, in its order (training.selectors.manage: cohorts under
            # way or to come first, then by start): the first page read from the index instead
            # of sorting every cohort (128 ms at 50,000 cohorts, 6 ms with it).
            models.Index(
                Case(
                    When(status__in=[CohortStatus.FINISHED, CohortStatus.CANCELLED], then=Value(1)),
                    default=Value(0),
                ),
                F("starts_on"),
                F("name"),
                F("id"),
                name="training_cohort_over_start_idx",
            ),
        ]

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
    preparation = models.TextField(
        _("what to prepare"),
        blank=True,
        help_text=_("Sent with the reminders, for example what to read or bring."),
    )
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
