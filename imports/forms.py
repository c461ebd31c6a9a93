"""The upload form of a member import."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from imports.parsing import MAX_FILE_BYTES, MAX_ROWS
from imports.selectors import cohort_list_for_import


class MemberImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "Columns: email, first name, last name, constituency (ONS code or name), consent date, "
            "consent source, and optionally membership number. At most %(rows)s rows and %(mb)s MB."
        )
        % {"rows": f"{MAX_ROWS:,}", "mb": MAX_FILE_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    cohort = forms.ModelChoiceField(
        label=_("Place them in a cohort (optional)"),
        queryset=None,
        required=False,
        empty_label=_("No cohort"),
        help_text=_("New members hold a place only once they have set a password and given their consent."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohort_list_for_import(user=user)
        self.fields["cohort"].label_from_instance = lambda c: f"{c.name} ({c.version.programme.title})"
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_tag = True
        self.helper.add_input(Submit("submit", _("Check the file")))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB. Split it and import each part.")
                % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload
