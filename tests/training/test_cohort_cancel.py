"""Cancelling a cohort: its sessions still to come are cancelled in every calendar, its places
and applications end, each person hears once, and its pages say so. Services called directly;
the calendar feed and the pages through the HTTP client."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import (
    CalendarFeed,
    CohortStatus,
    EnrolmentEvent,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    SessionMode,
    SessionStatus,
)
from training.services.calendar import calendar_feed_rotate, session_uid
from training.services.cohorts import cohort_cancel, cohort_update, session_create

pytestmark = pytest.mark.django_db

# Every status an enrolment may be in when its cohort is cancelled, and the one it ends in.
SETTLED = {
    EnrolmentStatus.APPLIED: EnrolmentStatus.CANCELLED,
    EnrolmentStatus.WAITLISTED: EnrolmentStatus.CANCELLED,
    EnrolmentStatus.OFFERED: EnrolmentStatus.CANCELLED,
    EnrolmentStatus.ENROLLED: EnrolmentStatus.CANCELLED,
    EnrolmentStatus.COMPLETED: EnrolmentStatus.COMPLETED,
    EnrolmentStatus.WITHDRAWN: EnrolmentStatus.WITHDRAWN,
    EnrolmentStatus.DECLINED: EnrolmentStatus.DECLINED,
}


@pytest.fixture
def cohort(seeded):
    """A running cohort (began a week ago) with a trainer, one member in each enrolment status,
    a session held yesterday and two still to come."""
    today = timezone.localdate()
    trainer = UserFactory(role=Role.TRAINER, first_name="Tess")
    cohort = CohortFactory(
        name="Leeds Spring",
        status=CohortStatus.RUNNING,
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
        enrolment_opens_on=today - dt.timedelta(days=30),
        enrolment_closes_on=today - dt.timedelta(days=8),
        trainers=[trainer],
    )
    cohort.trainer = trainer
    cohort.members = {
        status: EnrolmentFactory(cohort=cohort, status=status, member__first_name=str(status.label)).member
        for status in SETTLED
    }
    now = timezone.now().replace(microsecond=0)
    cohort.held = _session(cohort, now - dt.timedelta(days=1), "Held")
    cohort.coming = [
        _session(cohort, now + dt.timedelta(days=2), "Power mapping"),
        _session(cohort, now + dt.timedelta(days=9), "Campaign plan"),
    ]
    return cohort


def _session(cohort, starts_at, title):
    return SessionFactory(
        cohort=cohort, title=title, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
    )


def _events(body: bytes) -> dict[str, dict]:
    """{UID: {"STATUS": ..., "SEQUENCE": ...}} of an .ics body."""
    return {
        str(event["UID"]): {"STATUS": str(event["STATUS"]), "SEQUENCE": int(event["SEQUENCE"])}
        for event in Calendar.from_ical(body).walk("VEVENT")
    }


def _feed(client, member) -> dict[str, dict]:
    """The events of the member's calendar feed, fetched by its address (no sign-in)."""
    feed = CalendarFeed.objects.filter(member=member).first() or calendar_feed_rotate(member=member)
    response = client.get(reverse("training:calendar-feed", kwargs={"token": feed.token}))
    assert response.status_code == 200
    return _events(response.content)


# --- Sessions and calendars ------------------------------------------------------------


def test_the_feed_of_an_enrolled_member_shows_the_coming_sessions_cancelled(client, cohort):
    """After the cohort is cancelled (by its edit form's status), an enrolled member's feed marks
    each session still to come CANCELLED with a higher SEQUENCE; the session already held is
    left as it was."""
    member = cohort.members[EnrolmentStatus.ENROLLED]
    before = _feed(client, member)
    assert {event["STATUS"] for event in before.values()} == {"CONFIRMED"}

    cohort_update(cohort=cohort, actor=UserFactory(role=Role.NATIONAL_STAFF), status=CohortStatus.CANCELLED)

    after = _feed(client, member)
    assert set(after) == set(before)
    for session in cohort.coming:
        uid = session_uid(session)
        assert after[uid]["STATUS"] == "CANCELLED"
        assert after[uid]["SEQUENCE"] > before[uid]["SEQUENCE"]
    held = session_uid(cohort.held)
    assert after[held] == before[held] == {"STATUS": "CONFIRMED", "SEQUENCE": 0}
    cohort.held.refresh_from_db()
    assert cohort.held.status == SessionStatus.SCHEDULED


