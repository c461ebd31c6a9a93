"""Open Badges 3.0 credentials: valid against 1EdTech's schemas and the JSON-LD contexts, a
VC-JWT as OB 3.0 section 8.2 lays it out, checkable with only the published keys (also after a
rotation), refused when tampered, foreign-signed, of another issuer or expired, and revoked
when the certificate is."""

import base64
import datetime as dt
import hashlib
import json
from io import StringIO
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft201909Validator
from jwt.algorithms import ECAlgorithm

from certification import openbadges, signing_keys
from certification.checks import openbadges_signing_key_check
from certification.jsonld_contexts import expand_strict
from certification.models import Certificate, Verification
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.standing import certificate_lapses_at
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
CREDENTIAL_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_achievementcredential.schema.json").read_text())
PROFILE_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_profile.schema.json").read_text())
VERIFY_URL = "certification:credential-verify"
JWT_CLAIMS = {"iss", "jti", "nbf", "sub", "exp"}


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


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    """Each test its own development keys, made on first use."""
    settings.OPENBADGES_SIGNING_KEY = ""
    settings.OPENBADGES_SIGNING_KEYS = ""
    settings.OPENBADGES_KEY_DIR = tmp_path / "keys"
    return settings.OPENBADGES_KEY_DIR


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
    assert response["Content-Type"] == "application/jwt"
    assert response["Content-Disposition"] == f'attachment; filename="future-leaders-{certificate.code}.jwt"'
    return response.content.decode()


def _published_key(client, token):
    """The key that checks `token` as a verifier gets it: from the JWKS over HTTP, by the
    token's kid, nothing else."""
    response = client.get(reverse("certification:jwks"))
    assert response["Access-Control-Allow-Origin"] == "*"
    keys = {key["kid"]: key for key in response.json()["keys"]}
    assert all("d" not in key for key in keys.values())  # never the private half
    key = keys[jwt.get_unverified_header(token)["kid"]]
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
    return ECAlgorithm.from_jwk(json.dumps(key))


def _check(client, token) -> dict:
    response = client.post(reverse(VERIFY_URL), token, content_type="application/vc+jwt")
    assert response.status_code == 200
    return response.json()


# --- The credential ---------------------------------------------------------------------------


def test_the_credential_validates_against_the_open_badges_schema(client, staff, certificate):
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
    # The issuer is the site's DID, with the profile's name and address.
    assert credential["issuer"] == {
        "id": signing_keys.issuer_id(),
        "type": ["Profile"],
        "name": "Movement for Change",
        "url": "http://127.0.0.1:8000/",
    }
    # A subject id that names this certificate's holder only, and says nothing about them.
    subject_id = credential["credentialSubject"]["id"]
    assert subject_id.startswith("urn:uuid:")
    assert subject_id == openbadges.credential_for(certificate)["credentialSubject"]["id"]
    other = certificate_issue_manually(
        enrolment=EnrolmentFactory(member=certificate.holder), actor=staff, reason="E."
    )
    assert openbadges.credential_for(other)["credentialSubject"]["id"] != subject_id


def test_a_certificate_that_lapses_gives_a_credential_valid_until_then(staff):
    """validUntil is the end of the expiry day in the site's zone, in the credential and as the
    JWT's exp."""
    enrolment = EnrolmentFactory(cohort__version__certificate_valid_months=24)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    credential = openbadges.credential_for(certificate)
    assert _schema_errors(CREDENTIAL_SCHEMA, credential) == []
    lapses_at = certificate_lapses_at(certificate.expires_on)
    assert dt.datetime.fromisoformat(credential["validUntil"]) == lapses_at
    claims = _claims(openbadges.credential_jwt(certificate))
    assert dt.datetime.fromtimestamp(claims["exp"], dt.UTC) == lapses_at


def test_every_term_is_defined_by_the_contexts(client, certificate):
    """The credential, the issuer profile and the achievement we serve expand with a JSON-LD
    processor (pyld, contexts from our copies) losing nothing: no undefined property, no
    relative or issuer-dependent type. The JWT's registered claims sit beside the credential,
    outside JSON-LD, so the credential is checked without them."""
    credential = openbadges.credential_for(certificate)
    expanded = expand_strict(credential)
    achievement_type = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement"
    assert achievement_type in json.dumps(expanded)
    payload = _claims(_download(client, certificate))
    assert expand_strict({key: value for key, value in payload.items() if key not in JWT_CLAIMS})
    client.logout()
    assert expand_strict(client.get(reverse("certification:issuer")).json())
    assert expand_strict(client.get(credential["credentialSubject"]["achievement"]["id"]).json())


