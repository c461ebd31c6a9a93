"""A free local port for a server a test starts."""

import socket


def free_port() -> int:
    """A port nothing listens on at this moment. Another process (a parallel worker's test, the
    serial pass) may take it before the server does: a server started on it should make sure
    that what answers there is itself (tests/config/own_redis.py does)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
