"""Forms for authoring programmes: programmes, versions, modules, materials, assignments.

The forms check what the browser sent; the rules (only drafts change, the real type of an
uploaded file) live in training.services.programmes, whose ValidationErrors the views show
on these forms.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from training.selectors.authoring import programme_slug_in_use
from training.uploads import FILE_TYPE_KEYS, MATERIAL_MAX_BYTES, file_type_labels

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

    def __init__(self, *args, programme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["slug"].widget.attrs["spellcheck"] = "false"
        self.helper = _helper(_("Save programme") if programme else _("Create programme"))

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["min_attendance_percent"].widget.attrs["inputmode"] = "numeric"
        self.helper = _helper(_("Save completion rule"))


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

    def __init__(self, *args, is_new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_offset_days"].widget.attrs["inputmode"] = "numeric"
        self.helper = _helper(
            _("Add assignment") if is_new else _("Save assignment"), preview_label=_("Preview brief")
        )


class ModuleMoveForm(forms.Form):
    """The direction of a Move up / Move down button."""

    direction = forms.ChoiceField(label=_("Direction"), choices=[("up", _("Up")), ("down", _("Down"))])
