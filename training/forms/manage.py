"""Forms for running cohorts: opening and editing them, sessions, registers, decisions.

The forms check what the browser sent; the rules (dates in order, capacity, venue or
link) live in training.services, whose ValidationErrors the views show on these forms.
"""

from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from config.forms import PlainLimitsMixin
from members.models import Region
from members.widgets import constituency_field
from training.models import (
    AttendanceStatus,
    Cohort,
    CohortStatus,
    ProgrammeVersion,
    Session,
    SessionMode,
    VersionStatus,
)
from training.selectors.manage import cohort_module_list, trainer_candidate_list

DATE_INPUT = {"type": "date"}
TIME_INPUT = {"type": "time"}


def _date_input():
    """A date picker; browsers read and write ISO dates whatever the locale."""
    return forms.DateInput(DATE_INPUT, format="%Y-%m-%d")


def _helper(submit_label: str) -> FormHelper:
    helper = FormHelper()
    # The server's messages are clearer than the browser's, and the same everywhere.
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", submit_label))
    return helper


class CohortFilterForm(forms.Form):
    """The list page's filters. Only these keys are ever read from the query string."""

    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *CohortStatus.choices], required=False
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Any region"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.layout = Layout(
            Div(Field("status"), css_class="col-sm-5 col-lg-4"),
            Div(Field("region"), css_class="col-sm-5 col-lg-4"),
            Div(Submit("filter", _("Filter"), css_class="w-100 mb-3"), css_class="col-sm-2 col-lg-2"),
        )
        self.helper.disable_csrf = True

    def filters(self) -> dict:
        """The valid filters chosen; a field with an unknown or malformed value is ignored."""
        self.is_valid()
        region = self.cleaned_data.get("region")
        return {"status": self.cleaned_data.get("status") or "", "region_id": region.pk if region else None}


class TrainerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.email})" if name else obj.email


