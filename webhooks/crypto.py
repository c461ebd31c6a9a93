"""Endpoint secrets: made here, encrypted at rest, and the signature scheme receivers check.

The secret must be read back to sign each delivery, so it is encrypted (config/crypto.py: keys
derived from SECRET_KEY and then SECRET_KEY_FALLBACKS, as for authenticator secrets), not
hashed. The context string differs from the MFA one, so neither key opens the other's data.
"""

import hashlib
import hmac
import secrets

from django.utils.encoding import force_bytes

from config import crypto
from webhooks.models import Endpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
SIGNATURE_SCHEME = "sha256"


CRYPTO_CONTEXT = "webhooks.secret:"


def secret_new() -> str:
    """256 random bits, url-safe, with a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_encrypt(secret: str) -> str:
    return crypto.encrypt(context=CRYPTO_CONTEXT, text=secret)


def secret_decrypt(encrypted: str) -> str:
    # A key no longer in SECRET_KEY or SECRET_KEY_FALLBACKS raises InvalidToken: loud on
    # purpose; staff rotate the endpoint's secret to recover.
    return crypto.decrypt(context=CRYPTO_CONTEXT, token=encrypted)


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


def endpoint_secrets_reencrypt() -> int:
    """Every live endpoint's secret under the current SECRET_KEY; how many rows changed."""
    changed = 0
    for endpoint in Endpoint.objects.exclude(secret_encrypted="").only("secret_encrypted").iterator():
        token = crypto.reencrypt(context=CRYPTO_CONTEXT, token=endpoint.secret_encrypted)
        Endpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=token)
        changed += 1
    return changed


def endpoint_secrets_unreadable_count() -> int:
    return sum(
        not crypto.is_readable(context=CRYPTO_CONTEXT, token=token)
        for token in Endpoint.objects.exclude(secret_encrypted="")
        .values_list("secret_encrypted", flat=True)
        .iterator()
    )
