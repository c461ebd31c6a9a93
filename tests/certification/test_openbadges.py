"""Open Badges 3.0 credentials: valid against 1EdTech's schemas, checkable with only the
published key, refused when tampered, foreign-signed or expired, and revoked when the
certificate is."""

import base64
import datetime as dt
import hashlib
import json
import stat
from pathlib import Path
from urllib.parse import urldefrag

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft201909Validator
from jwt.algorithms import OKPAlgorithm

from certification import openbadges
from certification.checks import openbadges_signing_key_check
from certification.models import Certificate, Verification
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
CREDENTIAL_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_achievementcredential.schema.json").read_text())
PROFILE_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_profile.schema.json").read_text())
VERIFY_URL = "certification:credential-verify"


def _schema_errors(schema, document) -> list[str]:
    return sorted(error.message for error in Draft201909Validator(schema).iter_errors(document))


def _pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def certificate(staff):
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


def _download(client, certificate) -> str:
    client.force_login(certificate.holder)
    response = client.get(reverse("certification:certificate-credential", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert response["Content-Disposition"] == f'attachment; filename="future-leaders-{certificate.code}.jwt"'
    return response.content.decode()


def _published_key(client):
    """The key as a verifier gets it: from the JWKS over HTTP, nothing else."""
    response = client.get(reverse("certification:jwks"))
    assert response["Access-Control-Allow-Origin"] == "*"
    [key] = response.json()["keys"]
    assert "d" not in key  # never the private half
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    return key["kid"], OKPAlgorithm.from_jwk(json.dumps(key))


def _check(client, token) -> dict:
    response = client.post(reverse(VERIFY_URL), token, content_type="application/vc+jwt")
    assert response.status_code == 200
    return response.json()


# --- The credential ---------------------------------------------------------------------------


def test_the_credential_validates_against_the_open_badges_schema(client, certificate):
    """Both the credential built and the payload a holder downloads validate, and neither shows
    the holder's email; the hashed identity is sha256 of the email and the salt."""
    credential = openbadges.credential_for(certificate)
    payload = _claims(_download(client, certificate))
    for document in (credential, payload):
        assert _schema_errors(CREDENTIAL_SCHEMA, document) == []
        assert certificate.holder.email not in json.dumps(document)
    [identity] = credential["credentialSubject"]["identifier"]
    expected = hashlib.sha256((certificate.holder.email.lower() + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert credential["credentialSubject"]["name"] == certificate.holder_name
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert f"at least {certificate.version.min_attendance_percent}%" in achievement["criteria"]["narrative"]
    assert dt.datetime.fromisoformat(credential["validFrom"]) == certificate.issued_at.replace(microsecond=0)
    assert "validUntil" not in credential


def test_a_certificate_that_lapses_gives_a_credential_valid_until_then(staff):
    """validUntil is the end of the expiry day, in the credential and as the JWT's exp."""
    enrolment = EnrolmentFactory(cohort__version__certificate_valid_months=24)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    credential = openbadges.credential_for(certificate)
    assert _schema_errors(CREDENTIAL_SCHEMA, credential) == []
    assert credential["validUntil"] == f"{certificate.expires_on.isoformat()}T23:59:59+00:00"
    claims = _claims(openbadges.credential_jwt(certificate))
    assert dt.datetime.fromtimestamp(claims["exp"], dt.UTC).date() == certificate.expires_on


def test_the_issuer_profile_and_achievement_are_published(client, certificate):
    """The issuer profile validates, and lists the signing key under the credentials' kid;
    the achievement served at its id is the one in the credential."""
    token = _download(client, certificate)
    client.logout()
    kid, public_key = _published_key(client)
    issuer_url, fragment = urldefrag(kid)
    assert fragment
    profile = client.get(issuer_url).json()
    assert _schema_errors(PROFILE_SCHEMA, profile) == []
    assert profile["id"] == _claims(token)["issuer"]["id"] == _claims(token)["iss"]
    [method] = [m for m in profile["verificationMethod"] if m["id"] == kid]
    assert method["type"] == "JsonWebKey"
    assert profile["assertionMethod"] == [kid]
    assert OKPAlgorithm.from_jwk(json.dumps(method["publicKeyJwk"])).public_bytes_raw() == (
        public_key.public_bytes_raw()
    )
    achievement = _claims(token)["credentialSubject"]["achievement"]
    served = client.get(achievement["id"]).json()
    assert {key: served[key] for key in achievement} == achievement


# --- The signature ----------------------------------------------------------------------------


def test_the_signature_checks_out_with_only_the_published_key(client, certificate):
    token = _download(client, certificate)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"], header["cty"]) == ("EdDSA", "vc+jwt", "vc")
    kid, public_key = _published_key(client)
    assert header["kid"] == kid
    payload = jwt.decode(token, public_key, algorithms=["EdDSA"])
    assert payload["credentialSubject"]["achievement"]["name"] == certificate.programme_title
    assert payload["id"] == payload["jti"]
    assert payload["id"].endswith(f"/c/{certificate.code}/")
    assert "vc" not in payload  # VC-JOSE-COSE: the payload is the credential itself


def test_a_tampered_forged_or_malformed_credential_fails_and_is_not_counted(client, certificate):
    token = _download(client, certificate)
    head, body, signature = token.split(".")
    claims = _claims(token)
    tampered = f"{head}.{_b64({**claims, 'name': 'Someone Else'})}.{signature}"
    foreign = jwt.encode(
        claims,
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": openbadges.key_id(), "typ": "vc+jwt"},
    )
    unsigned = f"{_b64({'alg': 'none', 'typ': 'vc+jwt', 'kid': openbadges.key_id()})}.{body}."
    # The published key used as an HMAC secret: the old algorithm-confusion forgery.
    public_bytes = openbadges.signing_key().public_key().public_bytes_raw()
    confused = jwt.encode(
        claims, public_bytes, algorithm="HS256", headers={"kid": openbadges.key_id(), "typ": "vc+jwt"}
    )
    no_kid = jwt.encode(claims, openbadges.signing_key(), algorithm="EdDSA", headers={"typ": "vc+jwt"})
    other_typ = jwt.encode(
        claims, openbadges.signing_key(), algorithm="EdDSA", headers={"kid": openbadges.key_id()}
    )
    client.logout()
    for bad in (tampered, foreign, unsigned, confused, no_kid, other_typ, "not-a-jwt"):
        result = _check(client, bad)
        assert result["valid"] is False, bad
        assert result["errors"], bad
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, _published_key(client)[1], algorithms=["EdDSA"])
    assert Verification.objects.filter(certificate=certificate).count() == 0
    assert _check(client, token) == {"valid": True, "revoked": False, "errors": []}
    assert Verification.objects.filter(certificate=certificate, channel="credential").count() == 1


def test_credential_verify_uses_only_the_key_set_it_is_given(certificate):
    """The same genuine credential fails against a key set that does not hold our key."""
    token = openbadges.credential_jwt(certificate)
    assert openbadges.credential_verify(token).valid is True
    stranger = json.loads(OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key()))
    check = openbadges.credential_verify(
        token, published_jwks={"keys": [{**stranger, "kid": openbadges.key_id()}]}
    )
    assert check.valid is False
    assert check.certificate is None


# --- Status -----------------------------------------------------------------------------------


def test_a_revoked_certificate_checks_as_revoked(client, staff, certificate):
    token = _download(client, certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    client.logout()
    result = client.post(reverse(VERIFY_URL), {"credential": token}, "application/json").json()
    assert result == {"valid": False, "revoked": True, "errors": []}
    status_url = _claims(token)["credentialStatus"]["id"]
    response = client.get(status_url)
    assert response["Cache-Control"] == "no-cache"
    revocations = response.json()
    assert revocations["id"] == status_url
    assert revocations["issuer"] == openbadges.issuer_id()
    assert revocations["revokedCredentials"] == [
        {"id": _claims(token)["id"], "revoked": True, "revocationReason": "Issued in error."}
    ]
    # A check of a revoked credential is still a check of that certificate.
    assert Verification.objects.filter(certificate=certificate, channel="credential").count() == 1


def test_a_credential_past_its_valid_until_fails(client, staff):
    """The JWT says when it ends; after that the check fails, and says why."""
    enrolment = EnrolmentFactory(cohort__version__certificate_valid_months=12)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    certificate.refresh_from_db()
    token = openbadges.credential_jwt(certificate)
    result = _check(client, token)
    assert result["valid"] is False
    assert result["revoked"] is False
    assert [error.split(":")[0] for error in result["errors"]] == ["validUntil"]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, _published_key(client)[1], algorithms=["EdDSA"])


# --- Who may download it ----------------------------------------------------------------------


def test_only_the_holder_and_staff_download_it(client, staff, certificate):
    url = reverse("certification:certificate-credential", args=[certificate.pk])
    client.force_login(certificate.holder)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url("account_login"))


def test_the_holder_page_links_to_the_badge_until_it_is_revoked(client, staff, certificate):
    client.force_login(certificate.holder)
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert reverse("certification:certificate-credential", args=[certificate.pk]) in page
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in page
    assert f"certId={certificate.code}" in page
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert reverse("certification:certificate-credential", args=[certificate.pk]) not in page
    assert "linkedin.com" not in page


# --- The check endpoint -----------------------------------------------------------------------


def test_bad_requests_to_the_check_get_clear_errors(client, seeded):
    url = reverse(VERIFY_URL)
    assert client.post(url, "", content_type="application/vc+jwt").status_code == 400
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "x" * (65 * 1024), content_type="application/vc+jwt").status_code == 413
    assert client.get(url).status_code == 405
    preflight = client.options(url)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"