def test_the_trainers_feed_shows_them_cancelled_too(client, cohort):
    """The cohort's trainer runs its sessions: their feed marks the coming ones cancelled."""
    cohort_cancel(cohort=cohort, actor=None)

    events = _feed(client, cohort.trainer)
    assert {uid: event["STATUS"] for uid, event in events.items()} == {
        session_uid(cohort.held): "CONFIRMED",
        **{session_uid(session): "CANCELLED" for session in cohort.coming},
    }


def test_a_cancelled_cohort_gets_no_new_sessions_and_is_not_reopened(cohort):
    """Its status stays cancelled and sessions cannot be added to it."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort_cancel(cohort=cohort, actor=staff)

    with pytest.raises(ValidationError, match="cannot be reopened"):
        cohort_update(cohort=cohort, actor=staff, status=CohortStatus.OPEN)
    starts_at = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(ValidationError, match="was cancelled"):
        session_create(
            cohort=cohort,
            title="Late addition",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
            mode=SessionMode.IN_PERSON,
            venue="Hall",
        )
    cohort.refresh_from_db()
    assert cohort.status == CohortStatus.CANCELLED
    # Other details of a cancelled cohort may still be corrected.
    cohort_update(cohort=cohort, actor=staff, name="Leeds Spring (cancelled)", status=CohortStatus.CANCELLED)


# --- Enrolments -----------------------------------------------------------------------------


def test_cancelling_settles_every_enrolment(cohort):
    """Applied, waitlisted, offered and enrolled places end as "cancelled" (with the reason in
    their history); completed, withdrawn and declined ones are untouched, and nobody is offered
    the freed places."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort_cancel(cohort=cohort, actor=staff)

    statuses = dict(cohort.enrolments.values_list("member_id", "status"))
    assert {status: statuses[member.pk] for status, member in cohort.members.items()} == SETTLED
    events = EnrolmentEvent.objects.filter(enrolment__cohort=cohort, to_status=EnrolmentStatus.CANCELLED)
    assert sorted(events.values_list("from_status", flat=True)) == sorted(
        [
            EnrolmentStatus.APPLIED,
            EnrolmentStatus.ENROLLED,
            EnrolmentStatus.OFFERED,
            EnrolmentStatus.WAITLISTED,
        ]
    )
    assert {(event.actor_id, event.note) for event in events} == {(staff.pk, "The cohort was cancelled.")}


def test_cancelling_twice_changes_nothing(cohort, django_capture_on_commit_callbacks):
    """A second cancellation, by either path, changes no session, enrolment or notice."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        cohort_cancel(cohort=cohort, actor=staff)

    def state():
        return (
            sorted(cohort.sessions.values_list("pk", "status", "sequence", "updated_at")),
            sorted(cohort.enrolments.values_list("pk", "status", "status_changed_at")),
            EnrolmentEvent.objects.count(),
            sorted(Notice.objects.values_list("pk", "status")),
            len(mail.outbox),
        )

    first = state()
    with django_capture_on_commit_callbacks(execute=True):
        cohort_cancel(cohort=cohort, actor=staff)
        cohort_update(cohort=cohort, actor=staff, status=CohortStatus.CANCELLED)
    assert state() == first


# --- Notices --------------------------------------------------------------------------------


def test_each_person_hears_once_with_the_sessions_cancelled_in_their_calendar(
    cohort, django_capture_on_commit_callbacks
):
    """One "cohort cancelled" email per person (its trainer and everyone whose place or
    application ended), not one per session and no decision email; those who had a place get
    an .ics cancelling the sessions still to come. Those who had left or completed hear nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        cohort_cancel(cohort=cohort, actor=UserFactory(role=Role.NATIONAL_STAFF))

    told = [
        cohort.trainer,
        *(cohort.members[status] for status in SETTLED if SETTLED[status] == EnrolmentStatus.CANCELLED),
    ]
    notices = Notice.objects.all()
    assert sorted(notices.values_list("recipient_id", "kind", "status")) == sorted(
        (member.pk, NoticeKind.COHORT_CANCELLED, NoticeStatus.SENT) for member in told
    )
    assert sorted(message.to[0] for message in mail.outbox) == sorted(member.email for member in told)
    assert {message.subject for message in mail.outbox} == {
        f"[Future Leaders] Cancelled: Leeds Spring ({cohort.version.programme.title})"
    }

    def message_to(member):
        [message] = [message for message in mail.outbox if message.to == [member.email]]
        return message

    for member in (cohort.trainer, cohort.members[EnrolmentStatus.ENROLLED]):
        message = message_to(member)
        [(filename, content, mimetype)] = message.attachments
        assert (filename, mimetype) == ("sessions.ics", "text/calendar")
        events = _events(content if isinstance(content, bytes) else content.encode())
        assert events == {
            session_uid(session): {"STATUS": "CANCELLED", "SEQUENCE": 1} for session in cohort.coming
        }
        assert "Power mapping" in message.body
        assert "Campaign plan" in message.body
        assert "Held" not in message.body
        [(html, _mimetype)] = message.alternatives
        assert "<strong>Leeds Spring</strong>" in html
        assert "is cancelled and will not run" in html
    assert "Your place in it has ended" in message_to(cohort.members[EnrolmentStatus.ENROLLED]).body
    applicant = message_to(cohort.members[EnrolmentStatus.WAITLISTED])
    assert applicant.attachments == []
    assert "Your application, waiting-list place or offer for it has ended." in applicant.body
    assert "Power mapping" not in applicant.body


