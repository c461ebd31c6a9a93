"""Checking certificates: counted (that, and how; never who), and rate limited per address."""

from django.conf import settings
from django.core.cache import cache

from certification.models import Certificate, Verification

RATE_WINDOW_SECONDS = 60


def verification_record(*, certificate: Certificate, channel: str) -> None:
    Verification.objects.create(certificate=certificate, channel=channel)


def verification_rate_exceeded(request) -> bool:
    """True once an address has made more than VERIFY_RATE_LIMIT checks in a minute.

    The count lives in the shared cache (Redis when configured), so it holds across
    processes. The address is the one Django sees; behind a proxy, configure the proxy to
    pass the client's address through.
    """
    key = f"verify-rate:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    return count > settings.VERIFY_RATE_LIMIT
