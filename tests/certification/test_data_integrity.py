"""The Data Integrity form (eddsa-rdfc-2022) and the issuer's did:web document: the holder's
download, the proof as the cryptosuite defines it, and our own check of the JSON form, which
answers "not verified, because..." to everything it cannot vouch for, never a 500 or "valid"."""

import copy
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from certification import data_integrity, openbadges, status_list
from certification.jsonld_contexts import expand_strict
from certification.models import Certificate, Verification
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.signing_keys import ED25519, P256, SigningKey, base58btc, issuer_id, signing_key
from certification.standing import certificate_lapses_at
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

VERIFY_URL = "certification:credential-verify"
DOWNLOAD_URL = "certification:certificate-credential-json"


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def certificate(staff):
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


def _download(client, certificate) -> dict:
    client.force_login(certificate.holder)
    response = client.get(reverse(DOWNLOAD_URL, args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc"
    assert response["Content-Disposition"] == f'attachment; filename="future-leaders-{certificate.code}.json"'
    assert response["Cache-Control"] == "private, no-store"
    client.logout()
    return json.loads(response.content)


def _check(client, body, content_type="application/json") -> dict:
    response = client.post(reverse(VERIFY_URL), body, content_type=content_type)
    assert response.status_code == 200, response.content
    return response.json()


def _reasons(result: dict) -> list[str]:
    return [error.split(":")[0] for error in result["errors"]]


def _stranger_key(curve=ED25519) -> SigningKey:
    return SigningKey(
        name="stranger", curve=curve, private_key=Ed25519PrivateKey.generate(), created_at=timezone.now()
    )


# --- The download ------------------------------------------------------------------------------


def test_only_the_holder_and_staff_download_the_json_credential(client, staff, certificate):
    url = reverse(DOWNLOAD_URL, args=[certificate.pk])
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


def test_the_json_credential_carries_an_eddsa_rdfc_2022_proof_by_the_newest_ed25519_key(client, certificate):
    credential = _download(client, certificate)
    [proof] = credential["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == signing_key(curve=ED25519).verification_method_id
    assert proof["verificationMethod"].startswith(issuer_id() + "#")
    assert proof["proofValue"].startswith("z")
    assert len(data_integrity.base58btc_decode(proof["proofValue"][1:])) == 64
    assert dt.datetime.fromisoformat(proof["created"]) <= timezone.now()
    assert credential["credentialStatus"]["statusListIndex"] == str(certificate.status_list_index)
    assert certificate.holder.email not in json.dumps(credential)


def test_the_proof_is_the_signature_of_the_two_canonical_hashes(certificate):
    """Recomputed by hand from the spec: SHA-256 of the canonical proof options (with the
    document's @context), then of the canonical document, signed with Ed25519."""
    credential = openbadges.credential_signed(certificate)
    [proof] = credential["proof"]
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    unsecured = {key: value for key, value in credential.items() if key != "proof"}
    config_nquads = data_integrity.canonical_nquads({**options, "@context": unsecured["@context"]})
    document_nquads = data_integrity.canonical_nquads(unsecured)
    assert '<https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"' in config_nquads
    expected = (
        hashlib.sha256(config_nquads.encode()).digest() + hashlib.sha256(document_nquads.encode()).digest()
    )
    key = signing_key(curve=ED25519)
    key.private_key.public_key().verify(data_integrity.base58btc_decode(proof["proofValue"][1:]), expected)


def test_base58btc_round_trips_with_leading_zeros():
    for data in (b"", b"\0", b"\0\0\x01\x02", bytes(range(64))):
        assert data_integrity.base58btc_decode(base58btc(data)) == data
    with pytest.raises(ValueError, match="base58btc"):
        data_integrity.base58btc_decode("0OIl")


# --- The DID document --------------------------------------------------------------------------


def test_the_did_document_lists_every_published_key_for_assertion(client, seeded):
    response = client.get(reverse("certification:did-document"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["id"] == issuer_id()
    methods = {method["id"]: method for method in document["verificationMethod"]}
    assert document["assertionMethod"] == list(methods)
    ed25519 = methods[signing_key(curve=ED25519).verification_method_id]
    assert ed25519["type"] == "Multikey"
    assert ed25519["controller"] == issuer_id()
    assert ed25519["publicKeyMultibase"].startswith("z6Mk")  # Ed25519 public key, multicodec 0xed
    assert methods[signing_key(curve=P256).verification_method_id]["type"] == "JsonWebKey"
    assert all("d" not in method.get("publicKeyJwk", {}) for method in methods.values())  # public only
    assert len(response.content) < 8192  # did:web resolvers refuse larger documents
    expand_strict(document)  # every term defined by the (vendored) contexts


def test_the_did_is_the_site_host_with_the_port_encoded(settings):
    settings.SITE_URL = "https://example.org"
    assert issuer_id() == "did:web:example.org"
    settings.SITE_URL = "http://localhost:8000"
    assert issuer_id() == "did:web:localhost%3A8000"


# --- Our check of the JSON form ----------------------------------------------------------------


def test_a_genuine_json_credential_checks_out_and_is_counted(client, certificate):
    credential = _download(client, certificate)
    assert _check(client, credential) == {"valid": True, "revoked": False, "standing": "valid", "errors": []}
    assert _check(client, {"credential": credential}) == {
        "valid": True,
        "revoked": False,
        "standing": "valid",
        "errors": [],
    }
    assert Verification.objects.filter(certificate=certificate, channel="credential").count() == 2


def test_a_revoked_or_withdrawn_json_credential_checks_as_revoked(client, staff, certificate):
    credential = _download(client, certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    assert _check(client, credential) == {
        "valid": False,
        "revoked": True,
        "standing": "revoked",
        "errors": [],
    }


def test_an_expired_json_credential_fails_and_says_why(client, staff):
    enrolment = EnrolmentFactory(cohort__version__certificate_valid_months=12)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=2)
    )
    certificate.refresh_from_db()
    result = _check(client, openbadges.credential_signed(certificate))
    assert result["valid"] is False
    assert _reasons(result) == ["validUntil"]
    assert result["standing"] == "expired"  # as the check page says


def test_the_credential_lapses_when_the_certificate_does(staff):
    """validUntil is the end of the last valid day in the site's time zone: the moment the
    certificate's standing turns to expired, not a fixed hour of UTC."""
    enrolment = EnrolmentFactory(cohort__version__certificate_valid_months=12)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=dt.date(2027, 7, 1))
    certificate.refresh_from_db()
    valid_until = dt.datetime.fromisoformat(openbadges.credential_for(certificate)["validUntil"])
    assert valid_until == certificate_lapses_at(dt.date(2027, 7, 1))
    assert valid_until == dt.datetime(2027, 7, 1, 23, 0, tzinfo=dt.UTC)  # midnight in London, summer


def test_bad_json_credentials_are_not_verified_and_say_why(client, certificate):
    """Tampered, another issuer, a wrong or unknown key, a stranger's signature, a mangled
    proof: each gets a reason, a 200 with valid false, and nothing is counted."""
    genuine = openbadges.credential_signed(certificate)

    def altered(change) -> dict:
        copied = copy.deepcopy(genuine)
        change(copied)
        return copied

    [proof] = genuine["proof"]
    foreign_did = "did:web:elsewhere.example"
    stranger = data_integrity.credential_sign(
        openbadges.credential_for(certificate), key=_stranger_key()
    )  # signed by a key we never published, under our verification method's name below
    forged = {**stranger, "proof": {**stranger["proof"], "verificationMethod": proof["verificationMethod"]}}
    cases = {
        "tampered name": (altered(lambda c: c["credentialSubject"].update(name="Someone Else")), "signature"),
        "tampered validUntil": (
            altered(lambda c: c.update(validUntil="2999-01-01T00:00:00+00:00")),
            "signature",
        ),
        "tampered status index": (
            altered(lambda c: c["credentialStatus"].update(statusListIndex="0")),
            "signature",
        ),
        "another issuer": (
            altered(lambda c: c.update(issuer={**c["issuer"], "id": foreign_did})),
            "issuer",
        ),
        "issuer as a string": (altered(lambda c: c.update(issuer=foreign_did)), "issuer"),
        "unknown key id": (
            altered(lambda c: c["proof"][0].update(verificationMethod=f"{issuer_id()}#not-a-key")),
            "proof",
        ),
        "another controller's key": (
            altered(lambda c: c["proof"][0].update(verificationMethod=f"{foreign_did}#key-1")),
            "proof",
        ),
        "the P-256 key named": (
            altered(
                lambda c: c["proof"][0].update(
                    verificationMethod=signing_key(curve=P256).verification_method_id
                )
            ),
            "proof",
        ),
        "a stranger's signature": (forged, "signature"),
        "no proof": (altered(lambda c: c.pop("proof")), "proof"),
        "two proofs": (altered(lambda c: c.update(proof=[proof, proof])), "proof"),
        "another cryptosuite": (
            altered(lambda c: c["proof"][0].update(cryptosuite="ecdsa-rdfc-2019")),
            "proof",
        ),
        "proofValue not base58": (altered(lambda c: c["proof"][0].update(proofValue="z0OIl")), "proof"),
        "proofValue too short": (
            altered(lambda c: c["proof"][0].update(proofValue="z3mJr7AoUXx2Wqd")),
            "proof",
        ),
        "proofValue not a string": (altered(lambda c: c["proof"][0].update(proofValue=7)), "proof"),
        # The JSON-LD processor drops it, so the signature still matches: the strict expansion
        # is what refuses it.
        "a term no context defines": (altered(lambda c: c.update(nickname="Ace")), "document"),
        # Even signed by our key, a term no context defines is refused (jsonld.js's safe mode).
        "a signed undefined term": (
            data_integrity.credential_sign(
                {**openbadges.credential_for(certificate), "nickname": "Ace"}, key=signing_key(curve=ED25519)
            ),
            "document",
        ),
        "an unknown context": (
            altered(lambda c: c.update({"@context": [*c["@context"], "https://evil.example/ctx.json"]})),
            "document",
        ),
        "context not a list": (altered(lambda c: c.update({"@context": 7})), "document"),
        "unknown certificate": (
            altered(lambda c: c.update(id=c["id"].replace(certificate.code, "ABCDEFGHJKMNPQRS"))),
            "signature",
        ),
    }
    for name, (document, reason) in cases.items():
        result = _check(client, document)
        assert result["valid"] is False, name
        assert _reasons(result)[:1] == [reason], (name, result)
    assert Verification.objects.filter(certificate=certificate).count() == 0


def test_the_check_answers_clearly_to_a_malformed_body(client, certificate):
    url = reverse(VERIFY_URL)
    for body in ("[]", "[1, 2]", "{not json", "[" * 20_000 + "]" * 20_000, "{" * 30_000):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, body[:20]
        assert response.json()["error"]
    for body in ("7", '"text"', "null"):  # read as a (malformed) JWT
        assert _check(client, body)["valid"] is False
    for body in ({"credential": []}, {"credential": 7}, {"credential": None}, {"other": 1}):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in (200, 400), body
        if response.status_code == 200:
            assert response.json()["valid"] is False
    # Deeply nested credentials: deeper than json reads (400), and deep enough to tax pyld.
    signed = openbadges.credential_signed(certificate)
    head = json.dumps({key: signed[key] for key in ("@context", "issuer", "proof")})[:-1]
    for depth, term in ((5_000, "a"), (400, "credentialSubject")):
        body = f'{head}, "credentialSubject": ' + f'{{"{term}": ' * depth + "{}" + "}" * depth + "}"
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in (200, 400), depth
        assert response.status_code == 400 or response.json()["valid"] is False


def test_a_credential_signed_before_a_key_rotation_still_verifies(client, settings, tmp_path, certificate):
    """Old keys stay published: the newer Ed25519 key signs new credentials, the old ones check."""
    from certification.signing_keys import key_create_in_directory

    settings.OPENBADGES_SIGNING_KEYS = ""
    settings.OPENBADGES_SIGNING_KEY = ""
    settings.OPENBADGES_KEY_DIR = tmp_path / "keys"
    before = openbadges.credential_signed(certificate)
    newer = key_create_in_directory(curve=ED25519)
    after = openbadges.credential_signed(certificate)
    assert after["proof"][0]["verificationMethod"] == newer.verification_method_id
    assert before["proof"][0]["verificationMethod"] != newer.verification_method_id
    for credential in (before, after):
        assert _check(client, credential) == {
            "valid": True,
            "revoked": False,
            "standing": "valid",
            "errors": [],
        }
    assert status_list.status_list_credential()["proof"]["verificationMethod"] == newer.verification_method_id


def test_checking_a_json_credential_takes_the_same_queries_whatever_the_number_of_certificates(
    client, staff, certificate
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    credential = openbadges.credential_signed(certificate)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _check(client, credential)["valid"] is True
        return len(captured)

    few = queries()
    for _ in range(6):
        revoked = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
        certificate_revoke(certificate=revoked, actor=staff, public_reason="Error.")
    assert queries() == few
