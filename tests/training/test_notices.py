"""Reminders and notifications: what is written to the notice ledger, when, and what is sent.

Services and tasks are called directly (tasks run inline, as in `make run`); mail goes to
Django's in-memory outbox, or through FlakyBackend below when a test needs a mail server
that refuses. The clock is frozen with time-machine.
"""

import datetime as dt
import re
import smtplib
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
)
from training.models import (
    AssignmentDueDate,
    Attendance,
    CohortStatus,
    EmailAddressProblem,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    SessionConfirmation,
    SessionMode,
    SubmissionStatus,
)
from training.services.attendance import register_save, session_reply
from training.services.calendar import session_uid
from training.services.cohorts import cohort_update, session_cancel, session_update
from training.services.enrolment import (
    enrolment_apply,
    enrolment_decide,
    enrolment_offer_respond,
    enrolment_withdraw,
)
from training.services.notices import (
    NOTICE_BACKOFF,
    NOTICE_CLAIM_LEASE,
    NOTICE_MAX_ATTEMPTS,
    email_address_problem_record,
    notice_preferences_set,
    notices_create,
    notices_retry,
    notices_send,
    notices_waiting_ids,
    reply_token_read,
    unsubscribe_token_read,
)
from training.services.reminders import sweep
from training.tasks import notices_send_task, notices_sweep

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
# Monday 10 May 2027, noon in London (British Summer Time: 11:00 UTC).
MONDAY_NOON = dt.datetime(2027, 5, 10, 12, 0, tzinfo=LONDON)
# The session of the `world` fixture: Friday 14 May 2027, 18:30 in London (17:30 UTC).
SESSION_START = dt.datetime(2027, 5, 14, 18, 30, tzinfo=LONDON)
H48 = dt.timedelta(hours=48)
H2 = dt.timedelta(hours=2)
SECOND = dt.timedelta(seconds=1)
FLAKY_BACKEND = "tests.training.test_notices.FlakyBackend"


# --- Set-up -------------------------------------------------------------------------------


@pytest.fixture
def clock(time_machine):
    """Move the frozen clock: clock(when). It starts at MONDAY_NOON."""

    def move(when: dt.datetime) -> None:
        time_machine.move_to(when, tick=False)

    move(MONDAY_NOON)
    return move


@dataclass
class World:
    cohort: object
    trainer: object
    trainees: list
    enrolments: list
    session: object
    others: dict  # status -> member with an enrolment in that status

    @property
    def people(self) -> set[int]:
        return {self.trainer.pk, *(member.pk for member in self.trainees)}


def running_cohort(**kwargs):
    """A running cohort from 3 May to 30 July 2027 (sessions must fall within its dates)."""
    defaults = {
        "status": CohortStatus.RUNNING,
        "enrolment_opens_on": dt.date(2027, 4, 1),
        "enrolment_closes_on": dt.date(2027, 5, 2),
        "starts_on": dt.date(2027, 5, 3),
        "ends_on": dt.date(2027, 7, 30),
        "name": "Leeds Spring",
    }
    return CohortFactory(**{**defaults, **kwargs})


@pytest.fixture
def world(clock) -> World:
    """A running cohort with a trainer, two enrolled trainees, one person in each other
    status, and a session on Friday 14 May 2027 at 18:30 London time."""
    trainer = UserFactory(role=Role.TRAINER, first_name="Tess", onboarding=False)
    cohort = running_cohort(trainers=[trainer])
    enrolments = [EnrolmentFactory(cohort=cohort, member__onboarding=False) for _ in range(2)]
    others = {
        status: EnrolmentFactory(cohort=cohort, status=status, member__onboarding=False).member
        for status in [
            EnrolmentStatus.WITHDRAWN,
            EnrolmentStatus.WAITLISTED,
            EnrolmentStatus.OFFERED,
            EnrolmentStatus.APPLIED,
        ]
    }
    session = SessionFactory(
        cohort=cohort,
        title="Power mapping Q&A",
        starts_at=SESSION_START,
        ends_at=SESSION_START + H2,
        venue="Chapeltown Community Centre",
        address="1 High Street\nLeeds",
        preparation="Bring <your> list of ten names & a pen",
    )
    return World(
        cohort=cohort,
        trainer=trainer,
        trainees=[enrolment.member for enrolment in enrolments],
        enrolments=enrolments,
        session=session,
        others=others,
    )


class FlakyBackend(locmem.EmailBackend):
    """The in-memory outbox behind a mail server that can refuse: messages to `refused`
    addresses raise an SMTP error, `stop_after` sends that many then runs out of time (once), and
    with `cannot_open` no connection opens at all."""

    refused: ClassVar[set[str]] = set()
    cannot_open: ClassVar[bool] = False
    stop_after: ClassVar[int | None] = None

    def open(self):
        if FlakyBackend.cannot_open:
            raise smtplib.SMTPConnectError(421, "Service not available")
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            if FlakyBackend.stop_after is not None and len(mail.outbox) >= FlakyBackend.stop_after:
                FlakyBackend.stop_after = None
                raise SoftTimeLimitExceeded()
            for address in message.to:
                if address in FlakyBackend.refused:
                    raise smtplib.SMTPRecipientsRefused({address: (451, b"Try again later")})
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = FLAKY_BACKEND
    assert import_string(FLAKY_BACKEND) is FlakyBackend
    FlakyBackend.refused, FlakyBackend.cannot_open, FlakyBackend.stop_after = set(), False, None
    yield FlakyBackend
    FlakyBackend.refused, FlakyBackend.cannot_open, FlakyBackend.stop_after = set(), False, None


def outbox_to(member) -> list:
    return [message for message in mail.outbox if message.to == [member.email]]


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def ics_of(message) -> str:
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == ("session.ics", "text/calendar")
    return content.decode() if isinstance(content, bytes) else content


def notices(**filters) -> list[Notice]:
    return list(Notice.objects.filter(**filters).order_by("recipient_id", "scheduled_for"))


def recipients(**filters) -> set[int]:
    return set(Notice.objects.filter(**filters).values_list("recipient_id", flat=True))


# --- 1. Session reminders -------------------------------------------------------------------


def test_session_reminders_go_48_and_2_hours_before_by_default(world, clock):
    """Each person gets a reminder 48 hours before and another 2 hours before, each once."""
    clock(SESSION_START - H48 - SECOND)
    assert notices_sweep() == {"written": 0, "waiting": 0, "enqueued": 0}

    clock(SESSION_START - H48)
    assert notices_sweep() == {"written": 3, "waiting": 3, "enqueued": 3}
    assert len(mail.outbox) == 3
    assert {notice.scheduled_for for notice in notices()} == {SESSION_START - H48}

    clock(SESSION_START - H48 + dt.timedelta(minutes=2))
    assert notices_sweep() == {"written": 0, "waiting": 0, "enqueued": 0}

    clock(SESSION_START - H2 - SECOND)
    notices_sweep()
    assert len(mail.outbox) == 3

    clock(SESSION_START - H2)
    notices_sweep()
    notices_sweep()
    assert len(mail.outbox) == 6
    sent = notices(kind=NoticeKind.SESSION_REMINDER, status=NoticeStatus.SENT)
    assert len(sent) == 6
    assert {notice.scheduled_for for notice in sent} == {SESSION_START - H48, SESSION_START - H2}
    for person in [world.trainer, *world.trainees]:
        assert len(outbox_to(person)) == 2


def test_a_session_added_at_short_notice_gets_only_the_latest_reminder_passed(world, clock):
    """A session starting in 90 minutes gets the 2-hour reminder only, never the 48-hour one."""
    start = timezone.now() + dt.timedelta(minutes=90)
    soon = SessionFactory(cohort=world.cohort, starts_at=start, ends_at=start + H2)

    notices_sweep()
    notices_sweep()

    about_soon = notices(subject=f"session:{soon.pk}")
    assert [notice.scheduled_for for notice in about_soon] == [start - H2] * 3
    assert {notice.status for notice in about_soon} == {NoticeStatus.SENT}
    assert len(mail.outbox) == 3


