"""Open Badges endpoints: the holder's signed credential; public keys, issuer, achievement and
revocation list; and a public machine check of a credential.

The public documents are read by verifiers and wallets, some of them in a browser on another
site, so they allow any origin; none of them uses cookies.
"""

import json
from functools import cache
from pathlib import Path

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from certification import openbadges, permissions
from certification.models import VerificationChannel
from certification.services.verification import verification_rate_exceeded, verification_record
from training.models import ProgrammeVersion, VersionStatus

MAX_TOKEN_BYTES = 64 * 1024


def _public_json(data: dict, *, max_age: int, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


class CredentialDownloadView(LoginRequiredMixin, View):
    """The holder (their own) and national staff: the signed credential, for a wallet."""

    def get(self, request, pk):
        certificate = permissions.certificate_get_for_holder_or_staff(user=request.user, pk=pk)
        return HttpResponse(
            openbadges.credential_jwt(certificate),
            content_type=openbadges.MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="future-leaders-{certificate.code}.jwt"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class JwksView(View):
    """Anyone: every published public key (current and retired) that checks our credentials."""

    def get(self, request):
        return _public_json(openbadges.jwks(), max_age=300)


class IssuerView(View):
    """Anyone: the issuing organisation's Open Badges profile (its keys: the DID document)."""

    def get(self, request):
        return _public_json(openbadges.issuer_document(), max_age=300)


class AchievementView(View):
    """Anyone: what a published programme version's certificate stands for."""

    def get(self, request, pk):
        versions = ProgrammeVersion.objects.select_related("programme").exclude(status=VersionStatus.DRAFT)
        version = get_object_or_404(versions, pk=pk)
        achievement = openbadges.achievement_for(version=version, title=version.programme.title)
        return _public_json({"@context": openbadges.CONTEXT, **achievement}, max_age=300)


BADGE_IMAGE = Path(__file__).resolve().parent / "static" / "certification" / "badge.png"


class BadgeImageView(View):
    """Anyone: the badge image every achievement names (`image`), at an address that never
    changes (a static file's hashed name would), for wallets and sites that show the badge."""

    def get(self, request):
        response = HttpResponse(_badge_png(), content_type="image/png")
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = "public, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response


@cache
def _badge_png() -> bytes:
    return BADGE_IMAGE.read_bytes()


class RevocationListView(View):
    """Anyone: the credentials we have revoked (the `credentialStatus` of every credential).
    Never cached: a revocation holds from the moment staff make it."""

    def get(self, request):
        return _public_json(openbadges.revocation_list(), max_age=0)


@method_decorator(csrf_exempt, name="dispatch")  # a machine endpoint: no session, no cookies used
class CredentialVerifyView(View):
    """Anyone: POST a credential (the JWT as the body, or {"credential": "..."}) to check it.
    Answers {valid, revoked, errors}; each check of one of our credentials is counted."""

    http_method_names = ["post", "options"]

    def options(self, request, *args, **kwargs):
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return response

    def post(self, request):
        if verification_rate_exceeded(request):
            return _public_json(
                {"error": "Too many checks from this address; wait a minute."}, max_age=0, status=429
            )
        if len(request.body) > MAX_TOKEN_BYTES:
            return _public_json({"error": "The credential is too large."}, max_age=0, status=413)
        token = request.body.decode("utf-8", errors="replace").strip()
        if token.startswith("{"):
            try:
                token = str(json.loads(token).get("credential", "")).strip()
            except (ValueError, AttributeError):
                return _public_json(
                    {"error": "Send a JSON object with a 'credential' field."}, max_age=0, status=400
                )
        if not token:
            return _public_json({"error": "Send the credential (a JWT) to check."}, max_age=0, status=400)
        check = openbadges.credential_verify(token)
        if check.certificate is not None:
            verification_record(certificate_id=check.certificate.pk, channel=VerificationChannel.CREDENTIAL)
        return _public_json(check.as_json(), max_age=0)
