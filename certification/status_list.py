"""Revocation as a W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/).

Each certificate holds one bit, at `Certificate.status_list_index`, in one list that every
credential's `credentialStatus` points at. The bit is 1 when the certificate is revoked or
withdrawn (its holder erased their account); expiry is not a status (the credential's
`validUntil` says it).

Herd privacy: the index is drawn at random (from the operating system's generator) among the
free positions of a list of at least 131,072 bits, the minimum the specification sets, so that
a position tells nothing about when a certificate was issued or to whom, and the list as a
whole tells only how many bits are set, never which certificate or person each one is. The
list grows in steps of 131,072 bits so that at most half of it is ever allocated (allocation
stays cheap, and the herd stays large).

The status-list credential is built from the database on each request (two queries, whatever
the number of certificates), so it is right for every web process the moment a revocation
commits. Only its Data Integrity signature is kept in the cache, under a key made of
everything the list says: a revocation changes the key, so a kept signature can never describe
a list that is out of date.
"""

import base64
import gzip
import hashlib
import io
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from certification import data_integrity
from certification.models import Certificate
from certification.selectors.certificates import certificate_list_revoked
from certification.signing_keys import ED25519, issuer_id, signing_key

# The specification's minimum length, for herd privacy (section "Bitstring Encoding").
MIN_LENGTH = 131_072
STATUS_PURPOSE = "revocation"
ENTRY_TYPE = "BitstringStatusListEntry"
CREDENTIAL_TYPE = "BitstringStatusListCredential"
# How long verifiers and shared caches may keep the list: a revocation reaches a verifier that
# cached it within five minutes at most. The specification's `ttl` says the same, in ms.
MAX_AGE_SECONDS = 300
# Candidates drawn per query when allocating: with at most half the list taken, sixteen all
# taken happens once in 65,536 allocations, and then another sixteen are drawn.
_CANDIDATES = 16
_SIGNED_CACHE_SECONDS = 24 * 60 * 60


def status_list_url() -> str:
    """The status-list credential's stable address."""
    return settings.SITE_URL + reverse("certification:status-list")


