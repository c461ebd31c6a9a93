"""Emails written from three templates: `<template>_subject.txt`, `_body.txt`, `_body.html`."""

import html

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated_email(
    template: str, context: dict, *, to: list[str], connection, headers: dict | None = None
) -> EmailMultiAlternatives:
    """A message with a text part and an HTML alternative; its subject on one line, with the
    site's prefix."""
    # The subject is plain text: undo the template's HTML escaping ("Q&amp;A" -> "Q&A").
    subject = html.unescape(" ".join(render_to_string(f"{template}_subject.txt", context).split()))
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=render_to_string(f"{template}_body.txt", context),
        to=to,
        headers=headers or {},
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"{template}_body.html", context), "text/html")
    return message
