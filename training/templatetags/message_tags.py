"""Names on message pages and emails: a member's name, never their email address (which
User.__str__ falls back to when no name is given)."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def name_or(user, fallback: str) -> str:
    """The member's full name; `fallback` ("A trainer") when there is none or no member."""
    if user is None:
        return fallback
    if user.erased_at is not None:
        return gettext("Erased member")
    return user.get_full_name() or fallback
