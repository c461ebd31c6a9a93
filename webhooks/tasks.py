"""Celery tasks of webhooks: thin, they take ids and call the services.

Retries are not Celery retries parked in the broker with an ETA: a failed delivery gets its
next time in the outbox row, and the sweep (beat, every minute) hands out what is due.
"""

from celery import shared_task

from webhooks.services import (
    deliveries_due_ids,
    deliveries_enqueue,
    deliveries_purge,
    delivery_send,
    endpoint_paused_notify,
    endpoints_paused_notify_sweep,
)


# ignore_result: the outbox row is the record; and delay() must not wait on a result store.
@shared_task(
    name="webhooks.delivery_send",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=45,
    time_limit=60,
)
def delivery_send_task(delivery_id: int) -> str:
    """Send one delivery. Running it twice sends once."""
    return delivery_send(delivery_id=delivery_id).result


@shared_task(name="webhooks.deliveries_sweep", acks_late=True, reject_on_worker_lost=True)
def deliveries_sweep() -> dict:
    """Hand out every delivery now due (first tries the broker missed, and retries), and
    drop finished ones past their retention."""
    ids = deliveries_due_ids()
    handed = deliveries_enqueue(ids)
    return {
        "due": len(ids),
        "enqueued": handed,
        "purged": deliveries_purge(),
        "pauses_told": endpoints_paused_notify_sweep(),
    }


@shared_task(
    name="webhooks.endpoint_paused_notify",
    autoretry_for=(OSError,),  # the mail server, for a while
    retry_backoff=60,
    max_retries=5,
)
def endpoint_paused_notify_task(endpoint_id: int) -> int:
    """Tell the staff who manage webhooks that an endpoint was paused after failing."""
    return endpoint_paused_notify(endpoint_id=endpoint_id)
