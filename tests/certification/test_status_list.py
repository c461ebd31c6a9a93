"""Revocation as a W3C Bitstring Status List: a random, unique bit per certificate; a signed
status-list credential, right the moment a revocation commits, built in a fixed number of
queries; and nothing public that lists who was revoked."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification import data_integrity, openbadges, status_list
from certification.models import Certificate
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.signing_keys import issuer_id
from members.erasure import account_erase
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

STATUS_URL = "certification:status-list"


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def _issue(staff) -> Certificate:
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


def _bits(list_credential: dict) -> bytes:
    return status_list.decode_list(list_credential["credentialSubject"]["encodedList"])


def _set_bits(list_credential: dict) -> list[int]:
    bits = _bits(list_credential)
    return [index for index in range(len(bits) * 8) if status_list.bit_is_set(bits, index)]


# --- The index -------------------------------------------------------------------------------


def test_each_certificate_gets_a_random_unique_index_in_a_herd_sized_list(staff):
    certificates = [_issue(staff) for _ in range(6)]
    indexes = [certificate.status_list_index for certificate in certificates]
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= index < status_list.MIN_LENGTH for index in indexes)
    # Drawn at random, not in issue order (six in a row ascending: 1 in 720 by chance).
    assert indexes != sorted(indexes)
    assert status_list.MIN_LENGTH >= 131_072  # the specification's herd-privacy minimum


def test_the_database_refuses_two_certificates_one_index(staff):
    from django.db import IntegrityError, transaction

    first, second = _issue(staff), _issue(staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=second.pk).update(status_list_index=first.status_list_index)


def test_an_index_already_taken_is_drawn_again(staff, monkeypatch):
    """Two processes drawing the same index: the later insert is refused and draws again."""
    first = _issue(staff)
    draws = iter([first.status_list_index, 7])
    monkeypatch.setattr("certification.services.certificates.status_list_index_allocate", lambda: next(draws))
    assert _issue(staff).status_list_index == 7


def test_the_list_grows_so_that_at_most_half_is_allocated():
    assert status_list.list_length(highest_index=None) == status_list.MIN_LENGTH
    assert status_list.list_length(highest_index=status_list.MIN_LENGTH - 1) == status_list.MIN_LENGTH
    assert status_list.list_length(highest_index=status_list.MIN_LENGTH) == 2 * status_list.MIN_LENGTH


def test_the_credential_status_is_a_bitstring_status_list_entry(staff):
    certificate = _issue(staff)
    entry = openbadges.credential_for(certificate)["credentialStatus"]
    url = status_list.status_list_url()
    assert entry == {
        "id": f"{url}#{certificate.status_list_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.status_list_index),
        "statusListCredential": url,
    }


# --- The encoding ----------------------------------------------------------------------------


def test_the_encoded_list_is_gzip_base64url_multibase_with_index_zero_leftmost():
    encoded = status_list.encode_list([0, 9, 131_071], length=status_list.MIN_LENGTH)
    assert encoded.startswith("u")
    assert not set(encoded) & set("=+/")  # base64url, no padding
    bits = status_list.decode_list(encoded)
    assert len(bits) == status_list.MIN_LENGTH // 8
    assert bits[0] == 0b1000_0000
    assert bits[1] == 0b0100_0000
    assert bits[-1] == 0b0000_0001
    with pytest.raises(ValueError, match="shorter than"):
        status_list.decode_list(status_list.encode_list([], length=8 * 1024))
    for bad in ("", "zABC", "u!!!", "u" + "A" * 40, None):
        with pytest.raises(ValueError, match="encodedList"):
            status_list.decode_list(bad)


# --- The status-list credential --------------------------------------------------------------


def test_the_status_list_is_signed_public_and_briefly_cacheable(client, staff):
    _issue(staff)
    response = client.get(reverse(STATUS_URL))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=300"
    document = response.json()
    assert document["id"] == status_list.status_list_url()
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["issuer"] == issuer_id()
    assert document["validFrom"].endswith("Z")
    subject = document["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    proof = document["proof"]
    assert (proof["type"], proof["cryptosuite"], proof["proofPurpose"]) == (
        "DataIntegrityProof",
        "eddsa-rdfc-2022",
        "assertionMethod",
    )
    data_integrity.proof_verify(document, controller=issuer_id())
    assert _set_bits(document) == []


def test_revoked_and_withdrawn_certificates_have_their_bit_set_at_once(client, staff):
    """The list is right from the moment of the commit: no stale copy is served."""
    kept, revoked, withdrawn = _issue(staff), _issue(staff), _issue(staff)
    assert _set_bits(client.get(reverse(STATUS_URL)).json()) == []
    certificate_revoke(certificate=revoked, actor=staff, public_reason="Issued in error.")
    assert _set_bits(client.get(reverse(STATUS_URL)).json()) == [revoked.status_list_index]
    account_erase(user=withdrawn.holder, actor=withdrawn.holder)
    assert _set_bits(client.get(reverse(STATUS_URL)).json()) == sorted(
        [revoked.status_list_index, withdrawn.status_list_index]
    )
    assert kept.status_list_index not in _set_bits(client.get(reverse(STATUS_URL)).json())


def test_the_status_list_takes_the_same_queries_whatever_the_number_of_certificates(client, staff):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(STATUS_URL)).status_code == 200
        return len(captured)

    certificate_revoke(certificate=_issue(staff), actor=staff, public_reason="Error.")
    few = queries()
    for _ in range(8):
        certificate_revoke(certificate=_issue(staff), actor=staff, public_reason="Error.")
        _issue(staff)
    assert queries() == few == 2


def test_nothing_public_lists_revoked_certificates(client, staff):
    """The old 1EdTech list answers 410 with the new list's address; the status list and the
    other public documents hold no certificate's code, name or reason."""
    certificate = _issue(staff)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    gone = client.get(reverse("certification:revocations"))
    assert gone.status_code == 410
    assert gone.json()["statusListCredential"] == status_list.status_list_url()
    for name in ("certification:revocations", STATUS_URL, "certification:did-document", "certification:jwks"):
        body = client.get(reverse(name)).content.decode()
        assert certificate.code not in body
        assert certificate.holder_name not in body
        assert "Issued in error." not in body