def test_session_reminders_follow_the_programmes_own_offsets(world, clock):
    """Staff may set other offsets per programme; a blank setting sends no session reminders."""
    programme = world.cohort.version.programme
    programme.session_reminder_hours = "72"
    programme.save()
    clock(SESSION_START - dt.timedelta(hours=72))
    sweep()
    assert {notice.scheduled_for for notice in notices()} == {SESSION_START - dt.timedelta(hours=72)}

    programme.session_reminder_hours = ""
    programme.save()
    clock(SESSION_START - H2)
    assert sweep().written == 0


def test_session_reminders_reach_trainers_and_enrolled_trainees_only(world, clock):
    """Withdrawn, waitlisted, offered and applied members, and other cohorts' trainees, hear nothing."""
    EnrolmentFactory(cohort=running_cohort(name="Elsewhere"), member__onboarding=False)
    clock(SESSION_START - H2)

    notices_sweep()

    assert recipients() == world.people
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        person.email for person in [world.trainer, *world.trainees]
    )
    for member in world.others.values():
        assert outbox_to(member) == []


def test_a_member_withdrawn_after_the_reminder_was_written_is_not_reminded(world, clock):
    """Membership is checked again at send time."""
    clock(SESSION_START - H2)
    sweep()
    leaver = world.enrolments[0]
    leaver.status = EnrolmentStatus.WITHDRAWN
    leaver.save()

    notices_sweep()

    assert outbox_to(leaver.member) == []
    [notice] = notices(recipient=leaver.member)
    assert (notice.status, notice.outcome) == (
        NoticeStatus.SKIPPED,
        "The recipient is no longer in the cohort.",
    )
    assert len(mail.outbox) == 2


def test_muted_members_get_no_reminder_but_still_hear_of_a_cancellation(
    world, clock, django_capture_on_commit_callbacks
):
    """Session reminders can be turned off; a cancellation cannot."""
    muted = world.trainees[0]
    notice_preferences_set(member=muted, muted_kinds=[NoticeKind.SESSION_REMINDER])
    clock(SESSION_START - H48)

    notices_sweep()

    assert muted.pk not in recipients(kind=NoticeKind.SESSION_REMINDER)
    assert outbox_to(muted) == []
    assert len(mail.outbox) == 2

    with django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=world.session)

    [cancellation] = outbox_to(muted)
    assert cancellation.subject == "[Future Leaders] Cancelled: Power mapping Q&A on Fri 14 May"
    assert recipients(kind=NoticeKind.SESSION_CANCELLED) == world.people


def test_a_member_who_mutes_after_the_reminder_was_written_is_skipped(world, clock):
    """Preferences are read again when sending."""
    clock(SESSION_START - H2)
    sweep()
    notice_preferences_set(member=world.trainer, muted_kinds=[NoticeKind.SESSION_REMINDER])

    notices_sweep()

    [notice] = notices(recipient=world.trainer)
    assert (notice.status, notice.outcome) == (
        NoticeStatus.SKIPPED,
        "The member turned this kind of message off.",
    )
    assert outbox_to(world.trainer) == []


def test_the_reminder_email_has_everything_a_trainee_needs(world, clock):
    """Text and HTML, the .ics, the London time, the venue, what to prepare (escaped in HTML),
    and an unsubscribe link with the one-click headers."""
    clock(SESSION_START - H48)
    notices_sweep()
    trainee = world.trainees[0]
    [message] = outbox_to(trainee)
    html = html_of(message)

    # Plain text, with HTML-looking input left as typed; the subject is not HTML-escaped.
    assert message.subject == "[Future Leaders] Reminder: Power mapping Q&A on Fri 14 May at 18:30"
    assert "Friday 14 May 2027, 18:30 to 20:30 (UK time)" in message.body
    assert "Where: Chapeltown Community Centre, 1 High Street" in message.body
    assert "Bring <your> list of ten names & a pen" in message.body
    assert "17:30" not in message.body  # never UTC
    # HTML, escaped.
    assert "Friday 14 May 2027, 18:30 to 20:30 (UK time)" in html
    assert "Chapeltown Community Centre, 1 High Street<br>Leeds" in html
    assert "Bring &lt;your&gt; list of ten names &amp; a pen" in html
    assert "<your>" not in html
    # The calendar invitation.
    ics = ics_of(message)
    assert f"UID:{session_uid(world.session)}" in ics
    assert "DTSTART:20270514T173000Z" in ics
    assert "LOCATION:Chapeltown Community Centre\\, 1 High Street\\nLeeds" in ics
    # Unsubscribe: a link in both parts, and RFC 8058 headers, for this member and kind.
    [url] = re.findall(r"https?://\S+/emails/stop/[^/\s\"]+/", message.body)
    assert f'href="{url}"' in html
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_token_read(token) == (trainee.pk, NoticeKind.SESSION_REMINDER)
    [notice] = notices(recipient=trainee)
    assert message.extra_headers["Message-ID"].startswith(f"<notice-{notice.pk}@")


def test_an_online_session_reminder_gives_the_link(world, clock):
    """Online sessions show their link instead of a venue."""
    start = SESSION_START + dt.timedelta(days=7)
    SessionFactory(
        cohort=world.cohort,
        title="Online check-in",
        starts_at=start,
        ends_at=start + H2,
        mode=SessionMode.ONLINE,
        venue="",
        address="",
        online_link="https://meet.example.org/room-42",
    )
    clock(start - H2)
    notices_sweep()

    [message] = [m for m in outbox_to(world.trainees[0]) if "Online check-in" in m.subject]
    assert "Where: online, https://meet.example.org/room-42" in message.body
    assert 'href="https://meet.example.org/room-42"' in html_of(message)
    assert "Chapeltown" not in message.body


def test_the_48_hour_reminder_asks_trainees_to_reply_and_the_2_hour_one_does_not(world, clock):
    """Only trainees, and only early enough to matter, get the confirm-or-apologise link."""
    trainee = world.trainees[0]
    reply_link = re.compile(r"https?://\S+/emails/reply/([^/\s\"]+)/")
    clock(SESSION_START - H48)
    notices_sweep()
    [early] = outbox_to(trainee)
    [token] = reply_link.findall(early.body)
    assert f"/emails/reply/{token}/" in html_of(early)
    [notice] = notices(recipient=trainee)
    assert reply_token_read(token) == notice.pk
    [for_trainer] = outbox_to(world.trainer)
    assert not reply_link.search(for_trainer.body)
    assert "/manage/sessions/" in for_trainer.body  # the register instead

    clock(SESSION_START - H2)
    notices_sweep()
    late = [message for message in outbox_to(trainee) if message is not early]
    assert len(late) == 1
    assert not reply_link.search(late[0].body)
    assert "/emails/reply/" not in html_of(late[0])


def test_a_reply_link_confirms_once(world, clock):
    """The link records the trainee's answer; a second click is refused."""
    trainee = world.trainees[0]
    clock(SESSION_START - H48)
    notices_sweep()
    [notice] = notices(recipient=trainee)

    session_reply(notice_id=notice.pk, attending=True)

    assert SessionConfirmation.objects.filter(session=world.session, enrolment=world.enrolments[0]).exists()
    with pytest.raises(ValidationError, match="already answered"):
        session_reply(notice_id=notice.pk, attending=False, note="Sorry")
    assert not Attendance.objects.exists()


# --- 2. The frozen clock and the day the clocks change ---------------------------------------


