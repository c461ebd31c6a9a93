"""SSRF: deliveries go to HTTPS on public addresses only, checked at registration and again
before every send."""

import pytest
from django.core.exceptions import ValidationError

from webhooks.addresses import url_resolve
from webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from webhooks.services import delivery_send, endpoint_create, webhook_event_record

REFUSED = [
    "https://10.0.0.1/hook",
    "https://192.168.1.20/hook",
    "https://172.16.0.5/hook",
    "https://100.64.0.1/hook",  # carrier-grade NAT: not public
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "https://127.0.0.1/hook",
    "https://localhost/hook",  # a name that resolves to loopback
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped IPv6
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "http://example.com/hook",  # not HTTPS
    "ftp://93.184.216.34/hook",
    "https://user:password@93.184.216.34/hook",
    "https:///no-host",
    "not a url",
    "",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_link_local_and_plain_http_addresses_are_refused(url):
    with pytest.raises(ValidationError):
        url_resolve(url)


def test_a_public_https_address_is_accepted():
    target = url_resolve("https://93.184.216.34:8443/hooks/in?x=1")
    assert (target.scheme, target.address, target.port, target.path) == (
        "https",
        "93.184.216.34",
        8443,
        "/hooks/in?x=1",
    )


def test_the_local_setting_lets_http_to_loopback_through_and_nothing_else_private(settings):
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True
    assert url_resolve("http://127.0.0.1:8000/hook").address == "127.0.0.1"
    assert url_resolve("http://localhost:8000/hook").address in {"127.0.0.1", "::1"}
    for url in ("https://10.0.0.1/hook", "http://example.com/hook", "http://10.0.0.1/hook"):
        with pytest.raises(ValidationError):
            url_resolve(url)


@pytest.mark.django_db
def test_registration_refuses_a_private_address_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        endpoint_create(url="https://10.0.0.1/hook", events=[EventType.CERTIFICATE_ISSUED], actor=None)
    assert "url" in caught.value.message_dict
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_the_address_is_checked_again_at_send_time(receiver, endpoint_for, settings):
    """Registered while loopback was allowed; no longer allowed at send time: refused, nothing sent."""
    endpoint_for(receiver)
    (delivery,) = webhook_event_record(event_type=EventType.CERTIFICATE_ISSUED, payload={})
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = False

    assert delivery_send(delivery_id=delivery.pk).result == "failed"

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Refused")
    assert receiver.received == []
    assert Delivery.objects.count() == 1
