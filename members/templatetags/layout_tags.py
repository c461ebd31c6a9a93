"""What the site's layout needs on every page: which section of the menu the page is in, and
machine-readable times."""

import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

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
    it); a menu's toggle button takes `value="true"`: the page is one of the menu's."""
    request = context.get("request")
    if request is None or nav_section(request.path) != section:
        return ""
    return format_html(' aria-current="{}"', value)


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
