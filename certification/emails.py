"""Emails to certificate holders: a plain-text part and an HTML part, from templates."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_send(*, to: str, template: str, context: dict) -> None:
    """Send templates/certification/email/<template>_{subject.txt,body.txt,body.html}."""
    context = {**context, "site_url": settings.SITE_URL}
    base = f"certification/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=render_to_string(f"{base}_body.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{base}_body.html", context), "text/html")
    message.send()
