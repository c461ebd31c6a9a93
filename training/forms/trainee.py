"""Forms for the trainee's pages: applying, withdrawing, apologies, check-in (the finder's
filters are training.forms.finder).

The forms check what the browser sent; the rules (windows, places, who is enrolled) live in
training.services, whose ValidationErrors the views show on these forms.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

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