@pytest.mark.parametrize(
    ("local_start", "due_48", "due_2", "shown"),
    [
        # British Summer Time starts at 01:00 UTC on Sunday 28 March 2027.
        (
            dt.datetime(2027, 3, 29, 10, 0, tzinfo=LONDON),
            dt.datetime(2027, 3, 27, 9, 0, tzinfo=UTC),
            dt.datetime(2027, 3, 29, 7, 0, tzinfo=UTC),
            "Monday 29 March 2027, 10:00",
        ),
        # It ends at 01:00 UTC on Sunday 31 October 2027.
        (
            dt.datetime(2027, 11, 1, 10, 0, tzinfo=LONDON),
            dt.datetime(2027, 10, 30, 10, 0, tzinfo=UTC),
            dt.datetime(2027, 11, 1, 8, 0, tzinfo=UTC),
            "Monday 1 November 2027, 10:00",
        ),
    ],
    ids=["clocks-go-forward", "clocks-go-back"],
)
def test_reminders_across_a_change_of_the_clocks_go_48_real_hours_before(
    clock, local_start, due_48, due_2, shown
):
    """48 hours means 48 real hours, whatever the clocks do, and the email shows London time."""
    clock(local_start - dt.timedelta(days=7))
    trainer = UserFactory(onboarding=False)
    cohort = running_cohort(
        trainers=[trainer],
        enrolment_opens_on=local_start.date() - dt.timedelta(days=60),
        enrolment_closes_on=local_start.date() - dt.timedelta(days=30),
        starts_on=local_start.date() - dt.timedelta(days=14),
        ends_on=local_start.date() + dt.timedelta(days=60),
    )
    SessionFactory(cohort=cohort, title="Campaign launch", starts_at=local_start, ends_at=local_start + H2)

    clock(due_48 - SECOND)
    assert notices_sweep()["written"] == 0
    clock(due_48)
    assert notices_sweep()["written"] == 1
    [notice] = notices()
    assert notice.scheduled_for == due_48
    assert notice.scheduled_for == local_start.astimezone(UTC) - H48
    assert notice.scheduled_for != local_start - H48  # wall-clock arithmetic would be an hour out
    [message] = mail.outbox
    assert f"When: {shown} to 12:00 (UK time)" in message.body
    assert message.subject.endswith("at 10:00")
    utc_start = local_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{utc_start}" in ics_of(message)

    clock(due_2 - SECOND)
    assert notices_sweep()["written"] == 0
    clock(due_2)
    assert notices_sweep()["written"] == 1
    assert len(mail.outbox) == 2
    assert f"When: {shown} to 12:00 (UK time)" in mail.outbox[1].body


# --- 3. Changes and cancellations -----------------------------------------------------------


def test_a_rescheduled_session_sends_a_change_and_its_reminders_follow_the_new_time(
    world, clock, django_capture_on_commit_callbacks
):
    """Everyone hears of the new time (with an updated .ics); reminders written for the old
    time are skipped, and new ones go at the new time."""
    clock(SESSION_START - H48)
    sweep()  # the 48-hour reminders are written, not yet sent
    old_reminders = [notice.pk for notice in notices(kind=NoticeKind.SESSION_REMINDER)]
    assert len(old_reminders) == 3
    new_start = SESSION_START + dt.timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        session_update(session=world.session, starts_at=new_start, ends_at=new_start + H2)

    changes = notices(kind=NoticeKind.SESSION_CHANGED)
    assert {notice.recipient_id for notice in changes} == world.people
    assert {notice.status for notice in changes} == {NoticeStatus.SENT}
    assert len(mail.outbox) == 3
    message = outbox_to(world.trainees[0])[0]
    assert message.subject == "[Future Leaders] Changed: Power mapping Q&A, now Sat 15 May at 18:30"
    assert "Saturday 15 May 2027, 18:30 to 20:30 (UK time)" in message.body
    assert "Bring &lt;your&gt; list" in html_of(message)
    ics = ics_of(message)
    assert "DTSTART:20270515T173000Z" in ics
    assert "SEQUENCE:1" in ics
    assert "List-Unsubscribe" not in message.extra_headers  # changes cannot be turned off

    report = notices_send(old_reminders)
    assert report.sent == []
    assert set(report.skipped) == set(old_reminders)
    for notice in notices(pk__in=old_reminders):
        assert notice.status == NoticeStatus.SKIPPED
        assert notice.outcome.startswith("The session moved")

    clock(new_start - H48 - SECOND)
    notices_sweep()
    assert len(mail.outbox) == 3
    clock(new_start - H48)
    notices_sweep()
    reminders = [m for m in mail.outbox if m.subject.startswith("[Future Leaders] Reminder")]
    assert len(reminders) == 3
    assert all(m.subject.endswith("on Sat 15 May at 18:30") for m in reminders)


def test_a_title_change_sends_nothing(world, clock, django_capture_on_commit_callbacks):
    """A new title is not news to the people coming."""
    with django_capture_on_commit_callbacks(execute=True):
        session_update(session=world.session, title="Power mapping, part one")

    assert not Notice.objects.exists()
    assert mail.outbox == []


def test_a_change_notice_is_not_lost_to_a_later_change_nobody_hears_of(
    world, clock, django_capture_on_commit_callbacks
):
    """Rescheduled, then retitled before the change notice went: the change notice still goes
    (the session's calendar sequence rose twice, but only one notice was written)."""
    new_start = SESSION_START + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=False):
        session_update(session=world.session, starts_at=new_start, ends_at=new_start + H2)
        session_update(session=world.session, title="Power mapping, part one")

    notices_sweep()

    assert {notice.status for notice in notices(kind=NoticeKind.SESSION_CHANGED)} == {NoticeStatus.SENT}
    assert len(mail.outbox) == 3
    assert "now Fri 14 May at 19:30" in mail.outbox[0].subject
    assert "Power mapping, part one" in mail.outbox[0].subject


def test_of_two_changes_waiting_only_the_latest_is_sent(world, clock, django_capture_on_commit_callbacks):
    """Two reschedules before the first notice went: each person gets one email, with the final time."""
    with django_capture_on_commit_callbacks(execute=False):
        for hours in [1, 3]:
            new_start = SESSION_START + dt.timedelta(hours=hours)
            session_update(session=world.session, starts_at=new_start, ends_at=new_start + H2)

    notices_sweep()

    assert len(mail.outbox) == 3
    assert all("now Fri 14 May at 21:30" in message.subject for message in mail.outbox)
    skipped = notices(kind=NoticeKind.SESSION_CHANGED, status=NoticeStatus.SKIPPED)
    assert len(skipped) == 3
    assert {notice.outcome for notice in skipped} == {"A later change replaced this one."}


def test_a_cancelled_session_sends_a_cancellation_and_no_more_reminders(
    world, clock, django_capture_on_commit_callbacks
):
    """The cancellation goes to everyone with a cancelling .ics; reminders written before are
    skipped, and the sweep writes none after."""
    clock(SESSION_START - H48)
    sweep()
    written = [notice.pk for notice in notices(kind=NoticeKind.SESSION_REMINDER)]

    with django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=world.session)

    assert recipients(kind=NoticeKind.SESSION_CANCELLED, status=NoticeStatus.SENT) == world.people
    [message] = outbox_to(world.trainees[0])
    assert message.subject == "[Future Leaders] Cancelled: Power mapping Q&A on Fri 14 May"
    assert "This session will not take place" in message.body
    assert "STATUS:CANCELLED" in ics_of(message)
    assert "List-Unsubscribe" not in message.extra_headers
    assert "/emails/stop/" not in message.body

    notices_sweep()
    assert {notice.outcome for notice in notices(pk__in=written)} == {"The session was cancelled."}
    clock(SESSION_START - H2)
    assert notices_sweep()["written"] == 0
    assert len(mail.outbox) == 3


def test_a_change_waiting_when_the_session_is_cancelled_is_not_sent(
    world, clock, django_capture_on_commit_callbacks
):
    """Only the cancellation goes, not the change before it."""
    new_start = SESSION_START + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=False):
        session_update(session=world.session, starts_at=new_start, ends_at=new_start + H2)
        session_cancel(session=world.session)

    notices_sweep()

    assert len(mail.outbox) == 3
    assert all(message.subject.startswith("[Future Leaders] Cancelled") for message in mail.outbox)
    assert {n.status for n in notices(kind=NoticeKind.SESSION_CHANGED)} == {NoticeStatus.SKIPPED}


