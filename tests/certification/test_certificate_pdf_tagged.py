"""The certificate PDF is tagged (PDF/UA-1) and says its language, title, author and date."""

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from certification.pdf import certificate_pdf
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _pdf_date(value: str) -> datetime:
    """A PDF date (D:YYYYMMDDHHmmSS+HH'mm') as an aware datetime."""
    text = value.removeprefix("D:").replace("'", "")
    return datetime.strptime(
        text[:14] + (text[14:] if text[14:] not in ("", "Z") else "+0000"), "%Y%m%d%H%M%S%z"
    )


def test_the_pdf_is_tagged_for_accessibility_with_its_metadata(seeded):
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    reader = PdfReader(io.BytesIO(certificate_pdf(certificate)))
    catalog = reader.trailer["/Root"]
    # Tagged: a structure tree and marked content, as PDF/UA-1 requires.
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert catalog["/Lang"] == "en-GB"
    assert b"pdfuaid:part" in catalog["/Metadata"].get_object().get_data()
    info = reader.metadata
    assert info["/Title"] == f"{certificate.programme_title}: {certificate.holder_name}"
    assert info["/Author"] == certificate.issuer_name
    assert _pdf_date(info["/CreationDate"]) == certificate.issued_at.astimezone(UTC).replace(microsecond=0)
    assert reader.pdf_header == "%PDF-1.7"
