"""A member's copy of everything held about them (UK GDPR article 15): asked for on their
account page, built by a Celery task into a ZIP in private storage, offered by a signed link
that expires, and deleted by a periodic task after it expires.

The ZIP holds `data.json` (one key per section registered in members.data_rights) and the
member's uploaded files under `files/`, at the paths the JSON names.
"""

import json
import logging
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import task_named
from members.data_rights import data_sections
from members.models import DataExport, DataExportStatus, User

logger = logging.getLogger(__name__)

EXPORT_LINK_SALT = "members.data-export"
# A build handed to the broker DATA_EXPORT_REENQUEUE_SECONDS ago and not being built (its row
# not locked by a worker: the build holds that lock throughout) is asked again by the sweep;
# one preparing after STALE_AFTER is given up on so that the member may ask again.
STALE_AFTER = timedelta(hours=6)


def _reenqueue_after() -> timedelta:
    return timedelta(seconds=settings.DATA_EXPORT_REENQUEUE_SECONDS)


def export_link_days() -> int:
    return settings.DATA_EXPORT_LINK_DAYS


# --- Asking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportAsked:
    export: DataExport
    created: bool


def data_export_request(*, user: User, now=None) -> ExportAsked:
    """Ask for a copy. While one is being prepared, asking again returns it and starts nothing
    (a partial unique constraint makes this hold under concurrent requests too)."""
    now = now or timezone.now()
    existing = DataExport.objects.filter(user=user, status=DataExportStatus.PREPARING).first()
    if existing is not None:
        return ExportAsked(existing, created=False)
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user, requested_at=now)
    except IntegrityError:
        # Another request made one between the check and the insert.
        return ExportAsked(
            DataExport.objects.get(user=user, status=DataExportStatus.PREPARING), created=False
        )
    transaction.on_commit(partial(data_export_hand_over, export_id=export.pk))
    return ExportAsked(export, created=True)


def data_export_enqueue(*, export_id: int) -> bool:
    """Hand the build to a worker; if the broker is down the sweep asks again later."""
    try:
        task_named("members.data_export_build").delay(export_id)
    except Exception as error:  # noqa: BLE001 - whatever the broker raised, the sweep retries
        logger.warning("Broker unreachable; data export %s waits for the sweep: %s", export_id, error)
        return False
    return True


def data_export_hand_over(*, export_id: int) -> bool:
    """Hand the build over and record when (`enqueued_at`), or that it was not (empty): the
    sweep asks again from that record (decision 0022)."""
    preparing = DataExport.objects.filter(pk=export_id, status=DataExportStatus.PREPARING)
    preparing.update(enqueued_at=timezone.now())
    handed = data_export_enqueue(export_id=export_id)
    if not handed:
        preparing.update(enqueued_at=None)
    return handed


# --- Building ----------------------------------------------------------------------------


def export_contents(*, user: User) -> tuple[dict, dict]:
    """(data for data.json, {path in the ZIP: stored file}) across every registered section."""
    data: dict = {
        "about": (
            "Everything Future Leaders holds about you, as of the time below. Your uploaded "
            "files are in the files folder, at the paths given in this file."
        ),
        "prepared_at": timezone.now().isoformat(),
    }
    files: dict = {}
    for section in data_sections():
        part = section.export(user)
        data[section.name] = part.data
        files.update(part.files)
    return data, files


def _zip_write(handle, *, data: dict, files: dict) -> list[str]:
    """Write the ZIP; returns the paths of files that were missing from storage."""
    missing = []
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, stored in sorted(files.items()):
            try:
                with stored.open("rb") as source, archive.open(arcname, "w") as target:
                    for chunk in iter(lambda s=source: s.read(1024 * 1024), b""):
                        target.write(chunk)
            except (FileNotFoundError, ValueError):
                missing.append(arcname)
        if missing:
            data["files_missing_from_storage"] = missing
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
    return missing


