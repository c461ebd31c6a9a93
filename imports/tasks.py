"""Celery tasks of imports: thin, they take ids and call the services."""

from celery import shared_task

from imports import services


@shared_task(
    name="imports.member_import_write",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=1800,
    time_limit=1860,
    ignore_result=True,
)
def member_import_write_task(member_import_id: int) -> str:
    """Write a confirmed import, all rows or none; running it twice writes once."""
    written = services.member_import_write(member_import_id=member_import_id)
    return written.status if written else "nothing to do"


@shared_task(
    name="imports.member_invitations_send",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def member_invitations_send_task(member_import_id: int) -> int:
    """Invite the members an import created; running it twice sends each invitation once."""
    return services.member_invitations_send(member_import_id=member_import_id)


@shared_task(name="imports.member_imports_expire", ignore_result=True)
def member_imports_expire_task() -> dict:
    """Delete the rows of checked files never confirmed; send invitations left unsent."""
    return {"expired": services.member_imports_expire(), "invited": services.member_invitations_sweep()}


@shared_task(
    name="imports.member_imports_confirming_sweep", ignore_result=True, soft_time_limit=60, time_limit=90
)
def member_imports_confirming_sweep_task() -> int:
    """Hand again to a worker the imports confirming that no worker has (beat: each minute)."""
    return services.member_imports_confirming_sweep()


@shared_task(
    name="imports.member_invitations_sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=270,
)
def member_invitations_sweep_task() -> int:
    """Invite the imported members still owed an invitation that no live worker has claimed
    (beat: every MEMBER_IMPORT_SWEEP_SECONDS). Running it twice sends each invitation once."""
    return services.member_invitations_sweep()
