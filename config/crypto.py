"""Secrets we must read back (authenticator seeds, webhook secrets), encrypted at rest.

Fernet keys are derived from SECRET_KEY and then each of SECRET_KEY_FALLBACKS, with a context
string per use, so neither use's key opens the other's data and a rotated SECRET_KEY still
decrypts what the old one encrypted. `manage.py secrets_reencrypt` re-encrypts every stored
secret under the current key; after it has run, the old key can leave the fallbacks.
"""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.encoding import force_bytes

# Every Fernet token starts so (version byte 0x80, base64).
FERNET_PREFIX = "gAAAAA"


@dataclass(frozen=True)
class EncryptedStore:
    """Where an app keeps encrypted secrets: registered in its AppConfig.ready()."""

    name: str
    table: str  # its database table: the check skips a store not yet migrated
    reencrypt: Callable[[], int]  # re-encrypt every row under the current key; rows rewritten
    unreadable_count: Callable[[], int]  # rows no current or fallback key opens


_stores: dict[str, EncryptedStore] = {}


def fernet(context: str) -> MultiFernet:
    """The current key first (it encrypts), then the fallbacks (they still decrypt)."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(force_bytes(context + key)).digest()))
            for key in keys
        ]
    )


def encrypt(*, context: str, text: str) -> str:
    return fernet(context).encrypt(force_bytes(text)).decode("ascii")


def decrypt(*, context: str, token: str) -> str:
    """Raises InvalidToken for a token no current or fallback key made."""
    return fernet(context).decrypt(force_bytes(token)).decode()


def reencrypt(*, context: str, token: str) -> str:
    """The same secret, encrypted under the current key."""
    return fernet(context).rotate(force_bytes(token)).decode("ascii")


def is_readable(*, context: str, token: str) -> bool:
    try:
        fernet(context).decrypt(force_bytes(token))
    except InvalidToken:
        return False
    return True


def store_register(store: EncryptedStore) -> None:
    _stores[store.name] = store


def stores() -> list[EncryptedStore]:
    return list(_stores.values())
