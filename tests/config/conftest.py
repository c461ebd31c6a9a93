"""Fixtures of the tests in tests/config."""

import pytest

from tests.config.own_redis import OwnRedis, RedisSwitch


@pytest.fixture(params=["stopped", "paused"])
def redis_down(request, settings):
    """The cache (and REDIS_URL, which /healthz asks) on this test's own Redis, configured as
    config.settings configures it; call the returned switch to stop or pause the server."""
    server = OwnRedis()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "fl",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25, "DOWN_SECONDS": 5.0},
        }
    }
    from django.core.cache import cache

    cache.set("up", 1)
    assert cache.get("up") == 1  # the cache does reach this server while it is up
    yield RedisSwitch(server, request.param)
    server.close()
