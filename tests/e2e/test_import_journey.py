"""National staff import members: the Staff menu, a file with errors shown row by row, then a
clean file previewed and confirmed."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from members.models import User
from members.permissions import Role
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, assert_styled
from tests.factories import UserFactory
from tests.imports.conftest import csv_bytes, member_row

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set SCREENSHOTS_DIR to keep a picture of the page at desktop and phone widths.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def _look(page, name: str) -> None:
    for label, viewport in [
        ("desktop", DESKTOP),
        ("phone", PHONE),
        ("phone-390", {"width": 390, "height": 844}),
    ]:
        page.set_viewport_size(viewport)
        assert_styled(page)
        assert_accessible(page)
        # Nothing but the table (which scrolls inside its own box) may be wider than a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def _upload(page, data: bytes) -> None:
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "members.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Check the file").click()


def test_staff_preview_a_file_with_errors_then_import_a_clean_one(sign_in):
    call_command("load_seeds", verbosity=0)
    staff = UserFactory(role=Role.NATIONAL_STAFF, email="nadia@example.org")
    page = sign_in(staff)
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("button", name="Staff").click()
    menu.get_by_role("link", name="Import members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import members")

    _upload(
        page,
        csv_bytes(
            [
                member_row(1, first="Siân"),
                member_row(2, email="not-an-email"),
                member_row(3, seat="Atlantis"),
                member_row(4, first='=HYPERLINK("http://evil.example","Click")'),
                member_row(5, source=""),
                member_row(6),
            ]
        ),
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import of members.csv")
    expect(page.get_by_text("4 with errors")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").filter(has_text="not-an-email")).to_contain_text(
        "Not a valid email address."
    )
    expect(table.get_by_role("row").filter(has_text="imported4@")).to_contain_text("spreadsheet formula")
    expect(page.get_by_role("button", name="Confirm and import")).to_have_count(0)
    _look(page, "import-preview-errors")
    assert not User.objects.filter(email="imported1@example.org").exists()

    page.goto("/manage/imports/")
    _upload(page, csv_bytes([member_row(1, first="Siân"), member_row(2), member_row(3)]))
    expect(page.get_by_text("3 new")).to_be_visible()
    _look(page, "import-preview")
    page.get_by_role("button", name="Confirm and import").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("Imported")
    assert User.objects.get(email="imported1@example.org").first_name == "Siân"
