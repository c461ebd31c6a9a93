"""Forms of the dashboard and targets pages: targets, and the allow-listed parameters of the
lists behind the figures. The rules live in the services; these check the input."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from certification.forecast import STAGES
from certification.models import TargetScope
from certification.selectors.dashboard_cohorts import RISK_REASONS
from certification.selectors.dashboard_lists import COHORT_FIGURES, PEOPLE_FIGURES
from certification.services.targets import TARGET_LEADERS_MAX
from config.forms import PlainLimitsMixin
from members.models import Constituency, Region
from members.widgets import ConstituencySelect
from training.models import Programme

NOTE_MAX = 300
# An id, or "none" for people with no place (or no constituency) recorded.
PLACE_VALUE = RegexValidator(r"^(\d{1,12}|none)$", _("Give a place's number, or none."))


def _date_widget():
    return forms.DateInput({"type": "date"}, format="%Y-%m-%d")


class TargetForm(PlainLimitsMixin, forms.Form):
    scope = forms.ChoiceField(label=_("For"), choices=TargetScope.choices, widget=forms.RadioSelect)
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("name"),
        required=False,
        help_text=_("For a target for a region."),
    )
    constituency = forms.ModelChoiceField(
        label=_("Constituency"),
        queryset=Constituency.objects.order_by("name"),
        required=False,
        help_text=_("For a target for a constituency."),
        # Grouped by region; not narrowed: the region above is another target's, not its.
        widget=ConstituencySelect(empty_label=_("Choose a constituency"), region_field=None),
    )
    programme = forms.ModelChoiceField(
        label=_("Programme (optional)"),
        queryset=Programme.objects.order_by("title"),
        required=False,
        empty_label=_("Any programme"),
        help_text=_("Leave as any programme to count every certified leader."),
    )
    leaders = forms.IntegerField(label=_("Certified leaders"), min_value=1, max_value=TARGET_LEADERS_MAX)
    deadline = forms.DateField(label=_("By"), widget=_date_widget())
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX,
        help_text=_("Where the number comes from. Kept in the target's history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = (
            False  # the template writes the form tag: a second one nested in it was invalid
        )
        self.helper.add_input(Submit("save", _("Set the target")))


class TargetChangeForm(PlainLimitsMixin, forms.Form):
    leaders = forms.IntegerField(label=_("Certified leaders"), min_value=1, max_value=TARGET_LEADERS_MAX)
    deadline = forms.DateField(label=_("By"), widget=_date_widget())
    note = forms.CharField(
        label=_("Why it changes"),
        max_length=NOTE_MAX,
        help_text=_("Kept in the target's history, with your name and the date."),
        error_messages={"required": _("Say why the target changes: the history keeps it.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = (
            False  # the template writes the form tag: a second one nested in it was invalid
        )
        self.helper.add_input(Submit("save", _("Change the target")))


class FigureForm(forms.Form):
    """The parameters of a list behind a figure. Anything else in the query string is ignored;
    a malformed value makes the form invalid (the page answers 400)."""

    figure = forms.ChoiceField(choices=[(key, key) for key in [*PEOPLE_FIGURES, *sorted(COHORT_FIGURES)]])
    region = forms.CharField(required=False, validators=[PLACE_VALUE])
    constituency = forms.CharField(required=False, validators=[PLACE_VALUE])
    seats = forms.ChoiceField(required=False, choices=[("", ""), ("1", "1")])
    programme = forms.IntegerField(required=False, min_value=1)
    target = forms.IntegerField(required=False, min_value=1)
    stage = forms.ChoiceField(required=False, choices=[("", "")] + [(stage, stage) for stage in STAGES])
    by = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    trainer = forms.IntegerField(required=False, min_value=1)
    reason = forms.ChoiceField(required=False, choices=[("", "")] + [(key, key) for key in RISK_REASONS])

    def clean(self):
        data = super().clean()
        figure = data.get("figure")
        if figure in ("trainer_leaders", "trainer_cohorts") and not data.get("trainer"):
            raise forms.ValidationError(_("Say which trainer."))
        if figure == "reached" and not data.get("stage"):
            raise forms.ValidationError(_("Say which stage."))
        return data


class TableQueryForm(forms.Form):
    """Sorting and filters of a table page; unknown keys and values are ignored."""

    sort = forms.RegexField(regex=r"^-?[a-z_]{1,40}$", required=False)
    region = forms.CharField(required=False, validators=[PLACE_VALUE])
    target = forms.IntegerField(required=False, min_value=1)
    seats = forms.BooleanField(required=False)
    gap = forms.BooleanField(required=False)
    reason = forms.ChoiceField(required=False, choices=[("", "")] + [(key, key) for key in RISK_REASONS])
