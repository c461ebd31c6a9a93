"""The vendored JSON-LD contexts and the strict expansion the credentials are checked with."""

import hashlib
import re

import pytest
from pyld import jsonld

from certification.jsonld_contexts import (
    CONTEXT_FILES,
    CONTEXTS_DIR,
    StrictExpansionError,
    document_loader,
    expand_strict,
)

OB = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def test_every_vendored_context_is_the_recorded_copy():
    """Each file's SHA-256 is the one its README row records, with its source."""
    readme = (CONTEXTS_DIR / "README.md").read_text()
    for url, name in CONTEXT_FILES.items():
        [row] = [line for line in readme.splitlines() if line.startswith(f"| {url} |")]
        digest = re.search(r"`([0-9a-f]{64})`", row)[1]
        assert hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest() == digest, name
        assert document_loader(url)["document"]["@context"]


def test_the_loader_never_fetches():
    with pytest.raises(jsonld.JsonLdError):
        document_loader("https://example.org/context.json")
    with pytest.raises(jsonld.JsonLdError):
        expand_strict({"@context": "https://example.org/context.json", "name": "x"})


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"frobnicate": "x"}, "dropped"),
        ({"type": ["VerifiableCredential", "Nope"]}, "type 'Nope'"),
        ({"credentialStatus": {"id": "https://x.example/r", "type": "1EdTechRevocationList"}}, "1EdTech"),
        ({"id": "c/1"}, "absolute IRI"),
    ],
)
def test_strict_expansion_refuses_what_the_contexts_do_not_define(extra, problem):
    document = {"@context": OB, "id": "https://x.example/c/1", "type": ["VerifiableCredential"], "name": "N"}
    assert expand_strict(document)
    with pytest.raises(StrictExpansionError, match=problem):
        expand_strict({**document, **extra})
