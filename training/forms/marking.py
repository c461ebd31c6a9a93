"""Forms for marking: the queue's filters and the mark itself.

The forms check what the browser sent; the marking rules (one level per criterion, the
feedback's length, a reason for a correction, someone marking first) live in
training.services.marking, whose ValidationErrors the views show on these forms.
"""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import PlainLimitsMixin
from training.forms.widgets import QuickSelect
from training.models import Assignment, RubricCriterion
from training.services.marking import FEEDBACK_MAX, REASON_MAX, RESUBMIT_DUE_MAX_DAYS


class AssignmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Assignment) -> str:
        version = obj.module.version
        return f"{obj.title} ({version.programme.title} v{version.number})"


class MarkingQueueFilterForm(forms.Form):
    """The queue's filters. Only these keys are ever read from the query string, and only
    the user's own cohorts (and their assignments) can be chosen.

    Staff, who run every cohort in the country, are given `regions` too: they choose a region
    and its cohorts are listed, rather than every cohort with work waiting anywhere.
    """

    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=None,
        empty_label=_("All regions"),
        required=False,
        widget=QuickSelect,
    )
    cohort = forms.ModelChoiceField(
        label=_("Cohort"),
        queryset=None,
        empty_label=_("All your cohorts"),
        required=False,
        widget=QuickSelect,
    )
    assignment = AssignmentChoiceField(
        label=_("Assignment"),
        queryset=None,
        empty_label=_("Any assignment"),
        required=False,
        widget=QuickSelect,
    )

    def __init__(self, *args, cohorts, assignments, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts
        self.fields["assignment"].queryset = assignments
        if regions is None:
            del self.fields["region"]
            fields, width = ["cohort", "assignment"], "col-sm-5 col-lg-4"
        else:
            self.fields["region"].queryset = regions
            # The cohorts are listed once a region is chosen (and the form sent).
            listed = bool(self.data.get("region"))
            self.fields["cohort"].empty_label = (
                _("All cohorts") if listed else _("All cohorts (pick a region)")
            )
            fields, width = ["region", "cohort", "assignment"], "col-sm-4 col-lg-3"
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.layout = Layout(
            *(Div(Field(name), css_class=width) for name in fields),
            Div(Submit("filter", _("Filter"), css_class="w-100 mb-3"), css_class="col-sm-12 col-lg-2"),
        )
        self.helper.disable_csrf = True

    def filters(self) -> dict:
        """The valid filters chosen; a field with an unknown or malformed value is ignored."""
        self.is_valid()
        region = self.cleaned_data.get("region")
        cohort = self.cleaned_data.get("cohort")
        assignment = self.cleaned_data.get("assignment")
        return {
            "region_id": region.pk if region else None,
            "cohort_id": cohort.pk if cohort else None,
            "assignment_id": assignment.pk if assignment else None,
        }

    def query(self) -> dict:
        """The valid filters as query-string parameters, to come back to the same list."""
        filters = self.filters()
        query = {
            "region": filters["region_id"],
            "cohort": filters["cohort_id"],
            "assignment": filters["assignment_id"],
        }
        return {name: value for name, value in query.items() if value}


class MarkForm(forms.Form):
    """One radio group of levels per criterion, the feedback, and for a correction a reason.

    `criteria` come with their levels prefetched, lowest first. A missing or foreign level
    is refused here with the same words the service uses, so every mistake shows at once.
    """

    feedback = forms.CharField(
        label=_("Feedback to the trainee"),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write some feedback for the trainee.")},
    )
    reason = forms.CharField(
        label=_("Why are you changing the mark?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the mark is being changed.")},
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    # Only on forms given `resubmit_due`: it applies when the levels chosen ask for a
    # resubmission, and the marking service checks it then (today at the earliest, at most
    # RESUBMIT_DUE_MAX_DAYS ahead).
    resubmit_due_on = forms.DateField(
        label=_("Resubmission due by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, such as 31/3/2027.")},
    )

    def __init__(
        self,
        *args,
        criteria: list[RubricCriterion],
        is_correction: bool,
        resubmit_due: date | None = None,
        **kwargs,
    ):
        """`resubmit_due`: the resubmission due date offered (services.marking.resubmit_due_default);
        None leaves the field out (no attempt would be left, or the form is a blind second mark)."""
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        self.is_correction = is_correction
        if resubmit_due is None:
            del self.fields["resubmit_due_on"]
        else:
            self.fields["resubmit_due_on"].initial = resubmit_due
            self.fields["resubmit_due_on"].help_text = _(
                "Used when the levels chosen ask for a resubmission: the trainee's next attempt "
                "is due by this day, and they are reminded before it. From today to %(days)s days ahead."
            ) % {"days": RESUBMIT_DUE_MAX_DAYS}
        self.fields["feedback"].help_text = _(
            "What went well and what to work on next. Up to %(max)s characters."
        ) % {"max": f"{FEEDBACK_MAX:,}"}
        if is_correction:
            self.fields["reason"].help_text = _(
                "Kept with the mark in the history. Up to %(max)s characters."
            ) % {"max": f"{REASON_MAX:,}"}
        else:
            del self.fields["reason"]
        for criterion in criteria:
            levels = list(criterion.levels.all())
            self.fields[self.field_name(criterion.pk)] = forms.TypedChoiceField(
                label=criterion.title,
                choices=[(level.pk, level.title) for level in levels],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a level for “%(criterion)s”.") % {"criterion": criterion.title},
                    "invalid_choice": _("Choose one of the levels listed for “%(criterion)s”.")
                    % {"criterion": criterion.title},
                },
            )

    @staticmethod
    def field_name(criterion_id: int) -> str:
        """The same name the marking service gives a criterion's errors."""
        return f"criterion_{criterion_id}"

    @classmethod
    def initial_from(cls, mark) -> dict:
        """The levels and feedback of `mark` (its levels prefetched), to start a correction from."""
        initial = {cls.field_name(chosen.criterion_id): chosen.level_id for chosen in mark.levels.all()}
        initial["feedback"] = mark.feedback
        if mark.resubmit_due_on is not None:
            initial["resubmit_due_on"] = mark.resubmit_due_on
        return initial

    def rubric_entries(self):
        """(criterion, bound field, [(radio, level)]) per criterion, in order, for the template."""
        entries = []
        for criterion in self.criteria:
            field = self[self.field_name(criterion.pk)]
            radios = list(zip(field.subwidgets, criterion.levels.all(), strict=True))
            entries.append((criterion, field, radios))
        return entries

    def levels(self) -> dict[int, int]:
        """{criterion id: level id}, as the marking service takes them."""
        return {
            criterion.pk: self.cleaned_data[self.field_name(criterion.pk)]
            for criterion in self.criteria
            if self.cleaned_data.get(self.field_name(criterion.pk)) is not None
        }


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.get_full_name() or obj.email} ({obj.email})"


