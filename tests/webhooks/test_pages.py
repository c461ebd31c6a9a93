"""The staff pages: who may use them, the secret shown once, bad input as 400s, the audit
trail, and the lists' query counts at two sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEntry
from members.permissions import Role
from tests.factories import UserFactory
from webhooks.crypto import secret_decrypt
from webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from webhooks.services import endpoint_create, webhook_event_record

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:endpoint-list")


@pytest.fixture
def staff_client(client, national):
    client.force_login(national)
    return client


def _create(client, **overrides):
    data = {"url": "http://127.0.0.1:9/hook", "description": "CRM", "events": ["certificate.issued"]}
    data.update(overrides)
    return client.post(LIST, data)


def _endpoint(national, url="http://127.0.0.1:9/hook"):
    endpoint, _secret = endpoint_create(url=url, events=[EventType.ENROLMENT_CHANGED], actor=national)
    return endpoint


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER, Role.REGIONAL_STAFF])
def test_only_national_staff_reach_the_pages(client, role, national, local_http):
    endpoint = _endpoint(national)
    client.force_login(UserFactory(role=role))
    assert client.get(LIST).status_code == 403
    assert _create(client).status_code == 403
    assert client.get(reverse("webhooks:delivery-list", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:endpoint-rotate", args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_creating_shows_the_secret_once_stores_it_encrypted_and_is_audited(
    staff_client, local_http, national
):
    response = _create(staff_client)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["raw_secret"]
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    endpoint = Endpoint.objects.get()
    assert secret not in endpoint.secret_encrypted
    assert secret_decrypt(endpoint.secret_encrypted) == secret
    assert endpoint.created_by == national
    assert endpoint.events == ["certificate.issued"]
    entry = AuditEntry.objects.get(action=AuditAction.WEBHOOK_ENDPOINT_CREATED)
    assert (entry.actor, entry.object_id) == (national, endpoint.pk)
    # Never again: the list shows the endpoint, not its secret.
    again = staff_client.get(LIST)
    assert secret not in again.content.decode()
    assert "http://127.0.0.1:9/hook" in again.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "http://example.com/hook"}, "url", "https://"),
        ({"url": "https://10.0.0.1/hook"}, "url", "private"),
        ({"url": "https://localhost/hook"}, "url", "loopback"),
        ({"events": []}, "events", "required"),
        ({"events": ["certificate.eaten"]}, "events", "valid choice"),
        ({"url": "https://93.184.216.34/" + "a" * 600}, "url", "500"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff_client, data, field, message):
    response = _create(staff_client, **data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not Endpoint.objects.exists()


def test_rotating_makes_a_new_secret_shown_once_and_audited(staff_client, local_http, national):
    endpoint = _endpoint(national)
    old = secret_decrypt(endpoint.secret_encrypted)

    response = staff_client.post(reverse("webhooks:endpoint-rotate", args=[endpoint.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = response.context["raw_secret"]
    assert new != old
    endpoint.refresh_from_db()
    assert secret_decrypt(endpoint.secret_encrypted) == new
    assert AuditEntry.objects.filter(
        action=AuditAction.WEBHOOK_SECRET_ROTATED, object_id=endpoint.pk
    ).exists()


def test_pausing_and_resuming(staff_client, local_http, national):
    endpoint = _endpoint(national)
    assert staff_client.post(reverse("webhooks:endpoint-pause", args=[endpoint.pk])).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert not endpoint.paused_automatically
    assert staff_client.post(reverse("webhooks:endpoint-resume", args=[endpoint.pk])).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None


def test_an_endpoint_paused_by_failures_is_flagged_on_the_list(staff_client, local_http, national):
    endpoint = _endpoint(national)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=endpoint.created_at, paused_automatically=True, consecutive_failures=10
    )
    page = staff_client.get(LIST).content.decode()
    assert "Paused after repeated failures" in page
    assert "after 10 failures in a row" in page


def test_deleting_asks_first_then_removes_deliveries_and_is_audited(staff_client, local_http, national):
    endpoint = _endpoint(national)
    webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})
    url = reverse("webhooks:endpoint-delete", args=[endpoint.pk])

    assert staff_client.get(url).status_code == 200
    assert Endpoint.objects.get(pk=endpoint.pk).deleted_at is None
    assert staff_client.post(url).status_code == 302

    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None
    assert endpoint.secret_encrypted == ""
    assert not Delivery.objects.exists()
    assert AuditEntry.objects.filter(
        action=AuditAction.WEBHOOK_ENDPOINT_DELETED, object_id=endpoint.pk
    ).exists()
    assert staff_client.get(reverse("webhooks:delivery-list", args=[endpoint.pk])).status_code == 404
    assert staff_client.post(url).status_code == 404


def test_sending_a_test_event_from_the_page(staff_client, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    response = staff_client.post(reverse("webhooks:endpoint-test", args=[endpoint.pk]))
    assert response.status_code == 302
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == EventType.PING
    page = staff_client.get(reverse("webhooks:delivery-list", args=[endpoint.pk])).content.decode()
    assert "webhook.ping" in page


def test_send_again_is_offered_for_a_failed_delivery_and_refused_for_a_delivered_one(
    staff_client, local_http, national
):
    endpoint = _endpoint(national)
    failed, delivered = (
        webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})[0] for _ in "ab"
    )
    Delivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.GAVE_UP, attempts=6)
    Delivery.objects.filter(pk=delivered.pk).update(status=DeliveryStatus.DELIVERED, attempts=1)

    ok = staff_client.post(reverse("webhooks:delivery-send-again", args=[endpoint.pk, failed.pk]))
    refused = staff_client.post(reverse("webhooks:delivery-send-again", args=[endpoint.pk, delivered.pk]))

    assert ok.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.PENDING, 0)
    assert refused.status_code == 400
    assert "not sent again" in refused.content.decode()
    # Another endpoint's delivery is not reachable through this one.
    other = _endpoint(national, url="http://127.0.0.1:9/other")
    assert (
        staff_client.post(reverse("webhooks:delivery-send-again", args=[other.pk, failed.pk])).status_code
        == 404
    )


def test_an_unknown_status_filter_is_a_400(staff_client, local_http, national):
    endpoint = _endpoint(national)
    response = staff_client.get(reverse("webhooks:delivery-list", args=[endpoint.pk]), {"status": "lost"})
    assert response.status_code == 400
    response = staff_client.get(reverse("webhooks:delivery-list", args=[endpoint.pk]), {"page": "x'"})
    assert response.status_code == 200


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_deliveries_list_runs_a_fixed_number_of_queries(staff_client, local_http, national):
    endpoint = _endpoint(national)
    url = reverse("webhooks:delivery-list", args=[endpoint.pk])

    def add(count):
        for _ in range(count):
            webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={"enrolment_id": 1})

    add(2)
    staff_client.get(url)
    small = _queries(staff_client, url)
    add(80)  # more than a page
    large = _queries(staff_client, url)
    assert small == large


def test_the_endpoint_list_runs_a_fixed_number_of_queries(staff_client, local_http, national):
    def add(count):
        for index in range(count):
            _endpoint(national, url=f"http://127.0.0.1:9/hook/{index}-{Endpoint.objects.count()}")
            webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})

    add(1)
    staff_client.get(LIST)
    small = _queries(staff_client, LIST)
    add(30)  # more than a page
    large = _queries(staff_client, LIST)
    assert small == large


def test_the_deliveries_table_sorts_within_the_status_filter(staff_client, local_http, national):
    """The one table component: sort links keep ?status=, an unknown sort key changes nothing."""
    endpoint = _endpoint(national)
    for _ in range(2):
        webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={"enrolment_id": 1})
    Delivery.objects.filter(endpoint=endpoint).update(status=DeliveryStatus.GAVE_UP)
    url = reverse("webhooks:delivery-list", args=[endpoint.pk])
    page = staff_client.get(url, {"status": DeliveryStatus.GAVE_UP}).content.decode()
    assert 'scope="col"' in page
    assert "2 deliveries</caption>" in page
    assert f"?status={DeliveryStatus.GAVE_UP}&amp;sort=attempts" in page
    assert "Send again" in page
    sorted_page = staff_client.get(url, {"status": DeliveryStatus.GAVE_UP, "sort": "-attempts"})
    assert 'aria-sort="descending"' in sorted_page.content.decode()
    assert staff_client.get(url, {"sort": "payload"}).status_code == 200


def test_the_endpoint_table_sorts_by_waiting_deliveries(staff_client, local_http, national):
    _endpoint(national)
    page = staff_client.get(LIST, {"sort": "-waiting_count"}).content.decode()
    assert 'aria-sort="descending"' in page
    assert "http://127.0.0.1:9/hook" in page
    assert "Rotate secret" in page
