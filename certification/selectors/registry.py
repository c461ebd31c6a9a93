"""Reads of the registry, always through what the viewer may see.

Visibility: anonymous visitors see public entries; signed-in members also those visible to
members; national staff see every entry.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from certification.models import (
    Certificate,
    CertificateStatus,
    LocalAction,
    RegistryEntry,
    TrainerAccreditation,
    Visibility,
)
from members.models import Profile
from training.models import Cohort

User = get_user_model()


def registry_visible_to(*, user) -> QuerySet[RegistryEntry]:
    entries = RegistryEntry.objects.all()
    if user.is_authenticated and user.has_perm("certification.issue_certificates"):
        return entries
    if user.is_authenticated:
        return entries.filter(visibility__in=[Visibility.PUBLIC, Visibility.MEMBERS])
    return entries.filter(visibility=Visibility.PUBLIC)


def _active_certificate(today) -> Exists:
    return Exists(
        Certificate.objects.filter(holder=OuterRef("member"), status=CertificateStatus.VALID).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=today)
        )
    )


def registry_list(
    *,
    user,
    region_id=None,
    constituency_id=None,
    target_seats: bool = False,
    programme_id=None,
    name: str = "",
) -> QuerySet[RegistryEntry]:
    """The entries the user may see, filtered, with each leader's place and whether active."""
    profiles = Profile.objects.filter(user=OuterRef("member"))
    entries = (
        registry_visible_to(user=user)
        .select_related("member")
        .annotate(
            region_name=profiles.values("region__name")[:1],
            constituency_name=profiles.values("constituency__name")[:1],
            is_active=_active_certificate(timezone.localdate()),
        )
    )
    if region_id:
        entries = entries.filter(member__profile__region_id=region_id)
    if constituency_id:
        entries = entries.filter(member__profile__constituency_id=constituency_id)
    if target_seats:
        entries = entries.filter(member__profile__constituency__is_target_seat=True)
    if programme_id:
        entries = entries.filter(
            Exists(Certificate.objects.filter(holder=OuterRef("member"), version__programme_id=programme_id))
        )
    name = name.strip()
    if name:
        entries = entries.filter(Q(member__first_name__icontains=name) | Q(member__last_name__icontains=name))
    return entries.order_by("member__last_name", "member__first_name", "pk")


def registry_entry_get_visible(*, user, pk) -> RegistryEntry | None:
    return registry_list(user=user).filter(pk=pk).first()


def registry_entry_certificates(*, entry: RegistryEntry) -> list[Certificate]:
    return list(Certificate.objects.filter(holder_id=entry.member_id, status=CertificateStatus.VALID))


def lineage_for(*, entry: RegistryEntry) -> dict:
    """Who trained this leader, and the cohorts they have trained with the leaders each produced.

    Three queries, whatever the size of the tree.
    """
    trained_by = list(
        Cohort.trainers.through.objects.filter(cohort__enrolments__certificate__holder_id=entry.member_id)
        .values_list("user__first_name", "user__last_name")
        .distinct()
    )
    cohorts = list(
        Cohort.objects.filter(trainers=entry.member_id)
        .annotate(leaders=Count("enrolments__certificate", distinct=True))
        .order_by("-starts_on")
        .values("name", "starts_on", "leaders")
    )
    accredited = TrainerAccreditation.objects.filter(member_id=entry.member_id).exists()
    return {
        "trained_by": [f"{first} {last}".strip() for first, last in trained_by],
        "cohorts": cohorts,
        "leaders_total": sum(c["leaders"] for c in cohorts),
        "is_trainer": accredited,
    }


def lineage_tree() -> dict:
    """The whole movement's lineage: who trained whom, by generation. Two queries.

    Generation 1 are the leaders trained by people who were not themselves certified here
    (the founding trainers); generation n+1 were trained by generation n.
    """
    pairs = set(
        Certificate.objects.filter(status=CertificateStatus.VALID)
        .exclude(enrolment__cohort__trainers=None)
        .values_list("enrolment__cohort__trainers", "holder_id")
    )
    trained_by: dict[int, set[int]] = {}
    for trainer_id, leader_id in pairs:
        if trainer_id != leader_id:
            trained_by.setdefault(leader_id, set()).add(trainer_id)
    leaders = set(trained_by)
    generation: dict[int, int] = {}

    def depth(leader_id: int, seen: frozenset = frozenset()) -> int:
        if leader_id in generation:
            return generation[leader_id]
        parents = [p for p in trained_by.get(leader_id, ()) if p in leaders and p not in seen]
        value = 1 + max((depth(p, seen | {leader_id}) for p in parents), default=0)
        generation[leader_id] = value
        return value

    for leader_id in leaders:
        depth(leader_id)
    founders = {t for ts in trained_by.values() for t in ts if t not in leaders}
    descendants: dict[int, int] = {}
    for leader_id in leaders:
        stack, reached = list(trained_by[leader_id]), set()
        while stack:
            trainer_id = stack.pop()
            if trainer_id in reached:
                continue
            reached.add(trainer_id)
            descendants[trainer_id] = descendants.get(trainer_id, 0) + 1
            stack.extend(trained_by.get(trainer_id, ()))
    names = dict(
        (pk, f"{first} {last}".strip())
        for pk, first, last in User.objects.filter(pk__in=founders).values_list(
            "pk", "first_name", "last_name"
        )
    )
    by_generation: dict[int, int] = {}
    for value in generation.values():
        by_generation[value] = by_generation.get(value, 0) + 1
    return {
        "generations": max(generation.values(), default=0),
        "by_generation": sorted(by_generation.items()),
        "founders": sorted(
            ({"name": names.get(pk, ""), "descendants": descendants.get(pk, 0)} for pk in founders),
            key=lambda row: (-row["descendants"], row["name"]),
        ),
        "leaders": len(leaders),
    }


def local_action_list_for_staff(*, region_id=None) -> QuerySet:
    """Every leader's local actions, newest first, with the leader and their place."""
    profiles = Profile.objects.filter(user=OuterRef("entry__member"))
    actions = LocalAction.objects.select_related("entry__member").annotate(
        region_name=profiles.values("region__name")[:1],
        constituency_name=profiles.values("constituency__name")[:1],
    )
    if region_id:
        actions = actions.filter(entry__member__profile__region_id=region_id)
    return actions.order_by("-started_on", "-pk")
