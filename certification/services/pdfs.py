"""Certificate PDFs kept in storage: rendered once, served from storage after that.

A stored PDF is named by its certificate and by a digest of everything the PDF shows (the
certificate's printed fields, the verification address, the template's source and the
language): `certificate-pdfs/<id>/<digest>.pdf`. When what the PDF shows changes (revocation,
renewal, a corrected name, erasure, a new template) the digest changes with it, so the next
download renders afresh, whichever code path made the change; the older file is deleted then.

Storage is the default storage (MEDIA_ROOT, which no URL serves, or a private object on the
object store: config/storage.py): a stored PDF is reached only through CertificatePdfView,
with its holder-or-staff check, so a PDF a worker rendered is served by every web server.
"""

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from posixpath import join
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import get_template

from certification.models import Certificate
from certification.pdf import PDF_VARIANT, certificate_pdf, verification_url

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

logger = logging.getLogger(__name__)

PDF_DIRECTORY = "certificate-pdfs"
PDF_TEMPLATE = "certification/certificate_pdf.html"


@cache
def _template_digest() -> str:
    """The template's source, so that a new layout renders every certificate afresh."""
    return hashlib.sha256(get_template(PDF_TEMPLATE).template.source.encode()).hexdigest()


def certificate_pdf_version(certificate: Certificate) -> str:
    """A digest of what the PDF shows. The check page's name choice (shows_full_name) is not
    in it: the PDF is the holder's own copy and always prints the name on the certificate."""
    shown = [
        certificate.code,
        certificate.holder_name,
        certificate.programme_title,
        str(certificate.version_number),
        certificate.cohort_name,
        certificate.issuer_name,
        certificate.issued_at.isoformat(),
        certificate.expires_on.isoformat() if certificate.expires_on else "",
        certificate.status,
        certificate.revoked_at.isoformat() if certificate.revoked_at else "",
        verification_url(certificate),
        settings.LANGUAGE_CODE,
        settings.TIME_ZONE,
        _template_digest(),
        PDF_VARIANT,  # a change of variant (tagging) renders afresh too
    ]
    return hashlib.sha256("\x1f".join(shown).encode()).hexdigest()[:24]


def certificate_pdf_directory(certificate_id: int) -> str:
    return f"{PDF_DIRECTORY}/{certificate_id}"


def certificate_pdf_storage_name(certificate: Certificate) -> str:
    return f"{certificate_pdf_directory(certificate.pk)}/{certificate_pdf_version(certificate)}.pdf"


def _older_versions_delete(*, certificate_id: int, keep: str) -> None:
    for name in certificate_pdf_stored_names(certificate_id=certificate_id):
        if name != keep:
            default_storage.delete(name)


def certificate_pdf_stored_names(*, certificate_id: int) -> list[str]:
    """Every PDF stored for the certificate, current or not."""
    directory = certificate_pdf_directory(certificate_id)
    try:
        _folders, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return []
    return [join(directory, name) for name in files]


@dataclass(frozen=True)
class StoredPdf:
    name: str
    rendered: bool  # False: it was already in storage


def certificate_pdf_store(
    *, certificate: Certificate, font_config: "FontConfiguration | None" = None
) -> StoredPdf:
    """The storage name of the certificate's current PDF, rendering and storing it first if
    storage has none. Safe to run twice and at the same moment: two renders of one version
    are the same document, and the second to save deletes its copy. A run of many passes
    one font_config for them all."""
    name = certificate_pdf_storage_name(certificate)
    if default_storage.exists(name):
        return StoredPdf(name=name, rendered=False)
    content = certificate_pdf(certificate, font_config=font_config)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:
        # Another process stored this version first (the storage gave ours another name).
        default_storage.delete(saved)
    _older_versions_delete(certificate_id=certificate.pk, keep=name)
    return StoredPdf(name=name, rendered=True)


@dataclass
class CohortPdfReport:
    certificates: int = 0
    rendered: int = 0


def certificate_pdfs_render(*, cohort_id: int) -> CohortPdfReport:
    """Store the PDF of every certificate of a cohort that has none for what it now shows.
    One query, whatever the cohort's size; safe to run twice (the second renders nothing)."""
    from weasyprint.text.fonts import FontConfiguration  # heavy: loaded by a run, not at start-up

    report = CohortPdfReport()
    font_config = FontConfiguration()  # one for the run: WeasyPrint would set one up per page
    for certificate in Certificate.objects.filter(enrolment__cohort_id=cohort_id).order_by("pk"):
        report.certificates += 1
        report.rendered += certificate_pdf_store(certificate=certificate, font_config=font_config).rendered
    logger.info(
        "Cohort %s: %s certificate PDFs rendered, %s already stored",
        cohort_id,
        report.rendered,
        report.certificates - report.rendered,
    )
    return report
