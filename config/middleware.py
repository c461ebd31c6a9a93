"""Input refused at the edge, before any view or query sees it."""

import re

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.middleware.gzip import GZipMiddleware

# NUL and the other C0 controls (and DEL) never belong in a URL path: PostgreSQL refuses NUL in
# any text, so one reaching a query is a 500 (/calendar/feed/%00.ics was).
PATH_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
# In query-string values, tab and line breaks are let through (a search box may carry them);
# the other controls are not text anyone types.
QUERY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ControlCharacterInURL(SuspiciousOperation):
    """A path or a query-string name or value held a control character (NUL, say)."""


def control_characters_found(request) -> bool:
    if PATH_CONTROLS.search(request.path):
        return True
    return any(
        QUERY_CONTROLS.search(key) or any(QUERY_CONTROLS.search(value) for value in values)
        for key, values in request.GET.lists()
    )


class RejectControlCharactersMiddleware:
    """A 400 for a path or query string (decoded) holding a control character: the site's 400
    page (handler400, raised as a SuspiciousOperation, which Django also logs under
    django.security), or the API's JSON error shape under /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if control_characters_found(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"detail": "The address holds a control character (NUL, say).", "errors": {}}, status=400
                )
            raise ControlCharacterInURL("A control character in the URL's path or query string.")
        return self.get_response(request)


# Responses worth compressing: text. PDFs, ZIPs, images and XLSX are compressed already (or
# nearly), so gzip would spend CPU for nothing; and file downloads stay byte ranges of the file.
COMPRESSIBLE_TYPES = re.compile(
    r"\A(?:text/|application/(?:json|ld\+json|javascript|xml|xhtml\+xml|problem\+json|openmetrics-text))"
)


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH mitigation: random bytes in each gzip header,
    besides the CSRF token Django masks anew in every response) for text responses only.

    In MIDDLEWARE after WhiteNoise (which serves static files already compressed) and before
    every middleware that could read or change the body."""

    def process_response(self, request, response):
        if not COMPRESSIBLE_TYPES.match(response.get("Content-Type", "")):
            return response
        return super().process_response(request, response)
