"""The Redis cache, as a cache: when Redis cannot be reached, a miss, never an error.

Redis is a cache and a broker here, never a store (docs/decisions/0021-redis-down.md). With
it down or paused, the cache answers as an empty cache that keeps nothing: every read is a
miss, every write is dropped, add succeeds, incr counts from nothing; a warning is logged. So
sign-in, enrolment, marking, the check page and the API keep working, and the rate limits
counted in the cache (allauth's, DRF's throttles, the check page's) let requests through
(fail open, decided per limit in the record).

Only Django's documented cache API is overridden (the public methods of BaseCache), each
calling the parent. For what that API cannot say in one round trip (the check page's script),
`shared_redis()` gives a redis-py client of our own on the same Redis, built from the cache's
LOCATION and timeouts with redis-py's documented `Redis.from_url`: nothing reaches into the
backend's private client. Short socket timeouts (OPTIONS in CACHES) bound what a paused Redis
costs; after a failure this process skips Redis for DOWN_SECONDS, so that one request, not
every one, pays the timeout.
"""

import logging
import threading
import time

import redis
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# What "Redis cannot be reached" raises (a closed port, a paused or overloaded server).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
DOWN_SECONDS_DEFAULT = 5.0


class FailSafeRedisCache(RedisCache):
    """Django's RedisCache whose failures to reach Redis are misses and no-ops.

    OPTIONS may hold DOWN_SECONDS (how long this process skips Redis after a failure); the
    other OPTIONS go to redis-py as before.
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.down_seconds = float(options.pop("DOWN_SECONDS", DOWN_SECONDS_DEFAULT))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()
        # The first server is the primary (Django's RedisCache writes there too).
        self._primary_url = server.split(",")[0] if isinstance(server, str) else server[0]
        self._timeouts = {
            name: options[name] for name in ("socket_timeout", "socket_connect_timeout") if name in options
        }
        self._client: redis.Redis | None = None

    def client(self) -> redis.Redis:
        """Our own redis-py client on the cache's primary, one per process (thread-safe, and
        redis-py's pool starts afresh in a forked child)."""
        with self._lock:
            if self._client is None:
                # One attempt, no back-off: a failure is a miss here, and the process then
                # skips Redis for DOWN_SECONDS; retrying would make the request wait.
                self._client = redis.Redis.from_url(
                    self._primary_url, retry=Retry(NoBackoff(), 0), **self._timeouts
                )
            return self._client

    # --- Whether to try Redis --------------------------------------------------------------

    def reachable(self) -> bool:
        """False for DOWN_SECONDS after a failure to reach Redis (in this process)."""
        return time.monotonic() >= self._down_until

    def unreachable_noted(self, error: Exception) -> None:
        """Skip Redis for DOWN_SECONDS. Callers that reach Redis by other means (the check
        page's script) report their failures here too."""
        with self._lock:
            first = self.reachable()
            self._down_until = time.monotonic() + self.down_seconds
        if first:
            logger.warning("Redis cache unreachable; skipped for %ss: %s", self.down_seconds, error)

    def _safely(self, call, fallback):
        if not self.reachable():
            return fallback
        try:
            return call()
        except UNREACHABLE as error:
            self.unreachable_noted(error)
            return fallback

    # --- Django's cache API ----------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # True, as an empty cache answers: allauth marks a TOTP code used with add and
        # refuses the code on False, so False would refuse every second factor. A lock
        # taken with add is taken by everyone meanwhile: the only one (the check page's
        # flush) guards work that needs Redis itself.
        return self._safely(lambda: super(FailSafeRedisCache, self).add(key, value, timeout, version), True)

    def get(self, key, default=None, version=None):
        return self._safely(lambda: super(FailSafeRedisCache, self).get(key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._safely(lambda: super(FailSafeRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._safely(lambda: super(FailSafeRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key, version=None):
        return self._safely(lambda: super(FailSafeRedisCache, self).delete(key, version), False)

    def get_many(self, keys, version=None):
        return self._safely(lambda: super(FailSafeRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._safely(lambda: super(FailSafeRedisCache, self).has_key(key, version), False)

    def incr(self, key, delta=1, version=None):
        # Counted from nothing: a counter of attempts (a rate limit) lets the request through.
        return self._safely(lambda: super(FailSafeRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that failed to be inserted.
        return self._safely(
            lambda: super(FailSafeRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys, version=None):
        self._safely(lambda: super(FailSafeRedisCache, self).delete_many(keys, version), None)

    def clear(self):
        return self._safely(lambda: super(FailSafeRedisCache, self).clear(), False)


def shared_redis() -> redis.Redis | None:
    """A redis-py client on the default cache's Redis, for a command the cache API has no word
    for; None without Redis, or while this process skips it after a failure. Keys made with
    `cache.make_key` share the cache's namespace (so `cache.delete_many` and `clear` reach
    them); values are stored as text, not through the cache's serializer. A caller that fails
    to reach Redis reports it with `shared_redis_unreachable` and goes on without it."""
    backend = caches["default"]
    if not isinstance(backend, FailSafeRedisCache) or not backend.reachable():
        return None
    return backend.client()


def shared_redis_unreachable(error: Exception) -> None:
    backend = caches["default"]
    if isinstance(backend, FailSafeRedisCache):
        backend.unreachable_noted(error)
