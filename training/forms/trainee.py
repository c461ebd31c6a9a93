"""Forms for the trainee's pages: finding a cohort, applying, withdrawing, apologies, check-in.

The forms check what the browser sent; the rules (windows, places, who is enrolled) live in
training.services, whose ValidationErrors the views show on these forms.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Constituency, Region
from members.selectors import constituency_list_by_region
from training.forms.widgets import QuickSelect
from training.models import SessionMode

# A browser's date picker sends and shows ISO dates, whatever the language.
DATE_PICKER = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _helper(submit_label: str, *, button_class: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    # The server's messages are clearer than the browser's, and the same everywhere.
    helper.attrs = {"novalidate": ""}
    submit = Submit("submit", submit_label)
    submit.field_classes = f"btn {button_class}"  # in place of Submit's own btn-primary
    helper.add_input(submit)
    return helper


class CohortFindForm(forms.Form):
    """The finder's filters. Only these keys are ever read from the query string."""

    FILTER_KEYS = ("region", "constituency", "starts_from", "mode")

    region = forms.ModelChoiceField(
        label=_("Region or nation"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Any region"),
        required=False,
        widget=QuickSelect,
    )
    constituency = forms.ModelChoiceField(
        label=_("Constituency"),
        queryset=Constituency.objects.all(),
        required=False,
        widget=QuickSelect,
        help_text=_("Also shows cohorts open to the whole of its region."),
    )
    starts_from = forms.DateField(label=_("Starting from"), required=False, widget=DATE_PICKER)
    mode = forms.ChoiceField(
        label=_("How it meets"),
        choices=[("", _("Online or in person")), *SessionMode.choices],
        required=False,
        help_text=_("Cohorts with at least one session of this kind."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Grouped by region so that a list of hundreds of seats stays usable.
        self.fields["constituency"].widget.choices = [
            ("", _("Any constituency")),
            *constituency_list_by_region(),
        ]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.disable_csrf = True
        self.helper.form_class = "row g-2 align-items-start mb-3"
        self.helper.layout = Layout(
            Div(Field("region"), css_class="col-sm-6 col-lg-3"),
            Div(Field("constituency"), css_class="col-sm-6 col-lg-3"),
            Div(Field("starts_from"), css_class="col-sm-6 col-lg-3"),
            Div(Field("mode"), css_class="col-sm-6 col-lg-3"),
            Div(Submit("find", _("Find cohorts"), css_class="px-4"), css_class="col-12"),
        )

    def filters(self) -> dict:
        """The valid filters chosen; a field with an unknown or malformed value is ignored."""
        self.is_valid()
        data = self.cleaned_data
        region = data.get("region")
        return {
            "region_id": region.pk if region else None,
            "constituency": data.get("constituency"),
            "starts_from": data.get("starts_from"),
            "mode": data.get("mode") or "",
        }


class ApplyForm(forms.Form):
    motivation = forms.CharField(
        label=_("Why you want to take part (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A few sentences about you and your community. Trainers read this."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Apply"))


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Tell your trainer why (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Withdraw"), button_class="btn-danger")


class OfferResponseForm(forms.Form):
    """Accept or decline an offered place: the buttons send accept=yes or accept=no."""

    accept = forms.ChoiceField(label=_("Your answer"), choices=[("yes", _("Accept")), ("no", _("Decline"))])

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["accept"] == "yes"


class ApologyForm(forms.Form):
    note = forms.CharField(
        label=_("Note for your trainer (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send apologies"))


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("Check-in code"),
        max_length=20,
        help_text=_("The code your trainer shows at the session, or scan their QR code."),
        error_messages={"required": _("Enter the check-in code your trainer shows.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )
        self.helper = _helper(_("Check in"))
