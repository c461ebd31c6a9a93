"""Shared set-up of the member import tests: a signed-in national staff member and files."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import MemberImport
from members.permissions import Role
from tests.factories import UserFactory

HEADINGS = [
    "Email",
    "First name",
    "Last name",
    "Constituency",
    "Consent date",
    "Consent source",
    "Membership number",
]


def member_row(n: int, **changes) -> list[str]:
    row = {
        "email": f"imported{n}@example.org",
        "first": f"First{n}",
        "last": f"Last{n}",
        "seat": "E14001377" if n % 2 else "hexham",
        "date": "2025-03-31",
        "source": "Membership form 2025",
        "number": f"FL-{n:04d}",
    }
    row.update(changes)
    return [row["email"], row["first"], row["last"], row["seat"], row["date"], row["source"], row["number"]]


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", headings=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings or HEADINGS)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def upload(client, data: bytes, *, name: str = "members.csv", cohort=None):
    return client.post(
        reverse("imports:import-create"),
        {"file": SimpleUploadedFile(name, data), "cohort": cohort.pk if cohort else ""},
    )


def checked(client, data: bytes, **kwargs) -> MemberImport:
    """Upload a file and return the import its check made."""
    response = upload(client, data, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    return MemberImport.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def confirm(client, member_import: MemberImport, capture) -> MemberImport:
    with capture(execute=True):
        response = client.post(reverse("imports:import-confirm", args=[member_import.pk]))
    assert response.status_code == 302
    member_import.refresh_from_db()
    return member_import