def test_the_issuer_profile_and_achievement_are_published(client, certificate):
    """The issuer profile validates and names the DID that signs; the kid of the JWT is a
    verification method of that DID whose public JWK is the published one; the achievement
    served at its id is the one in the credential, with an image anyone can fetch."""
    token = _download(client, certificate)
    client.logout()
    profile = client.get(reverse("certification:issuer")).json()
    assert _schema_errors(PROFILE_SCHEMA, profile) == []
    assert (
        profile["id"] == _claims(token)["issuer"]["id"] == _claims(token)["iss"] == signing_keys.issuer_id()
    )
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid.startswith(signing_keys.issuer_id() + "#")
    [method] = [m for m in signing_keys.verification_methods() if m["id"] == kid]
    assert (method["type"], method["controller"]) == ("JsonWebKey", signing_keys.issuer_id())
    assert method["publicKeyJwk"] == {
        name: value
        for name, value in client.get(reverse("certification:jwks")).json()["keys"][0].items()
        if name in ("kty", "crv", "x", "y")
    }
    achievement = _claims(token)["credentialSubject"]["achievement"]
    served = client.get(achievement["id"]).json()
    assert {key: served[key] for key in achievement} == achievement
    assert achievement["image"]["type"] == "Image"
    image = client.get(achievement["image"]["id"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Access-Control-Allow-Origin"] == "*"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


# --- The signature ----------------------------------------------------------------------------


def test_the_jwt_is_laid_out_as_open_badges_section_8_2_says(client, certificate):
    """Header: alg ES256, a kid, typ "JWT" and nothing else. Payload: the credential itself
    with iss, jti, nbf and sub repeating issuer.id, id, validFrom and credentialSubject.id."""
    token = _download(client, certificate)
    header = jwt.get_unverified_header(token)
    assert header == {
        "alg": "ES256",
        "kid": signing_keys.signing_key(curve="P-256").verification_method_id,
        "typ": "JWT",
    }
    payload = jwt.decode(token, _published_key(client, token), algorithms=["ES256"])
    assert payload["credentialSubject"]["achievement"]["name"] == certificate.programme_title
    assert payload["iss"] == payload["issuer"]["id"]
    assert payload["jti"] == payload["id"]
    assert payload["id"].endswith(f"/c/{certificate.code}/")
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert dt.datetime.fromtimestamp(payload["nbf"], dt.UTC) == dt.datetime.fromisoformat(
        payload["validFrom"]
    )
    assert set(payload) - set(openbadges.credential_for(certificate)) == {"iss", "jti", "nbf", "sub"}
    assert "vc" not in payload  # the payload is the credential itself


def test_the_kid_dereferences_through_the_did_document_as_1edtechs_validator_does(client, certificate):
    """As 1EdTech's validator resolves a DID URL kid (SimpleDidResolver): the DID document at
    the did:web address lists the kid in assertionMethod and as a verification method whose
    publicKeyJwk checks the signature with ES256."""
    token = _download(client, certificate)
    client.logout()
    kid = jwt.get_unverified_header(token)["kid"]
    did, _fragment = kid.split("#")
    assert did == _claims(token)["iss"]
    # did:web:127.0.0.1%3A8000 -> https://127.0.0.1:8000/.well-known/did.json
    assert did.removeprefix("did:web:").replace("%3A", ":") == "127.0.0.1:8000"
    document = client.get("/.well-known/did.json").json()
    assert document["id"] == did
    assert kid in document["assertionMethod"]
    [method] = [m for m in document["verificationMethod"] if m["id"] == kid]
    assert method["controller"] == did
    public_key = ECAlgorithm.from_jwk(json.dumps(method["publicKeyJwk"]))
    assert jwt.decode(token, public_key, algorithms=["ES256"])["jti"] == openbadges.credential_id(certificate)


def test_a_tampered_forged_or_malformed_credential_fails_and_is_not_counted(client, certificate):
    """Each says why, in words; none is counted as a check of the certificate."""
    token = _download(client, certificate)
    head, body, signature = token.split(".")
    claims = _claims(token)
    key = signing_keys.signing_key(curve="P-256")
    kid = key.verification_method_id
    ed25519 = signing_keys.signing_key(curve="Ed25519")
    other_issuer = {**claims, "issuer": {**claims["issuer"], "id": "did:web:elsewhere.example"}}
    public_bytes = key.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    bad = {
        "tampered": (f"{head}.{_b64({**claims, 'name': 'Someone Else'})}.{signature}", "signature"),
        "foreign": (
            jwt.encode(
                claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid}
            ),
            "signature",
        ),
        "unsigned": (f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{body}.", "alg"),
        # The published key used as an HMAC secret: the old algorithm-confusion forgery.
        "confused": (jwt.encode(claims, public_bytes, algorithm="HS256", headers={"kid": kid}), "alg"),
        "no kid": (jwt.encode(claims, key.private_key, algorithm="ES256"), "kid"),
        "unknown kid": (
            jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": kid + "x"}),
            "kid",
        ),
        "other typ": (
            jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": kid, "typ": "vc+jwt"}),
            "typ",
        ),
        "extra header": (
            jwt.encode(
                claims, key.private_key, algorithm="ES256", headers={"kid": kid, "jwk": key.public_jwk()}
            ),
            "header",
        ),
        # Our Ed25519 key is published too, but VC-JWTs are ES256 only.
        "EdDSA": (
            jwt.encode(
                claims,
                ed25519.private_key,
                algorithm="EdDSA",
                headers={"kid": ed25519.verification_method_id},
            ),
            "alg",
        ),
        "Ed25519 kid": (
            jwt.encode(
                claims, key.private_key, algorithm="ES256", headers={"kid": ed25519.verification_method_id}
            ),
            "kid",
        ),
        "other issuer": (
            jwt.encode(other_issuer, key.private_key, algorithm="ES256", headers={"kid": kid}),
            "issuer",
        ),
        "sub changed": (
            jwt.encode(
                {**claims, "sub": "urn:uuid:0"}, key.private_key, algorithm="ES256", headers={"kid": kid}
            ),
            "sub",
        ),
        "nbf changed": (
            jwt.encode(
                {**claims, "nbf": claims["nbf"] - 5}, key.private_key, algorithm="ES256", headers={"kid": kid}
            ),
            "nbf",
        ),
        "not a jwt": ("not-a-jwt", "format"),
    }
    client.logout()
    for name, (token_, reason) in bad.items():
        result = _check(client, token_)
        assert result["valid"] is False, name
        assert [error.split(":")[0] for error in result["errors"]][:1] == [reason], (name, result)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(bad["tampered"][0], _published_key(client, token), algorithms=["ES256"])
    assert Verification.objects.filter(certificate=certificate).count() == 0
    assert _check(client, token) == {"valid": True, "revoked": False, "standing": "valid", "errors": []}
    assert Verification.objects.filter(certificate=certificate, channel="credential").count() == 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jwk", "crit"]), _JSON, max_size=4),
    payload=_JSON,
    signature=st.binary(max_size=80),
)
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_token_gets_an_answer_never_a_500_or_valid(client, settings, seeded, header, payload, signature):
    """Junk in each part of a JWT (built to reach past the format check): a 200 saying why it
    is not valid."""
    settings.VERIFY_RATE_LIMIT = 100_000
    token = ".".join(
        [
            _b64(header),
            base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode(),
            base64.urlsafe_b64encode(signature).rstrip(b"=").decode(),
        ]
    )
    result = _check(client, token)
    assert result["valid"] is False
    assert result["errors"]


def test_credential_verify_uses_only_the_key_set_it_is_given(certificate):
    """The same genuine credential fails against a key set that does not hold our key."""
    token = openbadges.credential_jwt(certificate)
    assert openbadges.credential_verify(token).valid is True
    stranger = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    check = openbadges.credential_verify(
        token, published_jwks={"keys": [{**stranger, "kid": openbadges.key_id(), "alg": "ES256"}]}
    )
    assert check.valid is False
    assert check.certificate is None


# --- Status -----------------------------------------------------------------------------------


def test_a_revoked_certificate_checks_as_revoked(client, staff, certificate):
    token = _download(client, certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    client.logout()
    result = client.post(reverse(VERIFY_URL), {"credential": token}, "application/json").json()
    assert result == {"valid": False, "revoked": True, "standing": "revoked", "errors": []}
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
        jwt.decode(token, _published_key(client, token), algorithms=["ES256"])


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


def _json_download_url(certificate) -> str | None:
    """The Data Integrity download, once its view is there (built beside this one)."""
    try:
        return reverse("certification:certificate-credential-json", args=[certificate.pk])
    except NoReverseMatch:
        return None


def test_the_holder_page_offers_both_forms_until_it_is_revoked(client, staff, certificate):
    """The VC-JWT and the JSON with a proof, each with a line on where to use it, and the
    LinkedIn link; none of them once the certificate is revoked."""
    client.force_login(certificate.holder)
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert reverse("certification:certificate-credential", args=[certificate.pk]) in page
    json_url = _json_download_url(certificate)
    if json_url is not None:
        assert json_url in page
        assert "Learner Credential Wallet" in page
    assert "VC-JWT" in page
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in page
    assert f"certId={certificate.code}" in page
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert reverse("certification:certificate-credential", args=[certificate.pk]) not in page
    if json_url is not None:
        assert json_url not in page
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
            count("get", reverse("certification:issuer")),
            count("get", reverse("certification:badge-image")),
            count("post", reverse(VERIFY_URL), token, "application/jwt"),
        ]

    first = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
    token = openbadges.credential_jwt(first)
    certificate_revoke(certificate=first, actor=staff, public_reason="Error.")
    few = counts(token)
    for _ in range(5):
        more = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
        certificate_revoke(certificate=more, actor=staff, public_reason="Error.")
    assert counts(token) == few
    assert few[:3] == [0, 0, 0]


# --- The keys ---------------------------------------------------------------------------------


def test_old_and_new_credentials_verify_after_a_rotation(client, staff, key_dir):
    """After `openbadges_key_rotate`, new credentials are signed by the new key and old ones
    still check out, each against only the published key set; a key no longer published
    makes its credentials fail, saying why."""
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="E.")
    old = openbadges.credential_jwt(certificate)
    call_command("openbadges_key_rotate", "--curve", "P-256", stdout=StringIO())
    new = openbadges.credential_jwt(certificate)
    old_kid, new_kid = (jwt.get_unverified_header(token)["kid"] for token in (old, new))
    assert old_kid != new_kid == openbadges.key_id()
    published = [key["kid"] for key in client.get(reverse("certification:jwks")).json()["keys"]]
    assert {old_kid, new_kid} <= set(published)
    assert published.index(new_kid) < published.index(old_kid)  # newest first
    for token in (old, new):
        assert _check(client, token) == {"valid": True, "revoked": False, "standing": "valid", "errors": []}
        jwt.decode(token, _published_key(client, token), algorithms=["ES256"])
    [old_file] = [
        path
        for path in key_dir.glob("openbadges-p256-*.pem")
        if old_kid.endswith("#" + signing_keys._read_key_file(path)[0].name)
    ]
    old_file.unlink()  # retired for good
    assert _check(client, new)["valid"] is True
    result = _check(client, old)
    assert result["valid"] is False
    assert result["errors"][0].startswith("kid:")


