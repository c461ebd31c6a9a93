"""STORAGE_URL puts uploaded and generated files on an S3-compatible object store, privately;
the views serve them from there after their checks. Against moto's S3 server (always: it is
pure Python), whatever CI says."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.storage import LOCAL_DISK, S3_BACKEND, storage_from_url
from members.permissions import Role
from tests.factories import PDF, AssignmentFactory, CohortFactory, EnrolmentFactory, UserFactory
from tests.storage.privacy import assert_stored_privately
from training.models import CohortStatus, SubmissionFile

# --- STORAGE_URL ------------------------------------------------------------------------------


def test_without_storage_url_files_stay_on_the_local_disk():
    assert storage_from_url("") == LOCAL_DISK


def test_a_storage_url_names_endpoint_bucket_prefix_keys_and_region():
    """Keys are URL-decoded; objects are private, never overwritten, and any signed URL lapses
    within a minute."""
    entry = storage_from_url("s3://AKIA:se%2Fcret@store.example:9000/media/fl?region=eu-west-2")
    assert entry["BACKEND"] == S3_BACKEND
    options = entry["OPTIONS"]
    assert options["endpoint_url"] == "https://store.example:9000"
    assert options["bucket_name"] == "media"
    assert options["location"] == "fl"
    assert (options["access_key"], options["secret_key"]) == ("AKIA", "se/cret")
    assert options["region_name"] == "eu-west-2"
    assert options["addressing_style"] == "path"
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] <= 60
    assert options["file_overwrite"] is False


def test_aws_gets_virtual_hosted_addressing_and_a_bucket_without_acls_gets_none():
    options = storage_from_url("s3://s3.eu-west-2.amazonaws.com/media?acl=")["OPTIONS"]
    assert options["addressing_style"] == "virtual"
    assert options["default_acl"] is None
    assert "access_key" not in options  # boto3 finds them (AWS_* variables, an instance role)


def test_plain_http_only_when_asked():
    assert storage_from_url("s3://k:s@127.0.0.1:9000/b?tls=false")["OPTIONS"]["endpoint_url"] == (
        "http://127.0.0.1:9000"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://store.example/media", "must start with s3://"),
        ("s3://store.example", "needs a host and a bucket"),
        ("s3://store.example/media?regoin=eu-west-2", "unknown parameters: regoin"),
    ],
)
def test_a_mistaken_storage_url_stops_start_up(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        storage_from_url(url)


def test_the_setting_reaches_a_fresh_process():
    """STORAGE_URL in the environment is what a web server or worker starting up uses."""
    env = {**os.environ, "STORAGE_URL": "s3://k:s@127.0.0.1:9000/media?tls=false"}
    code = (
        "import django; django.setup(); "
        "from django.core.files.storage import default_storage as s; "
        "print(s.__class__.__name__, s.bucket_name, s.endpoint_url)"
    )
    output = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.split()[-3:] == ["S3Storage", "media", "http://127.0.0.1:9000"]


# --- On the object store ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hand_in_goes_to_the_store_privately_and_comes_back_through_the_view(
    client, seeded, on_object_storage, object_store, settings, tmp_path
):
    """Uploaded through the page, kept as a private object (nothing on the local disk), and
    downloaded through the permission-checked view; a stored file has no local path."""
    settings.MEDIA_ROOT = tmp_path / "unused-media"
    today = timezone.localdate()
    cohort = CohortFactory(
        status=CohortStatus.RUNNING,
        enrolment_opens_on=today - dt.timedelta(days=30),
        enrolment_closes_on=today - dt.timedelta(days=8),
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
    )
    assignment = AssignmentFactory(module__version=cohort.version, accepted_file_types="pdf")
    trainee = UserFactory(role=Role.TRAINEE)
    EnrolmentFactory(cohort=cohort, member=trainee)
    client.force_login(trainee)
    handed_in = SimpleUploadedFile("map.pdf", PDF, "application/pdf")
    response = client.post(
        reverse("training:assignment-detail", args=[assignment.pk]),
        {
            "text": "My map.",
            "hand_in": "Hand in",
            "files": [handed_in],
        },
    )
    assert response.status_code == 302

    upload = SubmissionFile.objects.get()
    assert object_store.keys(prefix=on_object_storage) == [f"{on_object_storage}/{upload.file.name}"]
    assert_stored_privately(upload.file.name)
    assert not settings.MEDIA_ROOT.exists()
    with pytest.raises(NotImplementedError):
        default_storage.path(upload.file.name)  # why no code may ask for one (test_no_paths.py)

    url = reverse("training:submission-file", args=[upload.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Cache-Control"] == "private, no-store"
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_media_backup_and_restore_read_and_write_the_object_store(on_object_storage, settings, tmp_path):
    """`mediabackup` (README "Backups and restore") takes the files from the store, and
    `mediarestore` puts them back into an emptied one, private again."""
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    settings.STORAGES = {
        **settings.STORAGES,
        "dbbackup": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    name = default_storage.save("submissions/abc/plan.pdf", ContentFile(PDF))
    call_command("mediabackup", verbosity=0)
    default_storage.delete(name)
    assert not default_storage.exists(name)
    call_command("mediarestore", "--noinput", verbosity=0)
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == PDF
    assert_stored_privately(name)  # restored as private as it was
