"""Errors go to Sentry when SENTRY_DSN is set, with members' data left out (config.sentry).

Tested for real: the SDK sends its envelopes to a small HTTP server of this test's (the DSN
http://public@127.0.0.1:PORT/1), and the test reads what arrived: the exception, the request
id, the release; and not the member's email, name or submission text, which the failing
request and task carry on purpose (in the query string, a cookie, the body, the database).
"""

import gzip
import io
import json
import os
import subprocess
import sys
import threading
import warnings
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from sentry_sdk.integrations.django import DjangoIntegration

from certification.signing_keys import issuer_id
from config.request_id import member_pseudonym
from config.sentry import sentry_init
from members.export import data_export_request
from members.models import DataExport
from members.permissions import Role
from members.tasks import data_export_build_task
from tests.config.logs import json_log_lines
from tests.config.test_request_id import BROKEN_SIGNING_KEYS
from tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db

RELEASE = "future-leaders@test-release-1"
EMAIL = "ada.lovelace@example.org"
FIRST_NAME, LAST_NAME = "Augusta", "Byronovna"
SUBMISSION_TEXT = "My power map names Councillor Quigglesworth and the tenants of Elm Row"
PERSONAL = [EMAIL, "ada.lovelace", FIRST_NAME, LAST_NAME, "Quigglesworth", "Elm Row"]


class SentryReceiver:
    """A stand-in for Sentry's ingest: takes the SDK's envelope POSTs and keeps them."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                receiver.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"

    def raw(self) -> str:
        return b"\n".join(self.envelopes).decode("utf-8", errors="replace")

    def events(self) -> list[dict]:
        """The error events (envelope items of type "event") received."""
        found = []
        for envelope in self.envelopes:
            rest = envelope.split(b"\n", 1)[1] if b"\n" in envelope else b""
            while rest.strip():
                header_line, _, rest = rest.partition(b"\n")
                if not header_line.strip():
                    continue
                header = json.loads(header_line)
                if "length" in header:
                    payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
                else:
                    payload, _, rest = rest.partition(b"\n")
                if header.get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def reporting_to(receiver):
    """Sentry as configured, reporting to `receiver`; then no DSN and no integrations for the
    tests after these in the process. The integrations patch Django once and for good (each
    request, signal and query then runs through them, 10 to 15% slower); a client without
    them makes every patch call straight through."""
    sentry_init(dsn=receiver.dsn, release=RELEASE, environment="test")
    try:
        yield
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


@pytest.fixture
def sentry():
    receiver = SentryReceiver()
    with reporting_to(receiver):
        yield receiver
    receiver.close()


def test_once_a_test_has_reported_no_integration_of_sentry_runs():
    receiver = SentryReceiver()
    try:
        with reporting_to(receiver):
            assert sentry_sdk.get_client().get_integration(DjangoIntegration) is not None
        assert sentry_sdk.get_client().get_integration(DjangoIntegration) is None
    finally:
        receiver.close()


def test_the_sdk_starts_with_no_deprecated_option_and_no_personal_data_by_default():
    receiver = SentryReceiver()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with reporting_to(receiver):
                client = sentry_sdk.get_client()
                assert client.should_send_default_pii() is False
                assert client.options["data_collection"]["user_info"] is False
        deprecated = [
            str(warning.message)
            for warning in caught
            if issubclass(warning.category, DeprecationWarning) and "sentry_sdk" in warning.filename
        ]
        assert deprecated == []
    finally:
        receiver.close()


@pytest.fixture
def member(seeded):
    member = UserFactory(role=Role.TRAINEE, email=EMAIL, first_name=FIRST_NAME, last_name=LAST_NAME)
    SubmissionFactory(enrolment__member=member, text=SUBMISSION_TEXT)
    return member


def _exception_types(event: dict) -> list[str]:
    return [value["type"] for value in event.get("exception", {}).get("values", [])]


def _served_by_wsgi(*, method: str, path: str, query: str, body: bytes, cookies: dict) -> tuple[str, dict]:
    """One request through Django's WSGIHandler, as gunicorn calls it (the path Sentry's
    Django integration wraps, which the test client skips). Returns the status and headers."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "HTTP_USER_AGENT": "browser of " + EMAIL,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    # As Django's test client does: starting and closing the request must not close the
    # test's connection (its transaction holds the test's rows).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, start_response)
        answer["body"] = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    answer["headers"]["body"] = answer["body"]
    return answer["status"], answer["headers"]


