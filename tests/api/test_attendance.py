"""Attendance: the cohort's trainers and national staff read a session's register and record
it in one call, through register_save (the register page's service). Every line is checked
first and its errors named by line; then all are saved or none."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.models import ApiResource, ApiToken, TokenAccess
from audit.models import AuditAction, AuditEntry
from members.permissions import Role
from tests.conftest import read_again
from tests.factories import EnrolmentFactory, SessionFactory, UserFactory
from training.models import Apology, Attendance, AttendanceStatus, EnrolmentStatus, SessionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def register_built(django_db_setup, django_db_blocker):
    """A session that started an hour ago, of a cohort with a trainer, three enrolled trainees
    and one applicant: built once for the module, in a transaction rolled back after its last
    test (each test's changes are rolled back at its own end)."""
    with django_db_blocker.unblock(), transaction.atomic():
        trainer = UserFactory(role=Role.TRAINER)
        session = SessionFactory(cohort__trainers=[trainer], starts_at=timezone.now() - dt.timedelta(hours=1))
        enrolled = EnrolmentFactory.create_batch(3, cohort=session.cohort)
        applicant = EnrolmentFactory(
            cohort=session.cohort, status=EnrolmentStatus.APPLIED, first_enrolled_at=None
        )
        yield session, trainer, enrolled, applicant
        transaction.set_rollback(True)


@pytest.fixture
def register(register_built, db):
    return read_again(register_built)


@pytest.fixture
def trainer_client(register, session_client):
    _session, trainer, _enrolled, _applicant = register
    return session_client(trainer)


def _url(session) -> str:
    return f"/api/v1/sessions/{session.pk}/attendance/"


def test_the_register_lists_the_enrolled_with_what_is_known(register, trainer_client):
    session, _trainer, enrolled, applicant = register
    Apology.objects.create(session=session, enrolment=enrolled[0], note="", created_at=session.starts_at)
    body = trainer_client.get(_url(session)).json()
    assert body["session"] == session.pk
    assert body["cancelled"] is False
    rows = {row["enrolment"]: row for row in body["rows"]}
    assert set(rows) == {e.pk for e in enrolled}  # not the applicant
    assert applicant.pk not in rows
    assert rows[enrolled[0].pk]["apology"] is True
    assert rows[enrolled[1].pk]["status"] is None


def test_a_trainer_records_a_register_by_enrolment_or_by_member(register, trainer_client):
    session, trainer, enrolled, _applicant = register
    marks = [
        {"enrolment": enrolled[0].pk, "status": "present"},
        {"member": enrolled[1].member_id, "status": "absent"},
        {"enrolment": enrolled[2].pk, "status": "excused"},
    ]
    response = trainer_client.post(_url(session), {"marks": marks}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == 3
    recorded = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    assert recorded == {enrolled[0].pk: "present", enrolled[1].pk: "absent", enrolled[2].pk: "excused"}
    assert Attendance.objects.filter(session=session, recorded_by=trainer).count() == 3
    rows = {row["enrolment"]: row["status"] for row in response.json()["rows"]}
    assert rows == recorded
    # The same register again changes nothing.
    assert trainer_client.post(_url(session), {"marks": marks}, format="json").json()["changed"] == 0
    entry = AuditEntry.objects.filter(action=AuditAction.API_CALL).latest("pk")
    assert (entry.changes["method"], entry.changes["status"], entry.actor_id) == ("POST", 200, trainer.pk)


def test_one_bad_line_saves_nothing_and_names_the_line(register, trainer_client):
    session, _trainer, enrolled, applicant = register
    stranger = EnrolmentFactory()
    marks = [
        {"enrolment": enrolled[0].pk, "status": "present"},
        {"enrolment": applicant.pk, "status": "present"},  # applied, not enrolled
        {"enrolment": enrolled[1].pk, "status": "asleep"},
        {"member": stranger.member_id, "status": "absent"},  # another cohort's trainee
        {"status": "present"},
    ]
    response = trainer_client.post(_url(session), {"marks": marks}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["marks"]
    assert errors[0] == {}
    assert list(errors[1]) == ["enrolment"]
    assert list(errors[2]) == ["status"]
    assert list(errors[3]) == ["member"]
    assert list(errors[4]) == ["enrolment"]
    assert not Attendance.objects.filter(session=session).exists()


def test_a_trainee_listed_twice_is_refused(register, trainer_client):
    session, _trainer, enrolled, _applicant = register
    marks = [
        {"enrolment": enrolled[0].pk, "status": "present"},
        {"member": enrolled[0].member_id, "status": "absent"},
    ]
    response = trainer_client.post(_url(session), {"marks": marks}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["marks"] == [
        {},
        {"enrolment": ["This trainee is already on an earlier line."]},
    ]
    assert not Attendance.objects.filter(session=session).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"marks": []}, {"marks": "all present"}, {"marks": [{"enrolment": "x", "status": 1}]}, [1, 2]],
)
def test_malformed_registers_are_a_400(register, trainer_client, body):
    session = register[0]
    response = trainer_client.post(_url(session), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Attendance.objects.filter(session=session).exists()


def test_unknown_fields_are_refused_by_name(register, trainer_client):
    session, _trainer, enrolled, _applicant = register
    marks = [{"enrolment": enrolled[0].pk, "status": "present", "late": True}]
    response = trainer_client.post(_url(session), {"marks": marks, "session": 3}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"session"}
    response = trainer_client.post(_url(session), {"marks": marks}, format="json")
    assert set(response.json()["errors"]["marks"][0]) == {"late"}


def test_malformed_json_is_a_400(register, trainer_client):
    response = trainer_client.generic(
        "POST", _url(register[0]), b'{"marks": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_cancelled_session_has_no_register_to_take(register, trainer_client):
    session, _trainer, enrolled, _applicant = register
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])
    assert trainer_client.get(_url(session)).json()["rows"] == []  # as the page: no register
    marks = [{"enrolment": enrolled[0].pk, "status": "present"}]
    response = trainer_client.post(_url(session), {"marks": marks}, format="json")
    assert response.status_code == 400
    assert "cancelled" in response.json()["errors"]["non_field_errors"][0]
    assert not Attendance.objects.filter(session=session).exists()


def test_the_register_costs_the_same_queries_at_two_sizes(register, trainer_client):
    session = register[0]
    trainer_client.get(_url(session))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert trainer_client.get(_url(session)).status_code == 200
        return len(captured.captured_queries)

    small = count()
    EnrolmentFactory.create_batch(10, cohort=session.cohort)
    assert count() == small


# --- Tokens ---------------------------------------------------------------------------------


def test_tokens_need_attendance_and_write_access(make_token, register):
    session, _trainer, enrolled, _applicant = register
    national = UserFactory(role=Role.NATIONAL_STAFF)
    marks = {"marks": [{"enrolment": enrolled[0].pk, "status": "present"}]}
    _t, _r, without = make_token(national, resources=[ApiResource.COHORTS, ApiResource.ENROLMENTS])
    assert without.get(_url(session)).status_code == 403
    _t, _r, read_only = make_token(national, access=TokenAccess.READ, resources=[ApiResource.ATTENDANCE])
    assert read_only.get(_url(session)).status_code == 200
    assert read_only.post(_url(session), marks, format="json").status_code == 403
    _t, _r, writer = make_token(national, resources=[ApiResource.ATTENDANCE])
    assert writer.post(_url(session), marks, format="json").status_code == 200
    assert Attendance.objects.get(session=session).status == AttendanceStatus.PRESENT


def test_a_browser_session_must_send_the_csrf_token(register, session_client):
    session, trainer, enrolled, _applicant = register
    client = session_client(trainer, enforce_csrf=True)
    marks = {"marks": [{"enrolment": enrolled[0].pk, "status": "present"}]}
    response = client.post(_url(session), marks, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Attendance.objects.filter(session=session).exists()


# --- Against the page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["trainee", "trainee_other", "trainer", "trainer_other", "regional", "regional_other", "national"]
)
def test_the_register_answers_as_its_page(world, role):
    """Read and write: the same answer as training:session-register, for every role."""
    client = Client()
    client.force_login(world.users[role])
    page = client.get(reverse("training:session-register", kwargs={"pk": world.session.pk})).status_code
    url = reverse("api:session-attendance", kwargs={"pk": world.session.pk})
    assert client.get(url).status_code == page
    # Excused: the world's session may not have started, and excused may be recorded any time.
    marks = {"marks": [{"enrolment": world.enrolment.pk, "status": "excused"}]}
    assert client.post(url, marks, content_type="application/json").status_code == page
    recorded = Attendance.objects.filter(session=world.session, enrolment=world.enrolment).first()
    assert (recorded is not None and recorded.status == "excused") == (page == 200)


def test_the_token_page_offers_enrolments_and_attendance(session_client):
    """A token made on the page reaches the register: the form offers the new resources."""
    national = UserFactory(role=Role.NATIONAL_STAFF)
    client = session_client(national)
    page = client.get("/manage/api-tokens/").content.decode()
    assert 'value="enrolments"' in page
    assert 'value="attendance"' in page
    data = {"name": "Registers", "access": "read", "resources": ["enrolments", "attendance"]}
    response = client.post("/manage/api-tokens/", {**data, "expires_in_days": "7"})
    assert response.status_code == 200
    assert ApiToken.objects.get(user=national).resources == ["attendance", "enrolments"]
