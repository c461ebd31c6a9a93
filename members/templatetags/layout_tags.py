"""What the site's layout needs on every page: which section of the menu the page is in, and
machine-readable times."""

import datetime
import functools

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# The menu's sections, by the start of their pages' paths: the longest match wins. A page
# reached from a section (a module from My training, a session's register from a cohort)
# lives under that section's paths or is listed here.
NAV_SECTIONS: dict[str, str] = {
    "/manage/dashboard/": "dashboard",
    "/manage/targets/": "dashboard",
    "/my-training/": "my-training",
    "/modules/": "my-training",
    "/assignments/": "my-training",
    "/submissions/": "my-training",
    "/sessions/": "my-training",
    "/calendar/": "my-training",
    "/messages/": "my-training",
    "/cohorts/": "find-a-cohort",
    "/check-in/": "check-in",
    "/certificates/": "my-certificates",
    "/manage/cohorts/": "cohorts",
    "/manage/sessions/": "cohorts",
    "/manage/enrolments/": "cohorts",
    "/manage/messages/": "cohorts",
    "/manage/message-threads/": "cohorts",
    "/manage/marking/": "marking",
    "/manage/submissions/": "marking",
    "/manage/programmes/": "programmes",
    "/manage/versions/": "programmes",
    "/manage/modules/": "programmes",
    "/manage/materials/": "programmes",
    "/manage/assignments/": "programmes",
    "/manage/criteria/": "programmes",
    "/manage/moderation/": "moderation",
    "/manage/second-marking/": "moderation",
    "/manage/certificates/": "certificates",
    "/registry/": "registry",
    "/staff/": "staff",
    "/manage/notices/": "staff",
    "/manage/audit/": "staff",
    "/manage/imports/": "staff",
    "/manage/api-tokens/": "staff",
    "/manage/webhooks/": "staff",
    "/manage/members/": "staff",
    "/manage/staff/": "staff",
    "/profile/": "account",
    "/welcome/": "account",
    "/account/": "account",
    "/accounts/": "account",
    "/accounts/login/": "sign-in",
    "/accounts/signup/": "sign-up",
    "/admin/": "admin",
}
_BY_LENGTH = sorted(NAV_SECTIONS.items(), key=lambda item: len(item[0]), reverse=True)


def nav_section(path: str) -> str | None:
    """The menu section a page at `path` belongs to, if any."""
    return next((section for prefix, section in _BY_LENGTH if path.startswith(prefix)), None)


@register.simple_tag(takes_context=True)
def nav_current(context, section: str, value: str = "page"):
    """` aria-current="page"` on the menu link of the section the page is in (site.css shows
    it); a menu's toggle button takes `value="true"`: the page is one of the menu's. The main
    menu's partial is given its section (main_menu); other templates read the request."""
    if "nav_section_current" in context:
        current = context["nav_section_current"]
    else:
        request = context.get("request")
        current = nav_section(request.path) if request is not None else None
    if current != section:
        return ""
    return format_html(' aria-current="{}"', value)


# The permissions the main menu has links for (templates/nav/main_menu.html).
MENU_PERMISSIONS = (
    "certification.view_dashboard",
    "training.view_notices",
    "audit.view_auditentry",
    "imports.add_memberimport",
    "api.add_apitoken",
    "webhooks.add_endpoint",
)


@register.simple_tag(takes_context=True)
def main_menu(context, in_registry=False):
    """The menu bar's main links for this viewer on this page.

    They follow from a handful of inputs only (the language, the section, the roles, the
    menu's permissions, two flags), so each process renders each combination once and keeps
    it: a few dozen at most, and about twenty URL reversals and translations a page fewer.
    `in_registry`: the session's flag (certification.navigation), given by base.html."""
    request = context.get("request")
    user = context.get("user")
    signed_in = user is not None and user.is_authenticated
    return _main_menu_render(
        language=get_language(),
        script_prefix=get_script_prefix(),
        section=nav_section(request.path) if request is not None else None,
        signed_in=signed_in,
        roles=tuple(context.get("user_roles") or ()),
        perms=tuple(perm for perm in MENU_PERMISSIONS if signed_in and user.has_perm(perm)),
        staff=signed_in and user.is_staff,
        in_registry=signed_in and bool(in_registry),
        debug=settings.DEBUG,
    )


@functools.lru_cache(maxsize=256)
def _main_menu_render(*, section, debug, **menu) -> str:
    html = render_to_string("nav/main_menu.html", {"menu": menu, "nav_section_current": section})
    if debug:  # an edited template shows at once under runserver
        _main_menu_render.cache_clear()
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


@register.filter
def html_datetime(value) -> str:
    """A date or time as HTML's `<time datetime>` takes it: local time with its offset, to the
    second (Python's isoformat gives microseconds, which HTML allows at most three digits of)."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return ""
