"""The public cohort finder's filters."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Region
from members.widgets import constituency_field
from training.forms.trainee import DATE_PICKER
from training.selectors.finder import CohortMode


def _region_field(empty_label) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Region or nation"),
        queryset=Region.objects.order_by("name"),
        empty_label=empty_label,
        required=False,
        error_messages={"invalid_choice": _("Choose a region from the list.")},
    )


class CohortFindForm(forms.Form):
    """The finder's filters. Only these keys are ever read from the query string; a value
    that is not one of the choices is shown as an error at its field, and left out."""

    FILTER_KEYS = ("region", "constituency", "starts_from", "starts_to", "mode")

    region = _region_field(_("Any region"))
    constituency = constituency_field(
        empty_label=_("Any constituency"),
        help_text=_("Also shows cohorts open to the whole of its region."),
    )
    starts_from = forms.DateField(
        label=_("Starting from"),
        required=False,
        widget=DATE_PICKER,
        error_messages={"invalid": _("Enter a date such as 2027-03-01.")},
    )
    starts_to = forms.DateField(
        label=_("Starting by"),
        required=False,
        widget=DATE_PICKER,
        error_messages={"invalid": _("Enter a date such as 2027-03-31.")},
    )
    mode = forms.ChoiceField(
        label=_("How it meets"),
        choices=[("", _("Any way")), *CohortMode.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose how the cohort meets from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.disable_csrf = True
        self.helper.form_class = "row g-2 align-items-start mb-3"
        self.helper.layout = Layout(
            Div(Field("region"), css_class="col-sm-6 col-lg-4"),
            Div(Field("constituency"), css_class="col-sm-6 col-lg-4"),
            Div(Field("mode"), css_class="col-sm-6 col-lg-4"),
            Div(Field("starts_from"), css_class="col-sm-6 col-lg-4"),
            Div(Field("starts_to"), css_class="col-sm-6 col-lg-4"),
            Div(Submit("find", _("Find cohorts"), css_class="px-4"), css_class="col-12"),
        )

    def clean(self):
        cleaned = super().clean()
        region, seat = cleaned.get("region"), cleaned.get("constituency")
        if region and seat and seat.region_id != region.pk:
            self.add_error(
                "constituency",
                _("%(seat)s is in %(region)s. Choose a constituency in %(chosen)s, or any region.")
                % {"seat": seat.name, "region": seat.region.name, "chosen": region.name},
            )
        starts_from, starts_to = cleaned.get("starts_from"), cleaned.get("starts_to")
        if starts_from and starts_to and starts_to < starts_from:
            self.add_error("starts_to", _("Choose a date on or after the “Starting from” date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters chosen; a field in error is left out (the page says so)."""
        self.is_valid()
        data = {key: value for key, value in self.cleaned_data.items() if key not in self.errors}
        region = data.get("region")
        return {
            "region_id": region.pk if region else None,
            "constituency": data.get("constituency"),
            "starts_from": data.get("starts_from"),
            "starts_to": data.get("starts_to"),
            "mode": data.get("mode") or "",
        }
