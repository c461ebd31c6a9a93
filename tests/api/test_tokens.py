"""Personal API tokens: made on a page by national staff, shown once, stored hashed,
scoped, expiring and revocable; every call made with one is in the audit trail."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.utils import timezone

from api.models import ApiToken, TokenAccess
from api.services import api_token_revoke
from audit.models import AuditAction, AuditEntry
from members.permissions import Role
from tests.api.conftest import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKENS_URL = "/manage/api-tokens/"


def _create_on_page(client, **overrides):
    data = {"name": "Membership sync", "access": "read", "resources": ["cohorts"], "expires_in_days": "30"}
    data.update(overrides)
    return client.post(TOKENS_URL, data)


def _secret(raw: str) -> str:
    """The secret part of fl_<prefix>_<secret>: all of it, as the secret may itself hold "_"."""
    return raw.split("_", 2)[2]


def _stored(token: ApiToken) -> str:
    """Everything the database keeps of a token, as text."""
    return " ".join(str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())


def test_national_staff_create_a_token_on_the_page_and_see_it_only_once(session_client):
    """The plain token is in the response that made it, never stored, never shown again."""
    national = UserFactory(role=Role.NATIONAL_STAFF)
    client = session_client(national)
    response = _create_on_page(client)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["raw_token"]
    assert raw.startswith("fl_")
    assert raw in response.content.decode()

    token = ApiToken.objects.get(user=national)
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = _stored(token)
    assert raw not in stored
    assert _secret(raw) not in stored
    assert (token.access, token.resources) == (TokenAccess.READ, ["cohorts"])
    assert token.expires_at == pytest.approx(
        token.created_at + dt.timedelta(days=30), abs=dt.timedelta(seconds=1)
    )

    page = client.get(TOKENS_URL).content.decode()
    assert "Membership sync" in page
    assert f"fl_{token.prefix}_" in page
    assert raw not in page

    assert token_client(raw).get("/api/v1/cohorts/").status_code == 200


@pytest.mark.parametrize("secret", ["_leading", "trailing_", "in_the_middle", "__", "-dash_"])
def test_a_secret_holding_underscores_is_not_stored_and_authenticates(session_client, monkeypatch, secret):
    """token_urlsafe draws "_" and "-" among its characters, at any place: whatever it draws,
    the secret is kept only as a hash and the token is accepted. (The random draw is fixed here
    so that each such secret is tried on every run.)"""
    monkeypatch.setattr("api.services.secrets.token_urlsafe", lambda nbytes: secret)
    client = session_client(UserFactory(role=Role.NATIONAL_STAFF))
    raw = _create_on_page(client).context["raw_token"]
    token = ApiToken.objects.get(prefix=raw.split("_")[1])
    assert _secret(raw) == secret
    assert secret not in _stored(token)
    assert token_client(raw).get("/api/v1/cohorts/").status_code == 200


def test_a_form_with_no_resource_is_refused_naming_the_field(session_client):
    client = session_client(UserFactory(role=Role.NATIONAL_STAFF))
    response = _create_on_page(client, resources=[])
    assert response.status_code == 400
    assert "resources" in response.context["form"].errors
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER, Role.REGIONAL_STAFF])
def test_only_national_staff_may_make_tokens(session_client, role):
    client = session_client(UserFactory(role=role))
    assert client.get(TOKENS_URL).status_code == 403
    assert _create_on_page(client).status_code == 403
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused_with_401(make_token):
    national = UserFactory(role=Role.NATIONAL_STAFF)
    _token, _raw, client = make_token(national, days=1)
    assert client.get("/api/v1/cohorts/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, seconds=1)):
        response = client.get("/api/v1/cohorts/")
    assert response.status_code == 401
    assert response.json()["detail"] == "That token has expired."
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_with_401_at_once(make_token, session_client):
    national = UserFactory(role=Role.NATIONAL_STAFF)
    token, _raw, client = make_token(national)
    assert client.get("/api/v1/cohorts/").status_code == 200
    page = session_client(national)
    assert page.post(f"{TOKENS_URL}{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = client.get("/api/v1/cohorts/")
    assert response.status_code == 401
    assert response.json()["detail"] == "That token was revoked."


def test_staff_cannot_revoke_someone_elses_token(make_token, session_client):
    owner, other = UserFactory.create_batch(2, role=Role.NATIONAL_STAFF)
    token, _raw, _client = make_token(owner)
    assert session_client(other).post(f"{TOKENS_URL}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    "header",
    ["Bearer fl_00000000_nope", "Bearer nonsense", "Bearer", "Bearer a b", "Bearer fl_x_y_z"],
)
def test_an_unknown_or_malformed_token_is_401_never_anonymous(header):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    # The registry is public: a bad token still must not fall back to an anonymous call.
    response = client.get("/api/v1/registry/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_whose_holder_left_national_staff_stops_working(make_token):
    from members.services import user_remove_role

    national = UserFactory(role=Role.NATIONAL_STAFF)
    _token, _raw, client = make_token(national)
    assert client.get("/api/v1/certificates/").status_code == 200
    user_remove_role(user=national, role=Role.NATIONAL_STAFF)
    assert client.get("/api/v1/certificates/").status_code == 401


def test_a_read_only_token_may_not_write(make_token, world):
    _token, _raw, client = make_token(world.users["national"], access=TokenAccess.READ)
    response = client.patch(f"/api/v1/cohorts/{world.cohort.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "This token is read-only."
    world.cohort.refresh_from_db()
    assert world.cohort.name != "Renamed"


def test_a_token_reaches_only_the_resources_it_names(make_token, world):
    _token, _raw, client = make_token(world.users["national"], resources=["registry"])
    assert client.get("/api/v1/registry/").status_code == 200
    for url in ["/api/v1/cohorts/", "/api/v1/certificates/", "/api/v1/targets/", "/api/v1/programmes/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "does not reach" in response.json()["detail"]


def test_every_call_is_one_audit_entry_naming_the_member_and_the_token(make_token, world, session_client):
    token, _raw, client = make_token(world.users["national"])
    before = AuditEntry.objects.filter(action=AuditAction.API_CALL).count()
    client.get("/api/v1/cohorts/?status=running")
    client.get("/api/v1/certificates/999999/")
    session_client(world.users["trainee"]).get("/api/v1/sessions/")
    entries = list(AuditEntry.objects.filter(action=AuditAction.API_CALL).order_by("pk"))[before:]
    assert [(e.actor, e.object_id, e.changes["status"], e.changes["via"]) for e in entries] == [
        (world.users["national"], token.pk, 200, "token"),
        (world.users["national"], token.pk, 404, "token"),
        (world.users["trainee"], None, 200, "session"),
    ]
    assert entries[0].changes["path"] == "/api/v1/cohorts/"
    assert entries[0].changes["query"] == "status=running"
    assert entries[0].object_label == "Test"


def test_recording_a_call_costs_one_insert(make_token, world, django_assert_num_queries):
    """The call's audit entry is one INSERT on top of the same call's reads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _token, _raw, client = make_token(world.users["national"])
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/certificates/verify/{world.certificate.code}/")  # anonymous: no entry
        client.get("/api/v1/dashboard/")
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len([sql for sql in inserts if "audit_auditentry" in sql]) == 1


def test_revoking_twice_keeps_the_first_time(make_token):
    national = UserFactory(role=Role.NATIONAL_STAFF)
    token, _raw, _client = make_token(national)
    first = api_token_revoke(token=token).revoked_at
    assert api_token_revoke(token=token).revoked_at == first


def test_calls_beyond_the_rate_are_429_per_token(make_token, world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "user": "100/min", "anon": "100/min"},
    }
    _a, _raw_a, first = make_token(world.users["national"])
    _b, _raw_b, second = make_token(world.users["national"])
    assert [first.get("/api/v1/registry/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/v1/registry/").status_code == 200
