"""The VC-JWT checks out outside Python: Node's WebCrypto (no library of ours or PyJWT's)
verifies its ES256 signature with the key the JWKS publishes under its kid, and refuses a
tampered copy. Skips without node locally; fails under CI=true."""

import json
import shutil
import subprocess

import pytest

from certification import openbadges
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.conftest import IN_CI
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

# Reads {token, jwks} on stdin; prints {header, valid, tamperedValid}.
SCRIPT = """
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { token, jwks } = JSON.parse(input);
const [h, p, s] = token.split(".");
const header = JSON.parse(Buffer.from(h, "base64url"));
const jwk = jwks.keys.find((k) => k.kid === header.kid);
const key = await crypto.subtle.importKey(
  "jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
  { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
const check = (data) => crypto.subtle.verify(
  { name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(s, "base64url"), Buffer.from(data));
const payload = JSON.parse(Buffer.from(p, "base64url"));
const altered = Buffer.from(JSON.stringify({ ...payload, name: "Someone Else" })).toString("base64url");
console.log(JSON.stringify({
  header, valid: await check(`${h}.${p}`), tamperedValid: await check(`${h}.${altered}`),
}));
"""


def test_node_webcrypto_verifies_the_jwt_with_the_published_key(settings, tmp_path, seeded):
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is needed for this test")
        pytest.skip("node is not installed")
    settings.OPENBADGES_KEY_DIR = tmp_path / "keys"
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    token = openbadges.credential_jwt(certificate)
    result = subprocess.run(  # noqa: S603 - a fixed script, our own token
        [node, "--input-type=module", "-e", SCRIPT],
        input=json.dumps({"token": token, "jwks": openbadges.jwks()}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(result.stdout)
    assert answer == {
        "header": {"alg": "ES256", "kid": openbadges.key_id(), "typ": "JWT"},
        "valid": True,
        "tamperedValid": False,
    }