def test_a_credential_checks_as_revoked_from_the_status_list(staff):
    certificate = _issue(staff)
    credential = openbadges.credential_signed(certificate)
    assert openbadges.credential_verify_document(credential).as_json() == {
        "valid": True,
        "revoked": False,
        "standing": "valid",
        "errors": [],
    }
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    assert openbadges.credential_verify_document(credential).as_json() == {
        "valid": False,
        "revoked": True,
        "standing": "revoked",
        "errors": [],
    }


def test_an_altered_status_list_is_refused(staff):
    """A list whose bits were changed after signing (say, a revoked bit cleared by whoever
    relayed it) fails its own proof: the answer is "not verified", never "valid"."""
    certificate = _issue(staff)
    credential = openbadges.credential_signed(certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    listed = status_list.status_list_credential()
    cleared = json.loads(json.dumps(listed))
    cleared["credentialSubject"]["encodedList"] = status_list.encode_list([], length=status_list.MIN_LENGTH)
    check = openbadges.credential_verify_document(credential, list_credential=cleared)
    assert check.valid is False
    assert [error.split(":")[0] for error in check.errors] == ["status list"]
    unsigned = {key: value for key, value in cleared.items() if key != "proof"}
    assert openbadges.credential_verify_document(credential, list_credential=unsigned).valid is False
    foreign = {**listed, "issuer": "did:web:elsewhere.example"}
    assert openbadges.credential_verify_document(credential, list_credential=foreign).valid is False


def test_the_migration_draws_distinct_random_indexes_for_existing_certificates(staff):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("certification.migrations.0007_certificate_status_list_index")
    certificates = [_issue(staff) for _ in range(12)]
    migration.indexes_draw(apps, None)
    indexes = list(
        Certificate.objects.filter(pk__in=[c.pk for c in certificates])
        .order_by("pk")
        .values_list("status_list_index", flat=True)
    )
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= index < status_list.MIN_LENGTH for index in indexes)
    assert indexes != sorted(indexes)  # not in issue order (1 in 479,001,600 by chance)
