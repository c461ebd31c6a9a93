"""What the notices about applications say (training.services.application_notices writes
them). Each writer loads a batch in a fixed number of queries, and says why not to send
when the letter is no longer true."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from training.models import (
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    Session,
    SessionStatus,
)
from training.services.application_notices import applications_waiting_by_decider
from training.services.notices import Letter, letter_writer_register

GONE = "What this was about no longer exists."
WITHDRAWN = "The application was withdrawn before this was sent."
DECIDED = "A later decision replaced this one."
NOTHING_WAITING = "No applications wait for this person's decision any more."
STALE = "A later day's digest replaces this one."


def _enrolment_ids(notices: list[Notice]) -> dict[int, int]:
    """{notice id: enrolment id} from "application:12:enrolled"."""
    ids = {}
    for notice in notices:
        try:
            ids[notice.pk] = int(notice.subject.split(":")[1])
        except (IndexError, ValueError):
            ids[notice.pk] = 0
    return ids


def _first_sessions(cohort_ids: set[int], *, now) -> dict[int, Session]:
    """{cohort id: its next session not cancelled}, in one query."""
    first: dict[int, Session] = {}
    upcoming = (
        Session.objects.filter(cohort_id__in=cohort_ids, starts_at__gte=now)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("cohort_id", "starts_at", "pk")
    )
    for session in upcoming:
        first.setdefault(session.cohort_id, session)
    return first


def _waiting_list_places(cohort_ids: set[int]) -> dict[int, int]:
    """{enrolment id: its place in its cohort's waiting list (1 is next)}, in one query."""
    places: dict[int, int] = {}
    counted: dict[int, int] = {}
    queue = (
        Enrolment.objects.filter(cohort_id__in=cohort_ids, status=EnrolmentStatus.WAITLISTED)
        .order_by("cohort_id", "waitlisted_at", "pk")
        .values_list("pk", "cohort_id")
    )
    for enrolment_id, cohort_id in queue:
        counted[cohort_id] = counted.get(cohort_id, 0) + 1
        places[enrolment_id] = counted[cohort_id]
    return places


def application_received_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    now = timezone.now()
    enrolment_ids = _enrolment_ids(notices)
    enrolments = Enrolment.objects.select_related("cohort__version__programme").in_bulk(
        set(enrolment_ids.values())
    )
    cohort_ids = {enrolment.cohort_id for enrolment in enrolments.values()}
    first_sessions = _first_sessions(cohort_ids, now=now)
    places = _waiting_list_places(cohort_ids)
    # Who made each application (the first event): staff through the API, or the member.
    applied_by = dict(
        EnrolmentEvent.objects.filter(enrolment_id__in=set(enrolments), from_status="").values_list(
            "enrolment_id", "actor_id"
        )
    )
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        enrolment = enrolments.get(enrolment_ids[notice.pk])
        status_when_applied = notice.subject.split(":")[-1]
        if enrolment is None or enrolment.member_id != notice.recipient_id:
            letters[notice.pk] = GONE
        elif enrolment.status == EnrolmentStatus.WITHDRAWN:
            letters[notice.pk] = WITHDRAWN
        elif enrolment.status != status_when_applied:
            # Decided, offered a place, or the cohort cancelled: that notice tells them.
            letters[notice.pk] = DECIDED
        else:
            cohort = enrolment.cohort
            first_session = first_sessions.get(cohort.pk)
            applied_on = timezone.localdate(enrolment.applied_at)
            letters[notice.pk] = Letter(
                template="notices/email/application_received",
                context={
                    "enrolment": enrolment,
                    "cohort": cohort,
                    "programme": cohort.version.programme,
                    "first_session": first_session,
                    "first_session_starts_at": (
                        timezone.localtime(first_session.starts_at) if first_session else None
                    ),
                    "waiting_list_place": places.get(enrolment.pk),
                    "applied_for_them": applied_by.get(enrolment.pk, enrolment.member_id)
                    not in (None, enrolment.member_id),
                    # Trainers aim to decide while applications are open; an application on
                    # the closing day is decided before the cohort starts.
                    "decided_by": cohort.enrolment_closes_on
                    if cohort.enrolment_closes_on > applied_on
                    else None,
                    "my_training_path": reverse("training:my-training"),
                    "cohort_path": reverse("training:cohort-detail", args=[cohort.pk]),
                },
            )
    return letters


def applications_waiting_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    """Counted afresh when sent: what was decided since the digest was written is left out."""
    now = timezone.now()
    waiting = applications_waiting_by_decider(member_ids={notice.recipient_id for notice in notices})
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        cohorts = waiting.get(notice.recipient_id, [])
        if notice.scheduled_for + timedelta(days=1) < now:
            letters[notice.pk] = STALE
        elif not cohorts:
            letters[notice.pk] = NOTHING_WAITING
        else:
            letters[notice.pk] = Letter(
                template="notices/email/applications_waiting",
                context={
                    "cohorts": [
                        {
                            "name": cohort.cohort_name,
                            "programme_title": cohort.programme_title,
                            "waiting": cohort.waiting,
                            "oldest_applied_at": timezone.localtime(cohort.oldest_applied_at),
                            "oldest_days": (now - cohort.oldest_applied_at).days,
                            # The page's "People" section opens with the applications.
                            "url": settings.SITE_URL
                            + reverse("training:cohort-manage", args=[cohort.cohort_id])
                            + "#people-heading",
                        }
                        for cohort in cohorts
                    ],
                    "total": sum(cohort.waiting for cohort in cohorts),
                },
            )
    return letters


def register() -> None:
    letter_writer_register(NoticeKind.APPLICATION_RECEIVED, application_received_write_letters)
    letter_writer_register(NoticeKind.APPLICATIONS_WAITING, applications_waiting_write_letters)
