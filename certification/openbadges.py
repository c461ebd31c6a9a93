"""Open Badges 3.0: each certificate as a signed OpenBadgeCredential (VC data model 2.0).

The VC-JWT form follows Open Badges 3.0, section 8.2 ("JSON Web Token Proof Format"): the JOSE
header holds only `alg` ES256, `kid` and `typ` "JWT" (additional headers are not allowed); the
payload is the credential itself plus `iss`, `jti`, `nbf`, `sub` (and `exp`) repeating
`issuer.id`, `id`, `validFrom`, `credentialSubject.id` (and `validUntil`). Signed on each
download with the newest P-256 key (certification/signing_keys.py).

The issuer is the site's `did:web` DID. The `kid` is a DID URL, the key's verification method in
the DID document (/.well-known/did.json), where a P-256 key is a `JsonWebKey` with its
`publicKeyJwk`; the JWKS at /.well-known/jwks.json lists every published key under the same
`kid`s, so credentials signed before a key rotation keep verifying. The issuer's Open Badges
Profile (name, url) is also served at credentials/issuer/ (decision 0017).
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from jwt.algorithms import ECAlgorithm

from certification import data_integrity, signing_keys, status_list
from certification.models import Certificate
from certification.selectors.certificates import certificate_for_verification
from certification.signing_keys import P256, issuer_id, published_keys, signing_key
from certification.standing import certificate_lapses_at
from training.models import ProgrammeVersion

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# OB 3.0 section 8.2: `typ`, if present, MUST be "JWT"; no other header than alg, kid and typ.
JWT_TYPE = "JWT"
JWT_ALGORITHM = "ES256"
JWT_HEADERS = frozenset({"alg", "kid", "typ"})
MEDIA_TYPE = "application/jwt"  # RFC 7519, section 10.3.1
# Clock difference tolerated between us and whoever made the token's `iat`/`nbf`.
LEEWAY_SECONDS = 60


def _url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


# --- The key ------------------------------------------------------------------------------


def key_id() -> str:
    """The `kid` of new VC-JWTs: the newest P-256 key's verification method, a DID URL that
    dereferences (through the DID document) to its public JWK."""
    return signing_key(curve=P256).verification_method_id


def jwks() -> dict:
    """Every published key (current and retired), public half only, under the `kid` that
    credentials carry."""
    return {
        "keys": [
            {**key.public_jwk(), "kid": key.verification_method_id, "use": "sig", "alg": key.algorithm}
            for key in published_keys()
        ]
    }


# --- What the credential says ----------------------------------------------------------------


def issuer_profile() -> dict:
    """The issuer as embedded in each credential: its id is the site's did:web DID."""
    return {
        "id": issuer_id(),
        "type": ["Profile"],
        "name": settings.CERTIFICATE_ISSUER_NAME,
        "url": settings.SITE_URL + "/",
    }


def issuer_document() -> dict:
    """The issuer's Open Badges Profile, served at credentials/issuer/ (the address credentials
    named as their issuer before the DID). Its keys are in the DID document, not here."""
    return {"@context": CONTEXT, **issuer_profile()}


