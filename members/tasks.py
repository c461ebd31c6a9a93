"""Celery tasks of members: thin, they take ids and call the data export services."""

import logging

from celery import shared_task

from members.export import data_export_build, data_export_fail, data_exports_sweep

logger = logging.getLogger(__name__)


@shared_task(name="members.data_export_build", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def data_export_build_task(export_id: int) -> str:
    """Build one member's ZIP. Running it twice builds once (the row is locked and checked)."""
    try:
        export = data_export_build(export_id=export_id)
    except Exception as error:
        # The member sees "could not be prepared" and may ask again; staff see the log.
        logger.exception("Data export %s failed", export_id)
        data_export_fail(export_id=export_id, error=f"{type(error).__name__}")
        raise
    return export.status if export else "nothing to do"


@shared_task(name="members.data_exports_sweep", acks_late=True, reject_on_worker_lost=True)
def data_exports_sweep_task() -> dict:
    """Delete expired ZIPs and ask again for builds that never reported back."""
    report = data_exports_sweep()
    return {"expired": report.expired, "reenqueued": report.reenqueued, "given_up": report.given_up}
