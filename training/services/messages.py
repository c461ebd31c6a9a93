"""A trainer's message to their cohort, and replies in each recipient's thread.

A message is sent once: its recipients are those in the audience at that moment (one row
each), and one notice each is written in the same transaction (the ledger sends each
exactly once, and drops it for anyone who has left the cohort by then). The form carries a
send key, so the same form sent twice finds the first message and sends nothing more.

Replies go through the platform: a trainee's reply tells the cohort's trainers (and the
message's author), a trainer's answer tells the trainee; the emails come from the
platform's address and link to the thread, so neither side learns the other's address.
"""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from training.models import (
    Cohort,
    CohortMessage,
    MessageAudience,
    MessageRecipient,
    MessageReply,
    NoticeKind,
)
from training.selectors.messages import audience_member_ids
from training.services.notices import notices_create, notices_send_on_commit

# Enough for any real need, and a stop to a runaway script or a stuck key: per author, an hour.
MESSAGES_PER_HOUR = 10  # to one cohort
REPLIES_PER_HOUR = 30  # in all threads
RATE_WINDOW = timedelta(hours=1)


def message_notice_subject(message_id: int) -> str:
    return f"cohort-message:{message_id}"


def reply_notice_subject(reply: MessageReply) -> str:
    """A trainee's reply (to the trainers) or a trainer's answer (to the trainee)."""
    return f"message-reply:{reply.pk}" if reply.from_trainee else f"message-answer:{reply.pk}"


@transaction.atomic
def cohort_message_send(
    *, cohort: Cohort, author, audience: str, subject: str, body: str, send_key: uuid.UUID
) -> CohortMessage:
    """Keep the message in the cohort's history and write one notice per recipient.

    The same send key again returns the message already sent (nothing more is sent)."""
    # Two sends of one form wait here for each other, so the second finds the first.
    Cohort.objects.select_for_update().filter(pk=cohort.pk).first()
    sent = CohortMessage.objects.filter(send_key=send_key).first()
    if sent is not None:
        if sent.cohort_id != cohort.pk or sent.author_id != author.pk:
            raise ValidationError(_("This form was already used. Please write the message again."))
        return sent
    if audience not in MessageAudience.values:
        raise ValidationError({"audience": _("Choose who the message is for.")})
    now = timezone.now()
    recent = CohortMessage.objects.filter(cohort=cohort, author=author, sent_at__gt=now - RATE_WINDOW).count()
    if recent >= MESSAGES_PER_HOUR:
        raise ValidationError(
            _(
                "You have sent %(count)s messages to this cohort in the last hour. "
                "Please wait before sending more."
            )
            % {"count": recent},
            code="rate",
        )
    member_ids = audience_member_ids(cohort=cohort, audience=audience) - {author.pk}
    if not member_ids:
        raise ValidationError(
            {
                "audience": _(
                    "Nobody is in this audience now (%(audience)s), so the message would reach no one."
                )
                % {"audience": MessageAudience(audience).label}
            },
            code="empty",
        )
    message = CohortMessage(
        cohort=cohort,
        author=author,
        audience=audience,
        subject=subject.strip(),
        body=body.strip(),
        sent_at=now,
        recipient_count=len(member_ids),
        send_key=send_key,
    )
    message.full_clean(exclude=["send_key"])  # its uniqueness is checked above, under the lock
    message.save()
    MessageRecipient.objects.bulk_create(
        [MessageRecipient(message=message, member_id=member_id) for member_id in sorted(member_ids)]
    )
    notices_send_on_commit(
        notices_create(
            kind=NoticeKind.COHORT_MESSAGE,
            subject=message_notice_subject(message.pk),
            recipient_ids=member_ids,
            scheduled_for=now,
        )
    )
    return message


@transaction.atomic
def message_reply_add(*, thread: MessageRecipient, author, body: str) -> MessageReply:
    """Add to a recipient's thread: the trainee's reply, or an answer from one running the
    cohort (the caller has checked who may write here). The other side is told."""
    thread = MessageRecipient.objects.select_for_update().select_related("message__cohort").get(pk=thread.pk)
    now = timezone.now()
    recent = MessageReply.objects.filter(author=author, created_at__gt=now - RATE_WINDOW).count()
    if recent >= REPLIES_PER_HOUR:
        raise ValidationError(
            {
                "body": _(
                    "You have sent %(count)s replies in the last hour. Please wait before sending more."
                )
                % {"count": recent}
            },
            code="rate",
        )
    reply = MessageReply(
        thread=thread,
        author=author,
        from_trainee=author.pk == thread.member_id,
        body=body.strip(),
        created_at=now,
    )
    reply.full_clean()
    reply.save()
    thread.last_reply_at = now
    thread.save(update_fields=["last_reply_at"])
    message = thread.message
    if reply.from_trainee:
        kind = NoticeKind.MESSAGE_REPLY
        trainers = set(message.cohort.trainers.values_list("pk", flat=True))
        recipient_ids = (trainers | ({message.author_id} if message.author_id else set())) - {author.pk}
    else:
        kind = NoticeKind.COHORT_MESSAGE
        recipient_ids = {thread.member_id}
    notices_send_on_commit(
        notices_create(
            kind=kind, subject=reply_notice_subject(reply), recipient_ids=recipient_ids, scheduled_for=now
        )
    )
    return reply
