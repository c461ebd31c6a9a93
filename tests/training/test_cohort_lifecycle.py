"""Cohorts move by their dates (open, running, finished), once, in the site's time zone; staff
setting the status by hand stops it, by the form and by the API; the beat runs it."""

import datetime as dt
import os
import re
import threading
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import TokenAccess
from api.services import api_token_create
from config.celery import app
from members.permissions import Role
from reporting.selectors.dashboard import in_flight_enrolments
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from tests.training.test_notices_worker import WAIT, Worker, worker_database_url  # noqa: F401 - a fixture
from training.models import CohortStatus, EnrolmentEvent, EnrolmentStatus
from training.services.cohort_lifecycle import cohorts_move_by_dates, site_today
from training.services.cohorts import cohort_update
from training.services.enrolment import cohort_accepts_applications
from training.tasks import cohorts_move_by_dates_task

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
OPENS, CLOSES = dt.date(2027, 3, 1), dt.date(2027, 3, 31)
STARTS, ENDS = dt.date(2027, 4, 1), dt.date(2027, 6, 30)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def clock(time_machine):
    def move(when: dt.datetime) -> None:
        time_machine.move_to(when, tick=False)

    move(at(dt.date(2027, 3, 15)))
    return move


def dated_cohort(**fields):
    values = {
        "enrolment_opens_on": OPENS,
        "enrolment_closes_on": CLOSES,
        "starts_on": STARTS,
        "ends_on": ENDS,
        "status": CohortStatus.OPEN,
    }
    return CohortFactory(**(values | fields))


def status_of(cohort) -> str:
    cohort.refresh_from_db()
    return cohort.status


# --- By the dates ---------------------------------------------------------------------------


def test_an_open_cohort_runs_from_its_first_day_and_finishes_after_its_last(seeded, clock):
    """Open until the start; running from the first day (London midnight, not UTC's); finished
    the day after the last day, not on it."""
    cohort = dated_cohort()
    clock(at(STARTS - dt.timedelta(days=1), 23, 59))
    assert cohorts_move_by_dates().started == []
    assert status_of(cohort) == CohortStatus.OPEN

    # 00:30 on 1 April in London is still 31 March in UTC (summer time).
    clock(at(STARTS, 0, 30))
    assert dt.datetime.now(dt.UTC).date() == STARTS - dt.timedelta(days=1)
    assert cohorts_move_by_dates().started == [cohort.pk]
    assert status_of(cohort) == CohortStatus.RUNNING

    clock(at(ENDS, 23, 30))
    assert cohorts_move_by_dates().finished == []
    assert status_of(cohort) == CohortStatus.RUNNING
    clock(at(ENDS + dt.timedelta(days=1), 0, 30))
    assert cohorts_move_by_dates().finished == [cohort.pk]
    assert status_of(cohort) == CohortStatus.FINISHED


def test_a_cohort_still_taking_applications_stays_open_until_they_close(seeded, clock):
    """Applications closing a week after the start: it is open for them until then."""
    cohort = dated_cohort(enrolment_closes_on=STARTS + dt.timedelta(days=7))
    clock(at(STARTS + dt.timedelta(days=3)))
    cohorts_move_by_dates()
    assert status_of(cohort) == CohortStatus.OPEN
    assert cohort_accepts_applications(cohort)
    clock(at(STARTS + dt.timedelta(days=8)))
    cohorts_move_by_dates()
    assert status_of(cohort) == CohortStatus.RUNNING
    assert not cohort_accepts_applications(cohort)


def test_an_open_cohort_past_its_end_finishes_at_once(seeded, clock):
    cohort = dated_cohort()
    clock(at(ENDS + dt.timedelta(days=40)))
    report = cohorts_move_by_dates()
    assert (report.started, report.finished) == ([], [cohort.pk])
    assert status_of(cohort) == CohortStatus.FINISHED


def test_draft_cancelled_and_hand_set_cohorts_are_left_alone(seeded, clock):
    draft = dated_cohort(status=CohortStatus.DRAFT)
    cancelled = dated_cohort(status=CohortStatus.CANCELLED)
    by_hand = dated_cohort(status=CohortStatus.RUNNING, status_follows_dates=False)
    clock(at(ENDS + dt.timedelta(days=2)))
    report = cohorts_move_by_dates()
    assert (report.started, report.finished) == ([], [])
    assert [status_of(c) for c in (draft, cancelled, by_hand)] == [
        CohortStatus.DRAFT,
        CohortStatus.CANCELLED,
        CohortStatus.RUNNING,
    ]


def test_moving_twice_moves_nothing_twice(seeded, clock):
    """The second run finds nothing due: no UPDATE, no second enrolment event."""
    starting = dated_cohort()
    finishing = dated_cohort(
        enrolment_opens_on=dt.date(2027, 1, 1),
        enrolment_closes_on=dt.date(2027, 1, 31),
        starts_on=dt.date(2027, 2, 1),
        ends_on=dt.date(2027, 3, 31),
        status=CohortStatus.RUNNING,
    )
    enrolment = EnrolmentFactory(cohort=finishing)
    clock(at(STARTS))
    first = cohorts_move_by_dates()
    assert (first.started, first.finished, first.incomplete) == ([starting.pk], [finishing.pk], 1)

    with CaptureQueriesContext(connection) as queries:
        second = cohorts_move_by_dates()
    assert (second.started, second.finished, second.completed, second.incomplete) == ([], [], 0, 0)
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(queries) == 3  # the cohorts due to finish, to start, and any left unsettled
    assert (
        EnrolmentEvent.objects.filter(enrolment=enrolment, to_status=EnrolmentStatus.INCOMPLETE).count() == 1
    )


