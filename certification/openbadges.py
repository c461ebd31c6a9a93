"""Open Badges 3.0: each certificate as a signed OpenBadgeCredential (VC data model 2.0).

Signed as a VC-JWT as "Securing Verifiable Credentials using JOSE and COSE" describes it:
header `alg` EdDSA, `typ` "vc+jwt", `cty` "vc"; the payload is the credential itself, plus
the registered claims `iss`, `jti`, `nbf` (and `exp`) mirroring `issuer.id`, `id`, `validFrom`
(and `validUntil`) so that plain JWT tooling agrees with the credential, and `iat`, when it
was signed (on each download).

The key: the organisation's Ed25519 key, `OPENBADGES_SIGNING_KEY` (PEM); in development a key
made once in var/keys. Its public half is published twice under one `kid`: as a JWKS at
/.well-known/jwks.json, and as a `JsonWebKey` verification method in the issuer profile, whose
URL the `kid` is (issuer URL + "#" + the key's RFC 7638 thumbprint, so a new key gets a new
`kid`). Revocation: a 1EdTech revocation list that every credential's `credentialStatus`
points at.
"""

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from jwt.algorithms import OKPAlgorithm

from certification.models import Certificate
from certification.selectors.certificates import certificate_for_verification, certificate_list_revoked
from training.models import ProgrammeVersion

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# Defines verificationMethod, JsonWebKey and publicKeyJwk for the issuer profile's keys.
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"
JWT_TYPE = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
DEV_KEY_FILE = "openbadges-ed25519.pem"
# Clock difference tolerated between us and whoever made the token's `iat`/`nbf`.
LEEWAY_SECONDS = 60
# The public reason given for a certificate whose holder erased their account.
WITHDRAWN_REASON = "Withdrawn: the holder's account was erased at their request."


def _url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


# --- The key ------------------------------------------------------------------------------


def _dev_key_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "keys" / DEV_KEY_FILE


@cache
def _dev_key_pem(path: Path) -> str:
    """The development key, made on first use. Two processes starting together agree on one key:
    each writes its own temporary file, and only the first link to the real name succeeds."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor, temporary = tempfile.mkstemp(dir=path.parent)  # readable by its owner only
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text()


@cache
def _private_key(pem: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as error:
        raise ImproperlyConfigured("OPENBADGES_SIGNING_KEY is not a private key in PEM.") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("OPENBADGES_SIGNING_KEY must be an Ed25519 private key.")
    return key


def signing_key() -> Ed25519PrivateKey:
    """The organisation's key: OPENBADGES_SIGNING_KEY in production, else the development key."""
    return _private_key(settings.OPENBADGES_SIGNING_KEY or _dev_key_pem(_dev_key_path()))


def _public_jwk(public_key: Ed25519PublicKey) -> dict:
    """The bare OKP JWK (kty, crv, x): never the private "d"."""
    jwk = json.loads(OKPAlgorithm.to_jwk(public_key))
    return {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"]}


def _thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def key_id() -> str:
    """The `kid`: the key's verification method in the issuer profile, an absolute URL."""
    return f"{issuer_id()}#{_thumbprint(_public_jwk(signing_key().public_key()))}"


def jwks() -> dict:
    """The published key set: only the public half, named by the `kid` the credentials carry."""
    jwk = _public_jwk(signing_key().public_key())
    return {"keys": [{**jwk, "kid": key_id(), "use": "sig", "alg": "EdDSA"}]}


# --- What the credential says ----------------------------------------------------------------


def issuer_id() -> str:
    return _url("certification:issuer")


def issuer_profile() -> dict:
    """The issuer as embedded in each credential."""
    return {
        "id": issuer_id(),
        "type": ["Profile"],
        "name": settings.CERTIFICATE_ISSUER_NAME,
        "url": settings.SITE_URL + "/",
    }


def issuer_document() -> dict:
    """The issuer profile served at its id: also a controlled identifier document listing the
    signing key, so that a verifier can dereference the `kid`."""
    jwk = jwks()["keys"][0]
    method = {
        "id": jwk["kid"],
        "type": "JsonWebKey",
        "controller": issuer_id(),
        "publicKeyJwk": {name: jwk[name] for name in ("kty", "crv", "x")},
    }
    return {
        "@context": [*CONTEXT, CID_CONTEXT],
        **issuer_profile(),
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }


def achievement_for(*, version: ProgrammeVersion, title: str) -> dict:
    """What a version's certificate stands for, with its completion rule in words. Published
    versions never change, so the same version always gives the same rule."""
    return {
        "id": _url("certification:achievement", version.pk),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": title,
        "description": (
            f"{title} (version {version.number}): a Future Leaders training programme in "
            "community organising."
        ),
        "criteria": {
            "narrative": (
                f"Attend at least {version.min_attendance_percent}% of the cohort's sessions "
                "(cancelled sessions do not count) and pass every assignment the programme marks "
                "as required for completion, each marked against its rubric."
            )
        },
    }


def credential_id(certificate: Certificate) -> str:
    """The certificate's public check page: stable, and what a person can open."""
    return _url("certification:verify", certificate.code)


def _valid_until(certificate: Certificate) -> datetime | None:
    if certificate.expires_on is None:
        return None
    return datetime.combine(certificate.expires_on, time(23, 59, 59), tzinfo=UTC)


def credential_for(certificate: Certificate) -> dict:
    """The OpenBadgeCredential. The holder is named as on the certificate; their email only as
    a salted hash (OB 3.0 IdentityObject), so a wallet can prove it without the badge showing it.
    Uses `certificate.holder` and `certificate.version`: select them with the certificate."""
    salt = certificate.code
    email_hash = hashlib.sha256((certificate.holder.email.strip().lower() + salt).encode()).hexdigest()
    credential = {
        "@context": CONTEXT,
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": certificate.issued_at.astimezone(UTC).isoformat(timespec="seconds"),
        "name": f"{certificate.programme_title}: {certificate.holder_name}",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": certificate.holder_name,
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": f"sha256${email_hash}",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": achievement_for(version=certificate.version, title=certificate.programme_title),
        },
        "credentialStatus": {"id": _url("certification:revocations"), "type": "1EdTechRevocationList"},
    }
    valid_until = _valid_until(certificate)
    if valid_until is not None:
        credential["validUntil"] = valid_until.isoformat(timespec="seconds")
    return credential


