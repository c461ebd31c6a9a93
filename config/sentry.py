"""Errors reported to Sentry (or any server speaking its protocol) when SENTRY_DSN is set,
from web processes and Celery workers alike, with members' data left out
(docs/decisions/0026-observability.md).

What an event carries: the exception (type, message with email addresses blanked, stack
without local variables), the release and environment, the request's method and route, the
tags request_id and task_id, and the member as a pseudonym (config.request_id). What it never
carries: names, emails, submission text, cookies, headers beyond a few harmless ones, request
bodies, query strings, local variables, client addresses.
"""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

from config.logging import without_email_addresses
from config.request_id import NONE, member_var, request_id_var, task_id_var

# Keys the SDK's own scrubber blanks wherever they appear (recursively), on top of its
# defaults (passwords, tokens, cookies, sessions): the member's data by the names it has here.
PERSONAL_KEYS = [
    "email",
    "emails",
    "name",
    "first_name",
    "last_name",
    "full_name",
    "display_name",
    "certificate_name",
    "phone",
    "postcode",
    "address",
    "text",
    "body",
    "content",
    "feedback",
    "comment",
    "message",
    "answer",
]
# The only request headers worth keeping: none identifies anyone.
REQUEST_HEADERS_KEPT = {"Content-Type", "Content-Length", "Accept"}


def _scrub_request(request: dict) -> dict:
    headers = request.get("headers") or {}
    return {
        "method": request.get("method"),
        "headers": {name: value for name, value in headers.items() if name in REQUEST_HEADERS_KEPT},
    }


def _blank_emails_in(event: dict) -> None:
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = without_email_addresses(exception["value"])
    logentry = event.get("logentry") or {}
    for key in ("message", "formatted"):
        if isinstance(logentry.get(key), str):
            logentry[key] = without_email_addresses(logentry[key])
    if "params" in logentry:
        logentry["params"] = []
    if isinstance(event.get("message"), str):
        event["message"] = without_email_addresses(event["message"])
    breadcrumbs = event.get("breadcrumbs") or {}
    for crumb in breadcrumbs.get("values", []) if isinstance(breadcrumbs, dict) else []:
        if isinstance(crumb.get("message"), str):
            crumb["message"] = without_email_addresses(crumb["message"])


def event_scrub(event: dict, hint: dict | None = None) -> dict:
    """before_send (and before_send_transaction): what leaves this process. Also tags the
    event with the request and task ids (captured where the error happened, so the context
    variables are still those of the failing request or task)."""
    if "request" in event:
        event["request"] = _scrub_request(event["request"])
    member = member_var.get()
    event["user"] = {"id": member} if member != NONE else {}
    tags = event.setdefault("tags", {})
    for tag, value in (("request_id", request_id_var.get()), ("task_id", task_id_var.get())):
        if value != NONE:
            tags[tag] = value
    _blank_emails_in(event)
    return event


def sentry_init(*, dsn: str, release: str | None, environment: str, traces_sample_rate: float = 0.0) -> None:
    """Start the SDK (settings call it when SENTRY_DSN is set; tests with their own DSN)."""
    sentry_sdk.init(
        dsn=dsn,
        release=release or None,  # None: the SDK's own guess (SENTRY_RELEASE, then git)
        environment=environment,
        integrations=[DjangoIntegration(transaction_style="url"), CeleryIntegration()],
        # No personal data by default: send_default_pii is left unset, which is off. Setting it
        # at all is deprecated for data_collection, which opts into collecting most categories.
        # Local variables of a failing frame hold members' rows and submissions.
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(
            denylist=DEFAULT_DENYLIST + PERSONAL_KEYS,
            pii_denylist=DEFAULT_PII_DENYLIST,
            recursive=True,
        ),
        before_send=event_scrub,
        before_send_transaction=event_scrub,
        traces_sample_rate=traces_sample_rate,
    )