def test_reminders_stop_when_the_cohort_is_cancelled(world, clock):
    """A reminder written before its cohort was cancelled is skipped; none is written after.
    What goes instead is one cohort cancellation to each person."""
    clock(SESSION_START - H48)
    sweep()
    reminders = [notice.pk for notice in notices(kind=NoticeKind.SESSION_REMINDER)]
    cohort_update(cohort=world.cohort, actor=world.trainer, status=CohortStatus.CANCELLED)

    notices_sweep()

    assert {notice.outcome for notice in notices(pk__in=reminders)} == {"The session was cancelled."}
    assert {notice.kind for notice in notices(status=NoticeStatus.SENT)} == {NoticeKind.COHORT_CANCELLED}
    assert all(
        message.subject.startswith("[Future Leaders] Cancelled: Leeds Spring") for message in mail.outbox
    )
    sent = len(mail.outbox)
    clock(SESSION_START - H2)
    assert sweep().written == 0
    notices_sweep()
    assert len(mail.outbox) == sent


# --- 4. Exactly once ------------------------------------------------------------------------


def _written(world, clock) -> list[int]:
    clock(SESSION_START - H2)
    sweep()
    return [notice.pk for notice in notices()]


def test_sending_the_same_notices_twice_sends_them_once(world, clock):
    """A repeated call finds them sent and does nothing."""
    ids = _written(world, clock)

    first = notices_send(ids)
    second = notices_send(ids)
    notices_send_task.apply(args=[ids])

    assert sorted(first.sent) == sorted(ids)
    assert (second.sent, second.skipped, second.failed) == ([], {}, {})
    assert len(mail.outbox) == 3
    assert {notice.attempts for notice in notices()} == {1}


def test_writing_the_same_notices_twice_writes_them_once(world, clock):
    """The sweep and notices_create find the rows already there."""
    clock(SESSION_START - H2)
    assert sweep().written == 3
    assert sweep().written == 0
    first = notices_create(
        kind=NoticeKind.ENROLMENT_DECISION, subject="enrolment:1:enrolled", recipient_ids=[world.trainer.pk]
    )
    again = notices_create(
        kind=NoticeKind.ENROLMENT_DECISION,
        subject="enrolment:1:enrolled",
        recipient_ids=[world.trainer.pk],
        scheduled_for=Notice.objects.get(pk=first[0]).scheduled_for,
    )
    assert again == first
    assert Notice.objects.count() == 4


def test_a_fresh_claim_by_another_task_is_left_alone(world, clock):
    """A notice another task is sending right now is neither sent again nor listed as waiting."""
    ids = _written(world, clock)
    Notice.objects.filter(pk=ids[0]).update(
        status=NoticeStatus.SENDING,
        claimed_by="another-task",
        claimed_at=timezone.now() - NOTICE_CLAIM_LEASE + SECOND,
    )

    report = notices_send(ids, claimant="this-task")

    assert ids[0] not in report.sent
    assert len(report.sent) == 2
    assert ids[0] not in notices_waiting_ids()
    notice = Notice.objects.get(pk=ids[0])
    assert (notice.status, notice.claimed_by) == (NoticeStatus.SENDING, "another-task")


def test_a_worker_killed_between_claim_and_send_loses_nothing(world, clock):
    """A claim whose lease has lapsed belongs to a dead worker: the sweep asks for it again
    and it is sent once."""
    ids = _written(world, clock)
    # As a worker leaves them when killed after claiming and before sending.
    claimed_at = timezone.now()
    Notice.objects.filter(pk__in=ids).update(
        status=NoticeStatus.SENDING, claimed_by="dead-task", claimed_at=claimed_at, attempts=1
    )
    assert notices_sweep()["waiting"] == 0

    clock(claimed_at + NOTICE_CLAIM_LEASE - SECOND)
    assert notices_waiting_ids() == []
    assert notices_sweep()["enqueued"] == 0
    clock(claimed_at + NOTICE_CLAIM_LEASE + SECOND)
    assert sorted(notices_waiting_ids()) == sorted(ids)
    assert notices_sweep()["enqueued"] == 3
    notices_sweep()

    assert len(mail.outbox) == 3
    assert {(n.status, n.attempts) for n in notices()} == {(NoticeStatus.SENT, 2)}


def test_a_redelivered_task_takes_its_own_claim_back_at_once(world, clock):
    """The same task id (the broker handing the task out again) need not wait for the lease."""
    ids = _written(world, clock)
    Notice.objects.filter(pk__in=ids).update(
        status=NoticeStatus.SENDING, claimed_by="task-1", claimed_at=timezone.now()
    )

    assert notices_send_task.apply(args=[ids], task_id="task-2").get() == {
        "sent": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert notices_send_task.apply(args=[ids], task_id="task-1").get() == {
        "sent": 3,
        "skipped": 0,
        "failed": 0,
    }
    assert len(mail.outbox) == 3


def test_a_batch_out_of_time_stops_and_records_what_was_sent(world, clock, flaky):
    """Celery's soft time limit after the first message: the batch stops there (before the hard
    limit kills it unrecorded), the first is recorded as sent, the rest wait for a retry, and
    the retry sends only those."""
    ids = _written(world, clock)
    flaky.stop_after = 1

    report = notices_send(ids)

    assert len(report.sent) == 1
    assert len(report.failed) == 2
    assert set(report.failed.values()) == {"SoftTimeLimitExceeded: SoftTimeLimitExceeded()"}
    assert Notice.objects.get(pk=report.sent[0]).status == NoticeStatus.SENT
    assert {n.status for n in notices(pk__in=report.failed)} == {NoticeStatus.PENDING}

    clock(timezone.now() + NOTICE_BACKOFF[0])
    notices_sweep()
    assert len(mail.outbox) == 3
    assert len({message.to[0] for message in mail.outbox}) == 3


def test_unique_constraint_refuses_a_second_identical_notice(world):
    """The database itself refuses a second row for the same recipient, subject, kind and time."""
    fields = {
        "recipient": world.trainer,
        "kind": NoticeKind.SESSION_REMINDER,
        "subject": f"session:{world.session.pk}",
        "scheduled_for": SESSION_START - H2,
        "next_attempt_at": SESSION_START - H2,
        "created_at": timezone.now(),
    }
    Notice.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.create(**{**fields, "status": NoticeStatus.SENT})
    Notice.objects.create(**{**fields, "scheduled_for": SESSION_START - H48})  # another time is fine
    assert Notice.objects.count() == 2


# --- 5. The mail server fails ---------------------------------------------------------------


def test_an_smtp_failure_is_retried_with_backoff_then_shown_as_failed(
    world, clock, flaky, django_capture_on_commit_callbacks
):
    """One refused address does not stop the batch; it is retried after 2, 10, 30 and 120
    minutes, then marked failed for staff; staff can send it again."""
    unlucky = world.trainees[0]
    flaky.refused = {unlucky.email}
    clock(SESSION_START - H48)
    notices_sweep()

    assert len(mail.outbox) == 2
    [notice] = notices(recipient=unlucky)
    assert (notice.status, notice.attempts) == (NoticeStatus.PENDING, 1)
    assert notice.next_attempt_at == timezone.now() + NOTICE_BACKOFF[0]
    assert notice.enqueued_at is None
    assert notice.outcome.startswith("SMTPRecipientsRefused")
    assert unlucky.email in notice.outcome

    for attempt in range(2, NOTICE_MAX_ATTEMPTS + 1):
        due = notice.next_attempt_at
        clock(due - SECOND)
        notices_sweep()
        notice.refresh_from_db()
        assert notice.attempts == attempt - 1, "not tried before its time"
        clock(due)
        notices_sweep()
        notice.refresh_from_db()
        assert notice.attempts == attempt
        if attempt < NOTICE_MAX_ATTEMPTS:
            assert notice.status == NoticeStatus.PENDING
            assert notice.next_attempt_at == due + NOTICE_BACKOFF[attempt - 1]
    assert (notice.status, notice.attempts) == (NoticeStatus.FAILED, NOTICE_MAX_ATTEMPTS)
    assert notice.outcome.startswith("SMTPRecipientsRefused")
    clock(timezone.now() + dt.timedelta(hours=6))
    assert notice.pk not in notices_waiting_ids()
    notices_sweep()
    assert len(mail.outbox) == 2

    flaky.refused = set()
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_retry(notice_ids=[notice.pk]) == [notice.pk]
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.outcome) == (NoticeStatus.SENT, 1, "")
    assert len(outbox_to(unlucky)) == 1


