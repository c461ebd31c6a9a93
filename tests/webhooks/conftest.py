"""A real HTTP receiver on 127.0.0.1 (a thread in the test process) that checks each
delivery's signature by the documented scheme, written here independently of the code."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from members.permissions import Role
from tests.factories import UserFactory
from webhooks.models import SUBSCRIBABLE_EVENTS
from webhooks.services import endpoint_create


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next planned answer (a status code, or ("sleep", s) to be
    slower than the sender's read timeout); 200 once the plan runs out. A delivery whose
    signature does not verify is answered 401."""

    port: int = 0
    secret: str = ""
    plan: deque = field(default_factory=deque)
    received: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/future-leaders?source=fl"

    def answer(self, *answers) -> None:
        self.plan.extend(answers)


def _signature_ok(secret: str, headers, body: bytes) -> bool:
    timestamp = headers.get("X-Webhook-Timestamp", "")
    header = headers.get("X-Webhook-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, header)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = _signature_ok(state.secret, self.headers, body)
            state.received.append(Received(self.path, dict(self.headers), body, ok))
            planned = state.plan.popleft() if state.plan else 200
            if isinstance(planned, tuple):
                time.sleep(planned[1])
                planned = 200
            status = planned if ok else 401
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_http(settings):
    """Deliveries may go to http://127.0.0.1 (the test receiver); quick timeouts."""
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True
    settings.WEBHOOKS_TIMEOUT_CONNECT = 1
    settings.WEBHOOKS_TIMEOUT_READ = 0.5
    return settings


@pytest.fixture
def national(db):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def endpoint_for(local_http, national):
    """An endpoint on the receiver taking every event (or those named); the receiver learns its secret."""

    def make(receiver, *, events=None):
        endpoint, secret = endpoint_create(
            url=receiver.url,
            events=events or [event.value for event in SUBSCRIBABLE_EVENTS],
            description="Test receiver",
            actor=national,
        )
        receiver.secret = secret
        return endpoint

    return make
