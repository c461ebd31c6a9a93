"""Nothing that is no longer true: a notice written but not yet sent is dropped (or says less)
when what it says stops being true, and a session moved or cancelled, or a cohort cancelled,
is told to its trainees and trainers whichever way it was changed (page or API).

Built on the ledger tests' fixtures: a frozen clock and a running cohort with a session on
Friday 14 May 2027 at 18:30 London time."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from members.permissions import Role
from tests.factories import AssignmentFactory, EnrolmentFactory, ModuleFactory, UserFactory
from tests.training import test_notices as ledger
from tests.training.test_manage import session_post_data
from tests.training.test_notices import H2, H48, LONDON, SESSION_START, html_of, outbox_to, running_cohort
from training.models import (
    AssignmentDueDate,
    AttendanceStatus,
    CohortStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    SessionConfirmation,
)
from training.services.attendance import apology_send, checkin, register_save
from training.services.notices import notices_create, notices_send
from training.services.reminders import sweep
from training.tasks import notices_sweep

pytestmark = pytest.mark.django_db

REPLY_PATH = "/emails/reply/"

# The ledger tests' fixtures, used here as they are.
clock = ledger.clock
world = ledger.world


def _reminder_of(member) -> Notice:
    return Notice.objects.get(kind=NoticeKind.SESSION_REMINDER, recipient=member)


# --- Session reminders ----------------------------------------------------------------------


def test_a_trainee_who_sent_apologies_gets_no_reminder(world, clock):
    """No "see you soon" to someone who said they cannot come; the others are reminded."""
    away, coming = world.trainees
    apology_send(session=world.session, member=away, note="Working late")
    clock(SESSION_START - H48)
    notices_sweep()
    notice = _reminder_of(away)
    assert (notice.status, notice.outcome) == (
        NoticeStatus.SKIPPED,
        "The recipient sent apologies for this session.",
    )
    assert outbox_to(away) == []
    assert len(outbox_to(coming)) == 1
    assert len(outbox_to(world.trainer)) == 1


def test_apologies_sent_after_the_reminder_was_written_drop_it(world, clock):
    """Written by the sweep, then the trainee apologised before it went: it is not sent."""
    away = world.trainees[0]
    clock(SESSION_START - H48)
    sweep()
    apology_send(session=world.session, member=away)
    notices_sweep()
    assert _reminder_of(away).status == NoticeStatus.SKIPPED
    assert outbox_to(away) == []


def test_a_trainee_who_said_yes_is_not_asked_again(world, clock):
    """The 48-hour reminder asks the others to reply; not someone who already said yes."""
    said_yes, silent = world.trainees
    SessionConfirmation.objects.create(
        session=world.session, enrolment=world.enrolments[0], created_at=SESSION_START - H48 * 2
    )
    clock(SESSION_START - H48)
    notices_sweep()
    [message] = outbox_to(said_yes)
    assert REPLY_PATH not in message.body
    assert REPLY_PATH not in html_of(message)
    assert "You said you'll be there" in message.body
    assert "whether you can come" not in message.body
    [other] = outbox_to(silent)
    assert REPLY_PATH in other.body


def test_a_reminder_sent_after_check_in_asks_nothing(world, clock):
    """A 48-hour reminder held up until after the trainee checked in: no ask, and it says so."""
    member = world.trainees[0]
    clock(SESSION_START - H48)
    sweep()  # written, not sent
    clock(SESSION_START - dt.timedelta(minutes=20))
    checkin(member=member, code=world.session.checkin_code)
    notices_send([_reminder_of(member).pk])
    [message] = outbox_to(member)
    assert REPLY_PATH not in message.body
    assert "whether you can come" not in message.body
    assert "You're already checked in." in message.body
    assert "You’re checked in" in html_of(message)


# --- Absences and work due ------------------------------------------------------------------


def test_an_absence_warning_is_dropped_when_the_register_is_corrected(world, clock):
    """Marked absent, then corrected to present before the warning went: it is not sent."""
    enrolment = world.enrolments[0]
    clock(SESSION_START + dt.timedelta(minutes=5))
    register_save(session=world.session, marks={enrolment.pk: AttendanceStatus.ABSENT}, actor=world.trainer)
    ids = notices_create(
        kind=NoticeKind.ABSENCE_WARNING,
        subject=f"absence:enrolment:{enrolment.pk}:session:{world.session.pk}",
        recipient_ids=[enrolment.member_id],
        scheduled_for=world.session.starts_at,
    )
    register_save(session=world.session, marks={enrolment.pk: AttendanceStatus.PRESENT}, actor=world.trainer)
    notices_send(ids)
    notice = Notice.objects.get(pk=ids[0])
    assert (notice.status, notice.outcome) == (
        NoticeStatus.SKIPPED,
        "The absence was corrected on the register.",
    )
    assert mail.outbox == []


def test_an_assignment_reminder_is_dropped_when_the_due_date_moves_and_follows_it(clock):
    """Due 21 May, reminder written for 18 May; the cohort moves the date to 28 May before it
    went: the old one is dropped and the reminder comes three days before the new date."""
    cohort = running_cohort(name="Hull")
    assignment = AssignmentFactory(
        module=ModuleFactory(version=cohort.version), title="Power map", due_offset_days=18
    )
    member = EnrolmentFactory(cohort=cohort, member__onboarding=False).member
    first_reminder = dt.datetime(2027, 5, 18, 9, 0, tzinfo=LONDON)
    clock(first_reminder)
    assert sweep().written == 1
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=dt.date(2027, 5, 28))
    notices_sweep()
    [dropped] = Notice.objects.filter(kind=NoticeKind.ASSIGNMENT_DUE)
    assert dropped.status == NoticeStatus.SKIPPED
    assert dropped.outcome.startswith("The due date moved")
    assert mail.outbox == []

    clock(first_reminder + dt.timedelta(days=7))
    notices_sweep()
    [message] = outbox_to(member)
    assert "Friday 28 May" in message.subject


# --- Sessions moved or cancelled, cohorts cancelled: every path tells trainees and trainers ----


def _told(kind) -> set[int]:
    return set(Notice.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def _national_staff():
    return UserFactory(role=Role.NATIONAL_STAFF)


def _api_as_national_staff() -> APIClient:
    client = APIClient()
    client.force_login(_national_staff())
    return client


def _move_on_the_page(client, world):
    client.force_login(_national_staff())
    data = session_post_data(
        world.cohort, title=world.session.title, date="2027-05-14", start_time="19:00", end_time="21:00"
    )
    return client.post(reverse("training:session-edit", args=[world.session.pk]), data)


def _move_by_the_api(client, world):
    starts = SESSION_START + dt.timedelta(minutes=30)
    return _api_as_national_staff().patch(
        f"/api/v1/sessions/{world.session.pk}/",
        {"starts_at": starts.isoformat(), "ends_at": (starts + H2).isoformat()},
        format="json",
    )


def _cancel_on_the_page(client, world):
    client.force_login(_national_staff())
    return client.post(reverse("training:session-cancel", args=[world.session.pk]))


def _cancel_by_the_api(client, world):
    return _api_as_national_staff().post(f"/api/v1/sessions/{world.session.pk}/cancel/", format="json")


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (_move_on_the_page, NoticeKind.SESSION_CHANGED),
        (_move_by_the_api, NoticeKind.SESSION_CHANGED),
        (_cancel_on_the_page, NoticeKind.SESSION_CANCELLED),
        (_cancel_by_the_api, NoticeKind.SESSION_CANCELLED),
    ],
)
def test_a_session_moved_or_cancelled_is_told_to_its_trainees_and_trainers(
    client, world, change, kind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client, world)
    if response.status_code == 302:  # the page, back to the cohort
        assert response["Location"] == reverse("training:cohort-manage", args=[world.cohort.pk])
    else:
        assert response.status_code == 200, response.content
    assert _told(kind) == world.people
    for person in [world.trainer, *world.trainees]:
        assert len(outbox_to(person)) == 1


def test_a_cohort_cancelled_by_the_api_is_told_to_its_trainees_and_trainers(
    world, django_capture_on_commit_callbacks
):
    client = _api_as_national_staff()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/cohorts/{world.cohort.pk}/", {"status": CohortStatus.CANCELLED}, format="json"
        )
    assert response.status_code == 200, response.content
    assert world.people <= _told(NoticeKind.COHORT_CANCELLED)
    # One notice for the cohort, none per session.
    assert _told(NoticeKind.SESSION_CANCELLED) == set()