def achievement_for(*, version: ProgrammeVersion, title: str) -> dict:
    """What a version's certificate stands for, with its completion rule in words. Published
    versions never change, so the same version always gives the same rule."""
    return {
        "id": _url("certification:achievement", version.pk),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": title,
        "image": {
            "id": _url("certification:badge-image"),
            "type": "Image",
            "caption": f"{settings.CERTIFICATE_ISSUER_NAME}: Future Leaders badge",
        },
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


def subject_id(certificate: Certificate) -> str:
    """The credential subject's id (and the JWT's `sub`, which OB 3.0 section 8.2 requires): a
    UUID derived from the credential's id. The platform knows no DID of the holder; this names
    the holder of this one certificate, links nothing across their certificates and says
    nothing about them."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, credential_id(certificate) + '#subject')}"


def _valid_until(certificate: Certificate) -> datetime | None:
    """The moment its standing turns to expired (certification.standing), in UTC."""
    lapses_at = certificate_lapses_at(certificate.expires_on)
    return None if lapses_at is None else lapses_at.astimezone(UTC)


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
            "id": subject_id(certificate),
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
        "credentialStatus": status_list.credential_status(certificate),
    }
    valid_until = _valid_until(certificate)
    if valid_until is not None:
        credential["validUntil"] = valid_until.isoformat(timespec="seconds")
    return credential


def credential_jwt(certificate: Certificate) -> str:
    """The credential signed as a VC-JWT (OB 3.0 section 8.2), ready for a wallet or any system
    that takes VC-JWT."""
    credential = credential_for(certificate)
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": int(datetime.fromisoformat(credential["validFrom"]).timestamp()),
    }
    if "validUntil" in credential:
        claims["exp"] = int(datetime.fromisoformat(credential["validUntil"]).timestamp())
    key = signing_key(curve=P256)
    # PyJWT writes `alg` and `typ` "JWT" itself; `kid` is the only header added.
    return jwt.encode(
        {**credential, **claims},
        key.private_key,
        algorithm=JWT_ALGORITHM,
        headers={"kid": key.verification_method_id},
    )


# --- The Data Integrity form ------------------------------------------------------------------

# A credential secured with an embedded proof: VC data model 2.0, section 6.3 "Media Types"
# (registered with IANA in 2024; the drafts' application/vc+ld+json is gone).
DI_MEDIA_TYPE = "application/vc"


def credential_signed(certificate: Certificate) -> dict:
    """The credential with an `eddsa-rdfc-2022` Data Integrity proof by the newest Ed25519 key,
    for wallets and verifiers that read JSON-LD (decision 0018). Signed on each download."""
    key = signing_keys.signing_key(curve=signing_keys.ED25519)
    signed = data_integrity.credential_sign(credential_for(certificate), key=key)
    # 1EdTech's JSON schema for OB 3.0 wants `proof` as an array (a proof set of one).
    return {**signed, "proof": [signed["proof"]]}


# The DID context first: verifiers built on jsonld-signatures then read `assertionMethod`
# straight from the document instead of framing it. Multikey (which did:key tooling knows by its
# own context) and JsonWebKey with publicKeyJwk are defined by the other two.
DID_CONTEXT = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/cid/v1",
]


def did_document() -> dict:
    """The issuer's did:web document, served at /.well-known/did.json: every published key
    (the newest first, retired ones still there so that older credentials verify), each
    allowed to assert credentials."""
    methods = signing_keys.verification_methods()
    return {
        "@context": DID_CONTEXT,
        "id": signing_keys.issuer_id(),
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
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
        # The certificate's standing now (certification.standing), once the credential is
        # known to be ours: what its check page says.
        standing = self.certificate.standing.state.value if self.certificate is not None else None
        return {"valid": self.valid, "revoked": self.revoked, "standing": standing, "errors": self.errors}


class CredentialRefused(ValueError):
    """Why a VC-JWT is refused before its content is read, as "<part>: <reason>"."""


def _published_key(token: str, published_jwks: dict) -> ec.EllipticCurvePublicKey:
    """The key a token names, if its header is as OB 3.0 section 8.2 allows and the key is one
    of `published_jwks`: only those keys are trusted, never one the token carries."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise CredentialRefused(f"format: not a JWT ({error})") from error
    extra = sorted(set(header) - JWT_HEADERS)
    if extra:
        raise CredentialRefused(f"header: only alg, kid and typ are allowed; found {', '.join(extra)}")
    if header.get("typ", JWT_TYPE) != JWT_TYPE:
        raise CredentialRefused(f"typ: {header.get('typ')!r} is not {JWT_TYPE!r}")
    if header.get("alg") != JWT_ALGORITHM:
        raise CredentialRefused(f"alg: {header.get('alg')!r} is not accepted; our credentials use ES256")
    kid = header.get("kid")
    keys = {key.get("kid"): key for key in published_jwks.get("keys", []) if isinstance(key, dict)}
    if not isinstance(kid, str) or kid not in keys:
        raise CredentialRefused(f"kid: {kid!r} is not one of our published keys")
    jwk = keys[kid]
    if (jwk.get("kty"), jwk.get("crv")) != ("EC", P256) or jwk.get("alg", JWT_ALGORITHM) != JWT_ALGORITHM:
        raise CredentialRefused(f"kid: {kid!r} is not a P-256 key")
    try:
        public_key = ECAlgorithm.from_jwk(json.dumps(jwk))
    except jwt.PyJWTError as error:
        raise CredentialRefused(f"kid: the published key {kid!r} cannot be read") from error
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise CredentialRefused(f"kid: {kid!r} is not a public key")
    return public_key


def _claims_errors(credential: dict) -> list[str]:
    """OB 3.0 section 8.2, "Verify a Credential VC-JWT Signature": each registered claim equals
    the credential property it repeats."""
    errors = []
    subject = credential.get("credentialSubject")
    subject_id_ = subject.get("id") if isinstance(subject, dict) else None
    if credential.get("jti") != credential.get("id"):
        errors.append("jti: does not match the credential's id")
    if credential.get("sub") != subject_id_:
        errors.append("sub: does not match credentialSubject.id")
    for claim, name in (("nbf", "validFrom"), ("exp", "validUntil")):
        value = credential.get(name)
        try:
            expected = int(datetime.fromisoformat(value).timestamp()) if value is not None else None
        except (TypeError, ValueError):
            errors.append(f"{name}: not a date and time")
            continue
        if credential.get(claim) != expected:
            errors.append(f"{claim}: does not match {name}")
    return errors


def credential_verify(token: str, *, published_jwks: dict | None = None) -> CredentialCheck:
    """Check a VC-JWT with only the published key set (ours by default, as /.well-known/jwks.json
    serves it): header, ES256 signature by a published key, issuer, the claims against the
    credential, validity period and revocation. Reads, never writes."""
    check = CredentialCheck()
    published = json.loads(json.dumps(jwks() if published_jwks is None else published_jwks))
    try:
        public_key = _published_key(token, published)
        # `exp` is checked below against validUntil, so that an expired credential still says
        # whether it was also revoked.
        credential = jwt.decode(
            token,
            public_key,
            algorithms=[JWT_ALGORITHM],
            leeway=LEEWAY_SECONDS,
            options={"verify_exp": False, "require": ["iss", "jti", "nbf", "sub"]},
        )
    except CredentialRefused as error:
        check.errors.append(str(error))
        return check
    except jwt.PyJWTError as error:
        check.errors.append(f"signature: {error}")
        return check
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer != issuer_id() or credential.get("iss") != issuer:
        check.errors.append("issuer: not issued by us")
        return check
    claims_errors = _claims_errors(credential)
    if claims_errors:
        check.errors.extend(claims_errors)
        return check
    certificate = _certificate_named(check, credential)
    if certificate is None:
        return check
    check.revoked = certificate.is_revoked or certificate.is_withdrawn
    check.valid = not check.errors and not check.revoked
    return check


def _certificate_named(check: CredentialCheck, credential: dict) -> Certificate | None:
    """The certificate a credential with our valid signature names (or None, with the error
    noted), its type and validity period checked: for both forms."""
    if "OpenBadgeCredential" not in credential.get("type", []):
        check.errors.append("type: not an OpenBadgeCredential")
    code = str(credential.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
    certificate = certificate_for_verification(code=code)
    if certificate is None or credential.get("id") != credential_id(certificate):
        check.errors.append("credential: not one of ours")
        return None
    check.certificate = certificate
    try:
        valid_until = datetime.fromisoformat(credential["validUntil"]) if "validUntil" in credential else None
    except (TypeError, ValueError):
        check.errors.append("validUntil: not a date and time")
    else:
        if valid_until is not None and valid_until <= timezone.now():
            check.errors.append("validUntil: expired; the holder can download a renewed credential")
    return certificate


def credential_verify_document(
    credential, *, list_credential: dict | None = None, public_keys: dict | None = None
) -> CredentialCheck:
    """Check a credential in the Data Integrity form (JSON) with only the published keys (or
    `public_keys`): its `eddsa-rdfc-2022` proof, issuer, validity period, and its bit in the
    status list (ours as served, or `list_credential`), whose own proof is checked too.
    Reads, never writes; every failure is an error in words, never an exception."""
    check = CredentialCheck()
    if not isinstance(credential, dict):
        check.errors.append("credential: not a JSON object")
        return check
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer != issuer_id():
        check.errors.append("issuer: not issued by us")
        return check
    try:
        # The keys' controller is the issuer's DID (signing_keys.issuer_id).
        data_integrity.proof_verify(credential, controller=signing_keys.issuer_id(), public_keys=public_keys)
    except data_integrity.ProofError as error:
        check.errors.append(str(error) if ":" in str(error) else f"signature: {error}")
        return check
    certificate = _certificate_named(check, credential)
    if certificate is None:
        return check
    entry = credential.get("credentialStatus")
    if isinstance(entry, dict) and entry.get("statusListIndex") != str(certificate.status_list_index):
        check.errors.append("credentialStatus: not this certificate's entry")
        return check
    if list_credential is None:
        list_credential = status_list.status_list_credential()
    try:
        check.revoked = status_list.status_read(
            entry, list_credential=list_credential, public_keys=public_keys
        )
    except status_list.StatusError as error:
        check.errors.append(str(error))
    check.valid = not check.errors and not check.revoked
    return check
