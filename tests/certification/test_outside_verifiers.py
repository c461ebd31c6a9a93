"""Verifiers written elsewhere accept our credentials: @digitalcredentials/verifier-core (npm),
the library behind the Learner Credential Wallet and VerifierPlus, checks credentials the app
issued in the Data Integrity form, resolving our did:web and reading our status list over
HTTPS from a live server, as it would on the internet.

How the live server is reached (decision 0018): the DID is did:web:localhost%3A<port>, so the
library fetches https://localhost:<port>/.well-known/did.json. The Node script
(verifiers/verify.mjs) listens there with a certificate made by this test, which Node trusts
through NODE_EXTRA_CA_CERTS (TLS checks stay on), and passes each request on to pytest-django's
live server; SITE_URL is set to that https address so that the credentials' ids, issuer and
status list point at it. Nothing else in the library is replaced.

`npm ci` runs once per session from the committed package-lock.json (skipped while
node_modules matches it). Without node and npm the test skips locally and fails under CI=true.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from certification import openbadges
from certification.models import Certificate
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.permissions import Role
from tests.certification.npm_harness import npm_installed
from tests.factories import EnrolmentFactory, UserFactory
from tests.ports import free_port
from tests.tls import self_signed_certificate

HARNESS = Path(__file__).parent / "verifiers"
SCHEMAS = Path(__file__).parent / "schemas"
# What verifier-core fetches for its schema check of an OpenBadgeCredential (VC 2.0).
SCHEMA_URLS = {
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json": str(
        SCHEMAS / "ob_v3p0_achievementcredential.schema.json"
    ),
}
NODE_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="session")
def verifier_core() -> Path:
    """The harness with its node_modules installed (tests.certification.npm_harness)."""
    return npm_installed(HARNESS, what="verifier-core")


def _verifier_core(harness: Path, tmp_path: Path, *, port: int, upstream: str, credentials: dict) -> dict:
    cert_path, key_path = self_signed_certificate(tmp_path)
    request, answer = tmp_path / "input.json", tmp_path / "output.json"
    request.write_text(
        json.dumps(
            {
                "port": port,
                "upstream": upstream,
                "key": str(key_path),
                "cert": str(cert_path),
                "schemas": SCHEMA_URLS,
                "credentials": credentials,
            }
        )
    )
    done = subprocess.run(  # noqa: S603 - our own script with files we wrote
        [shutil.which("node"), "verify.mjs", str(request), str(answer)],
        cwd=harness,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cert_path)},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(answer.read_text())


def _steps(result: dict) -> dict:
    return {step["id"]: step.get("valid") for step in result.get("log", [])}


def _our_check(client, credential: dict) -> dict:
    response = client.post(reverse("certification:credential-verify"), credential, "application/json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_verifier_core_checks_signature_status_and_expiry_of_our_credentials(
    verifier_core, live_server, settings, seeded, tmp_path, client
):
    port = free_port()
    settings.SITE_URL = f"https://localhost:{port}"
    staff = UserFactory(role=Role.NATIONAL_STAFF)

    def issue(**enrolment) -> Certificate:
        return certificate_issue_manually(enrolment=EnrolmentFactory(**enrolment), actor=staff, reason="E.")

    valid = openbadges.credential_signed(issue())
    revoked_certificate = issue()
    revoked = openbadges.credential_signed(revoked_certificate)
    certificate_revoke(certificate=revoked_certificate, actor=staff, public_reason="Issued in error.")
    lapsing = issue(cohort__version__certificate_valid_months=12)
    Certificate.objects.filter(pk=lapsing.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=2))
    lapsing.refresh_from_db()
    expired = openbadges.credential_signed(lapsing)
    tampered = json.loads(json.dumps(valid))
    tampered["credentialSubject"]["name"] = "Someone Else"
    credentials = {"valid": valid, "revoked": revoked, "expired": expired, "tampered": tampered}

    said = _verifier_core(
        verifier_core, tmp_path, port=port, upstream=live_server.url, credentials=credentials
    )
    ours = {name: _our_check(client, credential) for name, credential in credentials.items()}
    # Shown with -s: what each verifier said (the report quotes it).
    print(json.dumps({"verifier-core": said, "ours": ours}, indent=2))

    assert "errors" not in said["valid"], said["valid"]
    assert _steps(said["valid"]) | {"registered_issuer": None} == {
        "valid_signature": True,
        "expiration": True,
        "revocation_status": True,
        "registered_issuer": None,  # no issuer registry is given: not a check of ours
    }
    [schema] = [entry for entry in said["valid"]["additionalInformation"] if entry["id"] == "schema_check"]
    assert [result["result"] for result in schema["results"]] == [{"valid": True}]  # 1EdTech's schema
    assert _steps(said["revoked"])["valid_signature"] is True
    assert _steps(said["revoked"])["revocation_status"] is False
    assert _steps(said["expired"])["valid_signature"] is True
    assert _steps(said["expired"])["expiration"] is False
    assert [error["name"] for error in said["tampered"]["errors"]] == ["invalid_signature"]

    assert ours["valid"] == {"valid": True, "revoked": False, "standing": "valid", "errors": []}
    assert ours["revoked"] == {"valid": False, "revoked": True, "standing": "revoked", "errors": []}
    assert ours["expired"]["valid"] is False
    assert [error.split(":")[0] for error in ours["expired"]["errors"]] == ["validUntil"]
    assert ours["tampered"]["valid"] is False
    assert [error.split(":")[0] for error in ours["tampered"]["errors"]] == ["signature"]
