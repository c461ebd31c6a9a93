"""Attendance is recorded only when it can be true: present or absent once a session has
started (excused at any time, since apologies come in advance), self check-in only within
its window. The service refuses, so the register page and the API say the same."""

import datetime as dt
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import Attendance, AttendanceStatus, CohortStatus
from training.services.attendance import (
    CHECKIN_OPENS_BEFORE,
    checkin,
    checkin_is_open,
    checkin_opens_at,
    register_save,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER)


def _session_in(trainer, starts_in: dt.timedelta):
    today = timezone.localdate()
    cohort = CohortFactory(
        status=CohortStatus.RUNNING,
        trainers=[trainer],
        enrolment_opens_on=today - dt.timedelta(days=40),
        enrolment_closes_on=today - dt.timedelta(days=30),
        starts_on=today - dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=60),
    )
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    return SessionFactory(cohort=cohort, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2))


def html_of(response) -> str:
    return html.unescape(response.content.decode())


# --- The service ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AttendanceStatus.PRESENT, AttendanceStatus.ABSENT])
def test_present_or_absent_before_the_start_is_refused_with_when_it_opens(trainer, status):
    """A tap weeks early records nothing: the refusal says from when the register opens."""
    session = _session_in(trainer, dt.timedelta(days=21))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    start = timezone.localtime(session.starts_at)
    with pytest.raises(ValidationError) as refused:
        register_save(session=session, marks={enrolment.pk: status}, actor=trainer)
    [message] = refused.value.messages
    assert message.startswith("This session has not started yet. You can take the register from ")
    assert start.strftime("%H:%M") in message
    assert str(start.day) in message
    assert not Attendance.objects.exists()


def test_one_early_mark_refuses_the_whole_register(trainer):
    """Excused for one and present for another, before the start: nothing is saved."""
    session = _session_in(trainer, dt.timedelta(hours=3))
    first, second = EnrolmentFactory.create_batch(2, cohort=session.cohort)
    with pytest.raises(ValidationError, match="has not started yet"):
        register_save(session=session, marks={first.pk: "excused", second.pk: "present"}, actor=trainer)
    assert not Attendance.objects.exists()


def test_excused_may_be_recorded_before_the_start(trainer):
    """Apologies come in advance: the trainer may record excused at any time."""
    session = _session_in(trainer, dt.timedelta(days=2))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    assert register_save(session=session, marks={enrolment.pk: "excused"}, actor=trainer) == 1
    assert Attendance.objects.get().status == AttendanceStatus.EXCUSED


def test_present_and_absent_from_the_start(trainer):
    """At the start time itself, and after, present and absent are recorded."""
    session = _session_in(trainer, dt.timedelta(days=2))
    here, away = EnrolmentFactory.create_batch(2, cohort=session.cohort)
    marks = {here.pk: "present", away.pk: "absent"}
    with pytest.raises(ValidationError):
        register_save(
            session=session, marks=marks, actor=trainer, now=session.starts_at - dt.timedelta(seconds=1)
        )
    assert register_save(session=session, marks=marks, actor=trainer, now=session.starts_at) == 2


# --- Self check-in ----------------------------------------------------------------------------


def test_checkin_opens_thirty_minutes_before_and_closes_at_the_end(trainer):
    """One window, read by the service and the pages alike."""
    session = _session_in(trainer, dt.timedelta(days=1))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    assert dt.timedelta(minutes=30) == CHECKIN_OPENS_BEFORE
    opens = checkin_opens_at(session)
    assert opens == session.starts_at - dt.timedelta(minutes=30)
    assert not checkin_is_open(session=session, now=opens - dt.timedelta(seconds=1))
    assert checkin_is_open(session=session, now=opens)
    assert checkin_is_open(session=session, now=session.ends_at)
    assert not checkin_is_open(session=session, now=session.ends_at + dt.timedelta(seconds=1))

    with pytest.raises(ValidationError, match="Check-in opens 30 minutes before the session starts"):
        checkin(member=enrolment.member, code=session.checkin_code, now=opens - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError, match="check-in is closed"):
        checkin(
            member=enrolment.member, code=session.checkin_code, now=session.ends_at + dt.timedelta(seconds=1)
        )
    assert checkin(member=enrolment.member, code=session.checkin_code, now=opens).status == "present"


# --- The register page ------------------------------------------------------------------------


def test_the_register_page_says_when_it_opens_and_offers_only_excused_before(client, trainer):
    """Before the start: why, from when, and no present or absent buttons."""
    session = _session_in(trainer, dt.timedelta(days=3))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:session-register", args=[session.pk])))
    start = timezone.localtime(session.starts_at)
    assert f"You can take the register from {start:%A} {start.day} {start:%B %Y, %H:%M}" in page
    assert f'name="mark_{enrolment.pk}"' in page
    assert 'value="excused"' in page
    assert 'value="present"' not in page
    assert 'value="absent"' not in page


def test_a_present_posted_before_the_start_is_a_400_with_the_reason(client, trainer):
    """A hand-made POST is refused by the service, and the page says why."""
    session = _session_in(trainer, dt.timedelta(days=3))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    client.force_login(trainer)
    response = client.post(
        reverse("training:session-register", args=[session.pk]), {f"mark_{enrolment.pk}": "present"}
    )
    assert response.status_code == 400
    assert "This session has not started yet. You can take the register from" in html_of(response)
    assert not Attendance.objects.exists()


def test_the_register_page_offers_every_mark_once_started(client, trainer):
    """Once started, the register takes present and absent."""
    session = _session_in(trainer, -dt.timedelta(minutes=10))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])
    page = html_of(client.get(url))
    assert "You can take the register from" not in page
    assert 'value="present"' in page
    assert 'value="absent"' in page
    assert client.post(url, {f"mark_{enrolment.pk}": "present"}).status_code == 302
    assert Attendance.objects.get().status == AttendanceStatus.PRESENT


# --- The API --------------------------------------------------------------------------------


def test_the_api_answers_400_with_the_services_reason(trainer):
    """The API records through the same service: the same refusal, as a 400 with the reason."""
    session = _session_in(trainer, dt.timedelta(days=3))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    client = APIClient()
    client.force_login(trainer)
    url = f"/api/v1/sessions/{session.pk}/attendance/"
    response = client.post(url, {"marks": [{"enrolment": enrolment.pk, "status": "absent"}]}, format="json")
    assert response.status_code == 400
    [message] = response.json()["errors"]["non_field_errors"]
    assert message.startswith("This session has not started yet. You can take the register from ")
    assert not Attendance.objects.exists()
    response = client.post(url, {"marks": [{"enrolment": enrolment.pk, "status": "excused"}]}, format="json")
    assert response.status_code == 200
    assert Attendance.objects.get().status == AttendanceStatus.EXCUSED
