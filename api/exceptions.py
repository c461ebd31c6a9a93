"""Errors as JSON, always with the same shape:

    {"detail": "…", "errors": {"field": ["…"]}}

`errors` names each field that was wrong (or "non_field_errors"); `detail` says in words
what went wrong overall. Django's own Http404, PermissionDenied and ValidationError (from
the permission functions and services the API shares with the pages) come out the same way.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


def _as_drf(exc):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    return exc


def api_exception_handler(exc, context):
    exc = _as_drf(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = ", ".join(sorted(str(key) for key in errors))
        response.data = {"detail": f"Invalid input: {fields}.", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"], "errors": {}}
    return response


def not_found(request, exception=None):
    """The site's 404 (config.urls.handler404): JSON in the API's shape under /api/ (an id the
    URL patterns do not take, such as -1, never reaches a view), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return page_not_found(request, exception)
