"""The organisation's signing keys for Open Badges, and the issuer's DID that controls them.

Two curves: Ed25519 signs the Data Integrity proof (eddsa-rdfc-2022), P-256 signs the VC-JWT
(ES256, the algorithm 1EdTech's validator takes). Each curve may have several keys: the newest
signs new credentials, and every key stays published (in the DID document and the JWKS) until it
is removed from the configuration, so credentials signed before a rotation keep verifying.

Where keys come from, per curve:
- Production: `OPENBADGES_SIGNING_KEYS`, any number of PEM private keys one after another, each
  preceded by a line `Created: <ISO 8601 date and time>` (RFC 7468 allows explanatory text
  outside a PEM block); `OPENBADGES_SIGNING_KEY`, the older single Ed25519 key, still counts,
  dated by such a line if it has one, else older than every dated key.
- Otherwise (development, tests): files in `OPENBADGES_KEY_DIR` (var/keys), one key a file in
  the same format, named `openbadges-<curve>-<created>.pem`; one key of each curve is made on
  first use. The key file of earlier versions, `openbadges-ed25519.pem`, is read too, dated by
  its modification time.

`manage.py openbadges_key_rotate --curve ...` makes a new key (a file, or the text to add to the
environment). A key's `name`, the fragment of its verification method, is its RFC 7638 JWK
thumbprint: stable, unique, and the same fragment the single key had before rotation existed.
"""

import base64
import fcntl
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ED25519 = "Ed25519"
P256 = "P-256"
CURVES = (ED25519, P256)
_CURVE_SLUGS = {ED25519: "ed25519", P256: "p256"}
# Dates a key given without a `Created:` line: older than any dated key.
UNDATED = datetime(1970, 1, 1, tzinfo=UTC)
LEGACY_DEV_KEY_FILE = "openbadges-ed25519.pem"
_PEM_BLOCK = re.compile(
    r"(?:^[ \t]*Created:[ \t]*(?P<created>\S+)[ \t]*\r?\n(?:[ \t]*\r?\n)*)?"
    r"^(?P<pem>-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n.*?^-----END (?P=label)-----)",
    re.MULTILINE | re.DOTALL,
)
# Multicodec prefix of an Ed25519 public key (0xed as an unsigned varint), per the Multikey spec.
_ED25519_PUB_MULTICODEC = b"\xed\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- The issuer ------------------------------------------------------------------------------


def issuer_id() -> str:
    """did:web for SITE_URL's host; a port is percent-encoded (did:web spec, "Create"). A path in
    SITE_URL is not part of the DID: the DID document is served at the host's
    /.well-known/did.json."""
    parts = urlsplit(settings.SITE_URL)
    host = (parts.hostname or "localhost").lower()
    if parts.port:
        host = f"{host}:{parts.port}"
    return "did:web:" + quote(host, safe="")


# --- Encodings -------------------------------------------------------------------------------


def base58btc(data: bytes) -> str:
    """Base58 with Bitcoin's alphabet: each leading zero byte is a leading "1"."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the key type's required members, sorted, without whitespace."""
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


# --- A key ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    name: str
    curve: str
    private_key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    created_at: datetime

    @property
    def verification_method_id(self) -> str:
        return f"{issuer_id()}#{self.name}"

    @property
    def algorithm(self) -> str:
        """The JOSE `alg` this key signs with."""
        return "EdDSA" if self.curve == ED25519 else "ES256"

    def public_jwk(self) -> dict:
        """The public half only (never "d")."""
        return _public_jwk(self.private_key)

    def public_key_multibase(self) -> str:
        """Multikey encoding: "z" + base58btc(0xed 0x01 + the 32 raw bytes)."""
        if self.curve != ED25519:
            raise ValueError("publicKeyMultibase is given for Ed25519 keys only.")
        raw = self.private_key.public_key().public_bytes_raw()
        return "z" + base58btc(_ED25519_PUB_MULTICODEC + raw)

    def verification_method(self) -> dict:
        """The key's entry in the DID document: Ed25519 as a Multikey, P-256 as a JsonWebKey."""
        method = {"id": self.verification_method_id, "controller": issuer_id()}
        if self.curve == ED25519:
            return {**method, "type": "Multikey", "publicKeyMultibase": self.public_key_multibase()}
        return {**method, "type": "JsonWebKey", "publicKeyJwk": self.public_jwk()}

    def private_pem(self) -> str:
        """The key in the format this module reads: a `Created:` line, then PKCS#8 PEM."""
        return _key_text(self.private_key, self.created_at)


