"""The restore drill (README "Backups and restore"): back up the database and the stored files
with django-dbbackup's commands, lose both, restore them into an empty database and an empty
file store, and check that what people rely on still holds there: the dashboard's kept
figures (`dashboard_rebuild --check`), a certificate's check page, its credential's
verification, and a member's data export.

Real processes against a real PostgreSQL (pg_dump and pg_restore); under CI=true it runs.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from certification.services.certificates import certificate_issue_manually
from members.export import data_export_request, data_export_token
from members.models import DataExport
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

# Run in the restored place: the same requests a stranger and the member would make.
CHECKS = """
import json, sys, django
django.setup()
from django.test import Client
from django.urls import reverse
from members.models import User
code, holder_id, credential, export_url = sys.argv[1:5]
anyone = Client()
page = anyone.get(reverse("certification:verify", args=[code]))
verified = anyone.post(
    reverse("certification:credential-verify"), credential, content_type="application/vc+jwt"
).json()
member = Client()
member.force_login(User.objects.get(pk=int(holder_id)))
export = member.get(export_url)
body = b"".join(export.streaming_content) if export.streaming else export.content
print(json.dumps({
    "page": page.status_code, "valid_on_page": "Valid" in page.content.decode(),
    "credential": verified.get("valid"), "export": export.status_code, "export_bytes": len(body),
}))
"""


def _run(*args, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py and the PostgreSQL tools
        args, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture
def restored_database():
    """An empty database beside the test one, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:6]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_lost_database_and_file_store_come_back_whole(seeded, tmp_path, restored_database):
    if connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("the restore drill needs PostgreSQL under CI=true")
        pytest.skip("the restore drill needs PostgreSQL (make test uses it under CI=true)")

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    holder = Client()
    holder.force_login(certificate.holder)
    credential = holder.get(reverse("certification:certificate-credential", args=[certificate.pk])).content
    assert holder.get(reverse("certification:certificate-pdf", args=[certificate.pk])).status_code == 200
    data_export_request(user=certificate.holder)  # built at once here (tasks run inline)
    export = DataExport.objects.filter(user=certificate.holder).latest("pk")
    assert export.file, "the export was built and stored"
    export_url = reverse("members:data-export-download", args=[data_export_token(export=export)])
    original_export = b"".join(holder.get(export_url).streaming_content)

    settings_db = connection.settings_dict
    database_url = (
        f"postgres://{settings_db['USER']}@{settings_db['HOST'] or '127.0.0.1'}:{settings_db['PORT'] or 5432}"
    )
    backups, new_media = tmp_path / "backups", tmp_path / "media-new"
    for folder in (backups, new_media):
        folder.mkdir()
    base_env = {
        **os.environ,
        "BACKUP_DIR": str(backups),
        "OPENBADGES_KEY_DIR": str(settings.OPENBADGES_KEY_DIR),
    }
    here = {
        **base_env,
        "DATABASE_URL": f"{database_url}/{settings_db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    there = {**base_env, "DATABASE_URL": f"{database_url}/{restored_database}", "MEDIA_ROOT": str(new_media)}

    started = time.monotonic()
    _ok(_run(sys.executable, "manage.py", "dbbackup", "--noinput", "--output-filename=db.dump", env=here))
    _ok(
        _run(sys.executable, "manage.py", "mediabackup", "--noinput", "--output-filename=files.tar", env=here)
    )
    backed_up = time.monotonic() - started

    started = time.monotonic()
    _ok(_run(sys.executable, "manage.py", "dbrestore", "--noinput", "--input-filename=db.dump", env=there))
    _ok(
        _run(
            sys.executable, "manage.py", "mediarestore", "--noinput", "--input-filename=files.tar", env=there
        )
    )
    restored = time.monotonic() - started
    print(f"restore drill: backup {backed_up:.1f} s, restore {restored:.1f} s")  # for the closing note

    _ok(_run(sys.executable, "manage.py", "dashboard_rebuild", "--check", env=there))
    outcome = json.loads(
        _ok(
            _run(
                sys.executable,
                "-c",
                CHECKS,
                certificate.code,
                str(certificate.holder_id),
                credential.decode(),
                export_url,
                env={**there, "DJANGO_SETTINGS_MODULE": "config.settings", "ALLOWED_HOSTS": "testserver"},
            )
        )
        .strip()
        .splitlines()[-1]
    )
    assert outcome == {
        "page": 200,
        "valid_on_page": True,
        "credential": True,
        "export": 200,
        "export_bytes": len(original_export),
    }
