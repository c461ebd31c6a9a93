"""Registers, self check-in and apologies, called directly."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.permissions import Role
from tests.factories import EnrolmentFactory, SessionFactory, UserFactory
from training.models import Attendance, AttendanceSource, AttendanceStatus
from training.services.attendance import apology_send, checkin, register_save
from training.services.cohorts import session_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(seeded):
    """A session still to come (the factory's default)."""
    return SessionFactory()


@pytest.fixture
def enrolment(session):
    return EnrolmentFactory(cohort=session.cohort)


def test_register_saves_everyone_in_one_call_and_updates_on_a_second(session, enrolment):
    """One call records every trainee; a second call changes only what changed."""
    other = EnrolmentFactory(cohort=session.cohort)
    trainer = UserFactory(role=Role.TRAINER)
    during = session.starts_at
    marks = {enrolment.pk: "present", other.pk: "absent"}
    assert register_save(session=session, marks=marks, actor=trainer, now=during) == 2
    marks = {enrolment.pk: "present", other.pk: "excused"}
    assert register_save(session=session, marks=marks, actor=trainer, now=during) == 1
    rows = dict(Attendance.objects.values_list("enrolment_id", "status"))
    assert rows == {enrolment.pk: "present", other.pk: "excused"}


def test_register_refuses_people_outside_the_cohort(session, enrolment):
    """Marks for someone not enrolled in this cohort are refused, and nothing is saved."""
    stranger = EnrolmentFactory()
    with pytest.raises(ValidationError, match="not enrolled"):
        register_save(session=session, marks={enrolment.pk: "present", stranger.pk: "present"}, actor=None)
    assert not Attendance.objects.exists()


def test_register_refuses_unknown_statuses(session, enrolment):
    """Only present, absent or excused are accepted."""
    with pytest.raises(ValidationError, match="present, absent or excused"):
        register_save(session=session, marks={enrolment.pk: "asleep"}, actor=None)


def test_checkin_marks_present_during_the_session(session, enrolment):
    """The right code during the session marks the trainee present, whatever its case and spaces."""
    code = f" {session.checkin_code[:3].lower()} {session.checkin_code[3:]} "
    row = checkin(member=enrolment.member, code=code, now=session.starts_at + dt.timedelta(minutes=5))
    assert (row.status, row.source) == (AttendanceStatus.PRESENT, AttendanceSource.CHECK_IN)


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (dt.timedelta(minutes=-31), "opens 30 minutes before"),
        (dt.timedelta(hours=2, minutes=1), "has ended"),
    ],
)
def test_checkin_outside_the_window_is_refused(session, enrolment, offset, message):
    """Before the window opens or after the session ends, check-in says so and records nothing."""
    with pytest.raises(ValidationError, match=message):
        checkin(member=enrolment.member, code=session.checkin_code, now=session.starts_at + offset)
    assert not Attendance.objects.exists()


def test_checkin_with_a_wrong_code_or_by_a_stranger_is_refused(session, enrolment):
    """A wrong code, or a member of another cohort, gets a plain message."""
    during = session.starts_at + dt.timedelta(minutes=5)
    with pytest.raises(ValidationError, match="does not match any session"):
        checkin(member=enrolment.member, code="ZZZZZZ", now=during)
    with pytest.raises(ValidationError, match="not enrolled"):
        checkin(member=EnrolmentFactory().member, code=session.checkin_code, now=during)


def test_checkin_to_a_cancelled_session_is_refused(session, enrolment):
    """A cancelled session takes no check-ins."""
    session_cancel(session=session)
    with pytest.raises(ValidationError, match="cancelled"):
        checkin(member=enrolment.member, code=session.checkin_code, now=session.starts_at)


def test_apology_marks_excused_unless_the_trainer_has_recorded(session, enrolment):
    """An apology in advance excuses the trainee; it never overrides the trainer's register."""
    apology_send(session=session, member=enrolment.member, note="Hospital appointment")
    assert Attendance.objects.get().status == AttendanceStatus.EXCUSED

    other = EnrolmentFactory(cohort=session.cohort)
    # The trainer takes the register early (the session has started in this made-up clock);
    # a late apology then leaves it alone.
    register_save(session=session, marks={other.pk: "absent"}, actor=None, now=session.starts_at)
    apology_send(session=session, member=other.member, note="Late notice")
    assert Attendance.objects.get(enrolment=other).status == AttendanceStatus.ABSENT


def test_apology_after_the_start_is_refused(seeded):
    """Once a session has started, an apology goes to the trainer directly."""
    session = SessionFactory(
        cohort__starts_on=timezone.localdate() - dt.timedelta(days=1),
        starts_at=timezone.now() - dt.timedelta(minutes=1),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    enrolment = EnrolmentFactory(cohort=session.cohort)
    with pytest.raises(ValidationError, match="has started"):
        apology_send(session=session, member=enrolment.member)
