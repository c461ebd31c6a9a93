"""What the notices about cohort messages say (registered from TrainingConfig.ready).

- COHORT_MESSAGE "cohort-message:<message id>": the message, to one of those it was sent to;
  "message-answer:<reply id>": a trainer's answer in a trainee's thread, to that trainee.
- MESSAGE_REPLY "message-reply:<reply id>": a trainee's reply, to those running the cohort.

Each writer loads its batch in a fixed number of queries. A letter is dropped when what it
says stopped being true: the recipient left the cohort (withdrew, was not accepted, the
cohort was cancelled) or no longer trains it. Every link leads into the platform; no email
carries the other side's address (they come from the platform's address, with no Reply-To).
"""

from django.urls import reverse

from training.models import (
    Cohort,
    CohortMessage,
    Enrolment,
    MessageRecipient,
    MessageReply,
    Notice,
    NoticeKind,
)
from training.selectors.messages import IN_COHORT_STATUSES
from training.services.notices import Letter, letter_writer_register

GONE = "What this was about no longer exists."
LEFT_COHORT = "The recipient has left the cohort (withdrew, not accepted, or it was cancelled) since."
NOT_TRAINER = "The recipient no longer runs the cohort."


def _about(notice: Notice) -> tuple[str, int]:
    """("cohort-message", 12) from "cohort-message:12"; ("", 0) if unreadable."""
    prefix, _sep, number = notice.subject.partition(":")
    try:
        return prefix, int(number)
    except ValueError:
        return "", 0


def _members_in_cohorts(cohort_ids: set[int]) -> set[tuple[int, int]]:
    return set(
        Enrolment.objects.filter(cohort_id__in=cohort_ids, status__in=IN_COHORT_STATUSES).values_list(
            "cohort_id", "member_id"
        )
    )


def cohort_messages_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    about = {notice.pk: _about(notice) for notice in notices}
    message_ids = {number for prefix, number in about.values() if prefix == "cohort-message"}
    answer_ids = {number for prefix, number in about.values() if prefix == "message-answer"}
    messages = CohortMessage.objects.select_related("cohort", "author").in_bulk(message_ids)
    answers = MessageReply.objects.select_related(
        "author", "thread__message__cohort", "thread__message__author"
    ).in_bulk(answer_ids)
    # Who each message went to (fixed when it was sent).
    sent_to = set(
        MessageRecipient.objects.filter(message_id__in=message_ids).values_list("message_id", "member_id")
    )
    cohort_ids = {message.cohort_id for message in messages.values()} | {
        answer.thread.message.cohort_id for answer in answers.values()
    }
    in_cohort = _members_in_cohorts(cohort_ids)
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        prefix, number = about[notice.pk]
        answer = answers.get(number) if prefix == "message-answer" else None
        message = (
            answer.thread.message if answer else messages.get(number) if prefix == "cohort-message" else None
        )
        if message is None:
            letters[notice.pk] = GONE
        elif answer is None and (message.pk, notice.recipient_id) not in sent_to:
            letters[notice.pk] = GONE  # the recipient's copy went with their erased account
        elif answer is not None and answer.thread.member_id != notice.recipient_id:
            letters[notice.pk] = GONE
        elif (message.cohort_id, notice.recipient_id) not in in_cohort:
            letters[notice.pk] = LEFT_COHORT
        else:
            letters[notice.pk] = Letter(
                template="notices/email/cohort_message",
                context={
                    "message": message,
                    "cohort": message.cohort,
                    "author": message.author,
                    "answer": answer,
                    "thread_path": reverse("training:message-thread", args=[message.pk]),
                },
            )
    return letters


def message_replies_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    about = {notice.pk: _about(notice) for notice in notices}
    replies = MessageReply.objects.select_related(
        "author", "thread__member", "thread__message__cohort"
    ).in_bulk({number for prefix, number in about.values() if prefix == "message-reply"})
    cohort_ids = {reply.thread.message.cohort_id for reply in replies.values()}
    trainers = set(
        Cohort.trainers.through.objects.filter(cohort_id__in=cohort_ids).values_list("cohort_id", "user_id")
    )
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        prefix, number = about[notice.pk]
        reply = replies.get(number) if prefix == "message-reply" else None
        if reply is None:
            letters[notice.pk] = GONE
            continue
        message = reply.thread.message
        runs_it = (
            message.cohort_id,
            notice.recipient_id,
        ) in trainers or message.author_id == notice.recipient_id
        if not runs_it:
            letters[notice.pk] = NOT_TRAINER
        else:
            letters[notice.pk] = Letter(
                template="notices/email/message_reply",
                context={
                    "reply": reply,
                    "trainee": reply.thread.member,
                    "message": message,
                    "cohort": message.cohort,
                    "thread_path": reverse("training:message-thread-manage", args=[reply.thread_id]),
                },
            )
    return letters


def register() -> None:
    letter_writer_register(NoticeKind.COHORT_MESSAGE, cohort_messages_write_letters)
    letter_writer_register(NoticeKind.MESSAGE_REPLY, message_replies_write_letters)
