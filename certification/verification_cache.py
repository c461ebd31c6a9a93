"""The verification page's certificate, kept in the cache between checks.

A check is the platform's most public request (anyone, as often as they like), and the
certificate it shows changes rarely: revoked, its name shown another way, its holder's account
erased. Each such change forgets the kept copy once its transaction commits (the receivers in
certification.receivers; the erasure, which updates rows without signals, itself). A copy is
kept five minutes at most: a check that read the row just before a change committed may put
the old copy back, and it lives no longer than that.

What is kept is the data, not the page, so each check still renders in its own language.
"""

import dataclasses
import datetime as dt

from django.core.cache import cache
from django.db import transaction

from certification.models import Certificate, CertificateStatus, name_initials
from certification.selectors.certificates import certificate_for_verification, code_normalise

KEPT_SECONDS = 5 * 60


@dataclasses.dataclass(frozen=True)
class CheckedCertificate:
    """What the verification page shows of a certificate, with the names the template reads."""

    pk: int
    code: str
    status: str
    revoked_at: dt.datetime | None
    revoked_reason: str
    holder_name: str
    shows_full_name: bool
    programme_title: str
    issued_at: dt.datetime
    issuer_name: str
    is_withdrawn: bool

    @classmethod
    def of(cls, certificate: Certificate) -> "CheckedCertificate":
        return cls(
            pk=certificate.pk,
            code=certificate.code,
            status=certificate.status,
            revoked_at=certificate.revoked_at,
            revoked_reason=certificate.revoked_reason,
            holder_name=certificate.holder_name,
            shows_full_name=certificate.shows_full_name,
            programme_title=certificate.programme_title,
            issued_at=certificate.issued_at,
            issuer_name=certificate.issuer_name,
            is_withdrawn=certificate.is_withdrawn,
        )

    @property
    def is_revoked(self) -> bool:
        return self.status == CertificateStatus.REVOKED

    @property
    def holder_initials(self) -> str:
        return name_initials(self.holder_name)


def _key(code: str) -> str:
    return f"verify-page:{code}"


def checked_certificate_get(*, code: str) -> CheckedCertificate | None:
    """The certificate with this code as the page shows it, or None: from the cache, or
    read (one query, certificate_for_verification) and kept. Unknown codes are not kept."""
    key = _key(code_normalise(code) or "-")
    kept = cache.get(key)
    if kept is not None:
        return CheckedCertificate(**kept)
    certificate = certificate_for_verification(code=code)
    if certificate is None:
        return None
    checked = CheckedCertificate.of(certificate)
    cache.set(key, dataclasses.asdict(checked), KEPT_SECONDS)
    return checked


def checked_certificates_forget(*, codes: list[str]) -> None:
    """Forget the kept copies of these certificates when the change being made commits."""
    keys = [_key(code) for code in codes]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
