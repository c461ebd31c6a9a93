"""Writes: national staff open and change cohorts through the training services. Unknown
fields, wrong types and malformed JSON are a 400 naming what was wrong; nothing is half
written. Browser sessions must send the CSRF token."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEntry
from members.permissions import Role
from tests.factories import CohortFactory, UserFactory, VersionFactory
from training.models import Cohort

pytestmark = pytest.mark.django_db


def _cohort_body(**overrides) -> dict:
    today = timezone.localdate()
    body = {
        "version": VersionFactory().pk,
        "name": "Leeds spring",
        "region": CohortFactory().region_id,
        "capacity": 12,
        "enrolment_opens_on": str(today),
        "enrolment_closes_on": str(today + dt.timedelta(days=10)),
        "starts_on": str(today + dt.timedelta(days=14)),
        "ends_on": str(today + dt.timedelta(days=80)),
        "status": "open",
        "reviews_applications": False,
    }
    body.update(overrides)
    return body


@pytest.fixture
def staff(make_token):
    national = UserFactory(role=Role.NATIONAL_STAFF)
    _token, _raw, client = make_token(national)
    return client


def test_national_staff_open_a_cohort_with_a_token(staff):
    trainer = UserFactory(role=Role.TRAINER)
    response = staff.post("/api/v1/cohorts/", _cohort_body(trainers=[trainer.pk]), format="json")
    assert response.status_code == 201, response.content
    cohort = Cohort.objects.get(pk=response.json()["id"])
    assert cohort.name == "Leeds spring"
    assert list(cohort.trainers.all()) == [trainer]
    entry = AuditEntry.objects.filter(action=AuditAction.API_CALL).latest("pk")
    assert (entry.changes["method"], entry.changes["status"]) == ("POST", 201)


def test_a_field_the_resource_does_not_take_is_refused_by_name(staff):
    body = _cohort_body(colour="red", checkin_code="X")
    count = Cohort.objects.count()
    response = staff.post("/api/v1/cohorts/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"colour", "checkin_code"}
    assert Cohort.objects.count() == count


def test_wrong_types_name_each_field(staff):
    response = staff.post(
        "/api/v1/cohorts/", _cohort_body(capacity="many", starts_on="soon", region=None), format="json"
    )
    assert response.status_code == 400
    assert {"capacity", "starts_on", "region"} <= set(response.json()["errors"])


def test_the_services_rules_come_back_as_field_errors(staff):
    today = timezone.localdate()
    response = staff.post(
        "/api/v1/cohorts/",
        _cohort_body(enrolment_closes_on=str(today + dt.timedelta(days=100))),
        format="json",
    )
    assert response.status_code == 400
    assert "enrolment_closes_on" in response.json()["errors"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_malformed_json_is_a_400(staff, body):
    response = staff.generic("POST", "/api/v1/cohorts/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_form_body_is_refused_as_unsupported(staff):
    assert staff.post("/api/v1/cohorts/", {"name": "x"}).status_code == 415


def test_patch_changes_only_what_is_sent(staff):
    cohort = CohortFactory(capacity=10)
    response = staff.patch(f"/api/v1/cohorts/{cohort.pk}/", {"capacity": 14}, format="json")
    assert response.status_code == 200, response.content
    cohort.refresh_from_db()
    assert cohort.capacity == 14


def test_the_version_of_a_cohort_never_changes(staff):
    cohort = CohortFactory()
    other = VersionFactory()
    response = staff.patch(f"/api/v1/cohorts/{cohort.pk}/", {"version": other.pk}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]


def test_put_and_delete_are_not_offered(staff):
    cohort = CohortFactory()
    assert staff.put(f"/api/v1/cohorts/{cohort.pk}/", _cohort_body(), format="json").status_code == 405
    assert staff.delete(f"/api/v1/cohorts/{cohort.pk}/").status_code == 405


@pytest.mark.parametrize("role", ["trainer", "regional", "trainee"])
def test_only_national_staff_change_cohorts(world, session_client, role):
    """As the cohort edit page: trainers of the cohort and regional staff read, never change."""
    client = session_client(world.users[role])
    response = client.patch(f"/api/v1/cohorts/{world.cohort.pk}/", {"capacity": 3}, format="json")
    assert response.status_code == 403
    world.cohort.refresh_from_db()
    assert world.cohort.capacity != 3


def test_a_browser_session_must_send_the_csrf_token(world, session_client):
    national = world.users["national"]
    client = session_client(national, enforce_csrf=True)
    response = client.patch(f"/api/v1/cohorts/{world.cohort.pk}/", {"capacity": 3}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    # With the token from the cookie, as a page's script would send it.
    client.get("/manage/api-tokens/")
    csrf = client.cookies["csrftoken"].value
    response = client.patch(
        f"/api/v1/cohorts/{world.cohort.pk}/", {"capacity": 3}, format="json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 200


def test_an_anonymous_write_is_401(world):
    response = APIClient().post("/api/v1/cohorts/", {}, format="json")
    assert response.status_code == 401
