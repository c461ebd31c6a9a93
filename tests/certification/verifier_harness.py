"""Shared parts for running verifiers written elsewhere against credentials the app issued
(tests/certification/test_outside_verifiers_more.py).

The same approach as test_outside_verifiers.py (decision 0018), done in Python so that Python
verifiers can use it too: SITE_URL is https://localhost:<free port>, so the issuer is
did:web:localhost%3A<port>; an HTTPS front listens on that port with a certificate made here
(its own authority: a verifier trusts it through SSL_CERT_FILE or NODE_EXTRA_CA_CERTS, so TLS
checks stay on) and passes every request on to pytest-django's live server. The verifiers fetch
/.well-known/did.json and the status list as they would on the internet.
"""

import base64
import datetime as dt
import http.client
import json
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from django.utils import timezone

from certification import openbadges
from certification.models import Certificate
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory
from tests.tls import self_signed_certificate

__all__ = ["Front", "https_front", "issued"]


@dataclass(frozen=True)
class Front:
    url: str  # https://localhost:<port>
    ca_file: Path  # the certificate to trust


def _handler(upstream: str):
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
            headers["X-Forwarded-Proto"] = "https"
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                content = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_HEAD = _forward

        def log_message(self, *args):  # quiet
            pass

    return Forward


@contextmanager
def https_front(*, port: int, upstream: str, directory: Path):
    """An HTTPS server on localhost:<port> (a thread) passing every request to `upstream`."""
    cert_path, key_path = self_signed_certificate(directory)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Front(url=f"https://localhost:{port}", ca_file=cert_path)
    finally:
        server.shutdown()
        server.server_close()


def _b64url_json(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issued() -> dict[str, dict]:
    """A valid, a revoked, an expired and a tampered credential, in both forms:
    {"di": {name: credential}, "jwt": {name: token}}. SITE_URL must already be set."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)

    def issue(**enrolment) -> Certificate:
        return certificate_issue_manually(enrolment=EnrolmentFactory(**enrolment), actor=staff, reason="E.")

    valid = issue()
    revoked = issue()
    forms = {"di": {}, "jwt": {}}
    for name, certificate in (("valid", valid), ("revoked", revoked)):
        forms["di"][name] = openbadges.credential_signed(certificate)
        forms["jwt"][name] = openbadges.credential_jwt(certificate)
    certificate_revoke(certificate=revoked, actor=staff, public_reason="Issued in error.")
    lapsing = issue(cohort__version__certificate_valid_months=12)
    Certificate.objects.filter(pk=lapsing.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=2))
    lapsing.refresh_from_db()
    forms["di"]["expired"] = openbadges.credential_signed(lapsing)
    forms["jwt"]["expired"] = openbadges.credential_jwt(lapsing)
    tampered = json.loads(json.dumps(forms["di"]["valid"]))
    tampered["credentialSubject"]["name"] = "Someone Else"
    forms["di"]["tampered"] = tampered
    header, payload, signature = forms["jwt"]["valid"].split(".")
    claims = json.loads(_b64url_decode(payload))
    claims["credentialSubject"]["name"] = "Someone Else"
    forms["jwt"]["tampered"] = f"{header}.{_b64url_json(claims)}.{signature}"
    return forms
