"""The public certificate check by code: no token, no session; the same facts as the public
verification page, revoked and withdrawn included; counted and rate limited the same way."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from certification.models import Certificate, Verification, VerificationChannel
from certification.services.certificates import certificate_revoke
from members.models import User

pytestmark = pytest.mark.django_db


def _check(code: str, **headers):
    return APIClient().get(reverse("api:certificate-verify", kwargs={"code": code}), **headers)


def test_a_valid_certificate_says_what_the_page_says(world):
    certificate = world.certificate
    response = _check(certificate.code)
    assert response.status_code == 200
    assert response.json() == {
        "code": certificate.code,
        "status": "valid",
        "status_label": "Valid",
        "awarded_to": certificate.holder_name,
        "programme": certificate.programme_title,
        "awarded_on": str(timezone.localdate(certificate.issued_at)),
        "issued_by": certificate.issuer_name,
        "valid_until": certificate.expires_on and str(certificate.expires_on),
        "revoked_on": None,
        "revoked_reason": "",
    }
    page_url = reverse("certification:verify", kwargs={"code": certificate.code})
    page = APIClient().get(page_url).content.decode()
    for fact in (certificate.holder_name, certificate.programme_title, certificate.issuer_name, "Valid"):
        assert fact in page


def test_the_code_may_be_typed_loosely(world):
    code = world.certificate.code
    loose = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"
    assert _check(loose).json()["code"] == code


def test_initials_only_when_the_holder_chose_them(world):
    certificate = world.certificate
    certificate.shows_full_name = False
    certificate.save(update_fields=["shows_full_name"])
    assert _check(certificate.code).json()["awarded_to"] == certificate.holder_initials


def test_a_revoked_certificate_says_when_and_why(world):
    certificate = certificate_revoke(
        certificate=world.certificate, actor=world.users["national"], public_reason="Issued in error."
    )
    body = _check(certificate.code).json()
    assert body["status"] == "revoked"
    assert body["revoked_reason"] == "Issued in error."
    assert body["revoked_on"] == str(timezone.localdate(certificate.revoked_at))


def test_an_expired_certificate_is_expired_not_valid(world):
    """Past its last valid day the check says expired, with the date, as the page does."""
    certificate = world.certificate
    last_day = timezone.localdate() - dt.timedelta(days=1)
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=last_day)
    body = _check(certificate.code).json()
    assert body["status"] == "expired"
    assert body["status_label"] == "Expired"
    assert body["valid_until"] == str(last_day)
    page = (
        APIClient().get(reverse("certification:verify", kwargs={"code": certificate.code})).content.decode()
    )
    assert "Expired" in page
    assert ">Valid<" not in page


def test_a_certificate_is_valid_to_the_end_of_its_last_day(world):
    certificate = world.certificate
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=timezone.localdate())
    assert _check(certificate.code).json()["status"] == "valid"


def test_a_withdrawn_certificate_names_nobody(world):
    User.objects.filter(pk=world.certificate.holder_id).update(erased_at=timezone.now())
    body = _check(world.certificate.code).json()
    assert body["status"] == "withdrawn"
    assert body["awarded_to"] is None


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAA", "not-a-code", "x" * 300])
def test_an_unknown_or_malformed_code_is_404(code):
    response = APIClient().get(f"/api/v1/certificates/verify/{code}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No certificate has this code."


def test_a_code_with_a_nul_byte_is_refused_at_the_edge():
    """Control characters in an address are a 400 before any view (config.middleware)."""
    response = APIClient().get("/api/v1/certificates/verify/%00/")
    assert response.status_code == 400
    assert response.json() == {"detail": "The address holds a control character (NUL, say).", "errors": {}}


def test_no_token_is_needed_and_a_stray_one_is_ignored(world):
    assert _check(world.certificate.code, HTTP_AUTHORIZATION="Bearer fl_00000000_wrong").status_code == 200


def test_each_check_is_counted_as_an_api_check(world):
    before = Verification.objects.filter(channel=VerificationChannel.API).count()
    _check(world.certificate.code)
    assert Verification.objects.filter(channel=VerificationChannel.API).count() == before + 1


def test_too_many_checks_from_one_address_are_429(world, settings):
    settings.VERIFY_RATE_LIMIT = 2
    answers = [_check(world.certificate.code).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_one_query_to_find_and_one_to_count(world, django_assert_num_queries):
    _check(world.certificate.code)  # the content-type and such caches, as on a running server
    with django_assert_num_queries(2):
        _check(world.certificate.code)
