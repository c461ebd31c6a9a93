"""allauth's security-key forms with their JSON field read within a size and a depth.

allauth posts the browser's WebAuthn answer as JSON in a hidden field (Django's JSONField),
which reads it with json.loads and catches only JSONDecodeError: 5,000 levels of brackets
there were a RecursionError, a 500 (on adding a key, re-authenticating, and at the sign-in's
second step, which anyone with the password reaches). Registered in MFA_FORMS (settings).
"""

from allauth.mfa.webauthn import forms as webauthn_forms
from django import forms
from django.core.exceptions import ValidationError

from config.json_bounded import json_loads_bounded

# A security key's answer is a few kB, four levels deep.
CREDENTIAL_MAX_BYTES = 64 * 1024
CREDENTIAL_MAX_DEPTH = 16


class BoundedJSONField(forms.JSONField):
    def _loads(self, value):
        return json_loads_bounded(
            value, max_bytes=CREDENTIAL_MAX_BYTES, max_depth=CREDENTIAL_MAX_DEPTH, cls=self.decoder
        )

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, (str, bytes)):
            return super().to_python(value)
        try:
            converted = self._loads(value)
        except ValueError as error:  # too large, too deep, or not JSON
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": ""}
            ) from error
        return forms.fields.JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data, initial):
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return self._loads(data)
        except ValueError:
            return forms.fields.InvalidJSONInput("")


def _credential() -> BoundedJSONField:
    return BoundedJSONField(required=True, widget=forms.HiddenInput)


class AddWebAuthnForm(webauthn_forms.AddWebAuthnForm):
    credential = _credential()


class SignupWebAuthnForm(webauthn_forms.SignupWebAuthnForm):
    credential = _credential()


class AuthenticateWebAuthnForm(webauthn_forms.AuthenticateWebAuthnForm):
    credential = _credential()


class LoginWebAuthnForm(webauthn_forms.LoginWebAuthnForm):
    credential = _credential()


class ReauthenticateWebAuthnForm(webauthn_forms.ReauthenticateWebAuthnForm):
    credential = _credential()
