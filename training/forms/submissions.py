"""The trainee's form for their work on an assignment: an answer, files, and what to do with it.

The form checks what the browser sent; the rules (the real type and size of each file, how
many files, who may hand in and when) live in training.services.submissions, whose
ValidationErrors the view shows on this form.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from training.uploads import FILE_TYPES, SUBMISSION_MAX_BYTES, SUBMISSION_MAX_FILES, file_type_labels


class MultipleFileInput(forms.FileInput):
    """A file input that lets the browser send several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploaded files, as a list (empty when none was chosen).

    Django's FileField takes one file; this follows the "Uploading multiple files" recipe.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        uploads = data if isinstance(data, list | tuple) else [data]
        return [clean_one(upload, initial) for upload in uploads if upload]


class SecondarySubmit(Submit):
    """A submit button that is not the form's main action."""

    field_classes = "btn btn-outline-secondary"


class SubmissionDraftForm(forms.Form):
    """The draft of the trainee's current attempt. "Save draft" keeps it; "Hand in" sends it."""

    HAND_IN = "hand_in"

    text = forms.CharField(
        label=_("Your answer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    files = MultipleFileField(
        label=_("Add files"),
        required=False,
        error_messages={"empty": _("One of the files you chose is empty.")},
    )
    remove_files = forms.TypedMultipleChoiceField(
        label=_("Remove files from your draft"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, accepted_file_types: list[str], draft_files=(), **kwargs):
        super().__init__(*args, **kwargs)
        if accepted_file_types:
            # Set here, not on the field, so that it is translated per request.
            self.fields["files"].help_text = _(
                "%(kinds)s; at most %(max)s each and %(count)s files in all. "
                "You can choose several files at once."
            ) % {
                "kinds": file_type_labels(accepted_file_types),
                "max": filesizeformat(SUBMISSION_MAX_BYTES),
                "count": SUBMISSION_MAX_FILES,
            }
            # A hint for the browser's file picker; the service checks the real content.
            extensions = [
                f".{extension}"
                for file_type in FILE_TYPES.values()
                if file_type.key in accepted_file_types
                for extension in file_type.extensions
            ]
            self.fields["files"].widget.attrs["accept"] = ",".join(extensions)
        else:
            del self.fields["files"]
        if draft_files:
            self.fields["remove_files"].choices = [(f.pk, f.original_name) for f in draft_files]
        else:
            del self.fields["remove_files"]
        self.helper = FormHelper()
        # The server's messages are clearer than the browser's, and the same everywhere.
        self.helper.attrs = {"novalidate": ""}
        # Save draft comes first, so that Enter in a field never hands the work in.
        self.helper.add_input(SecondarySubmit("save", _("Save draft"), css_class="me-2 mb-2"))
        self.helper.add_input(Submit(self.HAND_IN, _("Hand in"), css_class="mb-2"))

    @property
    def hands_in(self) -> bool:
        return self.HAND_IN in self.data

    @property
    def uploads(self) -> list:
        return self.cleaned_data.get("files") or []

    @property
    def remove_file_ids(self) -> list[int]:
        return self.cleaned_data.get("remove_files") or []