def test_the_check_is_rate_limited_per_address(client, settings, certificate):
    settings.VERIFY_RATE_LIMIT = 2
    token = openbadges.credential_jwt(certificate)
    assert [
        client.post(reverse(VERIFY_URL), token, content_type="text/plain").status_code for _ in range(3)
    ] == [
        200,
        200,
        429,
    ]


def test_public_endpoints_run_a_fixed_number_of_queries(client, staff):
    def count(method, url, *args) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert getattr(client, method)(url, *args).status_code == 200
        return len(queries)

    def counts(token) -> list[int]:
        return [
            count("get", reverse("certification:jwks")),
            count("get", reverse("certification:revocations")),
            count("get", reverse("certification:issuer")),
            count("post", reverse(VERIFY_URL), token, "application/vc+jwt"),
        ]

    first = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
    token = openbadges.credential_jwt(first)
    certificate_revoke(certificate=first, actor=staff, public_reason="Error.")
    few = counts(token)
    for _ in range(5):
        more = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
        certificate_revoke(certificate=more, actor=staff, public_reason="Error.")
    assert counts(token) == few
    assert few[:3] == [0, 1, 0]


# --- The key ----------------------------------------------------------------------------------


def test_the_kid_fragment_is_the_rfc_7638_thumbprint():
    """RFC 8037, appendix A.3: the thumbprint of its example Ed25519 key."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert openbadges._thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_configured_key_signs_and_is_published(client, settings, certificate):
    """With OPENBADGES_SIGNING_KEY set, that key signs and its public half is published."""
    key = Ed25519PrivateKey.generate()
    settings.OPENBADGES_SIGNING_KEY = _pem(key)
    _kid, published = _published_key(client)
    assert published.public_bytes_raw() == key.public_key().public_bytes_raw()
    token = openbadges.credential_jwt(certificate)
    assert jwt.decode(token, key.public_key(), algorithms=["EdDSA"])["id"] == openbadges.credential_id(
        certificate
    )
    assert openbadges_signing_key_check(None) == []


def test_a_key_that_is_not_ed25519_is_refused(settings, seeded):
    settings.OPENBADGES_SIGNING_KEY = _pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ImproperlyConfigured):
        openbadges.signing_key()
    assert [message.id for message in openbadges_signing_key_check(None)] == ["certification.E001"]


def test_without_a_configured_key_a_development_key_is_made_once(settings, tmp_path):
    """The development key is made on first use, readable by its owner only, then reused;
    the deploy check warns that production should set its own."""
    settings.OPENBADGES_SIGNING_KEY = ""
    path = tmp_path / "keys" / openbadges.DEV_KEY_FILE
    pem = openbadges._dev_key_pem(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    openbadges._dev_key_pem.cache_clear()
    assert openbadges._dev_key_pem(path) == pem
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert [message.id for message in openbadges_signing_key_check(None)] == ["certification.W001"]
