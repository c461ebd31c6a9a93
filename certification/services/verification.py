"""Checking certificates: counted (that, and how; never who), and rate limited per address."""

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from certification.models import Certificate, Verification
from config.cache import UNREACHABLE, shared_redis, shared_redis_unreachable

RATE_WINDOW_SECONDS = 60
# Checks an earlier release of the page queued in Redis, until verification_checks_flush
# counts them (each minute; decision 0016, amended).
CHECKS_QUEUE = "verify-checks"
FLUSH_LOCK = "verify-checks-flush"
FLUSH_LOCK_SECONDS = 5 * 60


def verification_record(*, certificate_id: int, channel: str) -> None:
    """Count a check (that, and how; never who).

    On PostgreSQL, outside any other transaction, the row is committed without waiting for
    the disk (synchronous_commit off for this one transaction, through Django's transaction
    API): waiting for the flush was most of the public page's time. A crash of the database
    server can lose the last moment's counts, never a certificate. Inside another transaction
    (and elsewhere) it is a plain insert: the other writes keep their durability.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        Verification.objects.create(certificate_id=certificate_id, channel=channel)
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        Verification.objects.create(certificate_id=certificate_id, channel=channel)


def _client_bucket(request) -> str:
    """The client's address as allauth's sign-in limits see it: ALLAUTH_TRUSTED_PROXY_COUNT
    or ALLAUTH_TRUSTED_CLIENT_IP_HEADER behind a proxy, REMOTE_ADDR otherwise. An IPv6
    client commonly holds a whole /64 (ALLAUTH_RATE_LIMIT_IPV6_PREFIX): that is one bucket,
    or rotating addresses would dodge the limit."""
    address = ipaddress.ip_address(get_adapter(request).get_client_ip(request))
    if address.version == 6:
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return str(address)


def verification_rate_exceeded(request) -> bool:
    """True once an address has made more than VERIFY_RATE_LIMIT checks in a minute.

    A fixed one-minute window counted with the cache's atomic incr, in the shared cache
    (Redis when configured), so that it holds across processes. allauth's own limiter
    (allauth.core.ratelimit) is not used: it reads allauth's ACCOUNT_RATE_LIMITS, and its
    authors mark it for deprecation outside allauth.
    """
    return verification_page_check(request, cache_key=None).exceeded


@dataclass(frozen=True)
class PageCheck:
    exceeded: bool  # over the address's limit: refuse, count nothing
    kept: str | None  # the text kept at the key asked for (verification_cache), or None


def verification_page_check(request, *, cache_key: str | None) -> PageCheck:
    """The rate limit's answer and the text kept at `cache_key`, in one round trip on Redis,
    which is most of what the public page costs beyond rendering."""
    key = f"verify-rate:{_client_bucket(request)}"
    client = shared_redis()
    if client is not None:
        try:
            count, kept = _rate_and_kept(client, key, cache_key)
        except UNREACHABLE as error:
            # Redis down or paused: the page still answers, rendered without the cache; the
            # limit below lets it through (fail open, docs/decisions/0021-redis-down.md).
            shared_redis_unreachable(error)
        else:
            return PageCheck(exceeded=count > settings.VERIFY_RATE_LIMIT, kept=kept)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    kept = cache.get(cache_key) if cache_key else None
    return PageCheck(exceeded=count > settings.VERIFY_RATE_LIMIT, kept=kept)


# The rate limit's INCR, and EXPIRE NX, which starts the window at the first check only; if
# the check is within the limit, the kept text read (GET). One command, run whole by Redis.
_CHECK_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
if count > tonumber(ARGV[2]) then return {count, false} end
local value = false
if KEYS[2] ~= '' then value = redis.call('GET', KEYS[2]) end
return {count, value}
"""


def _rate_and_kept(client, key: str, cache_key: str | None) -> tuple[int, str | None]:
    """The keys are the cache's own (`cache.make_key`); the kept value is text written by
    verification_cache with the same client."""
    keys = [cache.make_key(key), cache.make_key(cache_key) if cache_key else ""]
    count, raw = client.register_script(_CHECK_SCRIPT)(
        keys=keys, args=[RATE_WINDOW_SECONDS, settings.VERIFY_RATE_LIMIT]
    )
    return count, None if raw is None else raw.decode()


def verification_checks_flush(*, batch: int = 5_000, batches: int = 100) -> int:
    """Count the checks an earlier release of the page queued in Redis: a Verification row
    each, at the moment of the check; checks of codes no certificate has are dropped.
    Returns how many rows were written.

    Each batch is read, written in one transaction, and only then taken off the queue, so a
    failure loses nothing (a crash between the commit and the trim counts that batch twice,
    the lesser harm). One run at a time (a lock in the cache), since two would count twice;
    at most `batches` batches a run, so that a flood of checks cannot keep one run going past
    its lock (the next minute's run goes on).
    """
    client = shared_redis()
    if client is None or not cache.add(FLUSH_LOCK, 1, timeout=FLUSH_LOCK_SECONDS):
        return 0
    try:
        queue = cache.make_key(CHECKS_QUEUE)
        written = 0
        for _batch in range(batches):
            entries = client.lrange(queue, 0, batch - 1)
            if not entries:
                break
            checks = [json.loads(entry) for entry in entries]
            codes = {check["code"] for check in checks}
            certificate_ids = dict(Certificate.objects.filter(code__in=codes).values_list("code", "pk"))
            rows = [
                Verification(
                    certificate_id=certificate_ids[check["code"]],
                    channel=check["channel"],
                    at=dt.datetime.fromisoformat(check["at"]),
                )
                for check in checks
                if check["code"] in certificate_ids
            ]
            with transaction.atomic():
                Verification.objects.bulk_create(rows)
            client.ltrim(queue, len(entries), -1)
            written += len(rows)
        return written
    finally:
        cache.delete(FLUSH_LOCK)
