"""Reads for the email pages: a member's choices and recent emails, the staff list, and the
notice behind a reply link. Each is a fixed number of queries, whatever the number of rows."""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from training.models import Cohort, Notice, NoticeKind, NoticeMute, NoticeStatus, Session

# Subjects name what a notice is about ("session:12", "session:12:v3",
# "absence:enrolment:4:session:12", "assignment:7:cohort:3", "backlog:cohort:3").
_SESSION_IN_SUBJECT = re.compile(r"(?:^|:)session:(\d+)")
_COHORT_IN_SUBJECT = re.compile(r"(?:^|:)cohort:(\d+)")


def notice_muted_kinds(*, member_id: int) -> set[str]:
    return set(NoticeMute.objects.filter(member_id=member_id).values_list("kind", flat=True))


def notice_member_exists(*, member_id: int) -> bool:
    """Whether the member an unsubscribe link was made for still has an account."""
    return get_user_model().objects.filter(pk=member_id).exists()


def notice_list_recent_for_member(*, member, limit: int = 10) -> list[Notice]:
    return list(
        Notice.objects.filter(recipient=member, status=NoticeStatus.SENT).order_by("-sent_at", "-pk")[:limit]
    )


def notice_list_by_status(*, status: str) -> QuerySet[Notice]:
    return Notice.objects.filter(status=status).select_related("recipient").order_by("-scheduled_for", "pk")


def notice_status_counts() -> dict[str, int]:
    """{status: number of notices}, every status present (0 if none). One query."""
    counts = dict.fromkeys(NoticeStatus.values, 0)
    counts.update(
        Notice.objects.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return counts


def notice_failed_ids() -> list[int]:
    return list(Notice.objects.filter(status=NoticeStatus.FAILED).values_list("pk", flat=True))


def notice_subject_labels(*, notices: list[Notice]) -> dict[int, str]:
    """{notice id: what it is about, in words} ("Power mapping (Leeds spring)"), for notices
    about a session or a cohort; others are left out. At most two queries."""
    session_ids, cohort_ids = {}, {}
    for notice in notices:
        if found := _SESSION_IN_SUBJECT.search(notice.subject):
            session_ids[notice.pk] = int(found.group(1))
        elif found := _COHORT_IN_SUBJECT.search(notice.subject):
            cohort_ids[notice.pk] = int(found.group(1))
    sessions = (
        Session.objects.select_related("cohort").in_bulk(set(session_ids.values())) if session_ids else {}
    )
    cohorts = Cohort.objects.in_bulk(set(cohort_ids.values())) if cohort_ids else {}
    labels = {}
    for notice_id, session_id in session_ids.items():
        if session := sessions.get(session_id):
            labels[notice_id] = _("%(session)s (%(cohort)s)") % {
                "session": session.title,
                "cohort": session.cohort.name,
            }
    for notice_id, cohort_id in cohort_ids.items():
        if cohort := cohorts.get(cohort_id):
            labels[notice_id] = cohort.name
    return labels


@dataclass
class ReplyTarget:
    notice: Notice
    session: Session


def session_reply_target_get(*, notice_id: int | None) -> ReplyTarget | None:
    """The session reminder a reply link was made for, and its session; None if either is gone."""
    if not notice_id:
        return None
    notice = Notice.objects.filter(pk=notice_id, kind=NoticeKind.SESSION_REMINDER).first()
    if notice is None:
        return None
    found = _SESSION_IN_SUBJECT.search(notice.subject)
    session = (
        Session.objects.select_related("cohort").filter(pk=int(found.group(1))).first() if found else None
    )
    return ReplyTarget(notice=notice, session=session) if session else None


def notice_counts_waiting_and_failed() -> dict[str, int]:
    """Notices by status, for the waiting ones (pending, sending) and the failed: one query,
    read through the index on status (config.metrics reports it at each scrape)."""
    wanted = [NoticeStatus.PENDING, NoticeStatus.SENDING, NoticeStatus.FAILED]
    counts = dict(
        Notice.objects.filter(status__in=wanted)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {status: counts.get(status, 0) for status in wanted}
