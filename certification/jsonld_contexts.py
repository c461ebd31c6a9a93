"""JSON-LD contexts from vendored copies (certification/contexts/, sources in its README), never
from the network: a pyld document loader, and a strict expansion that refuses what a JSON-LD
processor would drop or leave relative.

pyld (3.3) has no "safe mode" as jsonld.js has; `expand_strict` gives the same guarantee:
expand, then fail if any value of the input did not reach the expanded form (a term no context
defines is dropped), if a property or a type is not an absolute IRI, or if it only expanded
through the VC 2.0 context's catch-all `@vocab` (issuer-dependent terms).
"""

import copy
import json
from functools import cache
from pathlib import Path

from pyld import jsonld

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/cid/v1": "cid-v1.jsonld",
}
# Where the VC 2.0 context's `@vocab` sends every term it does not define.
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"


class UnknownContextError(jsonld.JsonLdError):
    pass


@cache
def _context(url: str) -> str:
    return (CONTEXTS_DIR / CONTEXT_FILES[url]).read_text()


def document_loader(url: str, options=None) -> dict:
    """pyld's `documentLoader`: the vendored copy of `url`, or an error (nothing is fetched)."""
    if url not in CONTEXT_FILES:
        raise UnknownContextError(
            f"No vendored copy of {url}: only {', '.join(sorted(CONTEXT_FILES))} are loaded.",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # A fresh copy each time: pyld may change what it is given.
        "document": json.loads(_context(url)),
    }


class StrictExpansionError(ValueError):
    """A document that a JSON-LD processor reads differently from its JSON: the problems, in words."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _is_absolute_iri(value: str) -> bool:
    scheme, colon, _rest = value.partition(":")
    return bool(colon) and scheme.isascii() and scheme[:1].isalpha() and not value.startswith("_:")


def _input_leaves(node, path: str, leaves: list[str]) -> None:
    """Every scalar value of the JSON document (its contexts aside), with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "@context":
                _input_leaves(value, f"{path}.{key}", leaves)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _input_leaves(value, f"{path}[{index}]", leaves)
    elif node is not None:
        leaves.append(path)


def _expanded_leaves(node, path: str, problems: list[str]) -> int:
    """Counts the values of the expanded form, and records each property or type that is not an
    absolute IRI or that only the catch-all vocabulary defines."""
    if isinstance(node, list):
        return sum(_expanded_leaves(value, path, problems) for value in node)
    if not isinstance(node, dict):
        return 1
    if "@value" in node:
        value = node["@value"]
        if node.get("@type") == "@json":
            leaves: list[str] = []
            _input_leaves(value, path, leaves)
            return len(leaves)
        return 0 if value is None else 1
    count = 0
    for key, value in node.items():
        if key == "@id":
            count += 1
            if not (_is_absolute_iri(value) or value.startswith("_:")):
                problems.append(f"{path}: id {value!r} is not an absolute IRI")
        elif key == "@type":
            for type_ in value:
                count += 1
                if not _is_absolute_iri(type_):
                    problems.append(f"{path}: type {type_!r} is not defined by the contexts")
                elif type_.startswith(ISSUER_DEPENDENT):
                    problems.append(
                        f"{path}: type {type_[len(ISSUER_DEPENDENT) :]!r} is not defined by the contexts"
                    )
        elif key in ("@list", "@set", "@graph", "@included"):
            count += _expanded_leaves(value, path, problems)
        elif key.startswith("@"):
            continue
        else:
            name = key.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            if not _is_absolute_iri(key):
                problems.append(f"{path}: property {key!r} is not defined by the contexts")
            elif key.startswith(ISSUER_DEPENDENT):
                problems.append(f"{path}: property {name!r} is not defined by the contexts")
            count += _expanded_leaves(value, f"{path} > {name}", problems)
    return count


def expand_strict(document: dict) -> list:
    """Expand `document` with the vendored contexts and refuse anything lost or left undefined
    on the way (see the module's docstring). Returns the expanded form."""
    expanded = jsonld.expand(copy.deepcopy(document), {"documentLoader": document_loader, "base": None})
    problems: list[str] = []
    leaves: list[str] = []
    _input_leaves(document, "$", leaves)
    kept = _expanded_leaves(expanded, "$", problems)
    if kept != len(leaves):
        problems.append(
            f"{len(leaves) - kept} of the document's {len(leaves)} values were dropped in expansion "
            "(a property no context defines)"
        )
    if problems:
        raise StrictExpansionError(problems)
    return expanded