def test_a_failing_page_is_reported_without_the_members_data(sentry, member, settings):
    """A signed-in member's check of a credential fails (the signing keys are unreadable):
    the event names the exception, the request id the member was shown, the release and a
    pseudonym; the member's email, name and text in the query string, a cookie, a header and
    the body do not arrive."""
    settings.OPENBADGES_SIGNING_KEYS = BROKEN_SIGNING_KEYS
    client = Client()
    client.force_login(member)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "issuer": issuer_id(),
        "credentialSubject": {"name": f"{FIRST_NAME} {LAST_NAME}", "email": EMAIL, "answer": SUBMISSION_TEXT},
        "proof": {},
    }
    status, headers = _served_by_wsgi(
        method="POST",
        path=reverse("certification:credential-verify"),
        query=f"email={EMAIL}&name={LAST_NAME}",
        body=json.dumps({"credential": credential}).encode(),
        cookies={
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            "draft": SUBMISSION_TEXT.replace(" ", "_"),
        },
    )
    assert status.startswith("500"), headers.get("body", b"").decode()[-2500:]
    assert sentry_sdk.flush(timeout=10) is not False

    [event] = [event for event in sentry.events() if "ImproperlyConfigured" in _exception_types(event)]
    assert event["tags"]["request_id"] == headers["X-Request-ID"]
    assert event["release"] == RELEASE
    assert event["user"] == {"id": member_pseudonym(user_id=member.pk)}
    assert event["request"]["method"] == "POST"
    assert set(event["request"]["headers"]) <= {"Content-Type", "Content-Length", "Accept"}
    assert event["transaction"] == "/credentials/verify/"
    raw = sentry.raw()
    for personal in PERSONAL:
        assert personal not in raw, personal
    assert "draft" not in raw
    assert client.cookies[settings.SESSION_COOKIE_NAME].value not in raw


def test_a_failing_task_is_reported_with_its_id_and_without_the_members_data(
    sentry, member, settings, tmp_path
):
    """A member's data export (their email, name and submission text in every frame) fails
    in its Celery task, run inline: the event names the exception, the task's id and the
    release, and carries none of the export's contents. The task's log line names its id."""
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(not_a_folder)
    export = data_export_request(user=member).export

    with json_log_lines() as lines, pytest.raises((NotADirectoryError, FileExistsError)):
        data_export_build_task.apply(args=[export.pk], task_id="export-task-0001")
    assert sentry_sdk.flush(timeout=10) is not False

    events = sentry.events()
    task_events = [event for event in events if event.get("tags", {}).get("task_id") == "export-task-0001"]
    assert task_events, [event.get("tags") for event in events]
    assert any(
        set(_exception_types(event)) & {"NotADirectoryError", "FileExistsError"} for event in task_events
    ), [_exception_types(event) for event in task_events]
    assert all(event["release"] == RELEASE for event in task_events)
    raw = sentry.raw()
    for personal in PERSONAL:
        assert personal not in raw, personal
    assert DataExport.objects.get(pk=export.pk).status == "failed"

    [line] = [record for record in lines.records() if record["message"].startswith("Data export")]
    assert line["task_id"] == "export-task-0001"
    for personal in PERSONAL:
        assert personal not in lines.text


WIRED = """
import django, sentry_sdk
django.setup()
print(sentry_sdk.get_client().is_active())
sentry_sdk.capture_message("settings wired")
sentry_sdk.flush(timeout=10)
"""


def _settings_process(**env) -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WIRED], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_settings_start_the_sdk_when_sentry_dsn_is_set_and_only_then():
    """SENTRY_DSN (and SENTRY_RELEASE) in the environment reach the SDK; without it the SDK
    is never started and nothing is sent."""
    receiver = SentryReceiver()
    try:
        assert _settings_process(SENTRY_DSN=receiver.dsn, SENTRY_RELEASE="from-the-environment") == "True"
        [event] = receiver.events()
        assert event["release"] == "from-the-environment"
        assert _settings_process() == "False"
        assert len(receiver.envelopes) == 1
    finally:
        receiver.close()