# --- Pages ------------------------------------------------------------------------------------


def test_the_trainees_pages_say_the_cohort_was_cancelled(client, cohort):
    """The cohort page shows its sessions still to come as cancelled, offers no places, and says
    the member's place ended; My training lists it so."""
    member = cohort.members[EnrolmentStatus.ENROLLED]
    cohort_cancel(cohort=cohort, actor=None)
    client.force_login(member)

    page = client.get(reverse("training:cohort-detail", args=[cohort.pk])).content.decode()
    assert "This cohort was cancelled, so your place or application in it has ended." in page
    assert "places left" not in page
    assert page.count("<del>Power mapping</del>") == 1
    assert page.count("<del>Campaign plan</del>") == 1
    assert "<del>Held</del>" not in page

    home = client.get(reverse("training:my-training")).content.decode()
    assert "this cohort was cancelled, so your place or application in it has ended." in home


def test_the_cohort_page_for_its_trainer_says_it_was_cancelled(client, cohort):
    """The trainer sees the cancellation, the sessions cancelled, and no "Add session"."""
    cohort_cancel(cohort=cohort, actor=None)
    client.force_login(cohort.trainer)

    page = client.get(reverse("training:cohort-manage", args=[cohort.pk])).content.decode()
    assert 'id="cancelled-note"' in page
    assert "Add session" not in page
    assert page.count("<del>") == len(cohort.coming)


def _edit_form_data(cohort, **overrides) -> dict:
    data = {
        "name": cohort.name,
        "region": cohort.region_id,
        "constituency": "",
        "capacity": str(cohort.capacity),
        "enrolment_opens_on": cohort.enrolment_opens_on.isoformat(),
        "enrolment_closes_on": cohort.enrolment_closes_on.isoformat(),
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "trainers": [cohort.trainer.pk],
    }
    return {**data, **overrides}


def test_staff_cancel_a_cohort_with_its_edit_form_and_cannot_reopen_it(client, cohort):
    """Staff set the status to cancelled on the cohort's edit form: its coming sessions and
    places are cancelled. Setting it back is refused beside the status field."""
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    url = reverse("training:cohort-edit", args=[cohort.pk])

    response = client.post(url, _edit_form_data(cohort, status=CohortStatus.CANCELLED))

    assert response.status_code == 302
    assert set(cohort.sessions.values_list("title", "status")) == {
        ("Held", SessionStatus.SCHEDULED),
        ("Power mapping", SessionStatus.CANCELLED),
        ("Campaign plan", SessionStatus.CANCELLED),
    }
    assert not cohort.enrolments.filter(status=EnrolmentStatus.ENROLLED).exists()

    response = client.post(url, _edit_form_data(cohort, status=CohortStatus.OPEN))

    assert response.status_code == 400
    assert 'id="error_1_id_status"' in response.content.decode()
    cohort.refresh_from_db()
    assert cohort.status == CohortStatus.CANCELLED
