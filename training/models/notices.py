"""What we tell people by email, and the ledger that makes each notice go exactly once.

A notice row is written (under a unique constraint) before anything is sent and marked
sent afterwards: running the sweep twice, or retrying a task, finds the row and stops.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from training.models.cohorts import Session
from training.models.enrolment import Enrolment


class NoticeKind(models.TextChoices):
    SESSION_REMINDER = "session_reminder", _("Session reminders")
    SESSION_CHANGED = "session_changed", _("Session changes")
    SESSION_CANCELLED = "session_cancelled", _("Session cancellations")
    COHORT_CANCELLED = "cohort_cancelled", _("Cohort cancellations")
    ABSENCE_WARNING = "absence_warning", _("Missed sessions")
    ABSENCE_NUDGE = "absence_nudge", _("Trainees missing sessions (for trainers)")
    ASSIGNMENT_DUE = "assignment_due", _("Assignments due")
    MARKING_BACKLOG = "marking_backlog", _("Marking waiting (for trainers)")
    ENROLMENT_DECISION = "enrolment_decision", _("Decisions on your applications")
    CERTIFICATE_ISSUED = "certificate_issued", _("Certificates issued")
    CERTIFICATE_REVOKED = "certificate_revoked", _("Certificates revoked")
    WORK_MARKED = "work_marked", _("Your work marked")
    APPLICATION_RECEIVED = "application_received", _("Applications you made")
    APPLICATIONS_WAITING = "applications_waiting", _("Applications waiting for a decision (daily)")
    SECOND_MARKING = "second_marking", _("Second marking waiting (for trainers)")
    MODERATION_OUTCOME = "moderation_outcome", _("Second markers' outcomes on your marking")
    COHORT_MESSAGE = "cohort_message", _("Messages from your trainers")
    MESSAGE_REPLY = "message_reply", _("Replies to your messages (for trainers)")


# Kinds a member may turn off. The rest are things a member must not miss (a cancelled
# session, a decision about their place, their certificate) and are always sent.
MUTABLE_NOTICE_KINDS = [
    NoticeKind.SESSION_REMINDER,
    NoticeKind.ABSENCE_WARNING,
    NoticeKind.ABSENCE_NUDGE,
    NoticeKind.ASSIGNMENT_DUE,
    NoticeKind.MARKING_BACKLOG,
    NoticeKind.APPLICATIONS_WAITING,
    NoticeKind.SECOND_MARKING,
    NoticeKind.MODERATION_OUTCOME,
]


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")
    FAILED = "failed", _("Failed")


class Notice(models.Model):
    """One message to one person: what, about what, for when, and whether it went.

    `subject` names what the notice is about ("session:12", "certificate:7"); it is a key,
    not a foreign key, so that deleting the thing leaves the record of what was sent.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=24, choices=NoticeKind.choices)
    subject = models.CharField(_("about"), max_length=80)
    scheduled_for = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not before this time (backoff after a failed attempt).
    next_attempt_at = models.DateTimeField()
    # When a batch task was last asked to send it: the sweep does not ask again at once.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The task holding the claim; a redelivered task (same id) may take it back at once.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why it failed or was skipped; shown to staff.
    outcome = models.CharField(max_length=300, blank=True)
    # For notices that ask for a reply (confirm or apologise): set by the first reply.
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-scheduled_for", "pk"]
        constraints = [
            # Subject first: the same index answers "were these reminders written already?".
            models.UniqueConstraint(
                fields=["subject", "kind", "scheduled_for", "recipient"], name="training_notice_once"
            ),
        ]
        indexes = [
            # The sweep: what is waiting and due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="training_notice_waiting",
            ),
            models.Index(fields=["status", "-scheduled_for"], name="training_notice_by_status"),
        ]
        permissions = [("view_notices", "Can see notices sent and failed, and retry them")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id} about {self.subject}"


class NoticeMute(models.Model):
    """A member turned one kind of notice off. No row: the kind is on."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_mutes"
    )
    kind = models.CharField(max_length=24, choices=NoticeKind.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="training_notice_mute_once"),
            models.CheckConstraint(
                condition=Q(kind__in=[kind.value for kind in MUTABLE_NOTICE_KINDS]),
                name="training_notice_mute_only_mutable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} muted {self.kind}"


class SessionConfirmation(models.Model):
    """A trainee said they will come to a session (from the reminder or their session page)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="confirmations")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="confirmations")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"], name="training_confirmation_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"Confirmed for {self.session_id}"


class EmailAddressProblem(models.Model):
    """An address that bounced or was refused: nothing more is sent there until it changes."""

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=300)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.email