def credential_jwt(certificate: Certificate) -> str:
    """The credential signed as a VC-JWT, ready for a wallet."""
    credential = credential_for(certificate)
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "iat": int(timezone.now().timestamp()),
        "nbf": int(certificate.issued_at.timestamp()),
    }
    valid_until = _valid_until(certificate)
    if valid_until is not None:
        claims["exp"] = int(valid_until.timestamp())
    return jwt.encode(
        {**credential, **claims},
        signing_key(),
        algorithm="EdDSA",
        headers={"kid": key_id(), "typ": JWT_TYPE, "cty": "vc"},
    )


def revocation_list() -> dict:
    """1EdTech revocation list: every revoked credential, with its neutral public reason."""
    return {
        "id": _url("certification:revocations"),
        "issuer": issuer_id(),
        "revokedCredentials": [
            {
                "id": credential_id(c),
                "revoked": True,
                "revocationReason": c.revoked_reason if c.is_revoked else WITHDRAWN_REASON,
            }
            for c in certificate_list_revoked()
        ],
    }


# --- Checking a credential -------------------------------------------------------------------


@dataclass
class CredentialCheck:
    """The outcome of `credential_verify`. `certificate` is set once the signature is ours."""

    valid: bool = False
    revoked: bool = False
    errors: list[str] = field(default_factory=list)
    certificate: Certificate | None = None

    def as_json(self) -> dict:
        return {"valid": self.valid, "revoked": self.revoked, "errors": self.errors}


def _published_key(token: str, published_jwks: dict) -> Ed25519PublicKey:
    header = jwt.get_unverified_header(token)
    if header.get("typ") != JWT_TYPE:
        raise jwt.InvalidTokenError(f"typ is not {JWT_TYPE}")
    if header.get("alg") != "EdDSA":
        raise jwt.InvalidAlgorithmError("alg is not EdDSA")
    keys = {key.get("kid"): key for key in published_jwks.get("keys", [])}
    if header.get("kid") not in keys:
        raise jwt.InvalidKeyError("kid is not a published key")
    public_key = OKPAlgorithm.from_jwk(json.dumps(keys[header["kid"]]))
    if not isinstance(public_key, Ed25519PublicKey):
        raise jwt.InvalidKeyError("the published key is not Ed25519")
    return public_key


def credential_verify(token: str, *, published_jwks: dict | None = None) -> CredentialCheck:
    """Check a VC-JWT with only the published key set (ours by default, as /.well-known/jwks.json
    serves it): signature, issuer, validity period and revocation. Reads, never writes."""
    check = CredentialCheck()
    published = json.loads(json.dumps(jwks() if published_jwks is None else published_jwks))
    try:
        public_key = _published_key(token, published)
        # `exp` is checked below against validUntil, so that an expired credential still says
        # whether it was also revoked.
        credential = jwt.decode(
            token,
            public_key,
            algorithms=["EdDSA"],
            leeway=LEEWAY_SECONDS,
            options={"verify_exp": False, "require": ["iss", "jti"]},
        )
    except jwt.PyJWTError as error:
        check.errors.append(f"signature: {error}")
        return check
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer != issuer_id() or credential.get("iss") != issuer:
        check.errors.append("issuer: not issued by us")
        return check
    if "OpenBadgeCredential" not in credential.get("type", []):
        check.errors.append("type: not an OpenBadgeCredential")
    code = str(credential.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
    certificate = certificate_for_verification(code=code)
    if (
        certificate is None
        or credential.get("id") != credential_id(certificate)
        or credential.get("jti") != credential.get("id")
    ):
        check.errors.append("credential: not one of ours")
        return check
    check.certificate = certificate
    try:
        valid_until = datetime.fromisoformat(credential["validUntil"]) if "validUntil" in credential else None
    except (TypeError, ValueError):
        check.errors.append("validUntil: not a date and time")
    else:
        if valid_until is not None and valid_until < timezone.now():
            check.errors.append("validUntil: expired; the holder can download a renewed credential")
    check.revoked = certificate.is_revoked or certificate.is_withdrawn
    check.valid = not check.errors and not check.revoked
    return check
