"""The certificate as a PDF: WeasyPrint from an HTML template, with a segno QR code.

Nothing is fetched from outside: the QR code is inline SVG, fonts are the machine's own
(named in CSS, with generic fallbacks), and the URL fetcher refuses anything but data: URIs
and files inside the app's own static folders.

The PDF is tagged as PDF/UA-1 asks (WeasyPrint's `pdf/ua-1` variant: a structure tree, marked
content, the title shown as the window title), for screen readers; its language (/Lang), title,
author (the issuer) and creation date (the certificate's issue) come from the template's
`<html lang>`, `<title>` and `<meta>` elements.

WeasyPrint takes half a second to import: it is imported where a PDF is rendered
(certificate_pdf, and certification.pdf_fetcher with it), never as a process starts.
"""

import logging
from typing import TYPE_CHECKING

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from certification.models import Certificate

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


# WeasyPrint's variant for PDF/UA-1 (ISO 14289-1): tagged PDF 1.7 with its XMP identification.
PDF_VARIANT = "pdf/ua-1"


def verification_url(certificate: Certificate) -> str:
    return settings.SITE_URL + reverse("certification:verify", args=[certificate.code])


def certificate_html(certificate: Certificate) -> str:
    """The certificate's HTML. Every member-supplied text is escaped by the template."""
    url = verification_url(certificate)
    qr_svg = segno.make(url, error="m").svg_inline(scale=4, dark="#3d0819", omitsize=True)
    return render_to_string(
        "certification/certificate_pdf.html",
        {"certificate": certificate, "verification_url": url, "qr_svg": mark_safe(qr_svg)},  # noqa: S308 - segno's own SVG
    )


def certificate_pdf_filename(certificate: Certificate) -> str:
    """ASCII only, safe inside a quoted Content-Disposition: slugify drops anything else."""
    parts = ["certificate", slugify(certificate.programme_title)[:60].strip("-"), certificate.code]
    return "-".join(part for part in parts if part) + ".pdf"


def certificate_pdf(
    certificate: Certificate,
    *,
    url_fetcher: "URLFetcher | None" = None,
    font_config: "FontConfiguration | None" = None,
) -> bytes:
    """One landscape A4 page. url_fetcher is for tests that record what was asked for;
    font_config, one FontConfiguration shared by a run of many renders (setting one up is
    about a sixth of a render's time; WeasyPrint makes a new one per render otherwise).

    Each render is logged (DEBUG), so that tests and benchmarks can count them."""
    from weasyprint import HTML  # heavy: loaded by the first render, not at start-up

    from certification.pdf_fetcher import SafeURLFetcher

    base_url = (settings.BASE_DIR / "static").resolve().as_uri() + "/"
    html = HTML(
        string=certificate_html(certificate),
        base_url=base_url,
        url_fetcher=url_fetcher or SafeURLFetcher(),
    )
    pdf = html.write_pdf(font_config=font_config, pdf_variant=PDF_VARIANT)
    logger.debug("Rendered the PDF of certificate %s", certificate.pk)
    return pdf
