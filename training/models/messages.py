"""A trainer's messages to their cohort, and each recipient's thread with the trainers.

Who a message went to is fixed when it is sent (one MessageRecipient row each), so the
cohort's history says who was told whatever happens to the enrolments afterwards. Replies
belong to one recipient's thread: that trainee and those who run the cohort read them,
never the other recipients.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from training.models.cohorts import Cohort

MESSAGE_SUBJECT_MAX = 150
MESSAGE_BODY_MAX = 5000
REPLY_BODY_MAX = 3000


class MessageAudience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone in the cohort (enrolled, offered a place or waiting)")
    ENROLLED = "enrolled", _("Those enrolled")
    WAITLIST = "waitlist", _("The waiting list")


class CohortMessage(models.Model):
    """What a trainer (or staff) wrote to a cohort, once, to those in the audience then."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    audience = models.CharField(_("send to"), max_length=10, choices=MessageAudience.choices)
    subject = models.CharField(_("subject"), max_length=MESSAGE_SUBJECT_MAX)
    body = models.TextField(_("message"), validators=[MaxLengthValidator(MESSAGE_BODY_MAX)])
    sent_at = models.DateTimeField()
    # How many it went to: kept, since a recipient's row goes when their account is erased.
    recipient_count = models.PositiveIntegerField(default=0)
    # Written into the form when it is shown: the same form sent twice (a double click, a
    # resubmitted page) finds this and sends nothing more.
    send_key = models.UUIDField(unique=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["cohort", "-sent_at"], name="training_message_history")]
        constraints = [
            models.CheckConstraint(condition=~Q(subject=""), name="training_message_has_subject"),
            models.CheckConstraint(condition=~Q(body=""), name="training_message_has_body"),
        ]

    def __str__(self) -> str:
        return self.subject


class MessageRecipient(models.Model):
    """One person a message went to, and their thread with the cohort's trainers."""

    message = models.ForeignKey(CohortMessage, on_delete=models.CASCADE, related_name="recipients")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_messages_received"
    )
    # The latest reply either way, for listing threads with something in them.
    last_reply_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "member"], name="training_message_recipient_once"),
        ]
        indexes = [models.Index(fields=["member", "message"], name="training_message_inbox")]

    def __str__(self) -> str:
        return f"Message {self.message_id} to {self.member_id}"


class MessageReply(models.Model):
    """A reply in one recipient's thread: from the trainee, or from a trainer answering."""

    thread = models.ForeignKey(MessageRecipient, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Whether the thread's trainee wrote it (else one of those running the cohort).
    from_trainee = models.BooleanField()
    body = models.TextField(_("reply"), validators=[MaxLengthValidator(REPLY_BODY_MAX)])
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="training_reply_has_body"),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} in thread {self.thread_id}"
