"""The forms of a member import: the upload, and the rules of one row of the file."""

import datetime as dt
from dataclasses import dataclass, field

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from config.spreadsheets import formula_like
from imports.parsing import MAX_FILE_BYTES, MAX_ROWS
from imports.selectors import ImportLookups, cohort_list_for_import
from members.forms import name_visible_check
from members.models import Constituency, User

# The columns of a row, as the preview names them.
COLUMN_LABELS = {
    "email": _("email"),
    "first_name": _("first name"),
    "last_name": _("last name"),
    "constituency": _("constituency"),
    "consent_date": _("consent date"),
    "consent_source": _("consent source"),
    "membership_number": _("membership number"),
}
NAME_MAX = 150
CONSENT_SOURCE_MAX = 200
MEMBERSHIP_NUMBER_MAX = 40
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
REQUIRED = _("Required.")
TOO_LONG = _("Longer than %(limit_value)s characters.")


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


# --- One row of the file ------------------------------------------------------------------------


class ImportCellField(forms.CharField):
    """A cell of an imported file, stripped. NULs are dropped (no database stores one), and a
    value a spreadsheet would run is refused, not neutralised (decision 0014): that message
    is then the cell's only one."""

    def __init__(self, *, required_message=REQUIRED, **kwargs):
        super().__init__(
            strip=False,  # stripped after the formula check, which looks at the cell as written too
            error_messages={"required": required_message, "max_length": TOO_LONG},
            **kwargs,
        )

    def to_python(self, value) -> str:
        value = "" if value is None else str(value).replace("\x00", "")
        if formula_like(value) or formula_like(value.strip()):
            raise ValidationError(
                _(
                    "Looks like a spreadsheet formula (it starts with “%(start)s”), so it is "
                    "refused, not stored. Type the value itself."
                ),
                code="formula",
                params={"start": value.strip()[:1] or value[:1]},
            )
        return value.strip()


@dataclass
class RowPlan:
    """What confirming a checked row will do. `changes` empty: the row changes nothing."""

    member: User | None  # the member the row matched; None for a new one
    email: str
    first_name: str
    last_name: str
    constituency: Constituency
    consent_date: dt.date
    consent_source: str
    membership_number: str
    # Fields to fill ("first_name", "constituency", ...), or "account", "profile", "hold", "enrol".
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.member is None


class MemberImportRowForm(forms.Form):
    """One row of a member import: each cell's rules (clean_<column>), then what confirming
    it would do (`plan`, set when the row is valid). `member` is who the row matched
    (ImportLookups.member_match); `lookups` is what every row of the file is checked
    against, read once, so a row's check costs no query."""

    email = ImportCellField()
    first_name = ImportCellField(max_length=NAME_MAX)
    last_name = ImportCellField(max_length=NAME_MAX)
    constituency = ImportCellField(required_message=_("Required: an ONS code or the constituency's name."))
    consent_date = ImportCellField(required_message=_("Required: when the member agreed to be contacted."))
    consent_source = ImportCellField(
        max_length=CONSENT_SOURCE_MAX,
        required_message=_(
            "Required: where the consent is recorded (a form, an event, the membership database)."
        ),
    )
    membership_number = ImportCellField(required=False, max_length=MEMBERSHIP_NUMBER_MAX)

    def __init__(self, data, *, lookups: ImportLookups, member: User | None):
        super().__init__(data)
        self.lookups = lookups
        self.member = member
        self.plan: RowPlan | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(_("Not a valid email address.")) from None
        return email

    def _name_clean(self, column: str) -> str:
        name = self.cleaned_data[column]
        try:
            name_visible_check(name)  # the profile form's rule, the same here
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None
        return name

    def clean_first_name(self) -> str:
        return self._name_clean("first_name")

    def clean_last_name(self) -> str:
        return self._name_clean("last_name")

    def clean_constituency(self) -> Constituency:
        text = self.cleaned_data["constituency"].lower()
        if text not in self.lookups.places:
            raise ValidationError(_("No constituency has this ONS code or name (July 2024 boundaries)."))
        if self.lookups.places[text] is None:
            raise ValidationError(_("Two constituencies have this name: give the ONS code."))
        return self.lookups.places[text]

    def clean_consent_date(self) -> dt.date:
        text = self.cleaned_data["consent_date"].split(" ")[0].split("T")[0]  # a date and time: the date
        for date_format in DATE_FORMATS:
            try:
                date = dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 - a calendar date
            except ValueError:
                continue
            if date > self.lookups.today:
                raise ValidationError(_("In the future."))
            return date
        raise ValidationError(_("Not a date: write it as 2025-03-31 or 31/03/2025."))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned  # what the row would do is planned only for a row whose cells pass
        self.plan = RowPlan(
            member=self.member,
            email=User.objects.normalize_email(cleaned["email"]),
            **{column: cleaned[column] for column in COLUMN_LABELS if column != "email"},
        )
        if self.member is None:
            self.plan.changes.append("account")
            if self.lookups.cohort:
                self._place_hold()
        else:
            self._plan_update()
        return cleaned

    def _place_hold(self) -> None:
        self.plan.changes.append("hold")
        self.plan.notes.append(_("Place in the cohort held until they set a password and consent."))

    def _plan_update(self) -> None:
        """An existing member: the import fills what is blank and changes nothing they gave."""
        plan, member = self.plan, self.member
        for column in ("first_name", "last_name"):
            current = getattr(member, column)
            if not current:
                plan.changes.append(column)
            elif current != getattr(plan, column):
                plan.notes.append(_("Kept the member's own %(field)s.") % {"field": COLUMN_LABELS[column]})
        profile = getattr(member, "profile", None)
        if profile is None:
            plan.changes.append("profile")
        else:
            if profile.constituency_id is None and plan.constituency.region_id == profile.region_id:
                plan.changes.append("constituency")
            elif profile.constituency_id != plan.constituency.pk:
                plan.notes.append(_("Kept the member's own constituency."))
            if plan.membership_number and not profile.membership_number:
                plan.changes.append("membership_number")
            elif (
                plan.membership_number and profile.membership_number.lower() != plan.membership_number.lower()
            ):
                self.add_error("membership_number", _("This member already has another membership number."))
                self.plan = None
                return
        if self.lookups.cohort:
            self._plan_placement()

    def _plan_placement(self) -> None:
        plan, member = self.plan, self.member
        imported = self.lookups.imported.get(member.pk)
        if member.pk in self.lookups.in_programme:
            plan.notes.append(_("Already has a place or an application in this programme."))
        elif imported is not None and imported.activated_at is None:
            if imported.cohort_id is None:
                self._place_hold()
            elif imported.cohort_id != self.lookups.cohort.pk:
                plan.notes.append(_("A place in another cohort is already held for them."))
        elif member.has_usable_password() and member.pk in self.lookups.consented:
            plan.changes.append("enrol")
        else:
            plan.notes.append(_("Not placed in the cohort: the member has not consented yet."))
