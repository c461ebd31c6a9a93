"""The floor view: the same middleware and base template as every page, and nothing else.

A page's time is read against this one, measured in the same run, so the ratio says what the
page itself costs beyond what every request pays (sessions, MFA gate, CSP, the menu).
"""

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
