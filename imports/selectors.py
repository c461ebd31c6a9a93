"""Reads of the imports app, and the one access point to an import."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from imports.models import ImportedMember, MemberImport
from members.models import ConsentRecord, Constituency, Profile, User
from members.selectors import consent_text_current
from training.models import ACTIVE_ENROLMENT_STATUSES, Cohort, CohortStatus, Enrolment, VersionStatus
from training.permissions import cohort_list_manageable_by


def member_import_list_visible_to(*, user) -> QuerySet[MemberImport]:
    """Imports a user may see: every import, for those who may import (national staff share
    the work); none for anyone else."""
    if not user.has_perm("imports.add_memberimport"):
        return MemberImport.objects.none()
    return MemberImport.objects.select_related("created_by", "cohort").order_by("-created_at", "-pk")


def member_import_get_for_user(*, user, pk: int) -> MemberImport:
    """An import the user may see; 404 otherwise."""
    found = member_import_list_visible_to(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404("Not found.")
    return found


def cohort_list_for_import(*, user) -> QuerySet[Cohort]:
    """Cohorts an import may place members in: ones the user runs that take applications now."""
    today = timezone.localdate()
    return (
        cohort_list_manageable_by(user=user)
        .filter(
            status=CohortStatus.OPEN,
            version__status=VersionStatus.PUBLISHED,
            enrolment_opens_on__lte=today,
            enrolment_closes_on__gte=today,
        )
        .select_related("version__programme")
        .order_by("starts_on", "name")
    )


def _key(value) -> str:
    return str(value or "").strip().lower()


@dataclass
class ImportLookups:
    """Everything the rows of one file are checked against, read once per file
    (member_import_lookups), so that checking costs the same few queries whatever its length."""

    cohort: Cohort | None
    today: dt.date
    places: dict[str, Constituency | None]  # ONS code or name, lower-case; None: a name two seats share
    users_by_email: dict[str, User]
    profiles_by_number: dict[str, Profile]
    imported: dict[int, ImportedMember]  # by user id
    consented: set[int]  # user ids with the current consent text agreed
    in_programme: set[int]  # user ids with a place or an application in the cohort's programme

    def member_match(self, row: dict) -> User | None:
        """The member a row names, by membership number or by email (ignoring case); None for
        a new one. ValidationError if the two point at different members."""
        by_email = self.users_by_email.get(_key(row.get("email")))
        profile = self.profiles_by_number.get(_key(row.get("membership_number")))
        by_number = profile.user if profile is not None else None
        if by_email and by_number and by_email.pk != by_number.pk:
            raise ValidationError(
                {"membership_number": _("This number belongs to another member than this email address.")}
            )
        return by_number or by_email


def member_import_lookups(*, rows: list[dict], cohort: Cohort | None) -> ImportLookups:
    """Read, in a fixed number of queries, what the rows of a file are checked against: the
    places, the members they may match, those members' imports, consent and enrolments."""
    emails = {_key(row.get("email")) for row in rows} - {""}
    numbers = {_key(row.get("membership_number")) for row in rows} - {""}

    places: dict[str, Constituency | None] = {}
    for seat in Constituency.objects.select_related("region"):
        places[seat.ons_code.lower()] = seat
        name = seat.name.lower()
        places[name] = None if name in places else seat  # a shared name: only the code will do

    users_by_email = {
        user.email_lower: user
        for user in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .select_related("profile")
    }
    profiles_by_number = {
        profile.number_lower: profile
        for profile in Profile.objects.annotate(number_lower=Lower("membership_number"))
        .filter(number_lower__in=numbers)
        .select_related("user")
    }
    user_ids = {user.pk for user in users_by_email.values()} | {
        profile.user_id for profile in profiles_by_number.values()
    }
    text = consent_text_current()
    return ImportLookups(
        cohort=cohort,
        today=timezone.localdate(),
        places=places,
        users_by_email=users_by_email,
        profiles_by_number=profiles_by_number,
        imported={im.user_id: im for im in ImportedMember.objects.filter(user_id__in=user_ids)},
        consented=set(
            ConsentRecord.objects.filter(
                user_id__in=user_ids, text=text, withdrawn_at__isnull=True
            ).values_list("user_id", flat=True)
        )
        if text
        else set(),
        in_programme=set(
            Enrolment.objects.filter(
                member_id__in=user_ids,
                programme_id=cohort.version.programme_id,
                status__in=ACTIVE_ENROLMENT_STATUSES,
            ).values_list("member_id", flat=True)
        )
        if cohort
        else set(),
    )
