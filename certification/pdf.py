"""The certificate as a PDF: WeasyPrint from an HTML template, with a segno QR code.

Nothing is fetched from outside: the QR code is inline SVG, fonts are the machine's own,
and the URL fetcher refuses anything but data: URIs and the app's own static files.
"""

from pathlib import Path

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from certification.models import Certificate


class FetchRefused(ValueError):
    """The certificate asked for something outside the app's own static files."""


class SafeURLFetcher(URLFetcher):
    """WeasyPrint's fetcher, allowed only data: URIs and files of the app's own static folder."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        static_root = (settings.BASE_DIR / "static").resolve()
        prefix = f"file://{static_root}/"
        if url.startswith(prefix):
            found = finders.find(url.removeprefix(prefix).split("?")[0])
            if found and Path(found).resolve().is_relative_to(static_root):
                return super().fetch(f"file://{Path(found).resolve()}", headers)
        raise FetchRefused(f"Refused to fetch {url!r} for a certificate.")


def verification_url(certificate: Certificate) -> str:
    return settings.SITE_URL + reverse("certification:verify", args=[certificate.code])


def certificate_html(certificate: Certificate) -> str:
    """The certificate's HTML. Every member-supplied text is escaped by the template."""
    url = verification_url(certificate)
    qr_svg = segno.make(url, error="m").svg_inline(scale=4, dark="#0b3d91", omitsize=True)
    return render_to_string(
        "certification/certificate_pdf.html",
        {"certificate": certificate, "verification_url": url, "qr_svg": mark_safe(qr_svg)},  # noqa: S308 - segno's own SVG
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    base_url = f"file://{(settings.BASE_DIR / 'static').resolve()}/"
    html = HTML(string=certificate_html(certificate), base_url=base_url, url_fetcher=SafeURLFetcher())
    return html.write_pdf()