class CohortForm(PlainLimitsMixin, forms.Form):
    """Open a cohort, or change one. The programme version is chosen once, at opening."""

    version = forms.ModelChoiceField(
        label=_("Programme version"),
        queryset=ProgrammeVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("programme"),
        empty_label=_("Choose a published version"),
        help_text=_("Only published versions can run. This cannot be changed once the cohort is open."),
        error_messages={"invalid_choice": _("Choose a published version from the list.")},
    )
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("For example, “Leeds, spring 2026”."))
    region = forms.ModelChoiceField(
        label=_("Region or nation"),
        queryset=Region.objects.order_by("name"),
        empty_label=_("Choose a region"),
        error_messages={"invalid_choice": _("Choose a region from the list.")},
    )
    constituency = constituency_field(
        label=_("Constituency (optional)"),
        empty_label=_("None: the whole region"),
        help_text=_("If the cohort serves one constituency. It must be in the region."),
    )
    trainers = TrainerChoiceField(
        label=_("Trainers"),
        queryset=None,  # set in __init__: the people who may run cohorts
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only people with the trainer role are listed."),
        error_messages={
            "invalid_choice": _("Only people with the trainer role can run cohorts. Choose from the list."),
            "invalid_pk_value": _("Choose trainers from the list."),
        },
    )
    capacity = forms.IntegerField(
        label=_("Places"),
        min_value=1,
        max_value=1000,
        error_messages={"min_value": _("A cohort needs at least one place.")},
    )
    enrolment_opens_on = forms.DateField(label=_("Applications open"), widget=_date_input())
    enrolment_closes_on = forms.DateField(label=_("Applications close"), widget=_date_input())
    starts_on = forms.DateField(label=_("Starts"), widget=_date_input())
    ends_on = forms.DateField(label=_("Ends"), widget=_date_input())
    status = forms.ChoiceField(label=_("Status"), choices=CohortStatus.choices, initial=CohortStatus.DRAFT)
    status_follows_dates = forms.BooleanField(
        label=_("The status follows the dates"),
        required=False,
        initial=True,
        help_text=_(
            "If ticked, an open cohort starts running on its first day (once applications have "
            "closed) and finishes after its last day. Choosing a status its dates would not give "
            "unticks this; tick it again to let the dates decide."
        ),
    )
    reviews_applications = forms.BooleanField(
        label=_("Applications are reviewed"),
        required=False,
        help_text=_(
            "If ticked, a trainer accepts or declines each application. If not, applicants are "
            "enrolled at once while places remain."
        ),
    )

    def __init__(self, *args, cohort: Cohort | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.fields["trainers"].queryset = trainer_candidate_list()
        dates = Div(
            Div(Field("enrolment_opens_on"), css_class="col-sm-6"),
            Div(Field("enrolment_closes_on"), css_class="col-sm-6"),
            Div(Field("starts_on"), css_class="col-sm-6"),
            Div(Field("ends_on"), css_class="col-sm-6"),
            css_class="row",
        )
        fields = [
            "name",
            "region",
            "constituency",
            "trainers",
            "capacity",
            Fieldset(_("Dates"), dates),
            "status",
            "status_follows_dates",
            "reviews_applications",
        ]
        if cohort is not None:
            del self.fields["version"]  # a cohort follows one version for its whole life
        else:
            fields.insert(0, "version")
        self.helper = _helper(_("Save changes") if cohort else _("Save cohort"))
        self.helper.layout = Layout(*fields)


class SessionForm(PlainLimitsMixin, forms.Form):
    """A session's details. Times are typed in UK time and stored in UTC."""

    title = forms.CharField(label=_("Title"), max_length=200)
    date = forms.DateField(label=_("Date"), widget=_date_input())
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(TIME_INPUT, format="%H:%M"), help_text=_("UK time.")
    )
    end_time = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(TIME_INPUT, format="%H:%M"), help_text=_("UK time.")
    )
    mode = forms.ChoiceField(
        label=_("Where"), choices=SessionMode.choices, widget=forms.RadioSelect, initial=SessionMode.IN_PERSON
    )
    venue = forms.CharField(
        label=_("Venue"), max_length=200, required=False, help_text=_("Needed for in-person sessions.")
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    online_link = forms.URLField(
        label=_("Online link"),
        required=False,
        assume_scheme="https",
        help_text=_("Needed for online sessions, and only for them."),
        error_messages={"invalid": _("Enter the full link, such as https://meet.example.org/abc.")},
    )
    preparation = forms.CharField(
        label=_("What to prepare"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent with the reminders, for example what to read or bring."),
    )
    modules = forms.ModelMultipleChoiceField(
        label=_("Modules covered"),
        queryset=None,  # set in __init__: the cohort's own modules
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose modules from the list.")},
    )

    # Where a service's error about a computed value is shown.
    SERVICE_FIELDS = {"starts_at": "date", "ends_at": "end_time"}

    def __init__(self, *args, cohort: Cohort, session: Session | None = None, **kwargs):
        if session is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(session)
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        modules = cohort_module_list(cohort=cohort)
        if modules.exists():
            self.fields["modules"].queryset = modules
        else:
            del self.fields["modules"]  # a version without modules: nothing to choose
        self.helper = _helper(_("Save session") if session else _("Add session"))
        self.helper.layout = Layout(
            "title",
            Div(
                Div(Field("date"), css_class="col-sm-6"),
                Div(Field("start_time"), css_class="col-6 col-sm-3"),
                Div(Field("end_time"), css_class="col-6 col-sm-3"),
                css_class="row",
            ),
            "mode",
            "venue",
            "address",
            "online_link",
            "preparation",
            *(["modules"] if "modules" in self.fields else []),
        )

    @staticmethod
    def initial_from(session: Session) -> dict:
        starts = timezone.localtime(session.starts_at)
        ends = timezone.localtime(session.ends_at)
        return {
            "title": session.title,
            "date": starts.date(),
            "start_time": starts.time().replace(second=0, microsecond=0),
            "end_time": ends.time().replace(second=0, microsecond=0),
            "mode": session.mode,
            "venue": session.venue,
            "address": session.address,
            "online_link": session.online_link,
            "preparation": session.preparation,
            "modules": list(session.modules.all()),
        }

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("date"), cleaned.get("start_time"), cleaned.get("end_time")
        if day and start and end:
            # zoneinfo picks the right offset for the day: GMT in winter, BST in summer.
            london = timezone.get_current_timezone()
            cleaned["starts_at"] = datetime.combine(day, start, tzinfo=london)
            cleaned["ends_at"] = datetime.combine(day, end, tzinfo=london)
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "mode": data["mode"],
            "venue": data["venue"],
            "address": data["address"],
            "online_link": data["online_link"],
            "preparation": data["preparation"],
            "modules": list(data.get("modules", [])),
        }

    def service_error_on_fields(self, error: ValidationError) -> ValidationError:
        """A service's error moved beside the field the user typed, not the computed one."""
        if not hasattr(error, "error_dict"):
            return error
        moved: dict[str, list[str]] = {}
        for name, messages in error.message_dict.items():
            moved.setdefault(self.SERVICE_FIELDS.get(name, name), []).extend(messages)
        return ValidationError(moved)


class RegisterForm(forms.Form):
    """One radio group per enrolled trainee: present, absent or excused, or left blank.

    "Mark everyone not yet marked present" only changes what the form shows (the view
    renders it again, or the page's script does it in place): nothing is saved until
    "Save register", and `filled` (sent back as FILLED_FIELD) lets it be undone until then.
    """

    FILLED_FIELD = "filled"

    def __init__(self, *args, rows, filled=None, undone=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        # The enrolment ids a fill just marked present (None: no fill asked); whether undone.
        self.filled, self.undone = filled, undone
        for row in rows:
            self.fields[self.field_name(row.enrolment.pk)] = forms.ChoiceField(
                label=row.name,
                choices=AttendanceStatus.choices,
                required=False,
                initial=row.initial_status or None,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("Choose present, absent or excused.")},
            )

    @staticmethod
    def field_name(enrolment_id: int) -> str:
        return f"mark_{enrolment_id}"

    def entries(self):
        """(row, bound field) pairs, in register order, for the template."""
        return [(row, self[self.field_name(row.enrolment.pk)]) for row in self.rows]

    def data_with_present_filled(self) -> tuple[dict, list[int]]:
        """The data sent, with everyone left blank marked present, and who that was."""
        data, filled = self.data.copy(), []
        for row in self.rows:
            name = self.add_prefix(self.field_name(row.enrolment.pk))
            if not data.get(name):
                data[name] = AttendanceStatus.PRESENT
                filled.append(row.enrolment.pk)
        return data, filled

    def data_with_fill_undone(self) -> dict:
        """The data sent, with those the last fill marked present blank again (a mark changed
        since then is the user's own choice, and stays)."""
        data = self.data.copy()
        filled = set(self.data.get(self.FILLED_FIELD, "").split(","))
        for row in self.rows:
            name = self.add_prefix(self.field_name(row.enrolment.pk))
            if str(row.enrolment.pk) in filled and data.get(name) == AttendanceStatus.PRESENT:
                data.pop(name)
        return data

    def marks(self) -> dict[int, str]:
        """{enrolment id: status} for everyone given a mark; the others stay unrecorded."""
        return {
            row.enrolment.pk: self.cleaned_data[self.field_name(row.enrolment.pk)]
            for row in self.rows
            if self.cleaned_data.get(self.field_name(row.enrolment.pk))
        }


class DecisionForm(forms.Form):
    ACCEPT, DECLINE = "accept", "decline"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(ACCEPT, _("Accept")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose to accept or decline.")},
    )
    message = forms.CharField(
        label=_("Message to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional when you accept. When you decline, give the reason: the applicant sees it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save decision"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.DECLINE and not cleaned.get("message", "").strip():
            self.add_error("message", _("Give the applicant a reason when you decline."))
        return cleaned

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == self.ACCEPT


class DueDatesForm(forms.Form):
    """One optional date per assignment; blank keeps the programme's default."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[self.field_name(row.assignment.pk)] = forms.DateField(
                label=row.assignment.title,
                required=False,
                initial=row.own_due_on,
                widget=forms.DateInput({**DATE_INPUT, "class": "form-control"}, format="%Y-%m-%d"),
                help_text=_("Default: %(date)s") % {"date": date_format(row.default_due_on, "D j M Y")},
            )

    @staticmethod
    def field_name(assignment_id: int) -> str:
        return f"due_{assignment_id}"

    def entries(self):
        return [(row, self[self.field_name(row.assignment.pk)]) for row in self.rows]

    def due_dates(self) -> dict:
        return {
            row.assignment.pk: self.cleaned_data.get(self.field_name(row.assignment.pk)) for row in self.rows
        }
