"""A member's calendar feed holds every session they attend or run: trainees, trainers and staff
alike, each session once, in a fixed number of queries. Through the HTTP client."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import CalendarFeed, CohortStatus, EnrolmentStatus
from training.services.calendar import calendar_feed_rotate, session_uid

pytestmark = pytest.mark.django_db


def _cohort(*, trainers=(), sessions=2):
    cohort = CohortFactory(status=CohortStatus.RUNNING, trainers=list(trainers))
    first = timezone.make_aware(dt.datetime.combine(cohort.starts_on, dt.time(18, 30)))
    for day in range(sessions):
        starts_at = first + dt.timedelta(days=day)
        SessionFactory(cohort=cohort, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2))
    return cohort


def _feed_url(member) -> str:
    feed = CalendarFeed.objects.filter(member=member).first() or calendar_feed_rotate(member=member)
    return reverse("training:calendar-feed", kwargs={"token": feed.token})


def _uids(client, member) -> list[str]:
    """The feed's event UIDs, in order, repeats kept (fetched without signing in)."""
    response = client.get(_feed_url(member))
    assert response.status_code == 200
    return [str(event["UID"]) for event in Calendar.from_ical(response.content).walk("VEVENT")]


def _uids_of(*cohorts) -> set[str]:
    return {session_uid(session) for cohort in cohorts for session in cohort.sessions.all()}


def test_a_trainers_feed_holds_the_sessions_of_the_cohorts_they_train(client, seeded):
    """Each session of each cohort they train, and nobody else's."""
    trainer = UserFactory(role=Role.TRAINER)
    theirs = [_cohort(trainers=[trainer]), _cohort(trainers=[trainer, UserFactory(role=Role.TRAINER)])]
    _cohort(trainers=[UserFactory(role=Role.TRAINER)])

    uids = _uids(client, trainer)

    assert sorted(uids) == sorted(_uids_of(*theirs))


def test_a_trainer_also_enrolled_sees_each_session_once(client, seeded):
    """A trainer who attends one cohort, trains another, and both trains and attends a third
    (an odd case, but the data allow it) gets each session once."""
    trainer = UserFactory(role=Role.TRAINER)
    attends = _cohort()
    EnrolmentFactory(cohort=attends, member=trainer)
    trains = _cohort(trainers=[trainer])
    both = _cohort(trainers=[trainer])
    EnrolmentFactory(cohort=both, member=trainer)
    left = _cohort()
    EnrolmentFactory(cohort=left, member=trainer, status=EnrolmentStatus.WITHDRAWN)

    uids = _uids(client, trainer)

    assert len(uids) == len(set(uids))
    assert set(uids) == _uids_of(attends, trains, both)


def test_staff_get_a_feed_of_the_sessions_they_run_or_an_empty_one(client, seeded):
    """Staff manage every cohort but run only those they train: their feed holds those. Staff
    who neither attend nor train get an empty (valid) calendar."""
    runs = UserFactory(role=Role.NATIONAL_STAFF)
    neither = UserFactory(role=Role.REGIONAL_STAFF)
    theirs = _cohort(trainers=[runs])
    _cohort()

    assert sorted(_uids(client, runs)) == sorted(_uids_of(theirs))
    assert _uids(client, neither) == []


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_feed_runs_a_fixed_number_of_queries(client, seeded):
    """Two queries (the feed by its token, then the sessions), whatever the number of cohorts
    attended and trained and of their sessions."""
    member = UserFactory(role=Role.TRAINER)
    EnrolmentFactory(cohort=_cohort(sessions=1), member=member)
    _cohort(trainers=[member], sessions=1)
    url = _feed_url(member)
    small = _count(client, url)
    for _ in range(3):
        EnrolmentFactory(cohort=_cohort(sessions=4), member=member)
        _cohort(trainers=[member], sessions=5)
    assert len(_uids(client, member)) == 2 + 3 * 9

    assert _count(client, url) == small == 2


@pytest.mark.parametrize("role", [Role.TRAINER, Role.NATIONAL_STAFF, Role.REGIONAL_STAFF])
def test_trainers_and_staff_may_create_their_calendar_link(client, seeded, role):
    """The calendar page, open to trainees only before, lets every member create their link."""
    user = UserFactory(role=role)
    client.force_login(user)
    assert client.get(reverse("training:calendar")).status_code == 200

    response = client.post(reverse("training:calendar"), follow=True)

    assert response.status_code == 200
    feed = CalendarFeed.objects.get(member=user)
    assert reverse("training:calendar-feed", kwargs={"token": feed.token}) in response.content.decode()


def test_the_trainers_home_links_to_their_calendar(client, seeded):
    """Trainers see the calendar link on their home page (their cohorts), as trainees do on
    My training."""
    trainer = UserFactory(role=Role.TRAINER)
    client.force_login(trainer)

    page = client.get(reverse("training:manage-cohort-list")).content.decode()

    assert f'href="{reverse("training:calendar")}"' in page
