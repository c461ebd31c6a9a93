"""Endpoint secrets: made here, encrypted at rest, and the signature scheme receivers check.

The secret must be read back to sign each delivery, so it is encrypted (Fernet, keys derived
from SECRET_KEY and then SECRET_KEY_FALLBACKS, as members.mfa does for TOTP secrets), not
hashed. The context string differs from the MFA one, so neither key opens the other's data.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.utils.encoding import force_bytes

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
SIGNATURE_SCHEME = "sha256"


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(force_bytes("webhooks.secret:" + key)).digest()))
            for key in keys
        ]
    )


def secret_new() -> str:
    """256 random bits, url-safe, with a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(force_bytes(secret)).decode("ascii")


def secret_decrypt(encrypted: str) -> str:
    # A key no longer in SECRET_KEY or SECRET_KEY_FALLBACKS raises InvalidToken: loud on
    # purpose; staff rotate the endpoint's secret to recover.
    return _fernet().decrypt(force_bytes(encrypted)).decode()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Webhook-Signature value: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))."""
    digest = hmac.new(force_bytes(secret), force_bytes(timestamp) + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def signature_verify(
    *, secret: str, timestamp: str, body: bytes, header: str, now: float, tolerance: int = 300
) -> bool:
    """What a receiver does (written here so tests check the documented scheme): the
    timestamp is recent (replays of an old delivery are refused), and the signature matches,
    compared in constant time."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=timestamp, body=body), header or "")
