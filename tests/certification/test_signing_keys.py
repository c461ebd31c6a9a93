"""The Open Badges signing keys: where they come from, which one signs, and rotation."""

import stat
import threading
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from certification import signing_keys
from certification.signing_keys import ED25519, P256

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.OPENBADGES_SIGNING_KEY = ""
    settings.OPENBADGES_SIGNING_KEYS = ""
    settings.OPENBADGES_KEY_DIR = tmp_path / "keys"
    return settings.OPENBADGES_KEY_DIR


def _pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b58decode(text: str) -> bytes:
    number = 0
    for character in text:
        number = number * 58 + _B58.index(character)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@pytest.mark.parametrize(
    ("site_url", "did"),
    [
        ("https://futureleaders.example", "did:web:futureleaders.example"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("https://Leaders.Example:8443/app", "did:web:leaders.example%3A8443"),
    ],
)
def test_the_issuer_is_a_did_web_for_the_site_host(settings, site_url, did):
    """The host of SITE_URL, lower case; a port percent-encoded as the did:web spec says."""
    settings.SITE_URL = site_url
    assert signing_keys.issuer_id() == did


def test_development_keys_are_made_once_one_of_each_curve(key_dir):
    """On first use the key directory gets one Ed25519 and one P-256 key, readable by their owner
    only, and later uses read the same keys."""
    first = signing_keys.published_keys()
    assert sorted(key.curve for key in first) == [ED25519, P256]
    files = sorted(key_dir.glob("*.pem"))
    assert len(files) == 2
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    assert [key.name for key in signing_keys.published_keys()] == [key.name for key in first]
    assert sorted(key_dir.glob("*.pem")) == files
    assert not [path for path in key_dir.iterdir() if path.name.startswith("tmp")]


def test_processes_starting_together_make_one_key_of_each_curve(key_dir):
    names = []

    def start():
        names.append(frozenset(key.name for key in signing_keys.published_keys()))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 1
    assert len(list(key_dir.glob("*.pem"))) == 2


def test_the_key_file_of_earlier_versions_is_still_read(key_dir):
    """var/keys/openbadges-ed25519.pem, made before rotation existed, stays a published key."""
    key_dir.mkdir(parents=True)
    legacy = Ed25519PrivateKey.generate()
    (key_dir / signing_keys.LEGACY_DEV_KEY_FILE).write_text(_pem(legacy))
    [ed25519] = [key for key in signing_keys.published_keys() if key.curve == ED25519]
    assert (
        ed25519.public_jwk()["x"]
        == signing_keys.SigningKey(
            name="", curve=ED25519, private_key=legacy, created_at=signing_keys.UNDATED
        ).public_jwk()["x"]
    )


def test_rotation_in_development_signs_with_the_new_key_and_keeps_the_old(key_dir):
    old = signing_keys.signing_key(curve=P256)
    out = StringIO()
    call_command("openbadges_key_rotate", "--curve", P256, stdout=out)
    new = signing_keys.signing_key(curve=P256)
    assert new.name != old.name
    assert new.verification_method_id in out.getvalue()
    published = [key.name for key in signing_keys.published_keys()]
    assert published.index(new.name) < published.index(old.name)  # newest first
    assert signing_keys.published_key(old.verification_method_id).name == old.name
    assert len(list(key_dir.glob("*.pem"))) == 3


def test_rotation_in_production_prints_the_key_to_add_and_changes_nothing(settings, key_dir):
    settings.OPENBADGES_SIGNING_KEYS = signing_keys.key_new(curve=P256).private_pem()
    old = signing_keys.signing_key(curve=P256)
    out = StringIO()
    call_command("openbadges_key_rotate", "--curve", P256, stdout=out)
    assert signing_keys.signing_key(curve=P256) == old
    assert not list(key_dir.glob("*p256*.pem"))
    printed = out.getvalue()
    assert "OPENBADGES_SIGNING_KEYS" in printed
    assert "-----BEGIN PRIVATE KEY-----" in printed
    # What the command printed, put in front of the old key, makes the new key sign.
    settings.OPENBADGES_SIGNING_KEYS = printed[printed.index("Created:") :] + settings.OPENBADGES_SIGNING_KEYS
    assert signing_keys.signing_key(curve=P256) != old
    assert old.name in [key.name for key in signing_keys.published_keys()]


def test_environment_keys_are_used_newest_first(settings, key_dir):
    older = signing_keys.key_new(curve=P256)
    newer = signing_keys.key_new(curve=P256)
    legacy = Ed25519PrivateKey.generate()
    # Order in the variable does not matter: the Created lines do.
    settings.OPENBADGES_SIGNING_KEYS = older.private_pem() + "\n" + newer.private_pem()
    settings.OPENBADGES_SIGNING_KEY = _pem(legacy)
    assert signing_keys.signing_key(curve=P256).name == newer.name
    assert signing_keys.signing_key(curve=ED25519).public_jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": signing_keys.SigningKey(
            name="", curve=ED25519, private_key=legacy, created_at=signing_keys.UNDATED
        ).public_jwk()["x"],
    }
    assert [key.name for key in signing_keys.published_keys()][:2] == [newer.name, older.name]
    assert not key_dir.exists()  # nothing made on disk when the environment has both curves
    # A newer Ed25519 key in OPENBADGES_SIGNING_KEYS takes over from the older single key.
    ed_new = signing_keys.key_new(curve=ED25519)
    settings.OPENBADGES_SIGNING_KEYS += ed_new.private_pem()
    assert signing_keys.signing_key(curve=ED25519).name == ed_new.name
    assert len(signing_keys.published_keys()) == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENBADGES_SIGNING_KEY", "not a key"),
        ("OPENBADGES_SIGNING_KEY", _pem(ec.generate_private_key(ec.SECP256R1()))),
        ("OPENBADGES_SIGNING_KEYS", _pem(ec.generate_private_key(ec.SECP256R1()))),  # no Created line
        ("OPENBADGES_SIGNING_KEYS", "Created: yesterday\n" + _pem(Ed25519PrivateKey.generate())),
        ("OPENBADGES_SIGNING_KEYS", "Created: 2026-01-01T00:00:00\n" + _pem(Ed25519PrivateKey.generate())),
        (
            "OPENBADGES_SIGNING_KEYS",
            "Created: 2026-01-01T00:00:00Z\n" + _pem(ec.generate_private_key(ec.SECP384R1())),
        ),
    ],
)
def test_a_bad_configured_key_is_refused_clearly(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        signing_keys.published_keys()


def test_an_openssl_ec_key_with_its_parameters_block_is_read(settings):
    """`openssl ecparam -name prime256v1 -genkey` writes EC PARAMETERS, then a SEC1 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.OPENBADGES_SIGNING_KEYS = (
        "Created: 2026-12-01T09:00:00Z\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
        "-----END EC PARAMETERS-----\n" + sec1
    )
    assert signing_keys.signing_key(curve=P256).public_jwk()["x"]


def test_public_forms_of_a_key(settings):
    """The JWK never carries "d"; the name is the RFC 7638 thumbprint; Ed25519's Multikey is
    z + base58btc(0xed01 + raw key); P-256 is published as a JsonWebKey."""
    settings.SITE_URL = "https://futureleaders.example"
    ed = signing_keys.signing_key(curve=ED25519)
    p = signing_keys.signing_key(curve=P256)
    assert ed.name == signing_keys.jwk_thumbprint(ed.public_jwk())
    assert set(p.public_jwk()) == {"kty", "crv", "x", "y"}
    assert ed.verification_method_id == f"did:web:futureleaders.example#{ed.name}"
    multibase = ed.public_key_multibase()
    assert multibase.startswith("z6Mk")
    assert _b58decode(multibase[1:]) == b"\xed\x01" + ed.private_key.public_key().public_bytes_raw()
    with pytest.raises(ValueError, match="Ed25519"):
        p.public_key_multibase()
    methods = {method["id"]: method for method in signing_keys.verification_methods()}
    assert methods[ed.verification_method_id] == {
        "id": ed.verification_method_id,
        "type": "Multikey",
        "controller": "did:web:futureleaders.example",
        "publicKeyMultibase": multibase,
    }
    assert methods[p.verification_method_id] == {
        "id": p.verification_method_id,
        "type": "JsonWebKey",
        "controller": "did:web:futureleaders.example",
        "publicKeyJwk": p.public_jwk(),
    }


def test_multibase_and_thumbprint_match_published_vectors():
    """did:key's Ed25519 form of a known public key (decentralized-identity's interop fixtures),
    and RFC 8037 A.3's thumbprint."""
    raw = _b58decode("HrBXe7XnjMbscM1roSDTSMCcLNraetDQM9wSVjnzDxn3")
    assert (
        "z" + signing_keys.base58btc(b"\xed\x01" + raw) == "z6MkwJSaEMnE4u6LiqrZV1BJHSkc9x8S4mTm3ArNL1m19BZR"
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert signing_keys.jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert signing_keys.base58btc(b"\0\0\x01") == "112"
