"""Forms of the certification pages. The rules live in the services; these check the input."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from certification.models import Visibility
from certification.services.certificates import PUBLIC_REASON_MAX, REASON_MAX
from members.models import Constituency, Region
from members.selectors import region_list
from members.widgets import ConstituencySelect
from training.models import Programme


def _helper(label: str, css_class: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # the templates write the form tag (with the action's hidden field)
    helper.add_input(Submit("submit", label, css_class=css_class))
    return helper


class ManualIssueForm(forms.Form):
    reason = forms.CharField(
        label=_("Evidence that the rule is met"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Kept in the certificate's audit trail, with your name."),
        error_messages={"required": _("Say what evidence shows the rule is met.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Issue the certificate"))


class RevokeForm(forms.Form):
    public_reason = forms.CharField(
        label=_("Reason shown publicly"),
        max_length=PUBLIC_REASON_MAX,
        help_text=_("Anyone who checks the certificate sees this. Keep it short and neutral."),
        error_messages={"required": _("Give a short, neutral reason; it is shown publicly.")},
    )
    note = forms.CharField(
        label=_("Note for staff (optional)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail only."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Revoke the certificate"), "btn-danger")


class ReviewCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why the certificate stands"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the certificate stands.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Keep the certificate"), "btn-outline-primary")


class CertificateSearchForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False, max_length=100)

    def query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class StrictCheckboxInput(forms.CheckboxInput):
    """Ticked only by the values a checkbox sends: any other value reads as not ticked,
    where Django's CheckboxInput would read it as ticked."""

    def value_from_datadict(self, data, files, name) -> bool:
        return data.get(name) in {"on", "true", "1"}


class RegistryFilterForm(forms.Form):
    """The registry's filters; only these keys are read, and bad values are ignored."""

    name = forms.CharField(label=_("Name"), required=False, max_length=100)
    region = forms.ModelChoiceField(label=_("Region or nation"), queryset=None, required=False)
    constituency = forms.ModelChoiceField(
        label=_("Constituency"),
        queryset=None,
        required=False,
        widget=ConstituencySelect(empty_label=_("Any")),
    )
    target_seats = forms.BooleanField(
        label=_("Target seats only"), required=False, widget=StrictCheckboxInput
    )
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.order_by("name")
        self.fields["constituency"].queryset = Constituency.objects.order_by("name")
        self.fields["programme"].queryset = Programme.objects.order_by("title")

    # The selects' options, one query each (a template loop over a field's choices counts
    # them first).
    @cached_property
    def region_choices(self) -> list[tuple[int, str]]:
        return [(region.pk, region.name) for region in region_list()]

    @cached_property
    def programme_choices(self) -> list[tuple[int, str]]:
        return list(self.fields["programme"].queryset.values_list("pk", "title"))

    def constituency_select(self) -> str:
        """The constituency <select>: the site's one chooser, grouped by region and narrowed
        to the region chosen (members.widgets.ConstituencySelect; its script is the media)."""
        return self.fields["constituency"].widget.render(
            "constituency",
            self["constituency"].value(),
            attrs={"class": "form-select", "id": "id_constituency"},
        )

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        region, programme, seat = data.get("region"), data.get("programme"), data.get("constituency")
        return {
            "name": data.get("name", "") if "name" not in self.errors else "",
            "region_id": region.pk if region else None,
            "constituency_id": seat.pk if seat else None,
            "target_seats": bool(data.get("target_seats")),
            "programme_id": programme.pk if programme else None,
        }


class RegistryEntryForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Who can see your entry"),
        widget=forms.RadioSelect,
        help_text=_(
            "Staff only is the default. You can go back to it at any time. “Members taking part” "
            "means members who have agreed to our consent text and hold or seek a place on a "
            "course, or are Future Leaders themselves, and trainers and staff: not everyone who "
            "has made an account, since anyone can."
        ),
    )
    bio = forms.CharField(
        label=_("A short bio (optional)"),
        required=False,
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you organise on, in a sentence or two. Up to 600 characters."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = Visibility.choices
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        # Each form on the registry page has its own button id (crispy makes it from the name).
        self.helper.add_input(Submit("save-visibility", _("Save")))


class LocalActionForm(forms.Form):
    issue = forms.CharField(label=_("The issue"), max_length=200)
    organised_with = forms.CharField(label=_("Who you organised with"), max_length=300)
    what_happened = forms.CharField(
        label=_("What you did"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.CharField(
        label=_("The outcome (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    started_on = forms.DateField(
        label=_("Started"), widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    ended_on = forms.DateField(
        label=_("Ended (optional)"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, form_action: str = "", submit_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_action = form_action or "certification:registry-action-create"
        self.helper.add_input(Submit("save-action", submit_label or _("Add the action")))
