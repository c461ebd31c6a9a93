"""The Celery app. Its settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery, Task
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("future_leaders")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])


def task_named(name: str) -> Task:
    """The task registered under `name` (the `name=` it was declared with, as beat's schedule
    names it). Services enqueue their app's tasks through this rather than by importing the
    tasks module, because each tasks module imports its services: the import then goes one
    way only (docs/architecture.md, "Imports"). Each app that enqueues imports its tasks
    module in AppConfig.ready(), so the web process knows them as the worker does."""
    return app.tasks[name]


@celeryd_init.connect
def worker_broker_patience(conf=None, **kwargs):
    """A worker (and the sweeps it runs) waits longer for a busy Redis than a web request
    may (settings: a quarter second, one try): two seconds to connect, five to answer, and
    a second try, as before decision 0021."""
    conf.broker_connection_timeout = 2
    conf.broker_transport_options = {
        **(conf.broker_transport_options or {}),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    conf.task_publish_retry_policy = {**(conf.task_publish_retry_policy or {}), "max_retries": 1}
