"""National staff register a webhook endpoint, copy its secret once, send it a test event
and see the delivery; the pages are accessible at desktop and phone widths."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from members.permissions import Role
from tests.e2e.conftest import assert_accessible, assert_styled, field
from tests.factories import UserFactory
from tests.webhooks.conftest import local_http, receiver  # noqa: F401 - fixtures
from webhooks.models import Delivery, DeliveryStatus
from webhooks.tasks import deliveries_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set to a folder to keep screenshots of the pages at 1280 and 390 px.
SHOTS = os.environ.get("WEBHOOKS_SCREENSHOTS")


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_staff_register_an_endpoint_and_see_its_test_delivery(sign_in, receiver, local_http):  # noqa: F811
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    page = sign_in(staff)
    page.get_by_role("button", name="Staff").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    assert_styled(page)
    assert_accessible(page)

    field(page, "Address").fill(receiver.url)
    field(page, "Description").fill("Membership CRM")
    page.get_by_role("checkbox", name="Certificate issued (certificate.issued)").check()
    page.get_by_role("checkbox", name=re.compile("enrolment.changed")).check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_role("textbox", name="Secret").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page)
    _shoot(page, "webhooks-created")
    receiver.secret = secret

    row = page.get_by_role("row", name=re.compile("Membership CRM"))
    row.get_by_role("button", name=re.compile("^Send test event")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deliveries")
    deliveries_sweep()  # beat's job; tasks run in-process here
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    (got,) = receiver.received
    assert got.signature_ok

    page.reload()
    expect(page.get_by_role("row", name=re.compile("webhook.ping"))).to_contain_text("Delivered")
    expect(page.get_by_role("row", name=re.compile("webhook.ping"))).to_contain_text("HTTP 200")
    assert_accessible(page)
    _shoot(page, "webhooks-deliveries")

    page.goto("/manage/webhooks/")
    assert secret not in page.content()
    _shoot(page, "webhooks-list")
