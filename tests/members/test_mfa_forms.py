"""The security-key forms read the browser's JSON within a size and a depth: deep nesting is
a form error, never a RecursionError (a 500)."""

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.webauthn import forms as allauth_forms
from django.utils.module_loading import import_string

from members.mfa_forms import AuthenticateWebAuthnForm, BoundedJSONField, ReauthenticateWebAuthnForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


def test_every_security_key_form_allauth_uses_reads_json_within_bounds():
    forms = mfa_settings.FORMS
    for name in (
        "add_webauthn",
        "signup_webauthn",
        "authenticate_webauthn",
        "login_webauthn",
        "reauthenticate_webauthn",
    ):
        assert isinstance(import_string(forms[name]).base_fields["credential"], BoundedJSONField), name


def test_allauths_own_form_fails_on_deep_json():
    """Why the override: Django's JSONField catches only JSONDecodeError."""
    form = allauth_forms.AuthenticateWebAuthnForm(user=UserFactory(), data={"credential": DEEP})
    with pytest.raises(RecursionError):
        form.is_valid()


@pytest.mark.parametrize("form_class", [AuthenticateWebAuthnForm, ReauthenticateWebAuthnForm])
@pytest.mark.parametrize("credential", [DEEP, '{"a":' * 3000, "x" * 70_000, "{not json"])
def test_deep_large_or_broken_json_is_a_form_error_and_the_form_still_renders(form_class, credential):
    form = form_class(user=UserFactory(), data={"credential": credential})
    assert not form.is_valid()
    assert "credential" in form.errors
    assert "<input" in str(form)  # rendering reads the value again (bound_data)