def list_length(*, highest_index: int | None) -> int:
    """The list's length in bits: a multiple of the minimum that holds every allocated index."""
    if highest_index is None:
        return MIN_LENGTH
    return MIN_LENGTH * (highest_index // MIN_LENGTH + 1)


def status_list_index_allocate() -> int:
    """A random index that no certificate holds yet (two queries). Two processes can draw the
    same one at the same moment: the unique constraint refuses the second, which draws again
    (see `services.certificates`)."""
    capacity = MIN_LENGTH * (2 * Certificate.objects.count() // MIN_LENGTH + 1)
    while True:
        candidates = list(dict.fromkeys(secrets.randbelow(capacity) for _ in range(_CANDIDATES)))
        taken = set(
            Certificate.objects.filter(status_list_index__in=candidates).values_list(
                "status_list_index", flat=True
            )
        )
        for index in candidates:
            if index not in taken:
                return index


def credential_status(certificate: Certificate) -> dict:
    """The credential's `credentialStatus`: its bit in the revocation list."""
    url = status_list_url()
    return {
        "id": f"{url}#{certificate.status_list_index}",
        "type": ENTRY_TYPE,
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(certificate.status_list_index),
        "statusListCredential": url,
    }


# --- The bitstring ---------------------------------------------------------------------------


def encode_list(indexes, *, length: int) -> str:
    """The spec's `encodedList`: the bitstring (index 0 is the first byte's most significant
    bit), GZIP-compressed, as multibase base64url without padding ("u" prefix)."""
    bits = bytearray(length // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always compresses to the same bytes.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode_list(encoded: str, *, max_bytes: int = 16 * MIN_LENGTH) -> bytes:
    """The bitstring from an `encodedList`; ValueError if it is not one. Decompression stops
    past `max_bytes`, so that a hostile list cannot fill the memory."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url (it must start with 'u')")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("encodedList is not base64url") from error
    try:
        decompressor = gzip.GzipFile(fileobj=io.BytesIO(compressed))
        bits = decompressor.read(max_bytes + 1)
    except (OSError, EOFError) as error:
        raise ValueError("encodedList is not GZIP-compressed") from error
    if len(bits) > max_bytes:
        raise ValueError("encodedList is too long")
    if len(bits) * 8 < MIN_LENGTH:
        raise ValueError("encodedList is shorter than the specification's minimum")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    if index < 0 or index // 8 >= len(bits):
        raise ValueError("statusListIndex is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- The status-list credential --------------------------------------------------------------


def status_list_state() -> tuple[list[int], int]:
    """The set bits (revoked and withdrawn certificates) and the list's length: two queries,
    whatever the number of certificates."""
    indexes = sorted(certificate_list_revoked().order_by().values_list("status_list_index", flat=True))
    highest = Certificate.objects.aggregate(highest=Max("status_list_index"))["highest"]
    return indexes, list_length(highest_index=highest)


def status_list_credential_unsigned(*, indexes: list[int], length: int, valid_from) -> dict:
    url = status_list_url()
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer_id(),
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_list(indexes, length=length),
            "ttl": MAX_AGE_SECONDS * 1000,
        },
    }


def status_list_credential() -> dict:
    """The signed BitstringStatusListCredential, as served. The signature is kept in the cache
    under a key derived from the list's content and the signing key, so it is reused only for
    exactly the same list; `validFrom` is when that content was first signed."""
    indexes, length = status_list_state()
    key = signing_key(curve=ED25519)
    content = [status_list_url(), issuer_id(), key.name, str(length), ",".join(map(str, indexes))]
    fingerprint = hashlib.sha256("|".join(content).encode()).hexdigest()
    cache_key = f"certification:status-list:{fingerprint}"
    signed = cache.get(cache_key)
    if signed is None:
        valid_from = timezone.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
        unsigned = status_list_credential_unsigned(indexes=indexes, length=length, valid_from=valid_from)
        signed = data_integrity.credential_sign(unsigned, key=key)
        cache.set(cache_key, signed, _SIGNED_CACHE_SECONDS)
    return signed


# --- Reading a credential's status -----------------------------------------------------------


class StatusError(ValueError):
    """Why a credential's status cannot be read, in words fit for the answer."""


def status_read(entry, *, list_credential: dict, public_keys=None) -> bool:
    """Whether the bit that `entry` (a credential's `credentialStatus`) names is set in
    `list_credential`, once that list is shown to be ours: its proof checks out with only the
    published keys, and it is our revocation list. Raises StatusError otherwise."""
    if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
        raise StatusError(f"credentialStatus: not a {ENTRY_TYPE}")
    if entry.get("statusPurpose") != STATUS_PURPOSE:
        raise StatusError(f"credentialStatus: statusPurpose is not {STATUS_PURPOSE}")
    if entry.get("statusListCredential") != status_list_url():
        raise StatusError("credentialStatus: not our status list")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit():
        raise StatusError("credentialStatus: statusListIndex is not a number in a string")
    try:
        data_integrity.proof_verify(list_credential, controller=issuer_id(), public_keys=public_keys)
    except data_integrity.ProofError as error:
        raise StatusError(f"status list: {error}") from error
    subject = list_credential.get("credentialSubject")
    if (
        list_credential.get("id") != status_list_url()
        or list_credential.get("issuer") != issuer_id()
        or CREDENTIAL_TYPE not in list_credential.get("type", [])
        or not isinstance(subject, dict)
        or subject.get("statusPurpose") != STATUS_PURPOSE
    ):
        raise StatusError("status list: not our revocation list")
    try:
        return bit_is_set(decode_list(subject.get("encodedList")), int(index))
    except ValueError as error:
        raise StatusError(f"status list: {error}") from error
