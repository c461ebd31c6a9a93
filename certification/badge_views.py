"""Open Badges endpoints: the holder's signed credential; public keys, issuer, achievement and
revocation list; and a public machine check of a credential."""

import json

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from certification import openbadges, permissions
from certification.services.verification import verification_rate_exceeded, verification_record
from training.models import ProgrammeVersion, VersionStatus

MAX_TOKEN_BYTES = 64 * 1024


class CredentialDownloadView(LoginRequiredMixin, View):
    """The holder (their own) and national staff: the signed credential, for a wallet."""

    def get(self, request, pk):
        certificate = permissions.certificate_get_for_holder_or_staff(user=request.user, pk=pk)
        return HttpResponse(
            openbadges.credential_jwt(certificate),
            content_type="application/vc+jwt",
            headers={
                "Content-Disposition": f'attachment; filename="future-leaders-{certificate.code}.jwt"',
                "Cache-Control": "private, no-store",
            },
        )


class JwksView(View):
    """Anyone: the public key that checks our credentials."""

    def get(self, request):
        return JsonResponse(openbadges.jwks())


class IssuerView(View):
    """Anyone: the issuing organisation's Open Badges profile."""

    def get(self, request):
        return JsonResponse({"@context": openbadges.CONTEXT, **openbadges.issuer_profile()})


class AchievementView(View):
    """Anyone: what a programme version's certificate stands for."""

    def get(self, request, pk):
        versions = ProgrammeVersion.objects.select_related("programme").exclude(status=VersionStatus.DRAFT)
        version = get_object_or_404(versions, pk=pk)
        return JsonResponse(
            {
                "@context": openbadges.CONTEXT,
                "id": request.build_absolute_uri(),
                "type": ["Achievement"],
                "name": version.programme.title,
                "description": version.programme.description,
            }
        )


class RevocationListView(View):
    """Anyone: the credentials we have revoked (the `credentialStatus` of every credential)."""

    def get(self, request):
        return JsonResponse(openbadges.revocation_list())


@method_decorator(csrf_exempt, name="dispatch")  # a machine endpoint: no session, no cookies used
class CredentialVerifyView(View):
    """Anyone: POST a credential (the JWT as the body, or {"credential": "..."}) to check it."""

    http_method_names = ["post"]

    def post(self, request):
        if verification_rate_exceeded(request):
            return JsonResponse({"error": "Too many checks from this address; wait a minute."}, status=429)
        if len(request.body) > MAX_TOKEN_BYTES:
            return JsonResponse({"error": "The credential is too large."}, status=413)
        token = request.body.decode("utf-8", errors="replace").strip()
        if token.startswith("{"):
            try:
                token = str(json.loads(token).get("credential", ""))
            except (ValueError, AttributeError):
                return JsonResponse({"error": "Send a JSON object with a 'credential' field."}, status=400)
        if not token:
            return JsonResponse({"error": "Send the credential (a JWT) to check."}, status=400)
        result = openbadges.credential_verify(token)
        certificate = result.pop("certificate", None)
        if certificate is not None and not result["errors"]:
            verification_record(certificate=certificate, channel="credential")
        return JsonResponse(result)
