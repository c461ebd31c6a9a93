"""Celery tasks of training: thin, they take ids and call the notice services.

No task is parked in Redis with an ETA for later: what is due later waits in the notice
ledger, and the sweep (run by beat every few minutes) asks for it when it is due.
"""

from celery import shared_task

from training.services.application_notices import applications_waiting_digest_write
from training.services.cohort_lifecycle import cohorts_move_by_dates
from training.services.notices import notices_dispatch, notices_send
from training.services.reminders import sweep
from training.services.retention import retention_files_remove


# ignore_result: nothing reads a batch's result (the ledger is the record), and a task that
# keeps one makes delay() wait on the result store too, so with Redis down a request would
# hang in its reconnect loop.
@shared_task(
    bind=True, name="training.notices_send", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def notices_send_task(self, notice_ids: list[int]) -> dict:
    """Send one batch. A redelivered task (same id) takes back its own claim."""
    report = notices_send(notice_ids, claimant=self.request.id)
    return {"sent": len(report.sent), "skipped": len(report.skipped), "failed": len(report.failed)}


@shared_task(name="training.notices_sweep", acks_late=True, reject_on_worker_lost=True)
def notices_sweep() -> dict:
    """Write every reminder now due, then ask for everything waiting to be sent."""
    report = sweep()
    handed = notices_dispatch(report.waiting_ids)
    return {"written": report.written, "waiting": len(report.waiting_ids), "enqueued": handed}


@shared_task(
    name="training.cohorts_move_by_dates",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
)
def cohorts_move_by_dates_task() -> dict:
    """Hourly: cohorts start running and finish by their dates; those finishing settle their
    trainees as completed or not. Safe to run twice, or two at once."""
    report = cohorts_move_by_dates()
    return {
        "started": len(report.started),
        "finished": len(report.finished),
        "completed": report.completed,
        "incomplete": report.incomplete,
    }


@shared_task(name="training.retention_files", acks_late=True, reject_on_worker_lost=True)
def retention_files_task() -> dict:
    """Daily: remove submission files past the retention period (batches; safe to run twice)."""
    report = retention_files_remove()
    return {"files": report.files, "bytes": report.bytes}


@shared_task(name="training.applications_waiting_digest", acks_late=True, reject_on_worker_lost=True)
def applications_waiting_digest_task() -> dict:
    """Daily: each person who may decide waiting applications gets today's digest (once, however
    often this runs in the day; the sends go on commit)."""
    return {"waiting_to_send": len(applications_waiting_digest_write())}
