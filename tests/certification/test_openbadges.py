"""Open Badges 3.0 credentials: valid against 1EdTech's schema, checkable with only the
published key, refused when tampered or foreign-signed, and revoked when the certificate is."""

import base64
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from jsonschema import Draft201909Validator
from jwt.algorithms import OKPAlgorithm

from certification import openbadges
from certification.models import Verification
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential.schema.json").read_text()
)


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
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content.decode()


def _published_key(client):
    jwks = client.get(reverse("certification:jwks")).json()
    [key] = jwks["keys"]
    assert "d" not in key  # never the private half
    return key["kid"], OKPAlgorithm.from_jwk(json.dumps(key))


def test_the_credential_validates_against_the_open_badges_schema(certificate):
    credential = openbadges.credential_for(certificate)
    errors = sorted(Draft201909Validator(SCHEMA).iter_errors(credential), key=str)
    assert errors == []
    assert certificate.holder.email not in json.dumps(credential)


def test_the_signature_checks_out_with_only_the_published_key(client, certificate):
    token = _download(client, certificate)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"]) == ("EdDSA", "vc+jwt")
    kid, public_key = _published_key(client)
    assert header["kid"] == kid
    payload = jwt.decode(token, public_key, algorithms=["EdDSA"])
    assert payload["credentialSubject"]["achievement"]["name"] == certificate.programme_title
    assert payload["id"].endswith(f"/c/{certificate.code}/")


def test_a_tampered_or_foreign_credential_fails(client, certificate):
    token = _download(client, certificate)
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["credentialSubject"]["name"] = "Someone Else"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{head}.{forged_body}.{signature}"
    foreign = jwt.encode(
        openbadges.credential_for(certificate),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": openbadges.KEY_ID, "typ": "vc+jwt"},
    )
    url = reverse("certification:credential-verify")
    for bad in (tampered, foreign, "not-a-jwt"):
        result = client.post(url, bad, content_type="application/vc+jwt").json()
        assert result["valid"] is False
        assert result["errors"]
    good = client.post(url, token, content_type="application/vc+jwt").json()
    assert good == {"valid": True, "revoked": False, "errors": []}
    assert Verification.objects.filter(certificate=certificate, channel="credential").count() == 1


def test_a_revoked_certificate_checks_as_revoked(client, staff, certificate):
    token = _download(client, certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    client.logout()
    result = client.post(
        reverse("certification:credential-verify"), {"credential": token}, "application/json"
    )
    assert result.json()["revoked"] is True
    assert result.json()["valid"] is False
    revocations = client.get(reverse("certification:revocations")).json()
    assert revocations["revokedCredentials"] == [
        {"id": openbadges.credential_id(certificate), "revoked": True, "revocationReason": "Issued in error."}
    ]


def test_only_the_holder_and_staff_download_it(client, staff, certificate):
    url = reverse("certification:certificate-credential", args=[certificate.pk])
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_bad_requests_to_the_check_get_clear_errors(client, seeded):
    url = reverse("certification:credential-verify")
    assert client.post(url, "", content_type="application/vc+jwt").status_code == 400
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "x" * (65 * 1024), content_type="application/vc+jwt").status_code == 413
    assert client.get(url).status_code == 405


def test_public_endpoints_run_a_fixed_number_of_queries(client, staff):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [
        reverse("certification:jwks"),
        reverse("certification:revocations"),
        reverse("certification:issuer"),
    ]
    first = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
    certificate_revoke(certificate=first, actor=staff, public_reason="Error.")
    few = [count(url) for url in urls]
    for _ in range(5):
        more = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
        certificate_revoke(certificate=more, actor=staff, public_reason="Error.")
    assert [count(url) for url in urls] == few
