"""Forms of the dashboard and targets pages: targets, and the allow-listed parameters of the
lists behind the figures. The rules live in the services; these check the input.

The dashboard's forms take the viewer (`Form(data, viewer=...)`, a DashboardViewer) and, once
the input is well formed (else 400), resolve what it asks for with the access functions of
certification.permissions: what the viewer may not see is a 404, as if it did not exist.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from certification import permissions
from certification.models import Target, TargetScope
from certification.services.targets import TARGET_LEADERS_MAX
from config.forms import PlainLimitsMixin
from members.models import Constituency, Region
from members.widgets import ConstituencySelect
from reporting.forecast import STAGES
from reporting.selectors.dashboard import NOWHERE, Scope
from reporting.selectors.dashboard_cohorts import RISK_REASONS
from reporting.selectors.dashboard_lists import COHORT_FIGURES, PEOPLE_FIGURES
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


class ViewerFormMixin:
    """A form that resolves its input for a dashboard viewer (whose region they see)."""

    def __init__(self, data=None, *, viewer: permissions.DashboardViewer, **kwargs):
        self.viewer = viewer
        super().__init__(data, **kwargs)


class FigureForm(ViewerFormMixin, forms.Form):
    """The parameters of a list behind a figure. Anything else in the query string is ignored;
    a malformed value makes the form invalid (the page answers 400).

    Once valid, cleaned_data holds the objects asked for (`target`, `region`, `constituency`,
    `programme`), `ends_by` (the period) and `scope` (the people the figure counts)."""

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
        if not self.errors:
            self._resolve(data)
        return data

    def _resolve(self, data: dict) -> None:
        viewer = self.viewer
        nowhere = data.get("region") == "none"  # people with no place recorded
        target = (
            permissions.dashboard_target_get(viewer=viewer, pk=data["target"]) if data.get("target") else None
        )
        if nowhere and not viewer.is_national:
            raise Http404("Not found.")
        region = (
            None if nowhere else permissions.dashboard_region_get(viewer=viewer, value=data.get("region"))
        )
        constituency, constituency_id = None, None
        if data.get("constituency") == "none":
            constituency_id = NOWHERE
        elif data.get("constituency"):
            constituency = permissions.dashboard_constituency_get(
                viewer=viewer, pk=int(data["constituency"]), region=region
            )
            constituency_id = constituency.pk
        programme = None
        if data.get("programme"):
            # Programmes are public; one that does not exist is not found, as a place would be.
            programme = Programme.objects.filter(pk=data["programme"]).first()
            if programme is None:
                raise Http404("Not found.")
        # The period: cohorts ending by ?by=, or for a target's pipeline, by its deadline.
        ends_by = data.get("by")
        if ends_by is None and target is not None and data["figure"] == "training":
            ends_by = target.deadline
        if target is not None:
            scope = Scope.of_target(target)
        else:
            scope = Scope(
                region_id=NOWHERE if nowhere else (region.pk if region else None),
                constituency_id=constituency_id,
                target_seats=bool(data.get("seats")),
                programme_id=programme.pk if programme else None,
            )
        data.update(
            nowhere=nowhere,
            target=target,
            region=region,
            constituency=constituency,
            constituency_id=constituency_id,
            programme=programme,
            ends_by=ends_by,
            scope=scope,
        )


class TableQueryForm(ViewerFormMixin, forms.Form):
    """Sorting and filters of the dashboard (`table` None) or one of its tables (its slug);
    unknown keys are ignored. Once valid, cleaned_data holds the `target` (dashboard and
    leaders by month) and the `region` (places: the viewer's by default), else None."""

    sort = forms.RegexField(regex=r"^-?[a-z_]{1,40}$", required=False)
    region = forms.CharField(required=False, validators=[PLACE_VALUE])
    target = forms.IntegerField(required=False, min_value=1)
    seats = forms.BooleanField(required=False)
    gap = forms.BooleanField(required=False)
    reason = forms.ChoiceField(required=False, choices=[("", "")] + [(key, key) for key in RISK_REASONS])

    TARGET_TABLES = {None, "leaders-by-month"}
    REGION_TABLES = {"places"}

    def __init__(self, data=None, *, viewer: permissions.DashboardViewer, table: str | None = None, **kwargs):
        self.table = table
        super().__init__(data, viewer=viewer, **kwargs)

    def clean(self):
        data = super().clean()
        if not self.errors:
            data["region"] = self._region(data.get("region")) if self.table in self.REGION_TABLES else None
            data["target"] = self._target(data.get("target")) if self.table in self.TARGET_TABLES else None
        return data

    def _region(self, value: str | None) -> Region | None:
        if value == "none":  # the places table lists places, not people without one
            raise Http404("Not found.")
        return permissions.dashboard_region_get(viewer=self.viewer, value=value) or self.viewer.region

    def _target(self, pk: int | None) -> Target | None:
        return permissions.dashboard_target_get(viewer=self.viewer, pk=pk) if pk else None