def test_staff_retry_sends_only_failed_notices_again(world, clock, django_capture_on_commit_callbacks):
    """notices_retry leaves sent and waiting notices alone, and gives failed ones fresh tries."""
    ids = _written(world, clock)
    Notice.objects.filter(pk=ids[0]).update(
        status=NoticeStatus.FAILED, attempts=NOTICE_MAX_ATTEMPTS, outcome="SMTPException: boom"
    )
    Notice.objects.filter(pk=ids[1]).update(status=NoticeStatus.SENT)
    later = timezone.now() + NOTICE_BACKOFF[1]
    Notice.objects.filter(pk=ids[2]).update(attempts=2, next_attempt_at=later)

    with django_capture_on_commit_callbacks(execute=True):
        assert notices_retry(notice_ids=ids) == [ids[0]]

    notice = Notice.objects.get(pk=ids[0])
    assert (notice.status, notice.attempts, notice.outcome) == (NoticeStatus.SENT, 1, "")
    waiting = Notice.objects.get(pk=ids[2])
    assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == (NoticeStatus.PENDING, 2, later)
    assert len(mail.outbox) == 1


def test_each_failed_notice_keeps_its_own_error(world, clock, flaky):
    """Two refusals in one batch: each row records the address that was refused."""
    first, second = world.trainees
    flaky.refused = {first.email, second.email}
    clock(SESSION_START - H2)
    notices_sweep()

    for member in [first, second]:
        [notice] = notices(recipient=member)
        assert notice.status == NoticeStatus.PENDING
        assert member.email in notice.outcome
    assert len(mail.outbox) == 1


def test_a_mail_server_that_cannot_be_reached_fails_the_batch_for_a_retry_losing_nothing(world, clock, flaky):
    """No connection: every notice waits for a retry (none sent, none lost); those that could
    never be sent are still skipped with their reason."""
    type(world.trainer).objects.filter(pk=world.trainees[1].pk).update(email="")
    flaky.cannot_open = True
    clock(SESSION_START - H2 - dt.timedelta(minutes=30))
    notices_sweep()

    assert mail.outbox == []
    by_recipient = {notice.recipient_id: notice for notice in notices()}
    assert by_recipient.pop(world.trainees[1].pk).outcome == "No email address."
    assert {(n.status, n.attempts) for n in by_recipient.values()} == {(NoticeStatus.PENDING, 1)}
    assert {n.outcome for n in by_recipient.values()} == {"SMTPConnectError: (421, 'Service not available')"}

    flaky.cannot_open = False
    clock(timezone.now() + NOTICE_BACKOFF[0])
    notices_sweep()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [world.trainer.email, world.trainees[0].email]
    )
    assert recipients(status=NoticeStatus.SENT) == set(by_recipient)


# --- 6. Bad input ---------------------------------------------------------------------------


def test_bad_recipients_and_vanished_sessions_are_skipped_and_the_rest_is_sent(world, clock):
    """No address, an invalid one, a bounced one, a closed account, a deleted session, a
    deleted cohort: each is skipped with its reason; the good one goes; nothing raises."""
    User = type(world.trainer)
    no_email = EnrolmentFactory(cohort=world.cohort, member__onboarding=False).member
    invalid = EnrolmentFactory(cohort=world.cohort, member__onboarding=False).member
    bounced = EnrolmentFactory(cohort=world.cohort, member__email="Bounce@Example.org").member
    closed = EnrolmentFactory(cohort=world.cohort, member__onboarding=False).member
    User.objects.filter(pk=no_email.pk).update(email="")
    User.objects.filter(pk=invalid.pk).update(email="not an address")
    User.objects.filter(pk=closed.pk).update(is_active=False)
    email_address_problem_record(email="BOUNCE@example.org", reason="550 no such mailbox")
    # A session deleted after its reminder was written, and a cohort deleted with its session.
    start = SESSION_START - dt.timedelta(hours=1)
    gone = SessionFactory(cohort=world.cohort, starts_at=start, ends_at=start + H2)
    lone_trainer = UserFactory(onboarding=False)
    doomed_cohort = running_cohort(trainers=[lone_trainer], name="Doomed")
    doomed = SessionFactory(cohort=doomed_cohort, starts_at=start, ends_at=start + H2)
    clock(SESSION_START - H2)
    sweep()
    gone_about, doomed_about = f"session:{gone.pk}", f"session:{doomed.pk}"
    gone.delete()
    doomed_cohort.delete()

    result = notices_sweep()

    assert result["enqueued"] == result["waiting"] == Notice.objects.count()
    outcomes = {
        (notice.recipient_id, notice.subject): (notice.status, notice.outcome)
        for notice in Notice.objects.all()
    }
    about = f"session:{world.session.pk}"
    skipped = NoticeStatus.SKIPPED
    assert outcomes[no_email.pk, about] == (skipped, "No email address.")
    assert outcomes[invalid.pk, about] == (skipped, "The email address is not valid.")
    assert outcomes[bounced.pk, about] == (skipped, "The address is marked undeliverable.")
    assert outcomes[closed.pk, about] == (skipped, "The account is closed.")
    assert outcomes[world.trainer.pk, gone_about] == (
        skipped,
        "What this was about no longer exists.",
    )
    assert outcomes[lone_trainer.pk, doomed_about] == (
        skipped,
        "What this was about no longer exists.",
    )
    sent = {pk for (pk, subject), (status, _) in outcomes.items() if status == NoticeStatus.SENT}
    assert sent == world.people
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        person.email for person in [world.trainer, *world.trainees]
    )


def test_a_notice_of_a_kind_nobody_can_write_is_skipped(world, clock):
    """An unknown kind (or a subject that cannot be read) does not stop the batch."""
    ids = notices_create(kind="no_such_kind", subject="x", recipient_ids=[world.trainer.pk])
    ids += notices_create(
        kind=NoticeKind.SESSION_REMINDER, subject="session:not-a-number", recipient_ids=[world.trainer.pk]
    )

    report = notices_send(ids)

    assert report.skipped == {
        ids[0]: "Nothing knows how to write a no_such_kind notice.",
        ids[1]: "What this was about no longer exists.",
    }


# --- 7. Absence warnings --------------------------------------------------------------------


@pytest.fixture
def weekly(clock):
    """A running cohort with two trainers, a trainee, and four weekly sessions in the past."""
    trainers = [UserFactory(role=Role.TRAINER, onboarding=False) for _ in range(2)]
    cohort = running_cohort(trainers=trainers, name="Bradford", starts_on=dt.date(2027, 4, 12))
    enrolment = EnrolmentFactory(cohort=cohort, member__onboarding=False, member__first_name="Sam")
    sessions = []
    for week in range(4):
        start = dt.datetime(2027, 4, 12, 18, 30, tzinfo=LONDON) + dt.timedelta(days=7 * week)
        sessions.append(SessionFactory(cohort=cohort, starts_at=start, ends_at=start + H2))
    return cohort, trainers, enrolment, sessions


def _register(session, enrolment, status, trainer, capture):
    with capture(execute=True):
        register_save(session=session, marks={enrolment.pk: status}, actor=trainer, now=session.starts_at)


