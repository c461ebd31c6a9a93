"""Reading cohort messages and their threads, and the access points that guard them.

Those who run a cohort (training.permissions.cohort_list_manageable_by: its trainers and the
staff who manage cohorts) read its messages and every thread; a member reads only the
messages sent to them and their own thread. Anything else is a 404, so a changed id in a
URL reveals nothing.
"""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from training.models import (
    Cohort,
    CohortMessage,
    EnrolmentStatus,
    MessageAudience,
    MessageRecipient,
    MessageReply,
)
from training.permissions import cohort_list_manageable_by

# Who each audience is, by enrolment status, read when the message is sent.
ENROLLED_STATUSES = [EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE]
AUDIENCE_STATUSES: dict[str, list[str]] = {
    MessageAudience.ENROLLED: ENROLLED_STATUSES,
    MessageAudience.WAITLIST: [EnrolmentStatus.WAITLISTED],
    MessageAudience.EVERYONE: [*ENROLLED_STATUSES, EnrolmentStatus.OFFERED, EnrolmentStatus.WAITLISTED],
}
# Still in the cohort: a message not yet emailed to anyone else (withdrawn, declined, the
# cohort cancelled) is dropped.
IN_COHORT_STATUSES = AUDIENCE_STATUSES[MessageAudience.EVERYONE]


def _get_or_404(queryset: QuerySet, **lookup):
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("Not found.")
    return obj


# --- Audiences --------------------------------------------------------------------------


def audience_member_ids(*, cohort: Cohort, audience: str) -> set[int]:
    return set(
        cohort.enrolments.filter(status__in=AUDIENCE_STATUSES[audience]).values_list("member_id", flat=True)
    )


def audience_counts(*, cohort: Cohort) -> dict[str, int]:
    """{audience: how many are in it now}, in one query."""
    counts = cohort.enrolments.aggregate(
        **{
            audience: Count("member_id", filter=Q(status__in=statuses), distinct=True)
            for audience, statuses in AUDIENCE_STATUSES.items()
        }
    )
    return {audience: counts[audience] or 0 for audience in AUDIENCE_STATUSES}


# --- Those who run the cohort ----------------------------------------------------------------


def message_list_manageable_by(*, user) -> QuerySet[CohortMessage]:
    return CohortMessage.objects.filter(cohort__in=cohort_list_manageable_by(user=user))


def message_get_manageable(*, user, pk) -> CohortMessage:
    return _get_or_404(
        message_list_manageable_by(user=user).select_related("cohort__version__programme", "author"), pk=pk
    )


def thread_get_manageable(*, user, pk) -> MessageRecipient:
    """One recipient's thread, for those who run the message's cohort."""
    threads = MessageRecipient.objects.filter(message__in=message_list_manageable_by(user=user))
    return _get_or_404(threads.select_related("message__cohort", "message__author", "member"), pk=pk)


def cohort_message_history(*, cohort: Cohort) -> QuerySet[CohortMessage]:
    """The cohort's messages, newest first, with how many threads have replies."""
    return (
        cohort.messages.select_related("author")
        .annotate(threads_replied=Count("recipients", filter=Q(recipients__last_reply_at__isnull=False)))
        .order_by("-sent_at", "-pk")
    )


def message_thread_list(*, message: CohortMessage) -> QuerySet[MessageRecipient]:
    """The threads with something in them, latest reply first."""
    return (
        message.recipients.filter(last_reply_at__isnull=False)
        .select_related("member")
        .annotate(reply_count=Count("replies"))
        .order_by("-last_reply_at", "-pk")
    )


# --- The member they were sent to ------------------------------------------------------------


def inbox_list(*, user) -> QuerySet[MessageRecipient]:
    """The messages sent to a member, newest first."""
    return (
        MessageRecipient.objects.filter(member=user)
        .select_related("message__cohort", "message__author")
        .annotate(reply_count=Count("replies"))
        .order_by("-message__sent_at", "-message_id")
    )


def thread_get_own(*, user, message_pk) -> MessageRecipient:
    """The member's own thread on a message sent to them; 404 for a message not sent to them."""
    threads = MessageRecipient.objects.filter(member=user).select_related(
        "message__cohort__version__programme", "message__author"
    )
    return _get_or_404(threads, message_id=message_pk)


def thread_replies(*, thread: MessageRecipient) -> QuerySet[MessageReply]:
    return thread.replies.select_related("author").order_by("created_at", "pk")
