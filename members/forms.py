import re
import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from members.models import Region
from members.widgets import constituency_field


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I agree to Future Leaders processing my data as described above."),
        error_messages={
            "required": _("You need to agree before you can use Future Leaders."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The server's messages are clearer than the browser's, and the same everywhere.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", _("I agree and continue")))


# Bidi embeddings, overrides and isolates: in a name they would make it read as something
# else on every page, list and certificate that shows it.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def name_visible_check(value: str) -> None:
    """A name people can read: letters (or digits, marks, signs), no hidden reordering."""
    if BIDI_CONTROLS.search(value):
        raise ValidationError(_("Remove the hidden text-direction characters from the name."))
    # Categories C (control, format: zero-width spaces and the like) and Z (spaces) show nothing.
    if not any(unicodedata.category(char)[0] not in "CZ" for char in value):
        raise ValidationError(_("Enter a name with letters in it."))


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, validators=[name_visible_check])
    last_name = forms.CharField(label=_("Last name"), max_length=150, validators=[name_visible_check])
    region = forms.ModelChoiceField(
        label=_("Region or nation"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Choose your region"),
        error_messages={"invalid_choice": _("Choose a region from the list.")},
    )
    constituency = constituency_field(
        empty_label=_("Choose your constituency"),
        help_text=_("The Westminster constituency you live in, if it is listed."),
    )
    phone = PhoneNumberField(
        label=_("Phone (optional)"),
        required=False,
        help_text=_("A UK number such as 020 7946 0123, or an international one starting with +."),
        error_messages={"invalid": _("Enter a valid phone number, such as 020 7946 0123.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.helper = FormHelper()
        # The server's messages are clearer than the browser's, and the same everywhere.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", _("Save profile")))

    def clean(self):
        cleaned = super().clean()
        region, constituency = cleaned.get("region"), cleaned.get("constituency")
        if region and constituency and constituency.region_id != region.pk:
            self.add_error(
                "constituency",
                _("%(seat)s is in %(region)s. Choose a constituency in your region.")
                % {"seat": constituency.name, "region": constituency.region.name},
            )
        return cleaned


class StaffRegionForm(forms.Form):
    """National staff: the region a regional staff member oversees (their access scope)."""

    region = forms.ModelChoiceField(
        label=_("Region they oversee"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Choose a region"),
        error_messages={"invalid_choice": _("Choose a region from the list.")},
        help_text=_(
            "They see this region's cohorts, enrolments and dashboard. Their own profile's region "
            "is where they live and does not change what they see."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", _("Save the region")))


class RegionChooseForm(forms.Form):
    """The home page's "cohorts near you" for visitors: they say where, by GET; we never
    guess it from their address."""

    region = forms.ModelChoiceField(
        label=_("Your region or nation"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Choose your region"),
        required=False,
        error_messages={"invalid_choice": _("Choose a region from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("show", _("Show cohorts near me")))

    def region_chosen(self) -> Region | None:
        return self.cleaned_data.get("region") if self.is_valid() else None
