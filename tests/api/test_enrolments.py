"""Enrolments are staff's: national staff list, read, enrol trainees and decide or withdraw,
through the enrolment service (capacity, the waiting list, review, one place per programme);
regional staff read their region's. Each answers as the cohort's pages do for staff."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.models import ApiResource, TokenAccess
from api.pagination import ApiCursorPagination
from audit.models import AuditAction, AuditEntry
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, Enrolment, EnrolmentEvent, EnrolmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def national(make_token):
    user = UserFactory(role=Role.NATIONAL_STAFF)
    _token, _raw, client = make_token(user)
    client.user = user
    return client


def _enrol(client, cohort, member, **extra):
    return client.post(
        "/api/v1/enrolments/", {"cohort": cohort.pk, "member": member.pk, **extra}, format="json"
    )


# --- Enrolling ------------------------------------------------------------------------------


def test_staff_enrol_a_trainee_and_the_history_names_them(national):
    cohort = CohortFactory(capacity=2)
    trainee = UserFactory()
    response = _enrol(national, cohort, trainee, motivation="Asked by phone.")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["cohort"], body["member"], body["status"]) == (cohort.pk, trainee.pk, "enrolled")
    assert "motivation" not in body  # written, never read back (the decision page's, not a list's)
    event = EnrolmentEvent.objects.get(enrolment_id=body["id"])
    assert event.actor == national.user  # who made it, not the member
    entry = AuditEntry.objects.filter(action=AuditAction.API_CALL).latest("pk")
    assert (entry.changes["method"], entry.changes["status"]) == ("POST", 201)


def test_a_full_cohort_puts_the_next_on_its_waiting_list(national):
    cohort = CohortFactory(capacity=1)
    EnrolmentFactory(cohort=cohort)
    response = _enrol(national, cohort, UserFactory())
    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted"


def test_a_reviewed_cohort_takes_an_application(national):
    cohort = CohortFactory(reviews_applications=True)
    assert _enrol(national, cohort, UserFactory()).json()["status"] == "applied"


def test_one_active_place_per_programme_is_a_member_error(national):
    cohort = CohortFactory()
    trainee = UserFactory()
    assert _enrol(national, cohort, trainee).status_code == 201
    sibling = CohortFactory(version=cohort.version)
    response = _enrol(national, sibling, trainee)
    assert response.status_code == 400
    assert "member" in response.json()["errors"]
    assert Enrolment.objects.filter(member=trainee).count() == 1


def test_a_cohort_not_taking_applications_is_a_cohort_error(national):
    cohort = CohortFactory(status=CohortStatus.RUNNING)
    response = _enrol(national, cohort, UserFactory())
    assert response.status_code == 400
    assert "cohort" in response.json()["errors"]
    assert not Enrolment.objects.filter(cohort=cohort).exists()


def test_only_trainees_take_places(national):
    response = _enrol(national, CohortFactory(), UserFactory(role=Role.TRAINER))
    assert response.status_code == 400
    assert "trainee" in response.json()["errors"]["member"][0]


def test_bad_input_names_each_field(national):
    response = national.post(
        "/api/v1/enrolments/", {"cohort": "first", "member": None, "status": "enrolled"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status"}  # unknown (read-only) first, by name
    response = national.post("/api/v1/enrolments/", {"cohort": "first", "member": None}, format="json")
    assert set(response.json()["errors"]) == {"cohort", "member"}
    response = national.post("/api/v1/enrolments/", {"cohort": 999999, "member": 999999}, format="json")
    assert set(response.json()["errors"]) == {"cohort", "member"}


# --- Deciding and withdrawing ---------------------------------------------------------------


def test_accepting_an_application_enrols(national):
    applicant = EnrolmentFactory(status=EnrolmentStatus.APPLIED, first_enrolled_at=None)
    response = national.post(f"/api/v1/enrolments/{applicant.pk}/decide/", {"accept": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "enrolled"


def test_declining_needs_a_reason(national):
    applicant = EnrolmentFactory(status=EnrolmentStatus.APPLIED, first_enrolled_at=None)
    url = f"/api/v1/enrolments/{applicant.pk}/decide/"
    response = national.post(url, {"accept": False}, format="json")
    assert response.status_code == 400
    assert "message" in response.json()["errors"]
    response = national.post(url, {"accept": False, "message": "The cohort is for Leeds."}, format="json")
    assert response.json()["status"] == "declined"
    # Decided once: a second decision is refused by the service.
    response = national.post(url, {"accept": True}, format="json")
    assert response.status_code == 400
    assert "already" in response.json()["errors"]["non_field_errors"][0]


def test_decide_refuses_wrong_types_and_unknown_fields(national):
    applicant = EnrolmentFactory(status=EnrolmentStatus.APPLIED, first_enrolled_at=None)
    url = f"/api/v1/enrolments/{applicant.pk}/decide/"
    assert set(national.post(url, {"accept": "perhaps"}, format="json").json()["errors"]) == {"accept"}
    assert set(national.post(url, {"accept": True, "note": "x"}, format="json").json()["errors"]) == {"note"}
    applicant.refresh_from_db()
    assert applicant.status == EnrolmentStatus.APPLIED


def test_withdrawing_frees_the_place_for_the_next_in_line(national):
    cohort = CohortFactory(capacity=1)
    enrolled = EnrolmentFactory(cohort=cohort)
    waiting = _enrol(national, cohort, UserFactory()).json()
    assert waiting["status"] == "waitlisted"
    response = national.post(
        f"/api/v1/enrolments/{enrolled.pk}/withdraw/", {"note": "Moved away."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert Enrolment.objects.get(pk=waiting["id"]).status == EnrolmentStatus.OFFERED
    # Withdrawn once: again is refused.
    again = national.post(f"/api/v1/enrolments/{enrolled.pk}/withdraw/", format="json")
    assert again.status_code == 400


# --- Lists ----------------------------------------------------------------------------------


def test_the_list_filters_by_cohort_and_status_only(national):
    cohort = CohortFactory(capacity=5)
    EnrolmentFactory.create_batch(2, cohort=cohort)
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED, first_enrolled_at=None)
    EnrolmentFactory()
    rows = national.get(f"/api/v1/enrolments/?cohort={cohort.pk}").json()["results"]
    assert len(rows) == 3
    rows = national.get(f"/api/v1/enrolments/?cohort={cohort.pk}&status=applied").json()["results"]
    assert [row["status"] for row in rows] == ["applied"]
    hostile = national.get(f"/api/v1/enrolments/?cohort={cohort.pk}&member__email__startswith=a").json()
    assert len(hostile["results"]) == 3  # not a filter: ignored
    response = national.get("/api/v1/enrolments/?status=maybe&cohort=x")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "cohort"}


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/enrolments/")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_list_costs_the_same_queries_at_two_sizes(national):
    """Token and holder (1), permissions (2), the page with members (1), the audit entry (1)."""
    EnrolmentFactory.create_batch(3)
    national.get("/api/v1/enrolments/")  # per-process caches, as on a running server
    small = _list_queries(national)
    EnrolmentFactory.create_batch(12)
    assert _list_queries(national) == small == 5


def test_an_oversized_page_is_clamped_to_the_maximum(national, monkeypatch):
    """Documented in the schema (page_size): more than the maximum gives the maximum, not a 400."""
    monkeypatch.setattr(ApiCursorPagination, "max_page_size", 2)
    EnrolmentFactory.create_batch(3)
    body = national.get("/api/v1/enrolments/?page_size=10000000").json()
    assert len(body["results"]) == 2
    assert body["next"]


# --- Tokens ---------------------------------------------------------------------------------


def test_a_token_without_enrolments_is_refused(make_token):
    user = UserFactory(role=Role.NATIONAL_STAFF)
    resources = [value for value in ApiResource.values if value != ApiResource.ENROLMENTS]
    _token, _raw, client = make_token(user, resources=resources)
    response = client.get("/api/v1/enrolments/")
    assert response.status_code == 403
    assert "enrolments" in response.json()["detail"]


def test_a_read_only_token_reads_but_never_writes(make_token):
    user = UserFactory(role=Role.NATIONAL_STAFF)
    _token, _raw, client = make_token(user, access=TokenAccess.READ, resources=[ApiResource.ENROLMENTS])
    assert client.get("/api/v1/enrolments/").status_code == 200
    cohort = CohortFactory()
    response = _enrol(client, cohort, UserFactory())
    assert response.status_code == 403
    assert response.json() == {"detail": "This token is read-only.", "errors": {}}
    assert not Enrolment.objects.filter(cohort=cohort).exists()


# --- Against the pages ----------------------------------------------------------------------

# The cohort page (which lists its enrolments) and the decision page, for the world's applicant.
COHORT_PAGE = {"trainee": 403, "trainee_other": 403, "trainer": 200, "trainer_other": 404}
COHORT_PAGE |= {"regional": 200, "regional_other": 404, "national": 200}
STAFF = ("regional", "regional_other", "national")


@pytest.mark.parametrize("role", list(COHORT_PAGE))
def test_an_enrolment_answers_as_its_cohorts_page_for_staff(world, role):
    """Staff: as the cohort's page (regional staff of another region: 404). Trainers read
    their cohort's people on the pages; the API's enrolments are staff's (issue 10): 403."""
    client = Client()
    client.force_login(world.users[role])
    page = client.get(reverse("training:cohort-manage", kwargs={"pk": world.cohort.pk})).status_code
    api = client.get(reverse("api:enrolment-detail", kwargs={"pk": world.applicant.pk})).status_code
    assert page == COHORT_PAGE[role]
    assert api == (page if role in STAFF else 403)
    listed = client.get(reverse("api:enrolment-list"))
    if role in STAFF:
        ids = {row["id"] for row in listed.json()["results"]}
        assert (world.applicant.pk in ids) == (page == 200)
    else:
        assert listed.status_code == 403


DECIDE_PAGE = {"trainee": 403, "trainee_other": 403, "trainer": 200, "trainer_other": 404}
DECIDE_PAGE |= {"regional": 403, "regional_other": 403, "national": 200}


@pytest.mark.parametrize("role", list(DECIDE_PAGE))
def test_deciding_answers_as_the_decision_page_for_staff(world, role):
    client = Client()
    client.force_login(world.users[role])
    page = client.get(reverse("training:enrolment-decide", kwargs={"pk": world.applicant.pk})).status_code
    url = reverse("api:enrolment-decide", kwargs={"pk": world.applicant.pk})
    api = client.post(url, {"accept": True}, content_type="application/json").status_code
    assert page == DECIDE_PAGE[role]
    assert api == (200 if role == "national" else 403)
    world.applicant.refresh_from_db()
    assert (world.applicant.status == EnrolmentStatus.APPLIED) == (role != "national")
