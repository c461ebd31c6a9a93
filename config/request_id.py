"""Which request (and which member, and which Celery task) a log line or an error report
belongs to, without naming anyone (docs/decisions/0026-observability.md).

- Every request gets an id: the `X-Request-ID` a proxy in front sent, if it looks like one
  (letters, digits and hyphens, 16 to 64 of them), else a new one. It is kept in a context
  variable while the request runs (config.logging adds it to every log record, config.sentry
  to every error report), returned in the `X-Request-ID` response header, and shown on the
  500 page so that a member can quote it.
- A signed-in member appears only as a pseudonym: an HMAC of their id with a key derived from
  SECRET_KEY. Whoever holds the key (an operator with a shell) can tell which member it is
  (`member_pseudonym(user_id=...)`); the logs alone cannot.
- A Celery task's id is set by config.celery around each task.
"""

import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

REQUEST_ID_HEADER = "X-Request-ID"
# Strict on purpose: the id is written into logs, error reports, a response header and a page,
# so nothing but letters, digits and hyphens (a UUID, a proxy's hex id) is taken from outside.
REQUEST_ID_PATTERN = re.compile(r"\A[A-Za-z0-9-]{16,64}\Z")
# What log lines outside any request or task carry.
NONE = "-"

request_id_var: ContextVar[str] = ContextVar("request_id", default=NONE)
member_var: ContextVar[str] = ContextVar("member", default=NONE)
task_id_var: ContextVar[str] = ContextVar("task_id", default=NONE)


def request_id_from(value: str | None) -> str:
    """The incoming id if it matches the pattern, else a new one (a UUID4)."""
    if value and REQUEST_ID_PATTERN.match(value):
        return value
    return str(uuid.uuid4())


def request_id_get() -> str:
    """The id of the request being served, or "-" outside one."""
    return request_id_var.get()


def member_pseudonym(*, user_id: int) -> str:
    """A stable pseudonym of a member for logs and error reports: 16 hex digits of an HMAC of
    the id (salted_hmac derives its key from SECRET_KEY). Never the email or the name."""
    return salted_hmac("config.request_id.member_pseudonym", str(user_id), algorithm="sha256").hexdigest()[
        :16
    ]


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every response (even a redirect or an error page made
    by a later middleware) carries the id, and every log line of the request names it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Kept until the response is closed (request_context_clear), not only while the
        # middleware runs: Django logs a 4xx response ("Not Found: ...") after every
        # middleware has returned.
        request_id_var.set(request_id)
        member_var.set(NONE)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="config.request_id.request_context_clear")
def request_context_clear(**kwargs):
    """The response is sent: this thread's next log lines belong to no request."""
    request_id_var.set(NONE)
    member_var.set(NONE)


class MemberPseudonymMiddleware:
    """After authentication (and the gates that read request.user anyway, so that it costs
    no query): the signed-in member's pseudonym for the rest of the request's log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            member_var.set(member_pseudonym(user_id=user.pk))
        return self.get_response(request)
