"""Forms for authoring programmes: programmes, versions, modules, materials, assignments
and their rubrics.

The forms check what the browser sent; the rules (only drafts change, the real type of an
uploaded file, what makes a rubric criterion's levels usable) live in training.services,
whose ValidationErrors the views show on these forms.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from training.models import Outcome
from training.models.curriculum import MAX_REMINDER_HOURS, reminder_hours_parse
from training.notice_letters import REPLY_ASKED_BEFORE
from training.selectors.authoring import programme_slug_in_use
from training.services.programmes import MAX_ATTEMPTS
from training.services.rubrics import MAX_CRITERIA, MAX_LEVELS, MIN_LEVELS, criterion_levels_check
from training.uploads import FILE_TYPE_CHOICES, FILE_TYPE_KEYS, MATERIAL_MAX_BYTES, file_type_labels

MAX_TURNAROUND_DAYS = 60
MAX_ASSIGNMENT_REMINDER_DAYS = 30
MAX_ABSENCE_WARNING_AFTER = 10
# The programme's reminder settings, shown when editing a programme (a new one has defaults).
PROGRAMME_REMINDER_FIELDS = ["session_reminder_hours", "assignment_reminder_days", "absence_warning_after"]

# The names an accepted file may have, by its real type (the first is the usual one).
MARKDOWN_HELP = _(
    "Markdown: a blank line starts a new paragraph; “### Heading”, “- item” for a list, "
    "“**bold**”, “*italic*”, and “[text](https://example.org)” for a link."
)


class SecondarySubmit(Submit):
    """A submit button that is not the form's main action."""

    field_classes = "btn btn-outline-secondary mb-2"


