"""The 500 page, with the request's id so that a member can quote it
(docs/decisions/0026-observability.md)."""

from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from config.request_id import request_id_get


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """Django's own server_error, plus the request id. Like Django's, it renders with a
    plain context (no context processors): whatever failed must not fail the error page."""
    template = loader.get_template(template_name)
    context = {
        "request_id": request_id_get(),
        # Only say someone knows when errors are reported somewhere (Sentry, or email).
        "reported": bool(settings.SENTRY_DSN or settings.ADMINS),
        "support_email": settings.SUPPORT_EMAIL,
    }
    return HttpResponseServerError(template.render(context))