def data_export_build(*, export_id: int, now=None) -> DataExport | None:
    """Build the ZIP of a waiting export. Safe to run twice: only a row still preparing is
    built, under a row lock, and the second run finds it ready."""
    now = now or timezone.now()
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update()
            .select_related("user")
            .filter(pk=export_id, status=DataExportStatus.PREPARING)
            .first()
        )
        if export is None:
            return None
        user = export.user
        if user.erased_at is not None:
            export.status = DataExportStatus.FAILED
            export.error = "The account was erased."
            export.save(update_fields=["status", "error"])
            return export
        data, files = export_contents(user=user)
        name = f"data-exports/{secrets.token_hex(16)}/future-leaders-data-{now:%Y-%m-%d}.zip"
        with tempfile.TemporaryFile() as handle:
            _zip_write(handle, data=data, files=files)
            handle.seek(0)
            stored_name = default_storage.save(name, File(handle))
        # If saving the row fails, the ZIP must not stay behind.
        try:
            export.file.name = stored_name
            export.size = default_storage.size(stored_name)
            export.status = DataExportStatus.READY
            export.ready_at = now
            export.expires_at = now + timedelta(days=export_link_days())
            export.save(update_fields=["file", "size", "status", "ready_at", "expires_at"])
        except Exception:
            default_storage.delete(stored_name)
            raise
    return export


def data_export_fail(*, export_id: int, error: str) -> None:
    DataExport.objects.filter(pk=export_id, status=DataExportStatus.PREPARING).update(
        status=DataExportStatus.FAILED, error=error[:300]
    )


# --- The link ----------------------------------------------------------------------------


def data_export_token(*, export: DataExport) -> str:
    return signing.dumps({"export": export.pk, "user": export.user_id}, salt=EXPORT_LINK_SALT, compress=True)


class ExportLinkExpired(Exception):
    """The link was genuine but its time has passed (or the file was already deleted)."""


def data_export_from_token(*, token: str, user: User) -> DataExport | None:
    """The ready export this link names, if it is the user's. None: not a link of ours, or not
    this user's (the caller answers 404, revealing nothing). Raises ExportLinkExpired."""
    max_age = timedelta(days=export_link_days())
    try:
        payload = signing.loads(token, salt=EXPORT_LINK_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        try:
            payload = signing.loads(token, salt=EXPORT_LINK_SALT)
        except signing.BadSignature:
            return None
        if payload.get("user") != user.pk:
            return None
        raise ExportLinkExpired from error
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.pk:
        return None
    export = DataExport.objects.filter(pk=payload.get("export"), user=user).first()
    if export is None:
        return None
    if (
        export.status != DataExportStatus.READY
        or not export.file
        or (export.expires_at and export.expires_at <= timezone.now())
    ):
        raise ExportLinkExpired
    return export


# --- Expiry ------------------------------------------------------------------------------


@dataclass
class SweepReport:
    expired: int = 0
    reenqueued: int = 0
    given_up: int = 0


def data_exports_stuck(*, now=None):
    """Exports preparing, never handed over or handed over a lease ago (integrity_check: a
    build in progress counts too while it runs past the lease)."""
    now = now or timezone.now()
    return DataExport.objects.filter(status=DataExportStatus.PREPARING).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - _reenqueue_after())
    )


def data_exports_sweep(*, now=None) -> SweepReport:
    """Delete expired ZIPs (the rows stay, marked expired), ask again for builds that never
    reported back, and give up on those stuck too long. Safe to run at any time, twice."""
    now = now or timezone.now()
    report = SweepReport()
    due = DataExport.objects.filter(status=DataExportStatus.READY, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for export_id in list(due[:1000]):
        with transaction.atomic():
            export = (
                DataExport.objects.select_for_update()
                .filter(pk=export_id, status=DataExportStatus.READY)
                .first()
            )
            if export is None:
                continue
            name = export.file.name
            export.status = DataExportStatus.EXPIRED
            export.file = ""
            export.save(update_fields=["status", "file"])
            if name:
                transaction.on_commit(partial(default_storage.delete, name))
            report.expired += 1
    stuck = DataExport.objects.filter(status=DataExportStatus.PREPARING)
    report.given_up = stuck.filter(requested_at__lte=now - STALE_AFTER).update(
        status=DataExportStatus.FAILED, error="It took too long; please ask again."
    )
    # Never handed over (the broker was down), or handed over a lease ago and not being built
    # (the message lost): asked again. A build in progress holds its row lock: skipped.
    idle = stuck.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - _reenqueue_after()))
    for export_id in list(idle.order_by("pk").values_list("pk", flat=True)[:100]):
        with transaction.atomic():
            free = idle.select_for_update(skip_locked=True).filter(pk=export_id).values_list("pk", flat=True)
            if free.first() is None:
                continue
        report.reenqueued += int(data_export_hand_over(export_id=export_id))
    return report