class ModerationSampleForm(PlainLimitsMixin, forms.Form):
    """Staff send a random sample of one trainer's marks to a second marker."""

    first_marker = PersonChoiceField(label=_("Trainer whose marks to check"), queryset=None)
    second_marker = PersonChoiceField(label=_("Second marker"), queryset=None)
    size = forms.IntegerField(
        label=_("How many marks"),
        min_value=1,
        max_value=20,
        initial=5,
        help_text=_("Chosen at random from marks not moderated yet."),
    )

    def __init__(self, *args, trainers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_marker"].queryset = trainers
        self.fields["second_marker"].queryset = trainers
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field("first_marker"),
            Field("second_marker"),
            Field("size"),
            Submit("sample", _("Send for moderation")),
        )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("first_marker"), cleaned.get("second_marker")
        if first and second and first == second:
            self.add_error(
                "second_marker", _("Choose someone other than the trainer whose marks are checked.")
            )
        return cleaned


class ModerationFilterForm(forms.Form):
    """The moderation list's one filter, from a fixed list of states."""

    STATES = [
        ("", _("All")),
        ("waiting", _("Waiting for the second mark")),
        ("to_settle", _("Markers disagree: to settle")),
        ("agreed", _("Markers agree")),
        ("settled", _("Settled")),
    ]
    state = forms.ChoiceField(label=_("Show"), choices=STATES, required=False)

    def state_chosen(self) -> str:
        return self.cleaned_data.get("state", "") if self.is_valid() else ""
