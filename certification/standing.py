"""A certificate's standing, and who is a Future Leader: the one definition.

Every place that tells anyone whether a certificate holds (the public check page, the API's
check, the credential checks, the holder's and staff's pages, the registry, the dashboard)
reads it from here, so they cannot disagree.

- **withdrawn**: the holder erased their account; the certificate no longer names anyone.
- **revoked**: staff revoked it, on a date, with a neutral public reason.
- **expired**: it had an expiry date, and that day has ended (in the site's time zone).
- **valid**: none of these.

A **Future Leader** is a member holding at least one certificate that was not revoked. An
expired certificate still makes its holder a leader, one whose standing has lapsed: the
registry and the dashboard both say "lapsed" and count them among the leaders.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certification.models import Certificate, CertificateStatus


class Standing(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def certificate_lapses_at(expires_on: dt.date | None) -> dt.datetime | None:
    """The moment a certificate with this expiry date stops being valid: the end of that day
    in the site's time zone (midnight after it). None for a certificate that never lapses."""
    if expires_on is None:
        return None
    day_after = expires_on + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day_after, dt.time.min))


@dataclass(frozen=True)
class CertificateStanding:
    state: Standing
    # The day it was revoked, or the last day it was valid (expired); None otherwise.
    on: dt.date | None = None
    # A revocation's public reason; empty otherwise.
    reason: str = ""

    @property
    def label(self) -> str:
        return str(self.state.label)

    @property
    def is_valid(self) -> bool:
        return self.state == Standing.VALID


def certificate_standing(certificate: Certificate, *, now: dt.datetime | None = None) -> CertificateStanding:
    """The certificate's standing now (or at `now`). Load `holder` with the certificate."""
    if certificate.is_withdrawn:
        return CertificateStanding(Standing.WITHDRAWN)
    if certificate.is_revoked:
        return CertificateStanding(
            Standing.REVOKED, on=timezone.localdate(certificate.revoked_at), reason=certificate.revoked_reason
        )
    lapses_at = certificate_lapses_at(certificate.expires_on)
    if lapses_at is not None and (now or timezone.now()) >= lapses_at:
        return CertificateStanding(Standing.EXPIRED, on=certificate.expires_on)
    return CertificateStanding(Standing.VALID)


# --- Leaders, as queries ------------------------------------------------------------------


def leader_certificates() -> QuerySet[Certificate]:
    """The certificates that make their holder a Future Leader: those not revoked."""
    return Certificate.objects.filter(status=CertificateStatus.VALID)


def in_date_q(today: dt.date | None = None, *, prefix: str = "") -> Q:
    """Certificates (at `prefix`) still in date on `today`: no expiry, or not yet past it."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": today})
