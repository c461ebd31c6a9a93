"""Certificates: the public verification page and the holder's own list.

Who may use each view is stated by its mixin (or, for verification, that it is public).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from certification import permissions
from certification.pdf import certificate_pdf_filename
from certification.selectors.certificates import certificate_list_for_holder
from certification.services.certificates import certificate_name_display_set
from certification.services.pdfs import certificate_pdf_store
from certification.services.registry import certificate_renew
from certification.services.verification import (
    RATE_WINDOW_SECONDS,
    verification_page_check,
    verification_record,
)
from certification.verification_cache import checked_page_get, checked_page_key


class VerifyView(View):
    """Anyone, without signing in: is this certificate real, and is it still valid?"""

    def get(self, request, code):
        # The check is counted in the database (below), not queued in Redis: a count must
        # survive a Redis restart or a cache flush (docs/decisions/0016, amended).
        check = verification_page_check(request, cache_key=checked_page_key(code))
        if check.exceeded:
            response = render(request, "certification/verify_slow_down.html", status=429)
            response["Retry-After"] = str(RATE_WINDOW_SECONDS)
            return response
        page = checked_page_get(code=code, kept=check.kept)
        if page is None:
            return render(request, "certification/verify_unknown.html", status=404)
        verification_record(certificate_id=page.certificate_id, channel="page")
        return render(request, "certification/verify.html", {"content": page.content_html})


class MyCertificatesView(LoginRequiredMixin, View):
    """Signed-in members: their own certificates."""

    def get(self, request):
        return render(
            request,
            "certification/my_certificates.html",
            {"certificates": certificate_list_for_holder(user=request.user)},
        )


class CertificatePdfView(LoginRequiredMixin, View):
    """The holder (their own) and national staff: the certificate as a PDF, from storage
    (rendered on the first download, and again only when what it shows has changed)."""

    def get(self, request, pk):
        certificate = permissions.certificate_get_for_holder_or_staff(user=request.user, pk=pk)
        stored = certificate_pdf_store(certificate=certificate)
        return FileResponse(
            default_storage.open(stored.name, "rb"),
            as_attachment=True,
            filename=certificate_pdf_filename(certificate),
            content_type="application/pdf",
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class CertificateNameDisplayView(LoginRequiredMixin, View):
    """The holder: how the public check page names them (full name or initials). POST only."""

    http_method_names = ["post"]

    def post(self, request, pk):
        certificate = permissions.certificate_get_for_holder(user=request.user, pk=pk)
        choice = request.POST.get("shows")
        if choice not in {"full", "initials"}:
            messages.error(request, _("Choose your full name or your initials."))
            return redirect("certification:my-certificates")
        certificate_name_display_set(
            certificate=certificate, holder=request.user, shows_full_name=choice == "full"
        )
        messages.success(
            request,
            _("Saved: the check page now shows your %(what)s.")
            % {"what": _("full name") if choice == "full" else _("initials")},
        )
        return redirect("certification:my-certificates")


class CertificateRenewView(LoginRequiredMixin, View):
    """The holder: renew a certificate that lapses, by activity since it was issued. POST only."""

    http_method_names = ["post"]

    def post(self, request, pk):
        certificate = permissions.certificate_get_for_holder(user=request.user, pk=pk)
        try:
            renewed = certificate_renew(certificate=certificate, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Renewed: valid until %(date)s.") % {"date": date_format(renewed.expires_on, "j F Y")},
            )
        return redirect("certification:my-certificates")
