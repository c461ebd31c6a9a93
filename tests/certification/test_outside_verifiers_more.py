"""More verifiers written elsewhere check the credentials the app issued, both forms, over HTTPS
from a live server (the harness: tests/certification/verifier_harness.py, the approach of
test_outside_verifiers.py and decision 0018):

- openbadgeslib (PyPI, pinned in requirements-dev.txt), an Open Badges 3.0 library with its own
  did:web resolution (urllib, TLS checked against SSL_CERT_FILE), VC-JWT verifier (OB 3.0
  section 8.2: the payload is the credential; `kid` selects the key in the DID document),
  eddsa-rdfc-2022 verifier and Bitstring Status List reader. Its default status check also
  verifies the status list's own proof, but only a list signed as a JWT: ours is signed with a
  Data Integrity proof (decision 0018), so that default fails closed ("is not a signed JWT-VC")
  and the test reads the bit with `verify_status_list=False` (verifier-core checks the list's
  proof). Its default fetcher refuses loopback hosts (SSRF guard): `allow_private=True` is the
  one setting changed.
- panva's `jose` (npm) for the VC-JWT, with the key resolved from our served DID document by the
  Decentralized Identity Foundation's web-did-resolver (npm): a JOSE stack that shares no code
  with PyJWT or with verifier-core (which checks only the Data Integrity form). Node and
  `npm ci` as in test_outside_verifiers.py, in their own folder (verifiers_jwt/).

Without the package (or node and npm) each test skips locally and fails under CI=true.
"""

import json
import os
import shutil
import subprocess
from functools import partial
from pathlib import Path

import pytest

from tests.certification import verifier_harness
from tests.certification.npm_harness import missing as _missing
from tests.certification.npm_harness import npm_installed
from tests.ports import free_port

JWT_HARNESS = Path(__file__).parent / "verifiers_jwt"
NODE_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="session")
def openbadgeslib():
    try:
        import openbadgeslib  # noqa: PLC0415 - optional until requirements-dev.txt is installed
    except ImportError:
        _missing("needs openbadgeslib (pip install -r requirements-dev.txt)")
    return openbadgeslib


@pytest.fixture(scope="session")
def jose_harness() -> Path:
    """verifiers_jwt/ with its node_modules installed (tests.certification.npm_harness)."""
    return npm_installed(JWT_HARNESS, what="jose")


@pytest.fixture
def served(live_server, settings, seeded, tmp_path):
    """Credentials issued for https://localhost:<port>, and the HTTPS front on that port."""
    port = free_port()
    settings.SITE_URL = f"https://localhost:{port}"
    forms = verifier_harness.issued()
    with verifier_harness.https_front(port=port, upstream=live_server.url, directory=tmp_path) as front:
        yield front, forms


def _said(check) -> str:
    """'verified' or the verifier's own words."""
    try:
        check()
    except Exception as error:  # noqa: BLE001 - what the verifier said is the result
        return f"{type(error).__name__}: {error}"
    return "verified"


@pytest.mark.django_db(transaction=True)
def test_openbadgeslib_verifies_both_forms_and_reads_revocation(openbadgeslib, served, monkeypatch):
    from openbadgeslib.ob3.ldp import OB3LdpVerifier  # noqa: PLC0415
    from openbadgeslib.ob3.verifier import OB3Verifier  # noqa: PLC0415
    from openbadgeslib.util import download_file  # noqa: PLC0415

    front, forms = served
    monkeypatch.setenv("SSL_CERT_FILE", str(front.ca_file))  # TLS checks stay on
    download = partial(download_file, allow_private=True)
    did = forms["di"]["valid"]["issuer"]["id"]

    def jwt(token, **status):
        verifier = OB3Verifier.for_issuer_did(did, download=download)
        return lambda: verifier.verify(token, download=download, **status)

    def di(document, **status):
        verifier = OB3LdpVerifier.for_issuer_did(did, download=download)
        return lambda: verifier.verify(document, download=download, **status)

    bit = {"check_status": True, "verify_status_list": False}
    said = {
        form: {
            name: {
                "signature and dates": _said(verify(credential)),
                "with status": _said(verify(credential, **bit)),
                "with status, list proof (default)": _said(verify(credential, check_status=True)),
            }
            for name, credential in forms[key].items()
        }
        for form, key, verify in (("vc-jwt", "jwt", jwt), ("data-integrity", "di", di))
    }
    print(json.dumps({"openbadgeslib": openbadgeslib.__version__, "said": said}, indent=2))

    list_url = forms["di"]["valid"]["credentialStatus"]["statusListCredential"]
    index = forms["di"]["revoked"]["credentialStatus"]["statusListIndex"]
    for form in ("vc-jwt", "data-integrity"):
        assert said[form]["valid"]["signature and dates"] == "verified"
        assert said[form]["valid"]["with status"] == "verified"
        assert said[form]["revoked"]["signature and dates"] == "verified"
        assert said[form]["revoked"]["with status"] == (
            f"OB3VerificationError: Credential status 'revocation' is set at index {index} in {list_url}"
        )
        # Fails closed on a list signed otherwise than as a JWT: its limit, not our list's.
        assert said[form]["valid"]["with status, list proof (default)"] == (
            f"OB3VerificationError: status list {list_url} is not a signed JWT-VC, so its proof "
            "cannot be verified (verify_list=True requires a signed list)"
        )
    assert said["vc-jwt"]["expired"]["signature and dates"] == "OB3VerificationError: Credential has expired"
    expired_until = forms["di"]["expired"]["validUntil"]
    assert said["data-integrity"]["expired"]["signature and dates"] == (
        f"OB3VerificationError: Credential has expired (validUntil {expired_until})"
    )
    assert said["vc-jwt"]["tampered"]["signature and dates"] == "OB3VerificationError: Invalid signature"
    assert said["data-integrity"]["tampered"]["signature and dates"] == (
        "OB3VerificationError: Invalid Data Integrity proof (signature mismatch)"
    )


@pytest.mark.django_db(transaction=True)
def test_jose_verifies_our_vc_jwt_with_the_key_from_our_did_document(jose_harness, served, tmp_path):
    front, forms = served
    request, answer = tmp_path / "jwt-input.json", tmp_path / "jwt-output.json"
    request.write_text(json.dumps({"tokens": forms["jwt"]}))
    done = subprocess.run(  # noqa: S603 - our own script with files we wrote
        [shutil.which("node"), "verify_jwt.mjs", str(request), str(answer)],
        cwd=jose_harness,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(front.ca_file)},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(answer.read_text())
    print(json.dumps({"jose + web-did-resolver": said}, indent=2))

    for name in ("valid", "revoked"):  # jose knows no status lists: the signature and dates hold
        assert said[name]["verified"] is True, said[name]
        assert said[name]["header"]["typ"] == "JWT"
        assert said[name]["header"]["alg"] == "ES256"
        assert said[name]["header"]["kid"].startswith(forms["di"]["valid"]["issuer"]["id"] + "#")
        assert set(said[name]["header"]) == {"alg", "kid", "typ"}
        assert {"iss", "jti", "nbf", "sub"} <= set(said[name]["claims"])
    assert said["expired"] == {
        "resolved": True,
        "error": {"code": "ERR_JWT_EXPIRED", "message": '"exp" claim timestamp check failed'},
    }
    assert said["tampered"] == {
        "resolved": True,
        "error": {
            "code": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            "message": "signature verification failed",
        },
    }