def _public_jwk(private_key) -> dict:
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return {
            "kty": "EC",
            "crv": P256,
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
    return {"kty": "OKP", "crv": ED25519, "x": _b64url(public.public_bytes_raw())}


def _key_text(private_key, created_at: datetime) -> str:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return f"Created: {created_at.astimezone(UTC).isoformat()}\n{pem}"


def _curve_of(private_key) -> str:
    if isinstance(private_key, Ed25519PrivateKey):
        return ED25519
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        return P256
    raise ValueError("not an Ed25519 or P-256 private key")


def _created(text: str | None, *, source: str) -> datetime:
    if text is None:
        return UNDATED
    try:
        created = datetime.fromisoformat(text)
    except ValueError as error:
        message = f"{source}: 'Created: {text}' is not an ISO 8601 date and time."
        raise ImproperlyConfigured(message) from error
    if created.tzinfo is None:
        raise ImproperlyConfigured(f"{source}: 'Created: {text}' needs a time zone (e.g. Z).")
    return created.astimezone(UTC)


@lru_cache(maxsize=64)
def _parse(text: str, *, source: str, default_created: datetime = UNDATED) -> tuple[SigningKey, ...]:
    """Every private key in `text` (PEM blocks, each optionally after a `Created:` line)."""
    keys = []
    pending_created = None
    for match in _PEM_BLOCK.finditer(text):
        if not match["label"].endswith("PRIVATE KEY"):
            # e.g. the EC PARAMETERS block `openssl ecparam -genkey` writes before the key: a
            # Created line above it dates the key that follows.
            pending_created = match["created"] or pending_created
            continue
        try:
            private_key = serialization.load_pem_private_key(match["pem"].encode(), password=None)
            curve = _curve_of(private_key)
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(
                f"{source} holds a key that is not an Ed25519 or P-256 private key in PEM."
            ) from error
        created_text = match["created"] or pending_created
        pending_created = None
        created = _created(created_text, source=source) if created_text else default_created
        name = jwk_thumbprint(_public_jwk(private_key))
        keys.append(SigningKey(name=name, curve=curve, private_key=private_key, created_at=created))
    if text.strip() and not keys:
        raise ImproperlyConfigured(f"{source} is not a private key in PEM.")
    return tuple(keys)


def _configured_keys() -> list[SigningKey]:
    """The keys set in the environment (production)."""
    keys = list(_parse(settings.OPENBADGES_SIGNING_KEYS, source="OPENBADGES_SIGNING_KEYS"))
    for key in keys:
        if key.created_at == UNDATED:
            raise ImproperlyConfigured(
                "OPENBADGES_SIGNING_KEYS: put a line 'Created: <date and time>' before each key."
            )
    legacy = _parse(settings.OPENBADGES_SIGNING_KEY, source="OPENBADGES_SIGNING_KEY")
    if any(key.curve != ED25519 for key in legacy) or len(legacy) > 1:
        raise ImproperlyConfigured(
            "OPENBADGES_SIGNING_KEY must be one Ed25519 private key; put others in OPENBADGES_SIGNING_KEYS."
        )
    return keys + [key for key in legacy if key.name not in {k.name for k in keys}]


# --- The key directory (development and tests) -----------------------------------------------


def key_directory() -> Path:
    return Path(settings.OPENBADGES_KEY_DIR)


def _read_key_file(path: Path) -> tuple[SigningKey, ...]:
    stat = path.stat()
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0)
    return _parse(path.read_text(), source=str(path), default_created=mtime)