def test_the_configured_keys_sign_and_are_published(client, settings, certificate, key_dir):
    """With OPENBADGES_SIGNING_KEYS holding both curves, those keys sign and are published,
    nothing is made on disk, and the deploy check is content."""
    p256 = signing_keys.key_new(curve="P-256")
    ed25519 = signing_keys.key_new(curve="Ed25519")
    settings.OPENBADGES_SIGNING_KEYS = p256.private_pem() + ed25519.private_pem()
    token = openbadges.credential_jwt(certificate)
    assert jwt.get_unverified_header(token)["kid"] == p256.verification_method_id
    assert jwt.decode(token, _published_key(client, token), algorithms=["ES256"])["id"] == (
        openbadges.credential_id(certificate)
    )
    jwt.decode(token, p256.private_key.public_key(), algorithms=["ES256"])
    published = {key["kid"] for key in client.get(reverse("certification:jwks")).json()["keys"]}
    assert published == {p256.verification_method_id, ed25519.verification_method_id}
    assert not key_dir.exists()
    assert openbadges_signing_key_check(None) == []


def test_a_single_ed25519_key_still_works_and_the_missing_curve_is_flagged(settings, certificate):
    """OPENBADGES_SIGNING_KEY alone (the setting before rotation) stays the Ed25519 key; the
    P-256 key then comes from the key directory, which the deploy check warns about."""
    key = Ed25519PrivateKey.generate()
    settings.OPENBADGES_SIGNING_KEY = _pem(key)
    ed25519 = signing_keys.signing_key(curve="Ed25519")
    assert ed25519.private_key.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    assert openbadges.credential_verify(openbadges.credential_jwt(certificate)).valid is True
    assert [message.id for message in openbadges_signing_key_check(None)] == ["certification.W002"]


def test_a_key_that_is_not_ed25519_is_refused(settings, seeded):
    settings.OPENBADGES_SIGNING_KEY = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert [message.id for message in openbadges_signing_key_check(None)] == ["certification.E001"]


def test_without_configured_keys_development_keys_are_made_and_flagged(settings, key_dir):
    """The development keys are made on first use (see test_signing_keys); the deploy check
    warns that production should set its own."""
    assert [message.id for message in openbadges_signing_key_check(None)] == ["certification.W001"]
    assert openbadges.jwks()["keys"]
    assert len(list(key_dir.glob("*.pem"))) == 2
