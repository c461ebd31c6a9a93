"""Two web servers and a Celery worker, each its own process with its own local disk, sharing
PostgreSQL, Redis and the object store: what one writes, the others serve.

Steps (docs/decisions/0025-object-storage.md):
1. Start node A and node B (gunicorn, one worker each, MEDIA_ROOT a separate empty folder) and
   a Celery worker (a third folder), all with DATABASE_URL on the pytest test database,
   REDIS_URL, and STORAGE_URL on the test object store (moto's server, in this process).
2. A trainee signs in on A and hands in a PDF; a trainer signs in on B (password, then the
   TOTP code) and downloads it from B.
3. The worker renders the certificate PDFs of a cohort (a task sent through Redis); the
   holder downloads their PDF from A and from B: the bytes the worker stored, rendered once.
4. The holder asks A for a copy of their data; the worker builds the ZIP; the link, read
   from B's page, downloads the same ZIP from A and from B.
5. Staff upload a member import on B and confirm it on A; the worker writes the members (the
   file is read in the request and its rows kept in the database, so no file is shared).
6. No process wrote a file to its local disk.

It needs PostgreSQL and Redis: under CI=true it fails without them; locally it skips.
"""

import datetime as dt
import io
import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from certification.models import Certificate
from certification.services.certificates import certificate_issue_manually
from certification.services.pdfs import certificate_pdf_storage_name
from certification.tasks import certificate_pdfs_render_task
from config import settings as project_settings
from imports.models import MemberImport, MemberImportStatus
from members.models import DataExport, DataExportStatus, User
from members.permissions import Role
from tests.config.own_redis import totp_code_fresh
from tests.conftest import IN_CI
from tests.factories import PASSWORD, PDF, AssignmentFactory, CohortFactory, EnrolmentFactory, UserFactory
from tests.imports.conftest import csv_bytes, member_row
from training.models import CohortStatus, SubmissionFile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_as_configured]

WAIT = 120  # seconds: a process starting, a task run (on a busy two-core machine)


