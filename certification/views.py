"""Certificates: the public verification page and the holder's own list.

Who may use each view is stated by its mixin (or, for verification, that it is public).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.views import View

from certification.selectors.certificates import certificate_for_verification, certificate_list_for_holder
from certification.services.verification import verification_record


class VerifyView(View):
    """Anyone, without signing in: is this certificate real, and is it still valid?"""

    def get(self, request, code):
        certificate = certificate_for_verification(code=code)
        if certificate is None:
            return render(request, "certification/verify_unknown.html", status=404)
        verification_record(certificate=certificate, channel="page")
        return render(request, "certification/verify.html", {"certificate": certificate})


class MyCertificatesView(LoginRequiredMixin, View):
    """Signed-in members: their own certificates."""

    def get(self, request):
        return render(
            request,
            "certification/my_certificates.html",
            {"certificates": certificate_list_for_holder(user=request.user)},
        )
