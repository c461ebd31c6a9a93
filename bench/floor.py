"""The floor view, and beneath it the bare signed-in view.

The floor view: the same middleware and base template as every page, and nothing else. A
page's time is read against this one, measured in the same run, so the ratio says what the
page itself costs beyond what every request pays (sessions, the member's kept state, the
gates, CSP, the menu).

The bare signed-in view: Django's session and authentication middleware around a one-line
response, nothing of ours. The site's MIDDLEWARE runs around every URL, so it is not served
by URL: `bare_signed_in` composes the two middleware classes as Django composes middleware
(a middleware is a callable taking `get_response`), and bench/pages.py calls it with a
request carrying the viewer's session cookie. The floor over this one is what the project
adds to every signed-in request.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template import engines
from django.views.generic import View

FLOOR_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Floor{% endblock %}'
    "{% block content %}<h1>Floor</h1>{% endblock %}"
)


class FloorView(View):
    """Open to anyone, as the verification page is: it reads no rows of its own."""

    def get(self, request):
        return HttpResponse(FLOOR_TEMPLATE.render({}, request))


def bare_signed_in_view(request):
    # Reading the user loads it, as every signed-in page does (the session, then the user).
    return HttpResponse(f"Member {request.user.pk}")


bare_signed_in = SessionMiddleware(AuthenticationMiddleware(bare_signed_in_view))