def test_a_finished_cohort_leaves_the_dashboard_in_flight_figures(seeded, clock):
    """What reads status follows: once finished, its trainees are no longer in training now."""
    cohort = dated_cohort(status=CohortStatus.RUNNING)
    enrolment = EnrolmentFactory(cohort=cohort)
    clock(at(ENDS - dt.timedelta(days=1)))
    assert list(in_flight_enrolments().values_list("pk", flat=True)) == [enrolment.pk]
    clock(at(ENDS + dt.timedelta(days=1)))
    cohorts_move_by_dates()
    assert not in_flight_enrolments().exists()


def test_the_task_reports_what_moved(seeded, clock):
    dated_cohort()
    clock(at(STARTS))
    assert cohorts_move_by_dates_task() == {"started": 1, "finished": 0, "completed": 0, "incomplete": 0}
    assert cohorts_move_by_dates_task() == {"started": 0, "finished": 0, "completed": 0, "incomplete": 0}


def test_beat_runs_it_hourly_on_the_sweeps_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["cohorts-move-by-dates"]
    assert entry == {"task": "training.cohorts_move_by_dates", "schedule": 3600.0}
    assert settings.CELERY_TASK_ROUTES["training.cohorts_move_by_dates"] == {"queue": settings.SWEEPS_QUEUE}


def test_today_is_the_sites_whatever_zone_is_active(clock):
    from django.utils import timezone

    clock(at(STARTS, 0, 30))
    with timezone.override(ZoneInfo("America/New_York")):
        assert timezone.localdate() == STARTS - dt.timedelta(days=1)
        assert site_today() == STARTS


# --- Set by hand ----------------------------------------------------------------------------


def test_a_status_the_dates_would_not_give_stops_the_moves(seeded, clock):
    """Reopening a running cohort by hand turns following off; publishing a draft as open
    before it starts, or cancelling, does not."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    running = dated_cohort(status=CohortStatus.RUNNING)
    draft = dated_cohort(status=CohortStatus.DRAFT)
    clock(at(STARTS + dt.timedelta(days=5)))

    reopened = cohort_update(cohort=running, actor=staff, status=CohortStatus.OPEN)
    assert reopened.status_follows_dates is False
    clock(at(dt.date(2027, 3, 15)))
    published = cohort_update(cohort=draft, actor=staff, status=CohortStatus.OPEN)
    assert published.status_follows_dates is True

    clock(at(ENDS + dt.timedelta(days=1)))
    cohorts_move_by_dates()
    assert status_of(running) == CohortStatus.OPEN
    assert status_of(draft) == CohortStatus.FINISHED


def test_staff_turn_following_back_on(seeded, clock):
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = dated_cohort(status=CohortStatus.OPEN, status_follows_dates=False)
    clock(at(STARTS + dt.timedelta(days=2)))
    cohorts_move_by_dates()
    assert status_of(cohort) == CohortStatus.OPEN
    assert cohort_update(cohort=cohort, actor=staff, status_follows_dates=True).status_follows_dates
    cohorts_move_by_dates()
    assert status_of(cohort) == CohortStatus.RUNNING


def test_finishing_by_hand_settles_the_trainees_at_once(seeded, clock):
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = dated_cohort(status=CohortStatus.RUNNING)
    enrolment = EnrolmentFactory(cohort=cohort)
    clock(at(STARTS + dt.timedelta(days=20)))
    cohort = cohort_update(cohort=cohort, actor=staff, status=CohortStatus.FINISHED)
    assert cohort.status_follows_dates is False  # finished early: by hand
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.INCOMPLETE
    assert enrolment.completion_note == "The cohort held no sessions"


def _form_data(cohort, **overrides) -> dict:
    data = {
        "name": cohort.name,
        "region": cohort.region_id,
        "constituency": "",
        "capacity": str(cohort.capacity),
        "enrolment_opens_on": cohort.enrolment_opens_on.isoformat(),
        "enrolment_closes_on": cohort.enrolment_closes_on.isoformat(),
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "status": cohort.status,
        "status_follows_dates": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def follows_box(page: str) -> str:
    return re.search(r'<input[^>]*name="status_follows_dates"[^>]*>', page).group(0)


def test_the_edit_form_sets_the_override_and_lets_staff_lift_it(client, seeded, clock):
    """The box shows ticked; choosing another status with it left ticked unticks it; ticking
    it again (status unchanged) lets the dates decide."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = dated_cohort(status=CohortStatus.RUNNING)
    clock(at(STARTS + dt.timedelta(days=5)))
    client.force_login(staff)
    url = reverse("training:cohort-edit", args=[cohort.pk])
    page = client.get(url).content.decode()
    assert "checked" in follows_box(page)
    assert '<label for="id_status_follows_dates"' in page

    response = client.post(url, _form_data(cohort, status=CohortStatus.OPEN))
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert (cohort.status, cohort.status_follows_dates) == (CohortStatus.OPEN, False)
    assert "checked" not in follows_box(client.get(url).content.decode())

    response = client.post(url, _form_data(cohort, status_follows_dates="on"))
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.status_follows_dates is True
    cohorts_move_by_dates()
    assert status_of(cohort) == CohortStatus.RUNNING


