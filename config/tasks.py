from celery import shared_task


@shared_task(name="config.ping")
def ping() -> str:
    """Answers "pong": proves a worker is consuming from the broker.

    `celery -A config call config.ping` from an operator's shell does the same.
    """
    return "pong"