def _directory_keys(directory: Path) -> list[SigningKey]:
    if not directory.is_dir():
        return []
    keys = []
    for path in sorted(directory.glob("openbadges-*.pem")):
        keys.extend(_read_key_file(path))
    return keys


def key_new(*, curve: str) -> SigningKey:
    """A new key of `curve`, dated now, kept nowhere yet."""
    if curve not in CURVES:
        raise ValueError(f"curve must be one of {', '.join(CURVES)}")
    if curve == ED25519:
        private_key = Ed25519PrivateKey.generate()
    else:
        private_key = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(
        name=jwk_thumbprint(_public_jwk(private_key)),
        curve=curve,
        private_key=private_key,
        created_at=datetime.now(UTC),
    )


def key_file_create(*, curve: str, directory: Path) -> SigningKey:
    """Make a new key of `curve` in `directory`, readable by its owner only. The file appears
    whole or not at all: written to a temporary file, then linked to its name."""
    key = key_new(curve=curve)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = key.created_at.strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"openbadges-{_CURVE_SLUGS[curve]}-{stamp}.pem"
    descriptor, temporary = tempfile.mkstemp(dir=directory)  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key.private_pem())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return key


def _lock_path(directory: Path) -> Path:
    return directory / ".openbadges-keys.lock"


def _directory_keys_ensured(directory: Path, curves=CURVES) -> list[SigningKey]:
    """The directory's keys of `curves`, with one of each made first if missing. Processes
    starting together make one key, not one each: the check and the making happen under a lock."""
    keys = [key for key in _directory_keys(directory) if key.curve in curves]
    if {key.curve for key in keys} >= set(curves):
        return keys
    directory.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(directory), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            keys = [key for key in _directory_keys(directory) if key.curve in curves]
            for curve in curves:
                if curve not in {key.curve for key in keys}:
                    keys.append(key_file_create(curve=curve, directory=directory))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return keys


def key_create_in_directory(*, curve: str) -> SigningKey:
    """Rotation in development: a new key in the key directory, under the same lock."""
    directory = key_directory()
    _directory_keys_ensured(directory, (curve,))
    with open(_lock_path(directory), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return key_file_create(curve=curve, directory=directory)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- The public contract ----------------------------------------------------------------------


def keys_configured() -> bool:
    """Whether the environment holds the keys (production) rather than the key directory."""
    return bool(settings.OPENBADGES_SIGNING_KEYS.strip() or settings.OPENBADGES_SIGNING_KEY.strip())


def configured_curves() -> set[str]:
    """The curves the environment gives keys for; the others come from the key directory."""
    return {key.curve for key in _configured_keys()}


def published_keys() -> list[SigningKey]:
    """Every key still published, current and retired, newest first. Per curve: the
    environment's keys if it has any of that curve, else the key directory's."""
    configured = _configured_keys()
    keys = list(configured)
    missing = set(CURVES) - {key.curve for key in configured}
    if missing:
        keys += _directory_keys_ensured(key_directory(), tuple(c for c in CURVES if c in missing))
    return sorted(keys, key=lambda key: (key.created_at, key.name), reverse=True)


def signing_key(*, curve: str) -> SigningKey:
    """The newest key of `curve`: new credentials are signed with it."""
    if curve not in CURVES:
        raise ValueError(f"curve must be one of {', '.join(CURVES)}")
    return next(key for key in published_keys() if key.curve == curve)


def verification_methods() -> list[dict]:
    """Every published key's verification method (for the DID document), newest first."""
    return [key.verification_method() for key in published_keys()]


def published_key(verification_method_id: str) -> SigningKey | None:
    """The published key with this verification method id (a JWT's `kid`), if any."""
    return next((k for k in published_keys() if k.verification_method_id == verification_method_id), None)