def _helper(submit_label: str, *, preview_label: str = "") -> FormHelper:
    helper = FormHelper()
    # The server's messages are clearer than the browser's, and the same everywhere.
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", submit_label, css_class="me-2 mb-2"))
    if preview_label:
        helper.add_input(SecondarySubmit("preview", preview_label))
    return helper


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ProgrammeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=80,
        help_text=_(
            "Used in reports and exports. Letters, numbers, hyphens and underscores only, "
            "such as “community-organising”."
        ),
        error_messages={
            "invalid": _(
                "Use only letters, numbers, hyphens and underscores in the short name, "
                "such as “community-organising”: no spaces or other characters."
            ),
        },
    )
    description = forms.CharField(label=_("Description"), required=False, widget=_textarea(4))
    session_reminder_hours = forms.CharField(
        label=_("Session reminders (hours before)"),
        required=False,
        max_length=40,
        error_messages={"max_length": _("Give at most a few reminder times, such as 48,2.")},
    )
    assignment_reminder_days = forms.IntegerField(
        label=_("Assignment reminder (days before it is due)"),
        min_value=0,
        max_value=MAX_ASSIGNMENT_REMINDER_DAYS,
        help_text=_(
            "Trainees who have not handed the work in are reminded at 9 a.m. this many days before "
            "it is due. 0 sends no assignment reminders."
        ),
        error_messages={
            key: _("Enter a whole number of days from 0 to 30 (0 for no reminder).")
            for key in ("required", "invalid", "min_value", "max_value")
        },
    )
    absence_warning_after = forms.IntegerField(
        label=_("Absence warning (after this many sessions missed in a row)"),
        min_value=0,
        max_value=MAX_ABSENCE_WARNING_AFTER,
        help_text=_(
            "The trainee gets a supportive message, and their trainers a nudge to follow up. "
            "0 sends no absence warnings."
        ),
        error_messages={
            key: _("Enter a whole number of sessions from 0 to 10 (0 for no warning).")
            for key in ("required", "invalid", "min_value", "max_value")
        },
    )

    def __init__(self, *args, programme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["slug"].widget.attrs["spellcheck"] = "false"
        self.helper = _helper(_("Save programme") if programme else _("Create programme"))
        if programme is None:
            for name in PROGRAMME_REMINDER_FIELDS:
                del self.fields[name]
            return
        # Set here, not on the field, so that it is translated per request.
        self.fields["session_reminder_hours"].help_text = _(
            "Whole hours before each session, separated by commas: 48,2 sends a reminder two days "
            "before and another two hours before. A reminder sent %(reply)s hours or more before "
            "asks trainees to confirm or send apologies. Each from 1 to %(max)s; leave blank for "
            "no session reminders."
        ) % {"reply": int(REPLY_ASKED_BEFORE.total_seconds() // 3600), "max": MAX_REMINDER_HOURS}
        self.fields["session_reminder_hours"].widget.attrs["spellcheck"] = "false"
        for name in ("assignment_reminder_days", "absence_warning_after"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        self.helper.layout = Layout(
            "title",
            "slug",
            "description",
            Fieldset(_("Reminders by email"), *PROGRAMME_REMINDER_FIELDS, css_id="reminders"),
        )

    def clean_session_reminder_hours(self) -> str:
        """ "48, 2,48" -> "48,2": the hours, largest first, each once."""
        hours = reminder_hours_parse(self.cleaned_data["session_reminder_hours"])
        return ",".join(str(hour) for hour in hours)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if programme_slug_in_use(slug=slug, exclude_pk=self.programme.pk if self.programme else None):
            raise forms.ValidationError(
                _("Another programme already uses the short name “%(slug)s”. Choose a different one."),
                params={"slug": slug},
                code="unique",
            )
        return slug


class VersionForm(forms.Form):
    """What a version covers and its attendance rule (the required assignments are set on each)."""

    summary = forms.CharField(label=_("What this version covers"), required=False, widget=_textarea(4))
    min_attendance_percent = forms.IntegerField(
        label=_("Minimum attendance (%)"),
        min_value=0,
        max_value=100,
        help_text=_("The share of a cohort’s sessions a trainee must attend to complete, from 0 to 100."),
        error_messages={
            "required": _("Enter the minimum attendance, a whole number from 0 to 100."),
            "invalid": _("Enter the minimum attendance as a whole number from 0 to 100, without “%”."),
            # No per cent sign here: these two messages are %-formatted with the limit.
            "min_value": _("The minimum attendance cannot be below 0. Enter a number from 0 to 100."),
            "max_value": _("The minimum attendance cannot be above 100. Enter a number from 0 to 100."),
        },
    )

    marking_turnaround_days = forms.IntegerField(
        label=_("Marking turnaround (days)"),
        min_value=1,
        max_value=MAX_TURNAROUND_DAYS,
        help_text=_("How soon trainers should mark a submission; older work shows to them as overdue."),
        error_messages={
            "required": _("Enter the marking turnaround, a whole number of days from 1 to 60."),
            "invalid": _("Enter the marking turnaround as a whole number of days from 1 to 60."),
            "min_value": _("Enter the marking turnaround as a whole number of days from 1 to 60."),
            "max_value": _("Enter the marking turnaround as a whole number of days from 1 to 60."),
        },
    )

    certificate_valid_months = forms.IntegerField(
        label=_("Certificate valid for (months)"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Leave blank if certificates never lapse. Leaders can renew by activity before they do."),
        error_messages={
            "invalid": _("Enter a whole number of months from 1 to 120, or leave it blank."),
            "min_value": _("Enter a whole number of months from 1 to 120, or leave it blank."),
            "max_value": _("Enter a whole number of months from 1 to 120, or leave it blank."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["min_attendance_percent"].widget.attrs["inputmode"] = "numeric"
        self.fields["marking_turnaround_days"].widget.attrs["inputmode"] = "numeric"
        self.fields["certificate_valid_months"].widget.attrs["inputmode"] = "numeric"
        self.helper = _helper(_("Save version"))


class ModuleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=_textarea(3))
    learning_outcomes = forms.CharField(
        label=_("Learning outcomes"),
        required=False,
        widget=_textarea(4),
        help_text=_("One per line."),
    )
    materials = forms.CharField(
        label=_("Teaching notes"),
        required=False,
        widget=_textarea(10),
        help_text=MARKDOWN_HELP,
    )

    def __init__(self, *args, is_new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            _("Add module") if is_new else _("Save module"), preview_label=_("Preview teaching notes")
        )

    def clean_learning_outcomes(self) -> str:
        """One outcome per line, without blank lines or stray spaces."""
        lines = self.cleaned_data["learning_outcomes"].splitlines()
        return "\n".join(line.strip() for line in lines if line.strip())


class MaterialForm(forms.Form):
    """A link or an uploaded file: exactly one of the two."""

    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(
        label=_("Link"),
        required=False,
        assume_scheme="https",
        help_text=_("The address of a web page, such as https://example.org/guide."),
        error_messages={"invalid": _("Enter a full web address, such as https://example.org/guide.")},
    )
    upload = forms.FileField(
        label=_("Or a file"),
        required=False,
        error_messages={"empty": _("The file you chose is empty.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not on the field, so that it is translated per request.
        self.fields["upload"].help_text = _("%(kinds)s; at most %(max)s.") % {
            "kinds": file_type_labels(FILE_TYPE_KEYS),
            "max": filesizeformat(MATERIAL_MAX_BYTES),
        }
        self.helper = _helper(_("Add material"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        url, upload = cleaned.get("url"), cleaned.get("upload")
        if url and upload:
            raise forms.ValidationError(
                _("Give a link or a file, not both: clear the link or choose no file."), code="both"
            )
        if not url and not upload:
            raise forms.ValidationError(_("Give a link, or choose a file to upload."), code="neither")
        return cleaned


class AssignmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    brief = forms.CharField(
        label=_("Brief"),
        widget=_textarea(8),
        help_text=MARKDOWN_HELP,
        error_messages={"required": _("Write a brief: what trainees should do and hand in.")},
    )
    due_offset_days = forms.IntegerField(
        label=_("Due (days after the cohort starts)"),
        min_value=0,
        max_value=365,
        initial=14,
        error_messages={
            "required": _("Enter when it is due, in days after the cohort starts (0 to 365)."),
            "invalid": _("Enter a whole number of days from 0 to 365."),
            "min_value": _("Enter a whole number of days from 0 to 365."),
            "max_value": _("Enter a whole number of days from 0 to 365."),
        },
    )
    required_for_completion = forms.BooleanField(
        label=_("Must be passed to complete"),
        required=False,
        initial=True,
        help_text=_("Trainees complete the programme only once they have passed this assignment."),
    )
    accepted_file_types = forms.MultipleChoiceField(
        label=_("File types accepted"),
        choices=FILE_TYPE_CHOICES,
        required=False,
        initial=["pdf", "docx", "odt"],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none for a written answer only, typed into the page."),
        error_messages={"invalid_choice": _("Choose from the file types listed.")},
    )
    max_attempts = forms.IntegerField(
        label=_("Attempts allowed"),
        min_value=1,
        max_value=MAX_ATTEMPTS,
        initial=3,
        help_text=_("Including the first, from 1 to 10. A “resubmit” outcome opens the next attempt."),
        error_messages={
            "required": _("Enter how many attempts a trainee has, from 1 to 10."),
            "invalid": _("Enter the attempts allowed as a whole number from 1 to 10."),
            "min_value": _("Enter the attempts allowed as a whole number from 1 to 10."),
            "max_value": _("Enter the attempts allowed as a whole number from 1 to 10."),
        },
    )

    def __init__(self, *args, is_new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_offset_days"].widget.attrs["inputmode"] = "numeric"
        self.fields["max_attempts"].widget.attrs["inputmode"] = "numeric"
        self.helper = _helper(
            _("Add assignment") if is_new else _("Save assignment"), preview_label=_("Preview brief")
        )

    def clean_accepted_file_types(self) -> str:
        """The keys ticked, comma-separated, as the assignment stores them ("" for none)."""
        return ",".join(self.cleaned_data["accepted_file_types"])

    @staticmethod
    def initial_for(assignment) -> dict:
        """The form's initial values from a saved assignment."""
        initial = {
            name: getattr(assignment, name)
            for name in ["title", "brief", "due_offset_days", "required_for_completion", "max_attempts"]
        }
        initial["accepted_file_types"] = [key for key in assignment.accepted_file_types.split(",") if key]
        return initial


class ModuleMoveForm(forms.Form):
    """The direction of a Move up / Move down button."""

    direction = forms.ChoiceField(label=_("Direction"), choices=[("up", _("Up")), ("down", _("Down"))])


class CriterionMoveForm(ModuleMoveForm):
    """The direction of a criterion's Move up / Move down button."""


# --- Rubrics -------------------------------------------------------------------------

# How many level rows a new criterion's page offers; an existing one gets one spare row.
LEVEL_ROWS_NEW = 4
LEVEL_FIELDS = ("title", "description", "outcome")


class CriterionForm(forms.Form):
    """A criterion's title and description; its levels are the LevelFormSet in the same <form>."""

    title = forms.CharField(
        label=_("Criterion"),
        max_length=200,
        help_text=_("One thing the work is judged on, such as “Evidence of listening”."),
        error_messages={"required": _("Give the criterion a title: the one thing it judges.")},
    )
    description = forms.CharField(
        label=_("What it looks for"),
        required=False,
        widget=_textarea(3),
        help_text=_("Optional. Shown to markers and trainees above the levels."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The page's one <form> holds this form and the levels; it draws the tag and buttons.
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class LevelForm(forms.Form):
    """One level of a criterion. A row left wholly blank is not a level."""

    title = forms.CharField(label=_("Title"), max_length=100, required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome if chosen"),
        choices=[("", _("Choose…")), *Outcome.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose pass, resubmit or fail.")},
    )
    description = forms.CharField(
        label=_("What work at this level shows"), required=False, widget=_textarea(4)
    )

    def is_blank(self) -> bool:
        return not any(self.cleaned_data.get(name) for name in LEVEL_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.is_blank():
            return cleaned
        if not cleaned.get("title"):
            self.add_error("title", _("Give this level a title, or clear the whole row to leave it out."))
        if not cleaned.get("outcome"):
            self.add_error("outcome", _("Choose what this level means for the work: pass, resubmit or fail."))
        if not cleaned.get("description"):
            self.add_error("description", _("Describe what work at this level shows."))
        return cleaned


class BaseLevelFormSet(forms.BaseFormSet):
    """The levels of one criterion, lowest first; blank rows are left out."""

    def levels(self) -> list[dict]:
        """The filled rows, lowest first, as training.services.rubrics takes them."""
        return [
            {name: form.cleaned_data[name] for name in LEVEL_FIELDS}
            for form in self.forms
            if form.cleaned_data and not form.is_blank()
        ]

    def clean(self):
        if any(self.errors):
            return
        levels = self.levels()
        filled = [form for form in self.forms if form.cleaned_data and not form.is_blank()]
        seen = set()
        for form in filled:
            key = form.cleaned_data["title"].casefold()
            if key in seen:
                form.add_error("title", _("Another level already has this title."))
            seen.add(key)
        try:
            criterion_levels_check(levels=levels)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["levels"]) from error


def level_formset(*, data=None, levels=()) -> BaseLevelFormSet:
    """The level rows: `levels` (saved RubricLevels, lowest first) and blank rows to add more."""
    initial = [{name: getattr(level, name) for name in LEVEL_FIELDS} for level in levels]
    extra = max(LEVEL_ROWS_NEW - len(initial), 1)
    formset_class = forms.formset_factory(
        LevelForm, formset=BaseLevelFormSet, extra=extra, max_num=MAX_LEVELS, absolute_max=MAX_LEVELS * 2
    )
    return formset_class(data=data, initial=initial, prefix="levels")


# --- A whole rubric as one grid ------------------------------------------------------

# Level columns a new rubric's grid starts with; "Add a level column" adds one, up to MAX_LEVELS.
GRID_LEVEL_COLUMNS = 3
# Blank criterion rows a rubric without criteria starts with.
GRID_ROWS_NEW = 2


def grid_level_columns(value, *, levels_saved: int = 0) -> int:
    """How many level columns to show: what the page asked for (a posted number, possibly
    tampered with) or enough for the saved levels, between MIN_LEVELS and MAX_LEVELS."""
    try:
        asked = int(value)
    except (TypeError, ValueError):
        asked = GRID_LEVEL_COLUMNS
    return min(max(asked, levels_saved, MIN_LEVELS), MAX_LEVELS)


class RubricRowForm(forms.Form):
    """One criterion of the grid: its title and description, then one cell per level, each
    a title, what work at that level shows and its outcome. A wholly blank row is not a
    criterion, and a wholly blank cell is not a level (the levels after it close up)."""

    criterion_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(required=False, widget=_textarea(2))

    def __init__(self, *args, level_columns: int, number: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.level_columns = level_columns
        self.number = number  # the row's number on the page, from 1, for labels
        self.fields["title"].label = _("Criterion %(row)s title") % {"row": number}
        self.fields["description"].label = _("Criterion %(row)s: what it looks for (optional)") % {
            "row": number
        }
        for column in range(1, level_columns + 1):
            where = {"row": number, "level": column}
            self.fields[f"level_{column}_title"] = forms.CharField(
                label=_("Criterion %(row)s, level %(level)s title") % where, max_length=100, required=False
            )
            self.fields[f"level_{column}_description"] = forms.CharField(
                label=_("Criterion %(row)s, level %(level)s descriptor") % where,
                required=False,
                widget=_textarea(3),
            )
            self.fields[f"level_{column}_outcome"] = forms.ChoiceField(
                label=_("Criterion %(row)s, level %(level)s outcome") % where,
                choices=[("", _("Choose…")), *Outcome.choices],
                required=False,
                error_messages={"invalid_choice": _("Choose pass, resubmit or fail.")},
            )

        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if not isinstance(field.widget, forms.HiddenInput | forms.CheckboxInput):
                field.widget.attrs["class"] = css

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def cells(self) -> list[dict]:
        """Per level column: its number and bound fields, for the template."""
        return [
            {
                "number": column,
                **{name: self[f"level_{column}_{name}"] for name in LEVEL_FIELDS},
            }
            for column in range(1, self.level_columns + 1)
        ]

    def _cell(self, column: int) -> dict:
        return {name: self.cleaned_data.get(f"level_{column}_{name}", "") for name in LEVEL_FIELDS}

    def is_blank(self) -> bool:
        return (
            not self.cleaned_data.get("title")
            and not self.cleaned_data.get("description")
            and not any(any(self._cell(column).values()) for column in range(1, self.level_columns + 1))
        )

    def levels(self) -> list[dict]:
        """The filled cells, lowest first, as training.services.rubrics takes them."""
        cells = [self._cell(column) for column in range(1, self.level_columns + 1)]
        return [cell for cell in cells if any(cell.values())]

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.is_blank() or cleaned.get("DELETE"):
            return cleaned
        if not cleaned.get("title"):
            self.add_error("title", _("Give the criterion a title: the one thing it judges."))
        seen = set()
        for column in range(1, self.level_columns + 1):
            cell = self._cell(column)
            if not any(cell.values()):
                continue
            prefix = f"level_{column}_"
            if not cell["title"]:
                self.add_error(prefix + "title", _("Give this level a title, or clear the whole cell."))
            elif cell["title"].casefold() in seen:
                self.add_error(prefix + "title", _("Another level of this criterion already has this title."))
            seen.add(cell["title"].casefold())
            if not cell["description"]:
                self.add_error(prefix + "description", _("Describe what work at this level shows."))
            if not cell["outcome"]:
                self.add_error(prefix + "outcome", _("Choose pass, resubmit or fail."))
        if not self.errors:
            try:
                criterion_levels_check(levels=self.levels())
            except ValidationError as error:
                # Rules of the whole row (how many levels, one that passes): at the row.
                self.add_error(None, error.message_dict["levels"])
        return cleaned


class BaseRubricFormSet(forms.BaseFormSet):
    """The rows of the grid, in order; removed and wholly blank rows are left out."""

    deletion_widget = forms.CheckboxInput

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Far too many rows (a tampered page): the rubric's limit, not Django's count of forms.
        self.error_messages["too_many_forms"] = _("A rubric has at most %(max)s criteria. Remove one.") % {
            "max": MAX_CRITERIA
        }
        self.error_messages["missing_management_form"] = _(
            "The page was incomplete when it was sent. Reload it and try again."
        )

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["number"] = (index or 0) + 1
        return kwargs

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove criterion %(row)s") % {"row": (index or 0) + 1}
        form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def criteria(self) -> list[dict]:
        """The rubric the grid describes, as training.services.rubrics.rubric_save takes it."""
        return [
            {
                "id": form.cleaned_data.get("criterion_id"),
                "title": form.cleaned_data["title"],
                "description": form.cleaned_data["description"],
                "levels": form.levels(),
            }
            for form in self.kept_forms()
        ]

    def kept_forms(self) -> list[RubricRowForm]:
        return [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and not form.is_blank()
        ]

    def clean(self):
        if any(self.errors):
            return
        if len(self.kept_forms()) > MAX_CRITERIA:
            raise forms.ValidationError(
                _("A rubric has at most %(max)s criteria. Remove one.") % {"max": MAX_CRITERIA}
            )


def _rubric_formset_class(*, extra: int) -> type[BaseRubricFormSet]:
    return forms.formset_factory(
        RubricRowForm,
        formset=BaseRubricFormSet,
        extra=extra,
        can_delete=True,
        # A few rows over the limit are read, so that the limit's own message shows.
        max_num=MAX_CRITERIA + 5,
        absolute_max=MAX_CRITERIA + 5,
    )


def rubric_formset(*, level_columns: int, data=None, criteria=()) -> BaseRubricFormSet:
    """The grid: a row per saved criterion (`criteria`, with their levels lowest first), or
    GRID_ROWS_NEW blank rows for a rubric not begun; bound to `data` after a POST."""
    initial = []
    for criterion in criteria:
        row = {"criterion_id": criterion.pk, "title": criterion.title, "description": criterion.description}
        for column, level in enumerate(criterion.levels.all(), start=1):
            row |= {f"level_{column}_{name}": getattr(level, name) for name in LEVEL_FIELDS}
        initial.append(row)
    formset_class = _rubric_formset_class(extra=0 if initial else GRID_ROWS_NEW)
    return formset_class(
        data=data, initial=initial, prefix="criteria", form_kwargs={"level_columns": level_columns}
    )


def rubric_formset_grown(
    formset: BaseRubricFormSet, *, level_columns: int, rows: int = 0
) -> BaseRubricFormSet:
    """The posted grid shown again, not saved and not yet checked, with `rows` blank rows at
    the end (the "Add a criterion" button) and `level_columns` columns: nothing typed is lost."""
    initial = [{name: form[name].value() for name in form.fields} for form in formset.forms]
    initial.extend({} for _row in range(max(min(rows, MAX_CRITERIA - len(initial)), 0)))
    return _rubric_formset_class(extra=0)(
        initial=initial, prefix="criteria", form_kwargs={"level_columns": level_columns}
    )
