"""A member takes a copy of their data and erases their account; anyone checking their
certificate is then told it was withdrawn; staff find an account to erase on request."""

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, assert_styled, field
from tests.factories import PASSWORD, CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, EnrolmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set SCREENSHOTS_DIR to keep a picture of each page at desktop and phone widths.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def _look(page, name: str) -> None:
    """Check the page is styled and accessible at both widths; keep screenshots if asked."""
    for label, viewport in [("desktop", DESKTOP), ("phone", PHONE)]:
        page.set_viewport_size(viewport)
        assert_styled(page)
        assert_accessible(page)
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_member_takes_their_data_and_erases_their_account(sign_in, browser, live_server):
    call_command("load_seeds", verbosity=0)
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")
    member = UserFactory(role=Role.TRAINEE, first_name="Amira", last_name="Quarshie")
    cohort = CohortFactory(name="Leeds, spring", status=CohortStatus.FINISHED)
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")

    page = sign_in(member)
    page.get_by_role("button", name="Account").click()
    page.get_by_role("link", name="Your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    _look(page, "data-rights-empty")

    page.get_by_role("button", name="Ask for a copy of your data").click()
    # The click returns as the form is sent: a reload before the answer arrives would race
    # the navigation ("Not attached to an active page", seen under load).
    expect(page.get_by_text("We are preparing a copy of your data")).to_be_visible()
    # Tasks run in-process here, once the request's transaction commits: reload to see it.
    page.reload()
    expect(page.get_by_text("Ready to download")).to_be_visible()
    _look(page, "data-rights-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    data = json.loads(archive.read("data.json"))
    assert data["membership"]["account"]["first_name"] == "Amira"
    assert data["certification"]["certificates"][0]["code"] == certificate.code

    page.get_by_role("link", name=re.compile("Erase my account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase your account")
    _look(page, "account-erase")
    field(page, "Your password").fill("not my password")
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    field(page, "Your password").fill(PASSWORD)
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is erased")
    _look(page, "account-erased")

    # Anyone checking the certificate is told it was withdrawn, without a name.
    page.goto(f"/c/{certificate.code}/")
    expect(page.get_by_text("Withdrawn", exact=True)).to_be_visible()
    expect(page.get_by_text("Amira")).to_have_count(0)
    _look(page, "verify-withdrawn")


def test_staff_find_a_member_and_erase_their_account_on_request(sign_in, live_server):
    call_command("load_seeds", verbosity=0)
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")
    member = UserFactory(role=Role.TRAINEE, first_name="Kwame", last_name="Mensah")

    page = sign_in(staff)
    page.goto("/staff/")
    page.get_by_role("link", name="Erase a member's account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase a member's account")
    field(page, "The member's email address").fill(member.email)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("Kwame Mensah")).to_be_visible()
    _look(page, "staff-member-find")
    page.get_by_role("link", name=re.compile("Erase this account")).click()
    _look(page, "staff-member-erase")
    field(page, "Reason and reference of the member's request").fill("Asked by letter, ref DSR-12.")
    page.get_by_label(re.compile("The member asked")).check()
    page.get_by_role("button", name="Erase this account").click()
    expect(page.get_by_text("The account is erased.")).to_be_visible()
    member.refresh_from_db()
    assert member.erased_at is not None
