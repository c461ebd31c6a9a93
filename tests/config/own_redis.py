"""A redis-server of a test's own, on a free port, that the test stops, pauses and brings back.

Shared by the Redis-down tests (tests/config/test_redis_down.py, test_redis_down_walk.py;
their `redis_down` fixture is in tests/config/conftest.py), the metrics test and the chaos
runs (tests/training/test_notices_chaos*.py). Never the machine's Redis.
"""

import os
import shutil
import signal
import subprocess
import time

import pytest
from redis import Redis
from redis.exceptions import RedisError

from tests.ports import free_port

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
WITHIN = 1.0  # seconds: what a request may take with Redis paused
PORT_TRIES = 5


class PortTaken(RuntimeError):
    """Another process took the port chosen for our redis-server."""


needs_redis_server = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server on PATH")


class OwnRedis:
    """A redis-server of this test's, on a free port, that the test stops or pauses."""

    def __init__(self):
        self.paused = False
        for _ in range(PORT_TRIES):
            self.port = free_port()
            try:
                self.process = self._start()
                return
            except PortTaken:
                continue
        raise PortTaken(f"no free port for redis-server in {PORT_TRIES} tries")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self) -> subprocess.Popen:
        """redis-server on `self.port`, once it answers as itself. The port was free when chosen,
        but another test's server (a parallel worker's, the serial pass's) may take it first:
        ours then exits, and the other answering in its place would have this test pause or
        stop a server its code never talks to (a paused broker that still took the task)."""
        process = subprocess.Popen(  # noqa: S603 - a fixed command of our own
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise PortTaken(f"redis-server could not listen on port {self.port}")
            try:
                answering = Redis.from_url(self.url, socket_timeout=0.5).info("server")["process_id"]
                if answering == process.pid:
                    return process
            except RedisError:
                pass
            if time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError(f"our redis-server did not answer on port {self.port}")
            time.sleep(0.05)

    def down(self, how: str) -> None:
        if how == "paused":
            os.kill(self.process.pid, signal.SIGSTOP)
            self.paused = True
        else:
            self.process.terminate()
            self.process.wait(timeout=10)

    def up(self) -> None:
        """Back: a paused server resumes; a stopped one starts again, empty, on the same port."""
        if self.paused:
            os.kill(self.process.pid, signal.SIGCONT)
            self.paused = False
        elif self.process.poll() is not None:
            self.process = self._start()

    def close(self) -> None:
        if self.paused:
            os.kill(self.process.pid, signal.SIGCONT)
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class RedisSwitch:
    """Call it to stop or pause the server (as the fixture's parameter says); `back()` brings
    it back."""

    def __init__(self, server: OwnRedis, how: str):
        self.server, self.how = server, how

    def __call__(self) -> None:
        self.server.down(self.how)

    def back(self) -> None:
        self.server.up()


def timed(call, *args, **kwargs):
    """The response of `call`, asserted to have come within WITHIN seconds."""
    started = time.monotonic()
    response = call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < WITHIN, f"{elapsed:.2f}s"
    return response


def totp_code_fresh() -> str:
    """The authenticator's code, read with at least 3 s of its 30 s step left: allauth allows
    no drift, so a code read in a step's last moment may be stale when the request is checked
    (seen here on a loaded machine)."""
    from tests.factories import totp_code

    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)
    return totp_code()
