from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiResource, TokenAccess

EXPIRY_CHOICES = [(7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (365, _("1 year"))]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. 'Membership sync'.")
    )
    access = forms.ChoiceField(
        label=_("Access"), choices=TokenAccess.choices, initial=TokenAccess.READ, widget=forms.RadioSelect
    )
    resources = forms.MultipleChoiceField(
        label=_("Resources"), choices=ApiResource.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"), choices=EXPIRY_CHOICES, coerce=int, initial=90
    )
