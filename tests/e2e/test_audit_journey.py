"""National staff read the audit trail: reached from the menu, filtered, downloaded; a
trainer opening a cohort's people shows up in it."""

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from audit.models import AuditAction, AuditEntry
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, assert_styled, field
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, EnrolmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set SCREENSHOTS_DIR to keep a picture of the page at desktop and phone widths.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def _look(page, name: str) -> None:
    for label, viewport in [("desktop", DESKTOP), ("phone", PHONE)]:
        page.set_viewport_size(viewport)
        assert_styled(page)
        assert_accessible(page)
        # Nothing but the table (which scrolls inside its own box) may be wider than a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_staff_read_filter_and_download_the_trail(sign_in, live_server):
    call_command("load_seeds", verbosity=0)
    staff = UserFactory(role=Role.NATIONAL_STAFF, email="nadia@example.org")
    trainer = UserFactory(role=Role.TRAINER, email="tess@example.org")
    member = UserFactory(role=Role.TRAINEE, email="amira@example.org")
    cohort = CohortFactory(name="Leeds, spring", trainers=[trainer], status=CohortStatus.FINISHED)
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")

    tess = sign_in(trainer)
    tess.goto(f"/manage/cohorts/{cohort.pk}/")
    expect(tess.get_by_role("heading", level=1)).to_contain_text("Leeds, spring")
    assert AuditEntry.objects.filter(action=AuditAction.MEMBER_LIST_VIEWED, actor=trainer).count() == 1

    page = sign_in(staff)
    # The trail is in the Staff menu of the navigation bar.
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("button", name="Staff").click()
    menu.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="Member list viewed")).to_contain_text("tess@example.org")
    expect(rows.filter(has_text="Certificate issued")).to_contain_text("amira@example.org")
    _look(page, "audit-trail")

    page.get_by_label("Action").select_option("certificate_issued")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)  # the header and one entry
    _look(page, "audit-trail-filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these entries (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["certificate_issued"]
    assert AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED, actor=staff).count() == 1

    field(page, "About (email)").fill("not an email")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    _look(page, "audit-trail-bad-filter")
