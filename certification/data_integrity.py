"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C "Data Integrity EdDSA
Cryptosuites v1.0"), over JSON-LD documents: our credentials and the status-list credential.

Signing (the spec's sections 3.3.1 to 3.3.6, "eddsa-rdfc-2022"):
1. the document without `proof` is canonicalised with RDFC-1.0 (pyld's URDNA2015, which is the
   same algorithm, to N-Quads), every context read from our vendored copies
   (`jsonld_contexts.document_loader`), never from the network;
2. the proof options (type, cryptosuite, created, verificationMethod, proofPurpose), given
   the document's `@context`, are canonicalised the same way;
3. the hash data is SHA-256(proof options) followed by SHA-256(document), 64 bytes;
4. the Ed25519 signature of those bytes is the `proofValue`, multibase base58btc ("z...").

Verifying repeats steps 1 to 3 on what was received and checks the signature with the public
key of the named verification method, taken only from the keys we publish (the DID document).
"""

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone
from pyld import jsonld

from certification.jsonld_contexts import StrictExpansionError, document_loader, expand_strict
from certification.signing_keys import ED25519, SigningKey, base58btc, published_keys

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {character: value for value, character in enumerate(_BASE58_ALPHABET)}


class ProofError(ValueError):
    """Why a proof does not verify, in words fit for the answer to whoever asked."""


# --- Encodings and canonical form --------------------------------------------------------------


def base58btc_decode(text: str) -> bytes:
    number = 0
    for character in text:
        if character not in _BASE58_INDEX:
            raise ValueError("not base58btc")
        number = number * 58 + _BASE58_INDEX[character]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def canonical_nquads(document: dict) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts from our copies only."""
    return jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader},
    )


def _proof_options(proof: dict) -> dict:
    return {name: value for name, value in proof.items() if name != "proofValue"}


def _hash_data(document: dict, proof_options: dict) -> tuple[bytes, str]:
    """proofConfigHash + transformedDocumentHash (spec: "Hashing (eddsa-rdfc-2022)"), and the
    document without its proof."""
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    config = {**proof_options, "@context": unsecured.get("@context")}
    document_nquads = canonical_nquads(unsecured)
    config_hash = hashlib.sha256(canonical_nquads(config).encode()).digest()
    return config_hash + hashlib.sha256(document_nquads.encode()).digest(), unsecured


def hash_data(document: dict, proof_options: dict) -> bytes:
    return _hash_data(document, proof_options)[0]


# --- Signing -----------------------------------------------------------------------------------


def credential_sign(document: dict, *, key: SigningKey, created=None) -> dict:
    """The document with an `eddsa-rdfc-2022` proof by `key` (an Ed25519 key) added."""
    if key.curve != ED25519:
        raise ValueError("eddsa-rdfc-2022 signs with an Ed25519 key")
    created = (created or timezone.now()).replace(microsecond=0)
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created.isoformat().replace("+00:00", "Z"),
        "verificationMethod": key.verification_method_id,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = key.private_key.sign(hash_data(document, options))
    return {**document, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


# --- Verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedProof:
    verification_method: str
    created: str


def _published_ed25519_keys() -> dict[str, Ed25519PublicKey]:
    return {
        key.verification_method_id: key.private_key.public_key()
        for key in published_keys()
        if key.curve == ED25519
    }


def proof_verify(
    document, *, controller: str, public_keys: dict[str, Ed25519PublicKey] | None = None
) -> VerifiedProof:
    """Check the document's one `eddsa-rdfc-2022` proof with only the published keys (or
    `public_keys`, verification method id to key) whose controller is `controller` (the
    issuer's DID). Raises ProofError saying why it does not verify; never anything else."""
    keys = _published_ed25519_keys() if public_keys is None else public_keys
    if not isinstance(document, dict):
        raise ProofError("the credential is not a JSON object")
    proof = document.get("proof")
    if isinstance(proof, list):  # a proof set: ours hold one
        if len(proof) != 1:
            raise ProofError("proof: expected one proof")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError("proof: the credential has no Data Integrity proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"proof: not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError(f"proof: proofPurpose is not {PROOF_PURPOSE}")
    if "@context" in proof:
        raise ProofError("proof: a proof with its own @context is not one of ours")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method.startswith(f"{controller}#"):
        raise ProofError("proof: the verification method is not the issuer's")
    if method not in keys:
        raise ProofError("proof: the verification method is not a key the issuer publishes")
    created = proof.get("created")
    if not isinstance(created, str):
        raise ProofError("proof: created is missing")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proof: proofValue is not multibase base58btc")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError as error:
        raise ProofError("proof: proofValue is not multibase base58btc") from error
    if len(signature) != 64:
        raise ProofError("proof: proofValue is not an Ed25519 signature")
    try:
        data, unsecured = _hash_data(document, _proof_options(proof))
    except jsonld.JsonLdError as error:
        raise ProofError(f"document: not JSON-LD we can read ({_jsonld_reason(error)})") from error
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as error:
        # pyld's answer to some malformed documents: still an answer, never a 500.
        raise ProofError("document: not JSON-LD we can read") from error
    try:
        keys[method].verify(signature, data)
    except InvalidSignature as error:
        raise ProofError("signature: does not match the document (altered, or another key)") from error
    # What was signed is the RDF, not the JSON: a term no context defines is dropped (or sent
    # to the catch-all vocabulary) before signing, so JSON holding one says more than the
    # signature covers. jsonld.js's safe mode refuses it; so does this.
    try:
        expand_strict(unsecured)
    except StrictExpansionError as error:
        raise ProofError(f"document: {error}") from error
    return VerifiedProof(verification_method=method, created=created)


def _jsonld_reason(error: jsonld.JsonLdError) -> str:
    cause = error
    while getattr(cause, "cause", None) is not None:
        cause = cause.cause
    return str(getattr(cause, "type", "") or getattr(error, "type", "") or "invalid")
