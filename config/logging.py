"""Log lines: readable text by default, JSON lines with LOG_FORMAT=json; each names its
request, member (a pseudonym) and Celery task, and none names a person
(docs/decisions/0026-observability.md).

Log messages in this code base carry ids, never names or emails. As a net under that rule,
what looks like an email address is blanked in every message and traceback (an SMTP error
quoting its recipient, a database error quoting a unique value).
"""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from config.request_id import member_var, request_id_var, task_id_var

EMAIL_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
EMAIL_BLANKED = "[email]"
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s "
    "[request=%(request_id)s member=%(member)s task=%(task_id)s] %(message)s"
)
JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "member", "task_id"]


def without_email_addresses(text: str) -> str:
    return EMAIL_ADDRESS.sub(EMAIL_BLANKED, text)


class RequestContextFilter(logging.Filter):
    """Adds request_id, member and task_id to every record (from config.request_id's
    context variables; "-" outside a request or task), and blanks email addresses in the
    message. A handler's filter: it sees every record the handler writes, whatever logger
    made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.member = member_var.get()
        record.task_id = task_id_var.get()
        message = record.getMessage()
        cleaned = without_email_addresses(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class TextFormatter(logging.Formatter):
    """Development: one readable line, tracebacks below it."""

    def __init__(self, fmt=TEXT_FORMAT, **kwargs):
        super().__init__(fmt, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return without_email_addresses(super().formatException(ei))


class JsonLinesFormatter(JsonFormatter):
    """Production (LOG_FORMAT=json): one JSON object a line, for a log collector."""

    def __init__(self, **kwargs):
        kwargs.setdefault("fmt", JSON_FIELDS)
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(**kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return without_email_addresses(super().formatException(ei))


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING setting (dictConfig) of web processes, workers and beat alike."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "config.logging.RequestContextFilter"}},
        "formatters": {
            "text": {"()": "config.logging.TextFormatter"},
            "json": {"()": "config.logging.JsonLinesFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_context"],
            },
            # django-dbbackup's commands set the level of the first stream handler of their
            # logger to the command's --verbosity, or add a plain one of their own: this one is
            # theirs to set, and their lines go out once, in our format.
            "backup_commands": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_context"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # WeasyPrint reports every rendering step at INFO.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            "dbbackup.command": {"handlers": ["backup_commands"], "propagate": False},
        },
    }
