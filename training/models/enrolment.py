"""Who takes part and who turned up: enrolments, attendance, apologies and calendar feeds."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Constituency, Region
from training.models.cohorts import Cohort, Session
from training.models.curriculum import Programme

# --- Enrolment ---------------------------------------------------------------------


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("Applied, awaiting a decision")
    WAITLISTED = "waitlisted", _("On the waiting list")
    OFFERED = "offered", _("Offered a place")
    ENROLLED = "enrolled", _("Enrolled")
    DECLINED = "declined", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    COMPLETED = "completed", _("Completed")
    # The cohort ended and the completion rule did not hold; why is in completion_note.
    INCOMPLETE = "incomplete", _("Not completed")
    # Ended because the cohort was cancelled: neither the member's choice (withdrawn) nor a
    # trainer's (declined), so counts of either are not swollen by a cancellation.
    CANCELLED = "cancelled", _("Cohort cancelled")


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
    # Why the enrolment ended not completed (what the completion rule still lacked).
    completion_note = models.TextField(_("why not completed"), blank=True)
    # Milestones, kept by the services so that funnels and forecasts read one table (see
    # `manage.py pipeline_rebuild` and `dashboard_rebuild`, which recompute them from the source
    # rows and compare).
    first_enrolled_at = models.DateTimeField(null=True, blank=True)
    first_attended_at = models.DateTimeField(null=True, blank=True)
    work_submitted_at = models.DateTimeField(null=True, blank=True)
    # Copies kept for the dashboard, written only by reporting (reporting/services/
    # enrolment_copies.py) from the events training, members and certification announce, so
    # funnels count by place and certification without a join:
    # when the certificate of this enrolment was issued, while it is valid;
    certified_at = models.DateTimeField(null=True, blank=True)
    # the member's place now (their profile's region and constituency). No region means no
    # profile.
    member_region = models.ForeignKey(
        Region, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    member_constituency = models.ForeignKey(
        Constituency, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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
