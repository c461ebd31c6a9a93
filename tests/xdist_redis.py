"""Under pytest-xdist (`make test` runs two workers), each worker on Redis databases of its own.

Every test clears the cache (a FLUSHDB on Redis), and the real-worker tests send tasks through
the broker: two test workers on one database would wipe each other's rate-limit counters and
take each other's tasks (run against the other's test database). pytest-django already gives
each worker a test database of its own (test_<name>_gw0, _gw1, ...).

So worker gwN moves REDIS_URL (and REDIS_CACHE_URL, when set) up by 2 * N databases: with
redis://127.0.0.1:6379/0, gw0 keeps 0 (broker) and 1 (cache), gw1 takes 2 and 3. A pytest run
without xdist beside the workers (`make test`'s serial pass) sets TEST_REDIS_WORKER=N to take
worker N's databases, the ones after the last worker's. This module is a plugin loaded before
Django reads its settings (`-p tests.xdist_redis`), so the settings, Celery and every process
a test starts (they inherit the environment) agree.
"""

import os
from urllib.parse import urlsplit, urlunsplit

DATABASES_PER_WORKER = 2  # the broker's, and the cache's (REDIS_URL's next)
REDIS_DATABASES = 16  # redis-server's default `databases`


def worker_url(url: str, worker_number: int) -> str:
    """`url` with its database number moved up for test worker `worker_number`."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + DATABASES_PER_WORKER * worker_number
    if number >= REDIS_DATABASES:
        raise RuntimeError(
            f"pytest-xdist worker {worker_number} would use Redis database {number} of {url}: "
            f"run fewer workers (-n) or start from a lower database number"
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


def _worker_number() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...; unset without xdist
    if worker.startswith("gw"):
        return int(worker[2:])
    beside = os.environ.get("TEST_REDIS_WORKER", "")
    return int(beside) if beside.isdigit() else None


def _isolate_this_worker() -> None:
    number = _worker_number()
    if number is None:
        return
    for name in ("REDIS_URL", "REDIS_CACHE_URL"):
        if os.environ.get(name):
            os.environ[name] = worker_url(os.environ[name], number)


_isolate_this_worker()
