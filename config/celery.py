"""The Celery app. Its settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery, Task
from celery.signals import celeryd_init, task_postrun, task_prerun

from config.request_id import task_id_var

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


# Each task's id in its log lines and error reports (config.logging, config.sentry). The token
# of each run is kept by task id: a task run inline from another (eager mode) restores the
# outer task's id when it ends.
_task_id_tokens = {}


@task_prerun.connect
def task_id_into_logs(task_id=None, **kwargs):
    _task_id_tokens[task_id] = task_id_var.set(task_id or "-")


@task_postrun.connect
def task_id_out_of_logs(task_id=None, **kwargs):
    token = _task_id_tokens.pop(task_id, None)
    if token is not None:
        task_id_var.reset(token)
