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
    target = url_resolve("https://93.184.216.34:443/hooks/in?x=1")
    assert (target.scheme, target.address, target.port, target.path) == (
        "https",
        "93.184.216.34",
        443,
        "/hooks/in?x=1",
    )
    assert url_resolve("https://93.184.216.34/hooks/in").port == 443


@pytest.mark.parametrize("port", [8443, 22, 25, 5432, 6379, 8080, 1])
def test_a_port_other_than_443_is_refused_with_a_message(port):
    with pytest.raises(ValidationError, match=f"standard HTTPS port \\(443\\).*port {port}"):
        url_resolve(f"https://93.184.216.34:{port}/hook")


@pytest.mark.django_db
def test_registration_refuses_another_port_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        endpoint_create(
            url="https://93.184.216.34:8443/hook", events=[EventType.CERTIFICATE_ISSUED], actor=None
        )
    assert "443" in caught.value.message_dict["url"][0]
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_an_endpoint_registered_on_another_port_is_refused_before_each_send(national):
    """Registered before the rule (a row as it stands): the send is refused, nothing is sent."""
    from webhooks.crypto import secret_encrypt, secret_new

    Endpoint.objects.create(
        url="https://93.184.216.34:8443/hook",
        events=[EventType.CERTIFICATE_ISSUED],
        secret_encrypted=secret_encrypt(secret_new()),
        created_by=national,
    )
    (delivery,) = webhook_event_record(event_type=EventType.CERTIFICATE_ISSUED, payload={})
    assert delivery_send(delivery_id=delivery.pk).result == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Refused")
    assert "443" in delivery.last_error


def test_the_transport_refuses_another_port_even_if_asked():
    from webhooks.addresses import Target
    from webhooks.transport import post

    target = Target(scheme="https", host="example.org", port=22, path="/", address="93.184.216.34")
    outcome = post(target=target, body=b"{}", headers={})
    assert outcome.status_code is None
    assert "443" in outcome.error


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
