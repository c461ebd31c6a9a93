"""allauth's forms with their labels in the site's voice (sentence case), set in
ACCOUNT_FORMS, the documented way to replace one of allauth's forms. Nothing else changes:
the fields, their checks and their names are allauth's."""

from allauth.account.forms import ChangePasswordForm, LoginForm, ResetPasswordKeyForm
from django.utils.translation import gettext_lazy as _


def _relabel(form, labels: dict) -> None:
    """A password field shows its label as its placeholder too (allauth's PasswordField)."""
    for name, label in labels.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.label = label
        if "placeholder" in field.widget.attrs:
            field.widget.attrs["placeholder"] = label


class MemberLoginForm(LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, {"remember": _("Remember me")})


class MemberChangePasswordForm(ChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(
            self,
            {
                "oldpassword": _("Current password"),
                "password1": _("New password"),
                "password2": _("New password (again)"),
            },
        )


class MemberResetPasswordKeyForm(ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, {"password1": _("New password"), "password2": _("New password (again)")})
