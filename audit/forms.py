from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction


class AuditFilterForm(forms.Form):
    """The trail's filters: only these keys are read from the query string (page and format
    are read by the view); each is optional, a malformed one is an error shown beside it."""

    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any action")), *AuditAction.choices], required=False
    )
    actor = forms.EmailField(label=_("By (email)"), required=False, max_length=254)
    subject = forms.EmailField(label=_("About (email)"), required=False, max_length=254)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Div(Field("action"), css_class="col-md-4 col-lg-3"),
            Div(Field("actor"), css_class="col-md-4 col-lg-2"),
            Div(Field("subject"), css_class="col-md-4 col-lg-3"),
            Div(Field("since"), css_class="col-6 col-md-4 col-lg-2"),
            Div(Field("until"), css_class="col-6 col-md-4 col-lg-2"),
            Div(Submit("filter", _("Filter"), css_class="w-100 mb-3"), css_class="col-md-4 col-lg-1"),
        )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("Choose a date on or after the start date."))
        return data

    def filters(self) -> dict:
        """The chosen filters, as audit.selectors.audit_entry_list takes them (valid form only)."""
        data = self.cleaned_data
        return {
            "action": data.get("action") or "",
            "actor_email": data.get("actor") or "",
            "subject_email": data.get("subject") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }
