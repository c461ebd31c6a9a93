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

from certification import openbadges, permissions, status_list
from certification.models import VerificationChannel
from certification.services.verification import verification_rate_exceeded, verification_record
from config.json_bounded import JSON_MAX_DEPTH, json_loads_bounded
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


class CredentialJsonDownloadView(LoginRequiredMixin, View):
    """The holder (their own) and national staff: the credential with a Data Integrity proof,
    for wallets and verifiers that read JSON-LD."""

    def get(self, request, pk):
        certificate = permissions.certificate_get_for_holder_or_staff(user=request.user, pk=pk)
        return HttpResponse(
            json.dumps(openbadges.credential_signed(certificate), indent=2),
            content_type=openbadges.DI_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="future-leaders-{certificate.code}.json"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class DidDocumentView(View):
    """Anyone: the issuer's DID document (did:web), listing every published key."""

    def get(self, request):
        response = _public_json(openbadges.did_document(), max_age=300)
        response["Content-Type"] = "application/did+json"
        return response


class StatusListView(View):
    """Anyone: the signed revocation list (W3C Bitstring Status List) that every credential's
    `credentialStatus` points at. Built from the database on each request, so it is right from
    the moment a revocation commits; shared caches and verifiers may keep it five minutes
    (status_list.MAX_AGE_SECONDS), the delay a revocation may take to reach them."""

    def get(self, request):
        return _public_json(status_list.status_list_credential(), max_age=status_list.MAX_AGE_SECONDS)


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
    """The 1EdTech revocation list that named every revoked credential is gone (decision 0018):
    410, with the address of the status list that replaced it. Not a redirect: a verifier
    that still reads the old format would find no `revokedCredentials` in the status list and
    take the credential as not revoked; a 410 makes it fail closed."""

    def get(self, request):
        return _public_json(
            {
                "error": "This revocation list is withdrawn: credentials carry a W3C Bitstring "
                "Status List entry instead.",
                "statusListCredential": status_list.status_list_url(),
            },
            max_age=0,
            status=410,
        )


@method_decorator(csrf_exempt, name="dispatch")  # a machine endpoint: no session, no cookies used
class CredentialVerifyView(View):
    """Anyone: POST a credential to check it: a VC-JWT (the body, or {"credential": "<jwt>"}),
    or the Data Integrity form (the JSON credential as the body, or {"credential": {...}}).
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
        document = None
        if token.startswith(("{", "[")):
            try:
                body = json_loads_bounded(token, max_bytes=MAX_TOKEN_BYTES, max_depth=JSON_MAX_DEPTH)
            except ValueError:  # not JSON, too large, or nested deeper than JSON_MAX_DEPTH
                body = None
            if not isinstance(body, dict):
                return _public_json(
                    {"error": "Send a JSON object: the credential, or one with a 'credential' field."},
                    max_age=0,
                    status=400,
                )
            inner = body.get("credential", body if "proof" in body or "@context" in body else "")
            if isinstance(inner, dict):
                document = inner
            else:
                token = str(inner).strip()
        if document is None and not token:
            return _public_json(
                {"error": "Send the credential (a JWT, or the JSON credential) to check."},
                max_age=0,
                status=400,
            )
        if document is not None:
            check = openbadges.credential_verify_document(document)
        else:
            check = openbadges.credential_verify(token)
        if check.certificate is not None:
            verification_record(certificate_id=check.certificate.pk, channel=VerificationChannel.CREDENTIAL)
        return _public_json(check.as_json(), max_age=0)
