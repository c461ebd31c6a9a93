"""Which events write deliveries, what their payloads hold, and what recording one costs."""

import json

import pytest
from django.core.cache import cache

from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import EnrolmentStatus
from training.services.enrolment import enrolment_apply, enrolment_decide, enrolment_withdraw
from webhooks.models import Delivery, EventType
from webhooks.services import endpoint_create, endpoint_delete, endpoint_pause, webhook_event_record

pytestmark = pytest.mark.django_db

# Decided in docs/decisions/0015: ids, codes, public URLs, statuses and times; of the member,
# the id alone.
CERTIFICATE_KEYS = {
    "certificate_id",
    "code",
    "status",
    "programme_title",
    "programme_version_id",
    "programme_version",
    "enrolment_id",
    "member_id",
    "issued_at",
    "expires_on",
    "revoked_at",
    "verify_url",
}
ENROLMENT_KEYS = {
    "enrolment_id",
    "cohort_id",
    "programme_id",
    "member_id",
    "status",
    "previous_status",
    "changed_at",
}
LEADER_KEYS = {"registry_entry_id", "member_id", "joined_at"}


def _data(event_type) -> list[dict]:
    return [d.payload["data"] for d in Delivery.objects.filter(event_type=event_type).order_by("pk")]


def _assert_no_personal_data(member) -> None:
    """Nothing about the member but their id: no email, name or phone, in any delivery."""
    for delivery in Delivery.objects.all():
        text = json.dumps(delivery.payload).lower()
        for value in (member.email, member.first_name, member.last_name):
            assert value.lower() not in text, (value, delivery.event_type)


@pytest.fixture
def subscribed(local_http, national):
    endpoint, _secret = endpoint_create(
        url="http://127.0.0.1:9/hook",
        events=[e.value for e in EventType if e != EventType.PING],
        actor=national,
    )
    return endpoint


def test_issuing_and_revoking_a_certificate_and_entering_the_registry_write_their_events(
    subscribed, national
):
    enrolment = EnrolmentFactory(status=EnrolmentStatus.COMPLETED)
    member = enrolment.member

    certificate = certificate_issue_manually(enrolment=enrolment, actor=national, reason="Evidence.")
    (issued,) = _data(EventType.CERTIFICATE_ISSUED)
    (registered,) = _data(EventType.LEADER_REGISTERED)
    assert set(issued) == CERTIFICATE_KEYS
    assert issued["certificate_id"] == certificate.pk
    assert issued["code"] == certificate.code
    assert issued["member_id"] == member.pk
    assert issued["status"] == "valid"
    assert issued["verify_url"].endswith(f"/c/{certificate.code}/")
    assert issued["revoked_at"] is None
    assert set(registered) == LEADER_KEYS
    assert registered["member_id"] == member.pk

    certificate_revoke(certificate=certificate, actor=national, public_reason="Issued in error.")
    (revoked,) = _data(EventType.CERTIFICATE_REVOKED)
    assert set(revoked) == CERTIFICATE_KEYS
    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"] is not None
    _assert_no_personal_data(member)


def test_a_second_certificate_does_not_register_the_leader_again(subscribed, national):
    member = UserFactory()
    for _ in range(2):
        enrolment = EnrolmentFactory(member=member, status=EnrolmentStatus.COMPLETED)
        certificate_issue_manually(enrolment=enrolment, actor=national, reason="Evidence.")
    assert len(_data(EventType.CERTIFICATE_ISSUED)) == 2
    assert len(_data(EventType.LEADER_REGISTERED)) == 1


def test_applying_and_each_status_change_write_enrolment_changed(subscribed):
    cohort = CohortFactory(reviews_applications=True, capacity=1)
    member = UserFactory()
    trainer = UserFactory(role=Role.TRAINER)

    enrolment = enrolment_apply(cohort=cohort, member=member, motivation="I organise my street.")
    enrolment_decide(enrolment=enrolment, accept=True, actor=trainer)
    enrolment_withdraw(enrolment=enrolment, actor=member, note="Moving away.")

    changes = _data(EventType.ENROLMENT_CHANGED)
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        (None, "applied"),
        ("applied", "enrolled"),
        ("enrolled", "withdrawn"),
    ]
    assert all(set(c) == ENROLMENT_KEYS for c in changes)
    assert {c["member_id"] for c in changes} == {member.pk}
    _assert_no_personal_data(member)
    # The motivation and the withdrawal note are the member's own words: never sent.
    text = json.dumps([d.payload for d in Delivery.objects.all()])
    assert "street" not in text
    assert "Moving" not in text


def test_only_endpoints_taking_the_event_and_active_get_a_delivery(local_http, national):
    issued_only, _ = endpoint_create(
        url="http://127.0.0.1:9/a", events=[EventType.CERTIFICATE_ISSUED], actor=national
    )
    both, _ = endpoint_create(
        url="http://127.0.0.1:9/b",
        events=[EventType.CERTIFICATE_ISSUED, EventType.ENROLMENT_CHANGED],
        actor=national,
    )
    paused, _ = endpoint_create(
        url="http://127.0.0.1:9/c", events=[EventType.ENROLMENT_CHANGED], actor=national
    )
    gone, _ = endpoint_create(
        url="http://127.0.0.1:9/d", events=[EventType.ENROLMENT_CHANGED], actor=national
    )
    endpoint_pause(endpoint=paused)
    endpoint_delete(endpoint=gone, actor=national)

    deliveries = webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={"enrolment_id": 1})

    assert [d.endpoint_id for d in deliveries] == [both.pk]
    issued = webhook_event_record(event_type=EventType.CERTIFICATE_ISSUED, payload={})
    assert sorted(d.endpoint_id for d in issued) == sorted([issued_only.pk, both.pk])
    # One event id for the event, whichever endpoints receive it.
    assert len({d.event_id for d in issued}) == 1


def test_an_event_with_no_subscriber_costs_no_query_once_cached(django_assert_num_queries):
    cache.clear()
    with django_assert_num_queries(1):  # the endpoints, read once
        assert webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={}) == []
    with django_assert_num_queries(0):
        assert webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={}) == []


def test_an_event_with_subscribers_costs_one_insert(subscribed, django_assert_num_queries):
    webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})
    with django_assert_num_queries(1):
        webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})


def test_an_endpoint_added_after_the_cache_was_filled_gets_the_next_event(local_http, national):
    assert webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={}) == []
    endpoint, _ = endpoint_create(
        url="http://127.0.0.1:9/hook", events=[EventType.ENROLMENT_CHANGED], actor=national
    )
    (delivery,) = webhook_event_record(event_type=EventType.ENROLMENT_CHANGED, payload={})
    assert delivery.endpoint_id == endpoint.pk


def test_an_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        webhook_event_record(event_type="certificate.eaten", payload={})
