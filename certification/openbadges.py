"""Open Badges 3.0: each certificate as a signed OpenBadgeCredential (VC data model 2.0).

Signed as a VC-JWT (JOSE, alg EdDSA, typ "vc+jwt"; the payload is the credential itself)
with the organisation's Ed25519 key. The public key is published as a JWKS; revocation is
published as a 1EdTech revocation list that each credential's `credentialStatus` points at.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.urls import reverse
from jwt.algorithms import OKPAlgorithm

from certification.models import Certificate, CertificateStatus

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
KEY_ID = "future-leaders-1"


def _url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


@cache
def signing_key() -> Ed25519PrivateKey:
    """The organisation's key: OPENBADGES_SIGNING_KEY (PEM) in production; in development a key
    made once and kept in var/keys (never committed)."""
    pem = settings.OPENBADGES_SIGNING_KEY
    if not pem:
        path = Path(settings.BASE_DIR) / "var" / "keys" / "openbadges-ed25519.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            new = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.write_bytes(new)
            path.chmod(0o600)
        pem = path.read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("OPENBADGES_SIGNING_KEY must be an Ed25519 private key in PEM.")
    return key


def jwks() -> dict:
    """The published key set: only the public half."""
    jwk = json.loads(OKPAlgorithm.to_jwk(signing_key().public_key()))
    return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "EdDSA"}]}


def issuer_profile() -> dict:
    return {
        "id": _url("certification:issuer"),
        "type": ["Profile"],
        "name": settings.CERTIFICATE_ISSUER_NAME,
        "url": settings.SITE_URL + "/",
    }


def credential_id(certificate: Certificate) -> str:
    return _url("certification:verify", certificate.code)


def credential_for(certificate: Certificate) -> dict:
    """The OpenBadgeCredential. The holder is named as on the certificate; their email only
    as a salted hash, so that a wallet can prove it without the badge revealing it."""
    salt = certificate.code
    email_hash = hashlib.sha256((certificate.holder.email.lower() + salt).encode()).hexdigest()
    credential = {
        "@context": CONTEXT,
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": certificate.issued_at.isoformat(timespec="seconds"),
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
            "achievement": {
                "id": _url("certification:achievement", certificate.version_id),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.programme_title,
                "description": (
                    f"Completed {certificate.programme_title} (version {certificate.version_number}), "
                    "a training programme in community organising."
                ),
                "criteria": {
                    "narrative": "Attend the required share of the cohort's sessions and pass every "
                    "assignment the programme requires, each marked against its rubric."
                },
            },
        },
        "credentialStatus": {"id": _url("certification:revocations"), "type": "1EdTechRevocationList"},
    }
    if certificate.expires_on:
        credential["validUntil"] = f"{certificate.expires_on.isoformat()}T23:59:59Z"
    return credential


def credential_jwt(certificate: Certificate) -> str:
    return jwt.encode(
        credential_for(certificate),
        signing_key(),
        algorithm="EdDSA",
        headers={"kid": KEY_ID, "typ": "vc+jwt", "cty": "vc"},
    )


def revocation_list() -> dict:
    """Every revoked credential, with its neutral reason. One query."""
    revoked = Certificate.objects.filter(status=CertificateStatus.REVOKED).order_by("pk")
    return {
        "id": _url("certification:revocations"),
        "issuer": issuer_profile()["id"],
        "revokedCredentials": [
            {"id": credential_id(c), "revoked": True, "revocationReason": c.revoked_reason} for c in revoked
        ],
    }


def credential_verify(token: str, *, published_jwks: dict | None = None) -> dict:
    """Check a credential with only the published key: signature, issuer, and revocation."""
    keys = {key["kid"]: key for key in (published_jwks or jwks())["keys"]}
    try:
        header = jwt.get_unverified_header(token)
        public_key = OKPAlgorithm.from_jwk(json.dumps(keys[header.get("kid")]))
        if not isinstance(public_key, Ed25519PublicKey):
            raise jwt.InvalidTokenError("not an Ed25519 key")
        credential = jwt.decode(token, public_key, algorithms=["EdDSA"])
    except (KeyError, jwt.InvalidTokenError, ValueError) as error:
        return {"valid": False, "revoked": False, "errors": [f"signature: {error.__class__.__name__}"]}
    errors = []
    if credential.get("issuer", {}).get("id") != issuer_profile()["id"]:
        errors.append("issuer: not ours")
    code = str(credential.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
    certificate = Certificate.objects.filter(code=code).first()
    if certificate is None:
        errors.append("credential: unknown")
    revoked = bool(certificate and certificate.is_revoked)
    return {
        "valid": not errors and not revoked,
        "revoked": revoked,
        "errors": errors,
        "certificate": certificate,
    }