def test_two_absences_in_a_row_send_a_warning_and_a_nudge_once(weekly, django_capture_on_commit_callbacks):
    """The trainee gets a supportive note and each trainer a nudge; a third absence sends nothing more."""
    cohort, trainers, enrolment, sessions = weekly
    capture = django_capture_on_commit_callbacks
    _register(sessions[0], enrolment, "absent", trainers[0], capture)
    assert mail.outbox == []

    _register(sessions[1], enrolment, "absent", trainers[0], capture)

    assert recipients(kind=NoticeKind.ABSENCE_WARNING, status=NoticeStatus.SENT) == {enrolment.member_id}
    assert recipients(kind=NoticeKind.ABSENCE_NUDGE, status=NoticeStatus.SENT) == {t.pk for t in trainers}
    [warning] = outbox_to(enrolment.member)
    assert warning.subject == "[Future Leaders] We missed you at Bradford"
    assert "missed the last 2 sessions of Bradford" in warning.body
    assert "/emails/stop/" in warning.body
    for trainer in trainers:
        [nudge] = outbox_to(trainer)
        assert "/manage/cohorts/" in nudge.body
        assert str(enrolment.member.first_name) in nudge.body

    _register(sessions[2], enrolment, "absent", trainers[0], capture)
    # Marked present by mistake, then absent again: still the same warning, once.
    _register(sessions[1], enrolment, "present", trainers[0], capture)
    _register(sessions[1], enrolment, "absent", trainers[0], capture)
    assert len(mail.outbox) == 3
    assert Notice.objects.count() == 3


def test_an_excused_session_breaks_the_run(weekly, django_capture_on_commit_callbacks):
    """Absent, excused, absent is not two in a row; a later second absence is."""
    cohort, trainers, enrolment, sessions = weekly
    capture = django_capture_on_commit_callbacks
    for session, status in zip(sessions[:3], ["absent", "excused", "absent"], strict=True):
        _register(session, enrolment, status, trainers[0], capture)
    assert not Notice.objects.exists()

    _register(sessions[3], enrolment, "absent", trainers[0], capture)
    assert recipients(kind=NoticeKind.ABSENCE_WARNING) == {enrolment.member_id}


def test_the_absence_threshold_is_set_per_programme(weekly, django_capture_on_commit_callbacks):
    """With the threshold at 3 the warning waits for the third absence in a row."""
    cohort, trainers, enrolment, sessions = weekly
    programme = cohort.version.programme
    programme.absence_warning_after = 3
    programme.save()
    for session in sessions[:2]:
        _register(session, enrolment, "absent", trainers[0], django_capture_on_commit_callbacks)
    assert not Notice.objects.exists()

    _register(sessions[2], enrolment, "absent", trainers[0], django_capture_on_commit_callbacks)

    assert recipients(kind=NoticeKind.ABSENCE_WARNING) == {enrolment.member_id}
    assert "missed the last 3 sessions" in outbox_to(enrolment.member)[0].body


def test_an_absence_threshold_of_zero_sends_no_warnings(weekly, django_capture_on_commit_callbacks):
    cohort, trainers, enrolment, sessions = weekly
    programme = cohort.version.programme
    programme.absence_warning_after = 0
    programme.save()
    for session in sessions:
        _register(session, enrolment, "absent", trainers[0], django_capture_on_commit_callbacks)
    assert not Notice.objects.exists()
    assert mail.outbox == []


def test_a_muted_trainee_gets_no_warning_but_the_trainers_are_nudged(
    weekly, django_capture_on_commit_callbacks
):
    cohort, trainers, enrolment, sessions = weekly
    notice_preferences_set(member=enrolment.member, muted_kinds=[NoticeKind.ABSENCE_WARNING])
    for session in sessions[:2]:
        _register(session, enrolment, "absent", trainers[0], django_capture_on_commit_callbacks)
    assert outbox_to(enrolment.member) == []
    assert recipients(kind=NoticeKind.ABSENCE_NUDGE) == {t.pk for t in trainers}


# --- 8. Assignments due ---------------------------------------------------------------------


@pytest.fixture
def coursework(clock):
    """A running cohort (started 3 May 2027) with an assignment due on Friday 21 May 2027,
    and four trainees: one yet to start, one with a draft, one who handed in, one muted."""
    trainer = UserFactory(onboarding=False)
    cohort = running_cohort(trainers=[trainer], name="Hull")
    assignment = AssignmentFactory(
        module=ModuleFactory(version=cohort.version), title="Power map", due_offset_days=18
    )
    people = {}
    for name in ["idle", "drafting", "done", "muted"]:
        people[name] = EnrolmentFactory(cohort=cohort, member__onboarding=False)
    SubmissionFactory(
        enrolment=people["drafting"], assignment=assignment, status=SubmissionStatus.DRAFT, submitted_at=None
    )
    SubmissionFactory(enrolment=people["done"], assignment=assignment, outcome="pass")  # marked
    notice_preferences_set(member=people["muted"].member, muted_kinds=[NoticeKind.ASSIGNMENT_DUE])
    return cohort, assignment, people


# Three days before 21 May, at 09:00 in London (08:00 UTC).
ASSIGNMENT_REMINDER_AT = dt.datetime(2027, 5, 18, 9, 0, tzinfo=LONDON)


def test_trainees_who_have_not_handed_in_are_reminded_3_days_before_at_9(coursework, clock):
    """Due 21 May: those who have not handed in hear at 09:00 on 18 May, once."""
    cohort, assignment, people = coursework
    clock(ASSIGNMENT_REMINDER_AT - SECOND)
    assert sweep().written == 0

    clock(ASSIGNMENT_REMINDER_AT)
    notices_sweep()
    notices_sweep()

    assert recipients(kind=NoticeKind.ASSIGNMENT_DUE) == {
        people["idle"].member_id,
        people["drafting"].member_id,
    }
    assert {n.scheduled_for for n in notices()} == {dt.datetime(2027, 5, 18, 8, 0, tzinfo=UTC)}
    assert len(mail.outbox) == 2
    [message] = outbox_to(people["idle"].member)
    assert message.subject == "[Future Leaders] Due Friday 21 May: Power map"
    assert f"/assignments/{assignment.pk}/" in message.body
    assert "/emails/stop/" in message.body


def test_a_cohort_due_date_moves_the_assignment_reminder(coursework, clock):
    """The cohort's own due date wins over the programme's offset."""
    cohort, assignment, people = coursework
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=dt.date(2027, 5, 28))
    clock(ASSIGNMENT_REMINDER_AT)
    assert sweep().written == 0
    clock(ASSIGNMENT_REMINDER_AT + dt.timedelta(days=7))
    assert sweep().written == 2


def test_work_handed_in_after_the_reminder_was_written_is_not_chased(coursework, clock):
    cohort, assignment, people = coursework
    clock(ASSIGNMENT_REMINDER_AT)
    sweep()
    draft = people["drafting"].submissions.get()
    draft.status, draft.submitted_at = SubmissionStatus.SUBMITTED, timezone.now()
    draft.save()

    notices_sweep()

    [notice] = notices(recipient=people["drafting"].member)
    assert (notice.status, notice.outcome) == (NoticeStatus.SKIPPED, "The work has been handed in.")
    assert len(mail.outbox) == 1


def test_no_assignment_reminders_when_the_programme_sets_zero_days(coursework, clock):
    cohort, assignment, people = coursework
    programme = cohort.version.programme
    programme.assignment_reminder_days = 0
    programme.save()
    clock(ASSIGNMENT_REMINDER_AT + dt.timedelta(days=2))
    assert sweep().written == 0


# --- 9. Marking backlog ---------------------------------------------------------------------


