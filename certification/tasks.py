"""Celery tasks of certification: thin, they take ids and call services."""

from celery import shared_task

from certification.services.certificates import certificates_owed_issue
from certification.services.pdfs import certificate_pdfs_render
from certification.services.verification import verification_checks_flush


# A large cohort at about 40 ms a page stays well inside these; a run cut short is finished
# by the next (what is stored already is skipped).
@shared_task(
    name="certification.certificate_pdfs_render",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
)
def certificate_pdfs_render_task(cohort_id: int) -> dict:
    """Store the PDFs of a cohort's certificates (before a ceremony, say). Safe to run twice."""
    report = certificate_pdfs_render(cohort_id=cohort_id)
    return {"certificates": report.certificates, "rendered": report.rendered}


@shared_task(name="certification.verification_checks_flush")
def verification_checks_flush_task() -> dict:
    """Count the verification page's checks queued in Redis (beat: each minute)."""
    return {"written": verification_checks_flush()}


@shared_task(
    name="certification.certificates_owed_sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=270,
    ignore_result=True,
)
def certificates_owed_sweep_task() -> int:
    """Issue the certificates owed that the after-commit receiver failed to (beat: every few
    minutes). Safe to run twice, or two at once: one certificate per enrolment."""
    return certificates_owed_issue()
