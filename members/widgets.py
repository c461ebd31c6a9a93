"""The constituency chooser every form uses: one list, grouped by region, narrowed by region."""

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from members.models import Constituency
from members.selectors import constituency_groups


class ConstituencySelect(forms.Select):
    """A <select> of constituencies with an <optgroup> per region.

    Without script it is the whole grouped list. static/js/constituency-narrowing.js (loaded
    through the form's media) narrows it to the region chosen in the same form's field named
    by `data-region-field`, and picks the region when a constituency is chosen first.
    Written in Python rather than a template per option: 650 options through Django's
    option template cost a page more than the rest of it.
    """

    class Media:
        js = ["js/constituency-narrowing.js"]

    def __init__(self, attrs=None, *, empty_label="", region_field: str | None = "region"):
        super().__init__(attrs)
        self.empty_label = empty_label
        self.region_field = region_field

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.region_field:  # None: a form whose region field means something else
            final_attrs["data-region-field"] = self.region_field
        parts = [format_html('<select name="{}"{}>', name, flatatt(final_attrs))]
        parts.append(_option("", self.empty_label, chosen))
        for region_pk, region_name, seats in constituency_groups():
            parts.append(format_html('<optgroup label="{}" data-region="{}">', region_name, region_pk))
            parts.extend(_option(str(pk), seat, chosen) for pk, seat in seats)
            parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part is escaped


def _option(value: str, label, chosen: set[str]) -> str:
    selected = " selected" if value in chosen else ""
    return f'<option value="{escape(value)}"{selected}>{escape(str(label))}</option>'


def constituency_field(
    *, label=None, empty_label=None, required=False, help_text=""
) -> forms.ModelChoiceField:
    """A constituency field with the ConstituencySelect widget and a plain message for an
    unknown value; the form checks that the constituency is in the region chosen."""
    return forms.ModelChoiceField(
        label=label or _("Constituency"),
        queryset=Constituency.objects.select_related("region"),
        required=required,
        help_text=help_text,
        widget=ConstituencySelect(empty_label=empty_label or _("Choose a constituency")),
        error_messages={"invalid_choice": _("Choose a constituency from the list.")},
    )
