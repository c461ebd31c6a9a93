"""Limits said in plain words, in one place for every form that has them.

Django's own messages for a number or length limit read "Ensure this value is less than or
equal to 20." Forms that mix in PlainLimitsMixin say "Enter at most 20." instead, for each
field with a limit that has no message of its own (a form's own, more particular message wins).
"""

from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

# By the error code Django's limit validators raise (MaxValueValidator and friends).
PLAIN_LIMIT_MESSAGES = {
    "max_value": _("Enter at most %(limit_value)s."),
    "min_value": _("Enter at least %(limit_value)s."),
    "max_length": ngettext_lazy(
        "Use at most %(limit_value)d character (this has %(show_value)d).",
        "Use at most %(limit_value)d characters (this has %(show_value)d).",
        "limit_value",
    ),
    "min_length": ngettext_lazy(
        "Use at least %(limit_value)d character (this has %(show_value)d).",
        "Use at least %(limit_value)d characters (this has %(show_value)d).",
        "limit_value",
    ),
}


def limits_in_plain_words(field: forms.Field) -> None:
    """Give the field the plain message for each limit it has no message for.

    A field swaps a validator's message for its own `error_messages` entry under the same
    code (documented for form fields), so the validators themselves stay as Django made them.
    A number field's limits are written in with thousands separators ("at most 1,000,000").
    """
    for code, message in PLAIN_LIMIT_MESSAGES.items():
        limit = getattr(field, code, None) if code in ("max_value", "min_value") else None
        if isinstance(limit, int | float | Decimal):
            message = message % {"limit_value": number_format(limit, force_grouping=True)}
        field.error_messages.setdefault(code, message)


class PlainLimitsMixin:
    """Mix into a form (before forms.Form) to say its fields' limits in plain words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            limits_in_plain_words(field)