def test_trainers_are_nudged_once_a_day_about_marking_past_the_turnaround(clock):
    """Work waiting longer than the 7-day target: each trainer hears at 09:00, once that day,
    and again the next day while it waits; fresh or marked work sends nothing."""
    trainers = [UserFactory(onboarding=False) for _ in range(2)]
    cohort = running_cohort(trainers=trainers, name="York")
    clock(dt.datetime(2027, 5, 3, 15, 0, tzinfo=LONDON))
    SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member__onboarding=False))
    clock(dt.datetime(2027, 5, 9, 15, 0, tzinfo=LONDON))
    SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member__onboarding=False))
    marked = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member__onboarding=False))
    marked.outcome = "pass"
    marked.save()

    clock(dt.datetime(2027, 5, 11, 8, 59, tzinfo=LONDON))
    assert sweep().written == 0
    clock(dt.datetime(2027, 5, 11, 9, 0, tzinfo=LONDON))
    notices_sweep()
    clock(dt.datetime(2027, 5, 11, 17, 0, tzinfo=LONDON))
    notices_sweep()

    assert recipients(kind=NoticeKind.MARKING_BACKLOG) == {t.pk for t in trainers}
    assert len(mail.outbox) == 2
    message = outbox_to(trainers[0])[0]
    assert message.subject == "[Future Leaders] 1 submission waiting for marking in York"
    assert "2 in all are waiting" in message.body
    assert f"/manage/marking/?cohort={cohort.pk}" in message.body

    clock(dt.datetime(2027, 5, 12, 9, 0, tzinfo=LONDON))
    notices_sweep()
    assert len(mail.outbox) == 4
    clock(dt.datetime(2027, 5, 17, 9, 0, tzinfo=LONDON))
    notices_sweep()
    nudges = [message.subject for message in mail.outbox if "marking" in message.subject]
    assert len(nudges) == 6
    assert nudges[-1] == "[Future Leaders] 2 submissions waiting for marking in York"


def test_no_marking_nudge_while_work_is_within_the_turnaround(clock):
    trainer = UserFactory(onboarding=False)
    cohort = running_cohort(trainers=[trainer])
    SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member__onboarding=False))
    clock(MONDAY_NOON + dt.timedelta(days=6))
    assert sweep().written == 0
    clock(MONDAY_NOON + dt.timedelta(days=7, hours=1))
    assert sweep().written == 1


# --- 10. Enrolment decisions ----------------------------------------------------------------


@pytest.fixture
def reviewed(clock):
    """An open cohort that reviews applications, with one place, and its trainer."""
    trainer = UserFactory(role=Role.TRAINER, onboarding=False)
    cohort = CohortFactory(trainers=[trainer], reviews_applications=True, capacity=1, name="Sheffield")
    return cohort, trainer


def test_a_decision_on_an_application_is_emailed(reviewed, django_capture_on_commit_callbacks):
    """Accepted, declined (with the reason), and accepted into a full cohort (waiting list)."""
    cohort, trainer = reviewed
    applicants = [UserFactory(onboarding=False) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        applications = [enrolment_apply(cohort=cohort, member=member) for member in applicants]
    # Applying sends only its acknowledgement (tests/training/test_application_notices.py).
    received = f"[Future Leaders] We have your application to {cohort.version.programme.title}"
    assert [m.subject for m in mail.outbox] == [received] * 3
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        enrolment_decide(enrolment=applications[0], accept=True, actor=trainer)
        enrolment_decide(
            enrolment=applications[1], accept=False, message="We need <local> experience.", actor=trainer
        )
        enrolment_decide(enrolment=applications[2], accept=True, actor=trainer)

    programme = cohort.version.programme.title
    [accepted] = outbox_to(applicants[0])
    assert accepted.subject == f"[Future Leaders] You have a place on {programme}"
    [declined] = outbox_to(applicants[1])
    assert declined.subject == f"[Future Leaders] Your application to {programme}"
    assert "We need <local> experience." in declined.body
    assert "We need &lt;local&gt; experience." in html_of(declined)
    [waiting] = outbox_to(applicants[2])
    assert waiting.subject == f"[Future Leaders] You are on the waiting list for {programme}"
    assert all("List-Unsubscribe" not in m.extra_headers for m in mail.outbox)


def test_a_freed_place_is_offered_by_email_and_accepting_it_sends_nothing(
    reviewed, django_capture_on_commit_callbacks
):
    """The one who leaves hears nothing of their own withdrawal; the next in line is offered
    the place; their own acceptance sends nothing."""
    cohort, trainer = reviewed
    cohort.reviews_applications = False
    cohort.save()
    first, second = UserFactory(onboarding=False), UserFactory(onboarding=False)
    holder = enrolment_apply(cohort=cohort, member=first)
    waiting = enrolment_apply(cohort=cohort, member=second)
    assert waiting.status == EnrolmentStatus.WAITLISTED

    with django_capture_on_commit_callbacks(execute=True):
        enrolment_withdraw(enrolment=holder, actor=first)

    assert outbox_to(first) == []
    [offer] = outbox_to(second)
    assert offer.subject == f"[Future Leaders] A place is free for you on {cohort.version.programme.title}"

    with django_capture_on_commit_callbacks(execute=True):
        enrolment_offer_respond(enrolment=waiting, accept=True, actor=second)
    assert len(mail.outbox) == 1


def test_a_member_withdrawn_by_staff_is_told(reviewed, django_capture_on_commit_callbacks):
    cohort, trainer = reviewed
    member = UserFactory(onboarding=False)
    enrolment = EnrolmentFactory(cohort=cohort, member=member)
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_withdraw(enrolment=enrolment, actor=trainer, note="Moved away")
    [message] = outbox_to(member)
    assert "has ended" in message.subject


def test_a_decision_replaced_before_it_was_sent_is_skipped(reviewed, django_capture_on_commit_callbacks):
    """Accepted, then withdrawn before the first email went: only the latest decision is sent."""
    cohort, trainer = reviewed
    member = UserFactory(onboarding=False)
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.APPLIED)
    with django_capture_on_commit_callbacks(execute=False):
        enrolment_decide(enrolment=enrolment, accept=True, actor=trainer)
        enrolment_withdraw(enrolment=enrolment, actor=trainer)

    notices_sweep()

    [message] = outbox_to(member)
    assert "has ended" in message.subject
    assert {n.outcome for n in notices(status=NoticeStatus.SKIPPED)} == {
        "A later decision replaced this one."
    }


# --- 11. Queries do not grow with the number of people --------------------------------------


def _busy_world(trainees_per_cohort: int) -> None:
    """Two cohorts, each with a session starting within 2 hours, an assignment due in 3 days,
    and a submission past its marking target; `trainees_per_cohort` trainees each."""
    now = timezone.now()
    for _ in range(2):
        trainer = UserFactory(onboarding=False)
        cohort = running_cohort(trainers=[trainer])
        enrolments = [
            EnrolmentFactory(cohort=cohort, member__onboarding=False) for _ in range(trainees_per_cohort)
        ]
        start = now + dt.timedelta(minutes=90)
        SessionFactory(cohort=cohort, starts_at=start, ends_at=start + H2)
        due_offset = (timezone.localdate(now) + dt.timedelta(days=3) - cohort.starts_on).days
        assignment = AssignmentFactory(
            module=ModuleFactory(version=cohort.version), due_offset_days=due_offset
        )
        SubmissionFactory(
            enrolment=enrolments[0], assignment=assignment, submitted_at=now - dt.timedelta(days=8)
        )


def _measure(trainees_per_cohort: int) -> tuple[int, int, int]:
    """(sweep queries, notices written, queries to send them all in one batch), then undo."""
    with transaction.atomic():
        _busy_world(trainees_per_cohort)
        with CaptureQueriesContext(connection) as sweeping:
            report = sweep()
        with CaptureQueriesContext(connection) as sending:
            sent = notices_send(report.waiting_ids)
        assert len(sent.sent) == report.written == len(report.waiting_ids)
        transaction.set_rollback(True)
    # Each message sent is recorded at once (one UPDATE each): the rest is fixed per batch.
    return len(sweeping), report.written, len(sending) - len(sent.sent)


