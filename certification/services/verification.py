"""Checking certificates: counted (that, and how; never who), and rate limited per address."""

import ipaddress

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection
from django.utils import timezone

from certification.models import Verification

RATE_WINDOW_SECONDS = 60


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
    key = f"verify-rate:{_client_bucket(request)}"
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_window_count(backend, key) > settings.VERIFY_RATE_LIMIT
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    return count > settings.VERIFY_RATE_LIMIT


def _redis_window_count(backend: RedisCache, key: str) -> int:
    """The same count in one round trip to Redis instead of three (the cache API's add, then
    incr, which checks that the key exists first): INCR, and EXPIRE NX, which starts the
    window at the first check only, in one MULTI/EXEC. The check is on the public page, so
    its round trips are most of what the page costs beyond rendering.

    Reaches the redis-py client behind Django's cache (`_cache.get_client`, the backend's own
    way to it); the key is the cache's, so the value is the one the cache API would read.
    """
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.incr(full_key)
        pipe.expire(full_key, RATE_WINDOW_SECONDS, nx=True)
        count, _expiry_set = pipe.execute()
    return count
