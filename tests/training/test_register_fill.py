"""The register's "Mark everyone not yet marked present": it fills the form, saves nothing, and
can be undone until "Save register"; it is offered only once the session has started."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import Attendance, AttendanceStatus, CohortStatus
from training.services.attendance import register_save

pytestmark = pytest.mark.django_db

FILL = "Mark everyone not yet marked present"


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER)


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


def _session(trainer, *, starts_in: dt.timedelta):
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


@pytest.fixture
def started(trainer):
    """A session that started an hour ago, with four trainees: one already absent, one
    excused, two not yet marked."""
    session = _session(trainer, starts_in=-dt.timedelta(hours=1))
    absent, excused, first, second = EnrolmentFactory.create_batch(4, cohort=session.cohort)
    register_save(
        session=session,
        marks={absent.pk: AttendanceStatus.ABSENT, excused.pk: AttendanceStatus.EXCUSED},
        actor=trainer,
    )
    return {"session": session, "absent": absent, "excused": excused, "unmarked": [first, second]}


def url_of(session) -> str:
    return reverse("training:session-register", args=[session.pk])


def checked(page: str) -> dict[str, str]:
    """{field name: value} of every radio checked on the page."""
    return dict(re.findall(r'<input type="radio"[^>]*name="(mark_\d+)"[^>]*value="(\w+)" checked', page))


def posted(page: str) -> dict[str, str]:
    """What the browser sends for the page's form as it stands: its checked radios and hidden inputs."""
    data = checked(page)
    data |= dict(re.findall(r'<input type="hidden" name="(filled)" value="([^"]*)"', page))
    return data


def name(enrolment) -> str:
    return f"mark_{enrolment.pk}"


def test_the_fill_marks_only_the_blank_rows_present_and_saves_nothing(trainer_client, started):
    session = started["session"]
    page = html.unescape(trainer_client.get(url_of(session)).content.decode())
    assert FILL in page
    before = set(Attendance.objects.values_list("enrolment_id", "status"))
    response = trainer_client.post(url_of(session), posted(page) | {"fill_present": ""})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert checked(page) == {
        name(started["absent"]): "absent",
        name(started["excused"]): "excused",
        **{name(enrolment): "present" for enrolment in started["unmarked"]},
    }
    assert "2 marked present, not saved yet." in page
    assert 'name="fill_undo"' in page
    # Nothing is saved until "Save register".
    assert set(Attendance.objects.values_list("enrolment_id", "status")) == before

    response = trainer_client.post(url_of(session), posted(page))
    assert response.status_code == 302
    saved = dict(Attendance.objects.values_list("enrolment_id", "status"))
    assert [saved[enrolment.pk] for enrolment in started["unmarked"]] == ["present", "present"]
    assert saved[started["absent"].pk] == "absent"


def test_undo_puts_the_form_back_as_it_was_before_the_fill(trainer_client, started):
    session = started["session"]
    page = html.unescape(trainer_client.get(url_of(session)).content.decode())
    before = checked(page)
    page = html.unescape(
        trainer_client.post(url_of(session), posted(page) | {"fill_present": ""}).content.decode()
    )
    response = trainer_client.post(url_of(session), posted(page) | {"fill_undo": ""})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert checked(page) == before
    assert "Undone" in page
    assert not Attendance.objects.filter(status="present").exists()


def test_undo_keeps_a_mark_changed_after_the_fill(trainer_client, started):
    """Someone the fill marked present, then changed to absent by hand, stays absent."""
    session = started["session"]
    first, second = started["unmarked"]
    page = html.unescape(trainer_client.get(url_of(session)).content.decode())
    page = html.unescape(
        trainer_client.post(url_of(session), posted(page) | {"fill_present": ""}).content.decode()
    )
    data = posted(page) | {name(first): "absent", "fill_undo": ""}
    page = html.unescape(trainer_client.post(url_of(session), data).content.decode())
    assert checked(page)[name(first)] == "absent"
    assert name(second) not in checked(page)


def test_with_everyone_marked_the_fill_says_so(trainer_client, started):
    session = started["session"]
    data = {name(enrolment): "present" for enrolment in started["unmarked"]}
    data |= {name(started["absent"]): "absent", name(started["excused"]): "excused", "fill_present": ""}
    response = trainer_client.post(url_of(session), data)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Everyone is already marked." in page
    assert 'name="fill_undo"' not in page


def test_before_the_start_the_fill_is_not_offered_and_is_refused(trainer, trainer_client):
    session = _session(trainer, starts_in=dt.timedelta(hours=3))
    enrolment = EnrolmentFactory(cohort=session.cohort)
    page = html.unescape(trainer_client.get(url_of(session)).content.decode())
    assert FILL not in page
    assert "register-fill.js" not in page
    response = trainer_client.post(url_of(session), {"fill_present": ""})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Present can be recorded once the session has started." in page
    assert name(enrolment) not in checked(page)
    assert not Attendance.objects.exists()


def test_the_script_is_a_static_file_and_the_radios_carry_no_autocomplete(trainer_client, started):
    """The page's enhancement is a static file (the CSP allows no inline script); radios
    have no autocomplete attribute, which the HTML standard does not allow on them."""
    page = trainer_client.get(url_of(started["session"])).content.decode()
    assert re.search(r'<script src="/static/js/register-fill(\.\w+)?\.js" defer></script>', page)
    assert "<script>" not in page
    assert not re.search(r'<input type="radio"[^>]*autocomplete', page)


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER])
def test_someone_not_running_the_cohort_cannot_fill_it(client, started, role):
    """Another cohort's trainer, or a trainee, gets a 403/404 and nothing changes."""
    client.force_login(UserFactory(role=role))
    response = client.post(url_of(started["session"]), {"fill_present": ""})
    assert response.status_code in {403, 404}
    assert not Attendance.objects.filter(status="present").exists()


def test_the_fill_runs_a_fixed_number_of_queries(trainer, trainer_client):
    """Filling the register of 2 costs the same as of 12."""
    session = _session(trainer, starts_in=-dt.timedelta(hours=1))
    EnrolmentFactory.create_batch(2, cohort=session.cohort)
    trainer_client.post(url_of(session), {"fill_present": ""})

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert trainer_client.post(url_of(session), {"fill_present": ""}).status_code == 200
        return len(queries)

    small = count()
    EnrolmentFactory.create_batch(10, cohort=session.cohort)
    assert count() == small