def test_the_sweep_and_a_batch_send_take_the_same_queries_for_6_or_60_trainees(clock):
    """A sweep writes each kind of reminder in one statement, and a batch loads its letters in a
    fixed number of queries, whatever the number of recipients."""
    clock(dt.datetime(2027, 5, 11, 9, 30, tzinfo=LONDON))
    small = _measure(3)
    large = _measure(30)

    # Per cohort: a session reminder to trainees and trainer, an assignment reminder to the
    # trainees who have not handed in, and a marking nudge to the trainer.
    assert small[1] == 2 * (4 + 2 + 1)
    assert large[1] == 2 * (31 + 29 + 1)
    assert small[0] == large[0]
    assert small[2] == large[2]
    # Measured: 11 for the sweep (per kind a read, a check of what was written and an insert;
    # and the waiting list), and 20 less one to send a batch of these three kinds (claim,
    # checks, letters with who replied to a session, outcomes), plus one UPDATE per message
    # sent (decision 0008).
    assert small[0] <= 11  # per kind: read what is due, skip what was written, insert
    assert small[2] <= 19


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses one address outright (a hard bounce at SMTP time)."""

    refused = "gone@example.org"

    def send_messages(self, messages):
        for message in messages:
            if self.refused in message.to:
                raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"No such mailbox")})
        mail.outbox.extend(messages)
        return len(messages)


def test_a_refused_address_is_marked_undeliverable_and_not_retried(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    gone = EnrolmentFactory(member=UserFactory(email=RefusingBackend.refused))
    fine = EnrolmentFactory()
    ids = [
        *notices_create(
            kind=NoticeKind.ENROLMENT_DECISION,
            subject=f"enrolment:{gone.pk}:enrolled",
            recipient_ids=[gone.member_id],
        ),
        *notices_create(
            kind=NoticeKind.ENROLMENT_DECISION,
            subject=f"enrolment:{fine.pk}:enrolled",
            recipient_ids=[fine.member_id],
        ),
    ]
    report = notices_send(ids)
    assert report.sent == [Notice.objects.get(recipient=fine.member).pk]
    refused = Notice.objects.get(recipient=gone.member)
    assert refused.status == NoticeStatus.SKIPPED
    assert "undeliverable" in refused.outcome
    assert EmailAddressProblem.objects.filter(email=RefusingBackend.refused).exists()


class RecordingBackend(BaseEmailBackend):
    """A mail server that, as it accepts each message, notes what the ledger says of the
    notices sent so far: each must already be recorded before the next is handed over."""

    seen: list[list[str]] = []

    def send_messages(self, messages):
        RecordingBackend.seen.append(list(Notice.objects.order_by("pk").values_list("status", flat=True)))
        return len(messages)


def _enrolment_notices(count: int) -> list[int]:
    enrolments = EnrolmentFactory.create_batch(count)
    return [
        notices_create(
            kind=NoticeKind.ENROLMENT_DECISION,
            subject=f"enrolment:{enrolment.pk}:enrolled",
            recipient_ids=[enrolment.member_id],
        )[0]
        for enrolment in enrolments
    ]


def test_each_message_is_recorded_sent_before_the_next_is_handed_over(settings):
    """The ledger, not a cache, remembers what was sent: the moment the server accepts a
    message its row is marked sent, so a worker killed mid-batch leaves only unsent rows."""
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.seen = []
    ids = _enrolment_notices(3)
    report = notices_send(ids)
    assert report.sent == ids
    # As each message reached the server: those before it already sent, it and the rest claimed.
    assert RecordingBackend.seen == [
        ["sending", "sending", "sending"],
        ["sent", "sending", "sending"],
        ["sent", "sent", "sending"],
    ]
    assert all(notice.sent_at for notice in Notice.objects.all())


def test_a_notice_recorded_sent_by_a_killed_worker_is_never_sent_again(clock):
    """Killed after the server accepted it: its row already says sent, so neither the sweep
    nor a later claimant sends it again, even with the cache emptied (Redis restarted)."""
    from django.core.cache import cache

    ids = _enrolment_notices(2)
    start = timezone.now()
    Notice.objects.filter(pk__in=ids).update(
        status=NoticeStatus.SENDING, claimed_by="dead-task", claimed_at=start, attempts=1
    )
    Notice.objects.filter(pk=ids[0]).update(status=NoticeStatus.SENT, sent_at=start)
    cache.clear()
    clock(start + NOTICE_CLAIM_LEASE + SECOND)
    assert notices_waiting_ids() == [ids[1]]
    report = notices_send(ids)
    assert report.sent == [ids[1]]
    assert len(mail.outbox) == 1
    assert {n.status for n in Notice.objects.all()} == {NoticeStatus.SENT}


def test_a_claim_older_than_the_lease_is_taken_by_a_new_claimant(clock):
    ids = _enrolment_notices(1)
    start = timezone.now()
    Notice.objects.filter(pk__in=ids).update(
        status=NoticeStatus.SENDING, claimed_by="stalled-task", claimed_at=start, attempts=1
    )
    clock(start + NOTICE_CLAIM_LEASE - SECOND)
    assert notices_send(ids, claimant="new-task").sent == []
    clock(start + NOTICE_CLAIM_LEASE + SECOND)
    assert notices_send(ids, claimant="new-task").sent == ids
    assert len(mail.outbox) == 1


class SlowBackend(BaseEmailBackend):
    """Each message takes a lease's worth of (fake) time: a batch outlives its first claim."""

    step = dt.timedelta(0)
    clock = None

    def send_messages(self, messages):
        SlowBackend.clock(timezone.now() + SlowBackend.step)
        return len(messages)


def test_a_renewing_batch_keeps_its_claim_and_a_stalled_one_loses_it(settings, clock, monkeypatch):
    """A batch renews its remaining claims well inside the lease, so a sweep in the middle of
    a long batch finds nothing lapsed; a batch that stalled past its lease and lost a claim
    to another task does not send that notice."""
    from training.services import notices as notices_module

    ids = _enrolment_notices(4)
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    SlowBackend.clock = clock
    SlowBackend.step = NOTICE_CLAIM_LEASE * 0.6  # two messages: past the lease without renewal
    clock(timezone.now())
    # Time as the batch sees it moves with the fake clock.
    monkeypatch.setattr(notices_module.time, "monotonic", lambda: timezone.now().timestamp())
    waiting_during: list[list[int]] = []
    original_send = notices_module._sent_record

    def sent_record(notice_id):
        original_send(notice_id)
        waiting_during.append(notices_waiting_ids())

    monkeypatch.setattr(notices_module, "_sent_record", sent_record)
    report = notices_send(ids, claimant="long-batch")
    assert report.sent == ids
    assert waiting_during == [[], [], [], []]  # never lapsed while the batch ran

    # A batch stalled past its lease: another task takes the last notice meanwhile.
    Notice.objects.update(status=NoticeStatus.PENDING, claimed_by="", claimed_at=None, sent_at=None)
    mail.outbox = []
    SlowBackend.step = NOTICE_CLAIM_LEASE + SECOND

    def sent_record_then_steal(notice_id):
        original_send(notice_id)
        if notice_id == ids[0]:
            assert notices_send([ids[3]], claimant="other-task").sent == [ids[3]]

    monkeypatch.setattr(notices_module, "_sent_record", sent_record_then_steal)
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    report = notices_send(ids, claimant="stalled-batch")
    assert ids[3] not in report.sent
    assert Notice.objects.filter(status=NoticeStatus.SENT).count() == 4


def test_a_sweep_with_nothing_new_writes_nothing_and_skips_the_insert():
    """Once a reminder is written, later sweeps leave its people alone without re-inserting
    them (no work that grows with the number of people, no burnt sequence numbers)."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(trainers=[trainer], status=CohortStatus.RUNNING)
    EnrolmentFactory.create_batch(3, cohort=cohort)
    start = timezone.now() + dt.timedelta(hours=1)
    SessionFactory(cohort=cohort, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    assert sweep().written == 4
    with CaptureQueriesContext(connection) as queries:
        assert sweep().written == 0
    assert not [
        query for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("INSERT")
    ]
