"""What certification's notices say: the holder hears when a certificate is issued or revoked.

Written through training's notice ledger, so they go exactly once and failures show to staff.
"""

from django.urls import reverse

from certification.models import Certificate
from training.models import Notice, NoticeKind
from training.services.notices import Letter, letter_writer_register, notices_create, notices_send_on_commit


def certificate_notify(*, certificate: Certificate, kind: str) -> list[int]:
    """Tell the holder (once) after the transaction commits."""
    ids = notices_create(
        kind=kind, subject=f"certificate:{certificate.pk}", recipient_ids=[certificate.holder_id]
    )
    notices_send_on_commit(ids)
    return ids


def _certificate_ids(notices: list[Notice]) -> dict[int, int]:
    ids = {}
    for notice in notices:
        _prefix, _sep, number = notice.subject.partition(":")
        ids[notice.pk] = int(number) if number.isdigit() else 0
    return ids


def certificate_write_letters(notices: list[Notice]) -> dict[int, Letter | str]:
    certificate_ids = _certificate_ids(notices)
    certificates = Certificate.objects.in_bulk(set(certificate_ids.values()))
    letters: dict[int, Letter | str] = {}
    for notice in notices:
        certificate = certificates.get(certificate_ids[notice.pk])
        if certificate is None or certificate.holder_id != notice.recipient_id:
            letters[notice.pk] = "What this was about no longer exists."
        elif notice.kind == NoticeKind.CERTIFICATE_ISSUED and certificate.is_revoked:
            letters[notice.pk] = "The certificate was revoked before this went."
        else:
            letters[notice.pk] = Letter(
                template=f"notices/email/{notice.kind}",
                context={
                    "certificate": certificate,
                    "verify_path": reverse("certification:verify", args=[certificate.code]),
                    "certificates_path": reverse("certification:my-certificates"),
                },
            )
    return letters


def register() -> None:
    letter_writer_register(NoticeKind.CERTIFICATE_ISSUED, certificate_write_letters)
    letter_writer_register(NoticeKind.CERTIFICATE_REVOKED, certificate_write_letters)
