"""The row rules of a member import, on django-import-export's Resource machinery.

`import_data(dry_run=True)` is the preview: every row parsed, matched and checked, nothing
saved (`save_instance` returns early in a dry run, so the preview writes nothing at all).
`import_data(dry_run=False)` inside the confirm's transaction writes through the services.

Everything a row is checked against (places, the members it may match, their consent and
enrolments) is read once per file in `before_import`, so checking costs the same few queries
whatever the number of rows.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources

from config.spreadsheets import formula_like
from imports.models import ImportedMember
from members.forms import name_visible_check
from members.models import ConsentRecord, Constituency, Profile, User
from members.selectors import consent_text_current
from training.models import ACTIVE_ENROLMENT_STATUSES, Enrolment

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
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


@dataclass
class RowPlan:
    """What confirming a row will do. `changes` empty means the row changes nothing."""

    is_new: bool
    constituency: Constituency | None = None
    consent_date: dt.date | None = None
    consent_source: str = ""
    membership_number: str = ""
    changes: list[str] = field(
        default_factory=list
    )  # user/profile fields to fill, or "profile", "hold", "enrol"
    notes: list[str] = field(default_factory=list)


def _consent_date_parse(value: str) -> dt.date:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(value)


class MemberResource(resources.ModelResource):
    """One row: a member by email (or by membership number), their place and consent evidence."""

    email = fields.Field(attribute="email", column_name="email")
    first_name = fields.Field(attribute="first_name", column_name="first_name")
    last_name = fields.Field(attribute="last_name", column_name="last_name")

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")
        import_id_fields = ("email",)
        skip_diff = True
        report_skipped = True  # unchanged rows are counted and shown too
        clean_model_instances = False  # the rules are in import_instance

    def __init__(self, *, actor=None, member_import=None, cohort=None):
        super().__init__()
        self.actor = actor
        self.member_import = member_import
        self.cohort = cohort
        self.plans: dict[int, RowPlan] = {}
        self.invited_ids: list[int] = []

    # --- Reading what rows are checked against, once ----------------------------------

    def before_import(self, dataset, **kwargs):
        emails = [str(e or "").strip().lower() for e in dataset["email"]]
        numbers = (
            [str(n or "").strip().lower() for n in dataset["membership_number"]]
            if "membership_number" in dataset.headers
            else [""] * len(dataset)
        )
        self.duplicates: dict[int, list[tuple[str, str]]] = {}
        for column, values in (("email", emails), ("membership_number", numbers)):
            counts = Counter(value for value in values if value)
            first_seen: dict[str, int] = {}
            for index, value in enumerate(values, 1):
                if not value or counts[value] < 2:
                    continue
                if value in first_seen:
                    self.duplicates.setdefault(index, []).append(
                        (column, _("Same as row %(row)s: each member once.") % {"row": first_seen[value]})
                    )
                else:
                    first_seen[value] = index
        self.duplicate_rows = {
            index: list(dict(messages).items()) for index, messages in self.duplicates.items()
        }

        self.places: dict[str, Constituency | None] = {}
        for seat in Constituency.objects.select_related("region"):
            self.places[seat.ons_code.lower()] = seat
            name = seat.name.lower()
            # A name two seats share is ambiguous: only the code will do.
            self.places[name] = None if name in self.places else seat

        self.users_by_email = {
            user.email_lower: user
            for user in User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in={e for e in emails if e})
            .select_related("profile")
        }
        self.profiles_by_number = {
            profile.number_lower: profile
            for profile in Profile.objects.annotate(number_lower=Lower("membership_number"))
            .filter(number_lower__in={n for n in numbers if n})
            .select_related("user")
        }
        user_ids = {u.pk for u in self.users_by_email.values()} | {
            p.user_id for p in self.profiles_by_number.values()
        }
        self.imported = {im.user_id: im for im in ImportedMember.objects.filter(user_id__in=user_ids)}
        text = consent_text_current()
        self.consented = (
            set(
                ConsentRecord.objects.filter(
                    user_id__in=user_ids, text=text, withdrawn_at__isnull=True
                ).values_list("user_id", flat=True)
            )
            if text
            else set()
        )
        self.in_programme = (
            set(
                Enrolment.objects.filter(
                    member_id__in=user_ids,
                    programme_id=self.cohort.version.programme_id,
                    status__in=ACTIVE_ENROLMENT_STATUSES,
                ).values_list("member_id", flat=True)
            )
            if self.cohort
            else set()
        )
        self.today = timezone.localdate()

    # --- Matching ------------------------------------------------------------------------

    def get_instance(self, instance_loader, row):
        email = str(row.get("email") or "").strip().lower()
        number = str(row.get("membership_number") or "").strip().lower()
        by_email = self.users_by_email.get(email)
        by_number = self.profiles_by_number.get(number).user if number in self.profiles_by_number else None
        if by_email and by_number and by_email.pk != by_number.pk:
            raise ValidationError(
                {"membership_number": _("This number belongs to another member than this email address.")}
            )
        return by_number or by_email

    # --- Checking a row and planning its changes -----------------------------------------

    def _cells(self, row, errors: dict) -> dict[str, str]:
        cells = {}
        for column in COLUMN_LABELS:
            raw = row.get(column)
            value = "" if raw is None else str(raw).replace("\x00", "")  # no database stores NUL
            if formula_like(value) or formula_like(value.strip()):
                errors.setdefault(column, []).append(
                    _(
                        "Looks like a spreadsheet formula (it starts with “%(start)s”), so it is "
                        "refused, not stored. Type the value itself."
                    )
                    % {"start": value.strip()[:1] or value[:1]}
                )
                value = ""
            cells[column] = value.strip()
        return cells

    def import_instance(self, instance, row, **kwargs):
        number = kwargs.get("row_number")
        errors: dict[str, list[str]] = {}
        for column, message in self.duplicate_rows.get(number, []):
            errors.setdefault(column, []).append(message)
        cells = self._cells(row, errors)
        refused = set(errors) - {column for column, _m in self.duplicate_rows.get(number, [])}

        def add(column: str, message: str) -> None:
            if column not in refused:  # a refused formula says enough about its cell
                errors.setdefault(column, []).append(message)

        is_new = instance.pk is None
        plan = RowPlan(is_new=is_new)
        self.plans[number] = plan

        email = cells["email"]
        if not email:
            add("email", _("Required."))
        else:
            try:
                validate_email(email)
            except ValidationError:
                add("email", _("Not a valid email address."))
        for column in ("first_name", "last_name"):
            if not cells[column]:
                add(column, _("Required."))
            elif len(cells[column]) > NAME_MAX:
                add(column, _("Longer than %(max)s characters.") % {"max": NAME_MAX})
            else:
                try:
                    name_visible_check(cells[column])  # the profile form's rule, the same here
                except ValidationError as error:
                    add(column, error.messages[0])

        seat_text = cells["constituency"]
        if not seat_text:
            add("constituency", _("Required: an ONS code or the constituency's name."))
        elif seat_text.lower() not in self.places:
            add("constituency", _("No constituency has this ONS code or name (July 2024 boundaries)."))
        elif self.places[seat_text.lower()] is None:
            add("constituency", _("Two constituencies have this name: give the ONS code."))
        else:
            plan.constituency = self.places[seat_text.lower()]

        if not cells["consent_date"]:
            add("consent_date", _("Required: when the member agreed to be contacted."))
        else:
            try:
                plan.consent_date = _consent_date_parse(cells["consent_date"].split(" ")[0].split("T")[0])
            except ValueError:
                add("consent_date", _("Not a date: write it as 2025-03-31 or 31/03/2025."))
            else:
                if plan.consent_date > self.today:
                    add("consent_date", _("In the future."))
        if not cells["consent_source"]:
            add(
                "consent_source",
                _("Required: where the consent is recorded (a form, an event, the membership database)."),
            )
        elif len(cells["consent_source"]) > 200:
            add("consent_source", _("Longer than 200 characters."))
        plan.consent_source = cells["consent_source"][:200]
        if len(cells["membership_number"]) > 40:
            add("membership_number", _("Longer than 40 characters."))
        plan.membership_number = cells["membership_number"][:40]

        if errors:
            raise ValidationError(errors)
        if is_new:
            instance.email = User.objects.normalize_email(email)
            instance.first_name = cells["first_name"]
            instance.last_name = cells["last_name"]
            plan.changes = ["account"]
            if self.cohort:
                plan.changes.append("hold")
                plan.notes.append(_("Place in the cohort held until they set a password and consent."))
        else:
            self._plan_update(instance, cells, plan)

    def _plan_update(self, user: User, cells: dict, plan: RowPlan) -> None:
        """An existing member: the import fills what is blank and changes nothing they gave."""
        for column in ("first_name", "last_name"):
            current = getattr(user, column)
            if not current:
                setattr(user, column, cells[column])
                plan.changes.append(column)
            elif current != cells[column]:
                plan.notes.append(_("Kept the member's own %(field)s.") % {"field": COLUMN_LABELS[column]})
        profile = getattr(user, "profile", None)
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
                raise ValidationError(
                    {"membership_number": _("This member already has another membership number.")}
                )
        if self.cohort:
            self._plan_placement(user, plan)

    def _plan_placement(self, user: User, plan: RowPlan) -> None:
        imported = self.imported.get(user.pk)
        if user.pk in self.in_programme:
            plan.notes.append(_("Already has a place or an application in this programme."))
        elif imported is not None and imported.activated_at is None:
            if imported.cohort_id is None:
                plan.changes.append("hold")
                plan.notes.append(_("Place in the cohort held until they set a password and consent."))
            elif imported.cohort_id != self.cohort.pk:
                plan.notes.append(_("A place in another cohort is already held for them."))
        elif user.has_usable_password() and user.pk in self.consented:
            plan.changes.append("enrol")
        else:
            plan.notes.append(_("Not placed in the cohort: the member has not consented yet."))

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        plan = self.plans.get(self._row_number)
        return plan is not None and not plan.changes

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number")
        return super().import_row(row, instance_loader, **kwargs)

    # --- Writing (confirm only) ----------------------------------------------------------

    def save_instance(self, instance, is_create, row, **kwargs):
        if self._is_dry_run(kwargs):
            return  # the preview writes nothing, not even inside a rolled-back transaction
        from imports.services import member_import_row_write

        invited = member_import_row_write(
            user=instance,
            plan=self.plans[kwargs["row_number"]],
            member_import=self.member_import,
            cohort=self.cohort,
            actor=self.actor,
        )
        if invited:
            self.invited_ids.append(invited)

    def save_m2m(self, instance, row, **kwargs):
        pass


class MemberPreviewResource(MemberResource):
    """The same rules for the preview. `use_bulk` here only stops django-import-export from
    wrapping each row in a savepoint (two queries a row): the preview saves nothing, so the
    check costs the same few queries whatever the file's length."""

    class Meta(MemberResource.Meta):
        use_bulk = True
