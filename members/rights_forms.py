"""Forms of the members' data rights pages: erasing an account, and staff finding a member."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _


def _danger_button(label) -> Submit:
    """A red button: crispy's Submit is always btn-primary, which here is the brand colour."""
    button = Submit("submit", label)
    button.field_classes = "btn btn-danger"
    return button


class AccountEraseForm(forms.Form):
    """The member confirms with their password, so a session left open cannot erase them."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understood = forms.BooleanField(
        label=_("I understand that erasing my account cannot be undone."),
        error_messages={"required": _("Tick the box to confirm that you understand.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(_danger_button(_("Erase my account")))

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


class MemberFindForm(forms.Form):
    email = forms.EmailField(
        label=_("The member's email address"),
        help_text=_("The address they wrote from or signed up with; it must match exactly."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", _("Find")))


class StaffEraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason and reference of the member's request"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example: “Asked by email on 1 December 2026, ref. DSR-123.” Kept in the audit trail."
        ),
    )
    requested_by_member = forms.BooleanField(
        label=_("The member asked for their account to be erased, and I have checked it was them."),
        error_messages={"required": _("Erase an account only when its member asked for it.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(_danger_button(_("Erase this account")))
