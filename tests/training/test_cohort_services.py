"""Cohorts and sessions, called directly: dates, places, time zones, calendars."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from icalendar import Calendar

from members.permissions import Role
from tests.factories import CohortFactory, ModuleFactory, RegionFactory, UserFactory, VersionFactory
from training.models import SessionMode
from training.services.calendar import sessions_ics
from training.services.cohorts import cohort_create, session_cancel, session_create, session_update

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def cohort(seeded):
    return CohortFactory(
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 11, 30),
        enrolment_opens_on=dt.date(2027, 1, 1),
        enrolment_closes_on=dt.date(2027, 2, 20),
    )


def _london(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_session_times_are_stored_in_utc_across_the_clock_change(cohort):
    """18:30 London time is 18:30 UTC in March before the change and 17:30 UTC after it."""
    before = session_create(
        cohort=cohort,
        title="Before",
        starts_at=_london(2027, 3, 23, 18, 30),
        ends_at=_london(2027, 3, 23, 20, 30),
        mode=SessionMode.IN_PERSON,
        venue="Hall",
    )
    after = session_create(
        cohort=cohort,
        title="After",
        starts_at=_london(2027, 3, 30, 18, 30),
        ends_at=_london(2027, 3, 30, 20, 30),
        mode=SessionMode.IN_PERSON,
        venue="Hall",
    )
    before.refresh_from_db()
    after.refresh_from_db()
    assert before.starts_at.astimezone(dt.UTC).hour == 18
    assert after.starts_at.astimezone(dt.UTC).hour == 17
    assert after.starts_at.astimezone(LONDON).hour == 18


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        (_london(2027, 4, 1, 20), _london(2027, 4, 1, 18), "must end after it starts"),
        (_london(2027, 2, 27, 18), _london(2027, 2, 27, 20), "within the cohort's dates"),
        (_london(2027, 12, 1, 18), _london(2027, 12, 1, 20), "within the cohort's dates"),
    ],
)
def test_bad_session_times_are_refused(cohort, starts, ends, message):
    """A session ending before it starts, or outside the cohort's dates, is refused."""
    with pytest.raises(ValidationError, match=message):
        session_create(
            cohort=cohort, title="x", starts_at=starts, ends_at=ends, mode=SessionMode.IN_PERSON, venue="Hall"
        )
    assert not cohort.sessions.exists()


def test_online_sessions_need_a_link_and_modules_must_match_the_version(cohort):
    """An online session without a link, or with another version's module, is refused."""
    kwargs = {
        "cohort": cohort,
        "title": "x",
        "starts_at": _london(2027, 4, 1, 18),
        "ends_at": _london(2027, 4, 1, 20),
    }
    with pytest.raises(ValidationError, match="needs its link"):
        session_create(mode=SessionMode.ONLINE, **kwargs)
    with pytest.raises(ValidationError, match="programme version this cohort follows"):
        session_create(mode=SessionMode.IN_PERSON, venue="Hall", modules=[ModuleFactory()], **kwargs)


def test_rescheduling_keeps_the_calendar_uid_and_raises_the_sequence(cohort, settings):
    """A rescheduled session updates the same calendar event, whose UID is under the site's
    host (never a fixed string); a cancelled one says so."""
    settings.SITE_URL = "https://training.example.org:8443"
    session = session_create(
        cohort=cohort,
        title="Power",
        starts_at=_london(2027, 4, 1, 18),
        ends_at=_london(2027, 4, 1, 20),
        mode=SessionMode.IN_PERSON,
        venue="Hall",
    )
    first = Calendar.from_ical(sessions_ics([session], name="x")).walk("VEVENT")[0]
    session = session_update(
        session=session, starts_at=_london(2027, 4, 2, 18), ends_at=_london(2027, 4, 2, 20)
    )
    second = Calendar.from_ical(sessions_ics([session], name="x")).walk("VEVENT")[0]
    assert first["UID"] == second["UID"] == f"session-{session.pk}@training.example.org"
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.decoded("DTSTART") == _london(2027, 4, 2, 18)
    session = session_cancel(session=session)
    third = Calendar.from_ical(sessions_ics([session], name="x")).walk("VEVENT")[0]
    assert third["STATUS"] == "CANCELLED"
    assert third["SEQUENCE"] > second["SEQUENCE"]
    assert third["UID"] == first["UID"]


def test_cohorts_run_only_published_versions_with_trainers(seeded):
    """A draft version, or a trainer without the trainer role, is refused."""
    trainee = UserFactory(role=Role.TRAINEE)
    region = RegionFactory()
    kwargs = {
        "name": "x",
        "region": region,
        "constituency": None,
        "capacity": 5,
        "enrolment_opens_on": dt.date(2027, 1, 1),
        "enrolment_closes_on": dt.date(2027, 1, 20),
        "starts_on": dt.date(2027, 2, 1),
        "ends_on": dt.date(2027, 4, 1),
        "reviews_applications": False,
    }
    with pytest.raises(ValidationError, match="published version"):
        cohort_create(version=VersionFactory(status="draft", published_at=None), trainers=[], **kwargs)
    with pytest.raises(ValidationError, match="trainer role"):
        cohort_create(version=VersionFactory(), trainers=[trainee], **kwargs)