@pytest.fixture
def api_staff():
    national = UserFactory(role=Role.NATIONAL_STAFF)
    _token, raw = api_token_create(
        user=national, name="Test", access=TokenAccess.READ_WRITE, resources=["cohorts"], expires_in_days=30
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_api_shows_and_sets_the_override(seeded, clock, api_staff):
    cohort = dated_cohort(status=CohortStatus.RUNNING)
    clock(at(STARTS + dt.timedelta(days=5)))
    url = f"/api/v1/cohorts/{cohort.pk}/"
    assert api_staff.get(url).json()["status_follows_dates"] is True

    response = api_staff.patch(url, {"status": "open"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status_follows_dates"] is False

    response = api_staff.patch(url, {"status_follows_dates": True}, format="json")
    assert response.json()["status_follows_dates"] is True
    # Sent with the status, the field decides: staff ask that it keep following.
    response = api_staff.patch(url, {"status": "running", "status_follows_dates": True}, format="json")
    assert (response.json()["status"], response.json()["status_follows_dates"]) == ("running", True)
    response = api_staff.patch(url, {"status_follows_dates": "maybe"}, format="json")
    assert response.status_code == 400
    assert "status_follows_dates" in response.json()["errors"]


def test_the_api_opens_a_cohort_that_follows_its_dates(seeded, clock, api_staff):
    cohort = dated_cohort()
    body = {
        "version": cohort.version_id,
        "name": "Leeds spring",
        "region": cohort.region_id,
        "capacity": 12,
        "enrolment_opens_on": str(OPENS),
        "enrolment_closes_on": str(CLOSES),
        "starts_on": str(STARTS),
        "ends_on": str(ENDS),
        "status": "open",
        "reviews_applications": False,
    }
    response = api_staff.post("/api/v1/cohorts/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status_follows_dates"] is True
    response = api_staff.post("/api/v1/cohorts/", body | {"status": "running"}, format="json")
    assert response.json()["status_follows_dates"] is False  # running before it starts: by hand


# --- Two beats, and a real worker ---------------------------------------------------------------


def _due_today():
    """A cohort due to start today and one due to finish today, with one trainee."""
    today = site_today()
    day = dt.timedelta(days=1)
    starting = CohortFactory(
        enrolment_opens_on=today - 20 * day,
        enrolment_closes_on=today - day,
        starts_on=today,
        ends_on=today + 30 * day,
        status=CohortStatus.OPEN,
    )
    finishing = CohortFactory(
        enrolment_opens_on=today - 60 * day,
        enrolment_closes_on=today - 40 * day,
        starts_on=today - 30 * day,
        ends_on=today - day,
        status=CohortStatus.RUNNING,
    )
    return starting, finishing, EnrolmentFactory(cohort=finishing)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_move_each_cohort_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (make test uses it under CI=true)")
    starting, finishing, enrolment = _due_today()
    start = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            start.wait()
            reports.append(cohorts_move_by_dates())
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(pk for report in reports for pk in report.started) == [starting.pk]
    assert sorted(pk for report in reports for pk in report.finished) == [finishing.pk]
    assert sum(report.incomplete for report in reports) == 1
    assert EnrolmentEvent.objects.filter(enrolment=enrolment).count() == 1


@pytest.fixture
def celery_worker(redis_url, worker_database_url, tmp_path):  # noqa: F811
    """A worker on Redis and the test database. Named `celery_worker` so that
    tests/conftest.py leaves Celery as configured (Redis)."""
    worker = Worker(
        env={**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": worker_database_url},
        log_path=tmp_path / "worker.log",
    )
    assert not app.conf.task_always_eager
    yield worker
    worker.stop()


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_through_a_real_worker_moves_each_cohort_once(celery_worker):
    """Through Redis and a worker (on the sweeps queue, as beat sends it): the first run moves
    both cohorts and settles the trainee; the second moves and writes nothing."""
    starting, finishing, enrolment = _due_today()
    celery_worker.start()

    first = cohorts_move_by_dates_task.delay().get(timeout=WAIT)
    assert first == {"started": 1, "finished": 1, "completed": 0, "incomplete": 1}
    second = cohorts_move_by_dates_task.delay().get(timeout=WAIT)
    assert second == {"started": 0, "finished": 0, "completed": 0, "incomplete": 0}

    assert (status_of(starting), status_of(finishing)) == (CohortStatus.RUNNING, CohortStatus.FINISHED)
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.INCOMPLETE
    assert EnrolmentEvent.objects.filter(enrolment=enrolment).count() == 1
