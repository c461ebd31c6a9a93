"""Checking certificates: counted (that, and how; never who), and rate limited per address."""

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from certification.models import Certificate, Verification, VerificationChannel
from config.cache import UNREACHABLE

RATE_WINDOW_SECONDS = 60
# The page's checks, queued in Redis until verification_checks_flush counts them (each minute).
CHECKS_QUEUE = "verify-checks"
FLUSH_LOCK = "verify-checks-flush"
FLUSH_LOCK_SECONDS = 5 * 60


def verification_record(*, certificate_id: int, channel: str) -> None:
    """Count a check (that, and how; never who).

    On PostgreSQL, outside any other transaction, the row is committed without waiting for
    the disk (synchronous_commit off, for this one transaction), in one round trip: waiting
    for the flush was most of the public page's time (4-6 ms, against 0.15 ms). A crash of
    the database server can lose the last moment's counts, never a certificate. Inside
    another transaction (and elsewhere) it is a plain insert: the other writes keep their
    durability.
    """
    if not _may_write_without_flush():
        Verification.objects.create(certificate_id=certificate_id, channel=channel)
        return
    meta = Verification._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("certificate", "channel", "at"))
    # Several statements in one message: Django's client-side binding cursor (the default for
    # psycopg 3) sends them as one simple query, which PostgreSQL runs in order.
    # The names are the model's own, quoted; the values go as parameters.
    insert = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s)"  # noqa: S608
    sql = f"BEGIN; SET LOCAL synchronous_commit TO OFF; {insert}; COMMIT"
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, [certificate_id, channel, timezone.now()])
        except DatabaseError:
            # The BEGIN above left a failed transaction open that Django does not know of.
            cursor.execute("ROLLBACK")
            raise


def _may_write_without_flush() -> bool:
    options = connection.settings_dict.get("OPTIONS") or {}
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not options.get("server_side_binding")
    )


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
    return verification_page_check(request, cache_key=None, code=None).exceeded


@dataclass(frozen=True)
class PageCheck:
    exceeded: bool  # over the address's limit: refuse, count nothing
    kept: Any  # the cache's value at the key asked for, or None
    queued: bool  # the check is counted already (queued in Redis for verification_checks_flush)


def verification_page_check(request, *, cache_key: str | None, code: str | None) -> PageCheck:
    """The rate limit's answer, the cache's value at `cache_key`, and, on Redis, the check of
    `code` (a normalised code) queued to be counted: all in one round trip, which is most of
    what the public page costs beyond rendering. Elsewhere (no Redis) nothing is queued: the
    caller counts the check with verification_record."""
    key = f"verify-rate:{_client_bucket(request)}"
    backend = caches["default"]
    if isinstance(backend, RedisCache) and getattr(backend, "reachable", lambda: True)():
        entry = json.dumps(
            {"code": code, "channel": VerificationChannel.PAGE, "at": timezone.now().isoformat()}
        )
        try:
            count, kept = _redis_check(backend, key, cache_key, entry if code else None)
        except UNREACHABLE as error:
            # Redis down or paused: the page still answers, rendered without the cache and
            # counted by the caller (verification_record); the limit below lets it through
            # (fail open, docs/decisions/0021-redis-down.md).
            if hasattr(backend, "unreachable_noted"):
                backend.unreachable_noted(error)
        else:
            exceeded = count > settings.VERIFY_RATE_LIMIT
            return PageCheck(exceeded=exceeded, kept=kept, queued=bool(code) and not exceeded)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    kept = cache.get(cache_key) if cache_key else None
    return PageCheck(exceeded=count > settings.VERIFY_RATE_LIMIT, kept=kept, queued=False)


# The rate limit's INCR, and EXPIRE NX, which starts the window at the first check only; if
# the check is within the limit, the check queued (RPUSH) and the cache key read (GET). One
# command, run whole by Redis.
_CHECK_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
if count > tonumber(ARGV[2]) then return {count, false} end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
local value = false
if KEYS[2] ~= '' then value = redis.call('GET', KEYS[2]) end
return {count, value}
"""


def _redis_check(backend: RedisCache, key: str, cache_key: str | None, entry: str | None) -> tuple[int, Any]:
    """Reaches the redis-py client behind Django's cache (`_cache.get_client`, the backend's
    own way to it, and its serializer); the keys are the cache's, so the values are the ones
    the cache API reads and writes."""
    full_key = backend.make_and_validate_key(key)
    keys = [
        full_key,
        backend.make_and_validate_key(cache_key) if cache_key else "",
        backend.make_and_validate_key(CHECKS_QUEUE),
    ]
    client = backend._cache.get_client(full_key, write=True)
    script = client.register_script(_CHECK_SCRIPT)
    count, raw = script(keys=keys, args=[RATE_WINDOW_SECONDS, settings.VERIFY_RATE_LIMIT, entry or ""])
    return count, None if raw is None else backend._cache._serializer.loads(raw)


def verification_checks_flush(*, batch: int = 5_000, batches: int = 100) -> int:
    """Count the checks queued in Redis by the page (verification_page_check): a Verification
    row each, at the moment of the check; checks of codes no certificate has are dropped.
    Returns how many rows were written.

    Each batch is read, written in one transaction, and only then taken off the queue, so a
    failure loses nothing (a crash between the commit and the trim counts that batch twice,
    the lesser harm). One run at a time (a lock in the cache), since two would count twice;
    at most `batches` batches a run, so that a flood of checks cannot keep one run going past
    its lock (the next minute's run goes on).
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or not cache.add(FLUSH_LOCK, 1, timeout=FLUSH_LOCK_SECONDS):
        return 0
    try:
        queue = backend.make_and_validate_key(CHECKS_QUEUE)
        client = backend._cache.get_client(queue, write=True)
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