def _skip_or_fail(reason: str):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _database_url() -> str:
    """The pytest test database (test_<name>) as a URL for the other processes."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Node:
    """One process of the deployment, its local disk and its log."""

    name: str
    media_root: Path
    log_path: Path
    process: subprocess.Popen
    url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def files_on_disk(self) -> list[Path]:
        return [path for path in self.media_root.rglob("*") if path.is_file()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


class Deployment:
    def __init__(self, *, env: dict, folder: Path):
        self.env, self.folder, self.nodes = env, folder, []

    def _start(self, name: str, command: list[str]) -> Node:
        media_root = self.folder / name / "media"
        media_root.mkdir(parents=True)
        log_path = self.folder / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own server commands
                command,
                cwd=settings.BASE_DIR,
                env={**self.env, "MEDIA_ROOT": str(media_root)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = Node(name=name, media_root=media_root, log_path=log_path, process=process)
        self.nodes.append(node)
        return node

    def web(self, name: str) -> Node:
        """gunicorn on a port of its own choosing (port 0): one chosen free here could be taken
        by another test's server before gunicorn binds it, and gunicorn retries a taken port
        for seconds while the other answers. Its address is read from its log (see
        wait_until_serving)."""
        return self._start(
            name, [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind=127.0.0.1:0", "--workers=1"]
        )

    def worker(self) -> Node:
        return self._start(
            "worker",
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--queues=celery,sweeps"),
                *("--pool=solo", "--loglevel=WARNING", "--without-gossip", "--without-mingle"),
            ],
        )

    def wait_until_serving(self, node: Node) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert node.process.poll() is None, f"{node.name} stopped:\n{node.log()}"
            if not node.url:
                # gunicorn's master names its address and its own pid as it starts listening.
                listening = re.search(
                    rf"Listening at: (http://127\.0\.0\.1:\d+) \({node.process.pid}\)",
                    node.log_path.read_text(errors="replace"),
                )
                if not listening:
                    time.sleep(0.3)
                    continue
                node.url = listening.group(1)
            try:
                if requests.get(node.url + reverse("healthz-live"), timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise AssertionError(f"{node.name} did not start:\n{node.log()}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture
def deployment(transactional_db, redis_url, object_store, on_object_storage, tmp_path):
    if connection.vendor != "postgresql":
        _skip_or_fail(
            "needs PostgreSQL shared with the web and worker processes: set DATABASE_URL=postgres://..."
        )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        # The same bucket and prefix as this test process's default storage.
        "STORAGE_URL": object_store.url(prefix=on_object_storage),
        "DEBUG": "false",
        "HTTPS": "false",
    }
    deployment = Deployment(env=env, folder=tmp_path)
    try:
        yield deployment
    finally:
        deployment.stop()


class Browser:
    """A person's browser, on whichever node a request is sent to (cookies go to every port
    of the host, as they go to every node behind one address)."""

    def __init__(self):
        self.session = requests.Session()

    def get(self, node: Node, path: str, **kwargs) -> requests.Response:
        return self.session.get(node.url + path, timeout=WAIT, **kwargs)

    def post(self, node: Node, path: str, data: dict, *, form_page: str = "", **kwargs) -> requests.Response:
        """Fill in the form on form_page (by default the page posted to) and send it."""
        page = self.get(node, form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, f"no form at {form_page or path} on {node.name}: {page.status_code}"
        return self.session.post(
            node.url + path,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": node.url + path},
            timeout=WAIT,
            **kwargs,
        )

    def sign_in(self, node: Node, user, *, second_factor: bool = False) -> None:
        response = self.post(node, reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert response.status_code == 200, response.status_code
        if second_factor:
            assert response.url.endswith(reverse("mfa_authenticate")), response.url
            response = self.post(node, reverse("mfa_authenticate"), {"code": totp_code_fresh()})
        assert reverse("account_login") not in response.url, response.url


def _download(browser: Browser, node: Node, path: str, content_type: str) -> bytes:
    response = browser.get(node, path)
    assert response.status_code == 200, f"{node.name}: {response.status_code} {response.text[:300]}"
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.content


def _stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _passwords_the_servers_read(settings, *users) -> None:
    """The tests hash passwords with MD5 (tests/conftest.py); the servers know only the
    project's hashers."""
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    for user in users:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def test_files_written_by_one_process_are_served_by_the_others(seeded, deployment, settings):
    # Made by the test and committed: a running cohort with its trainer, an assignment that
    # takes PDFs, a trainee enrolled in it, and a finished cohort where she holds a certificate.
    today = timezone.localdate()
    cohort = CohortFactory(
        status=CohortStatus.RUNNING,
        enrolment_opens_on=today - dt.timedelta(days=30),
        enrolment_closes_on=today - dt.timedelta(days=8),
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
    )
    trainer = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(trainer)
    assignment = AssignmentFactory(module__version=cohort.version, accepted_file_types="pdf")
    trainee = UserFactory(role=Role.TRAINEE)
    EnrolmentFactory(cohort=cohort, member=trainee)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(
        enrolment=EnrolmentFactory(member=trainee), actor=staff, reason="Evidence."
    )
    _passwords_the_servers_read(settings, trainer, trainee, staff)

    # 1. Two web servers and a worker, each with its own empty local disk.
    node_a, node_b = deployment.web("node-a"), deployment.web("node-b")
    worker = deployment.worker()
    deployment.wait_until_serving(node_a)
    deployment.wait_until_serving(node_b)

    # 2. Handed in on A, downloaded from B by the cohort's trainer.
    trainee_browser = Browser()
    trainee_browser.sign_in(node_a, trainee)
    assignment_path = reverse("training:assignment-detail", args=[assignment.pk])
    response = trainee_browser.post(
        node_a,
        assignment_path,
        {"text": "My power map.", "hand_in": "Hand in"},
        files={"files": ("plan.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 200, node_a.log()
    upload = SubmissionFile.objects.get(submission__assignment=assignment)
    trainer_browser = Browser()
    trainer_browser.sign_in(node_b, trainer, second_factor=True)
    file_path = reverse("training:submission-file", args=[upload.pk])
    assert _download(trainer_browser, node_b, file_path, "application/pdf") == PDF
    assert _download(trainee_browser, node_a, file_path, "application/pdf") == PDF

    # 3. The worker renders the cohort's certificate PDFs; both web servers serve that file.
    rendered = certificate_pdfs_render_task.delay(certificate.enrolment.cohort_id)
    try:
        assert rendered.get(timeout=WAIT) == {"certificates": 1, "rendered": 1}
    except Exception as error:
        raise AssertionError(f"{error}\n{worker.log()}") from error
    name = certificate_pdf_storage_name(Certificate.objects.get(pk=certificate.pk))
    stored_pdf = _stored_bytes(name)
    pdf_path = reverse("certification:certificate-pdf", args=[certificate.pk])
    assert _download(trainee_browser, node_a, pdf_path, "application/pdf") == stored_pdf
    assert _download(trainee_browser, node_b, pdf_path, "application/pdf") == stored_pdf
    assert stored_pdf.startswith(b"%PDF")

    # 4. Asked for on A, built by the worker, downloaded from either.
    response = trainee_browser.post(node_a, reverse("members:data-rights"), {})
    assert response.status_code == 200
    deadline = time.monotonic() + WAIT
    while not DataExport.objects.filter(user=trainee, status=DataExportStatus.READY).exists():
        assert time.monotonic() < deadline, f"no export built:\n{worker.log()}"
        time.sleep(0.5)
    page = trainee_browser.get(node_b, reverse("members:data-rights")).text
    link = re.search(r'href="(/account/data/exports/[^"]+/)"', page)
    assert link, "B's page offers no link"
    from_a = _download(trainee_browser, node_a, link.group(1), "application/zip")
    from_b = _download(trainee_browser, node_b, link.group(1), "application/zip")
    assert from_a == from_b
    with zipfile.ZipFile(io.BytesIO(from_b)) as archive:
        assert "data.json" in archive.namelist()
        # The file handed in on A, read by the worker from the store into the ZIP.
        assert PDF in [archive.read(entry) for entry in archive.namelist() if entry != "data.json"]

    # 5. A member import checked on B, confirmed on A, written by the worker.
    staff_browser = Browser()
    staff_browser.sign_in(node_b, staff, second_factor=True)
    response = staff_browser.post(
        node_b,
        reverse("imports:import-create"),
        {"cohort": ""},
        files={"file": ("members.csv", csv_bytes([member_row(1), member_row(2)]), "text/csv")},
    )
    assert response.status_code == 200, response.text[:500]
    member_import = MemberImport.objects.get()
    detail = reverse("imports:import-detail", args=[member_import.pk])
    assert "imported1@example.org" in staff_browser.get(node_a, detail).text
    response = staff_browser.post(
        node_a, reverse("imports:import-confirm", args=[member_import.pk]), {}, form_page=detail
    )
    assert response.status_code == 200
    deadline = time.monotonic() + WAIT
    while MemberImport.objects.get().status != MemberImportStatus.CONFIRMED:
        assert time.monotonic() < deadline, f"the import was not written:\n{worker.log()}"
        time.sleep(0.5)
    assert User.objects.filter(email__in=["imported1@example.org", "imported2@example.org"]).count() == 2

    # 6. Nothing went to a local disk: each node saw only what the store holds.
    for node in deployment.nodes:
        assert node.files_on_disk() == [], node.name
