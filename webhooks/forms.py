from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import SUBSCRIBABLE_EVENTS, DeliveryStatus


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_(
            "An https:// address on the internet, on the standard port (443); deliveries are POSTed to it."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What receives the events, e.g. 'Membership CRM'."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event.value, f"{event.label} ({event.value})") for event in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any")), *DeliveryStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
