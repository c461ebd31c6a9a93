"""Widgets for long lists of choices."""

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A <select> written in Python rather than with a template per option.

    Django renders each option through its own template, tens of microseconds apiece: the
    650 constituencies cost a filter form more than the rest of its page. The HTML is the
    same as Django's (options, groups, `selected`), for single choices.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        final_attrs = self.build_attrs(self.attrs, attrs)
        parts = [format_html('<select name="{}"{}>', name, flatatt(final_attrs))]
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):
                parts.append(format_html('<optgroup label="{}">', option_value))
                parts.extend(self._option(inner, label, chosen) for inner, label in option_label)
                parts.append("</optgroup>")
            else:
                parts.append(self._option(option_value, option_label, chosen))
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above

    @staticmethod
    def _option(value, label, chosen: set[str]) -> str:
        # html.escape, as Django's escape() uses, without the wrapper that costs more than it.
        text = "" if value is None else str(value)
        selected = " selected" if text in chosen else ""
        return f'<option value="{escape(text)}"{selected}>{escape(str(label))}</option>'
