"""Reads for the members app."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404

from members.models import ConsentRecord, ConsentText, Constituency, DataExport, Profile, Region, User


@dataclass(frozen=True)
class OnboardingState:
    has_current_consent: bool
    has_profile: bool

    @property
    def is_complete(self) -> bool:
        return self.has_current_consent and self.has_profile


def consent_text_current() -> ConsentText | None:
    """The consent text members must agree to now: the latest published."""
    return ConsentText.objects.order_by("-published_at").first()


def member_onboarding_state(*, user: User) -> OnboardingState:
    """Whether a member has agreed to the current consent text and filled in a profile.

    One query, since it runs on every request of a signed-in member.
    """
    latest_text = ConsentText.objects.order_by("-published_at").values("pk")[:1]
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_current_consent=Exists(
                ConsentRecord.objects.filter(
                    user=OuterRef("pk"), text=Subquery(latest_text), withdrawn_at__isnull=True
                )
            ),
            has_profile=Exists(Profile.objects.filter(user=OuterRef("pk"))),
        )
        .values("has_current_consent", "has_profile")
        .first()
    )
    if row is None:
        return OnboardingState(has_current_consent=False, has_profile=False)
    return OnboardingState(**row)


def profile_get(*, user: User) -> Profile | None:
    return Profile.objects.select_related("region", "constituency").filter(user=user).first()


def region_list() -> list[Region]:
    return list(Region.objects.order_by("name"))


def constituency_groups() -> list[tuple[int, str, list[tuple[int, str]]]]:
    """Constituencies grouped by region, as (region id, region name, [(id, name)]): one query."""
    groups: dict[int, tuple[int, str, list[tuple[int, str]]]] = {}
    rows = Constituency.objects.order_by("region__name", "name").values_list(
        "pk", "name", "region_id", "region__name"
    )
    for pk, name, region_id, region_name in rows:
        groups.setdefault(region_id, (region_id, region_name, []))[2].append((pk, name))
    return list(groups.values())


def data_export_latest(*, user: User) -> DataExport | None:
    """The member's most recent request for a copy of their data."""
    return DataExport.objects.filter(user=user).order_by("-requested_at", "-pk").first()


def member_find_for_erasure(*, email: str) -> User | None:
    """The member with exactly this address (any case), unless already erased or an operator."""
    return (
        User.objects.filter(email__iexact=email.strip(), erased_at__isnull=True, is_superuser=False)
        .select_related("profile__region")
        .first()
    )


def member_get_for_erasure(*, pk: int) -> User:
    """A member staff may erase; 404 for unknown, erased and operator accounts."""
    member = (
        User.objects.filter(pk=pk, erased_at__isnull=True, is_superuser=False)
        .select_related("profile__region")
        .first()
    )
    if member is None:
        raise Http404("Not found.")
    return member
