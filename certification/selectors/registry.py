"""Reads of the registry, always through what the viewer may see.

Visibility: anonymous visitors see public entries; members in good standing (consented, and
on a course or a leader: member_in_good_standing_q), trainers and regional staff also those
visible to members; national staff see every entry. Signing up alone shows public entries
only. An entry the viewer may not see is a 404, never a 403, so its existence is not revealed.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.http import Http404
from django.utils import timezone

from certification.models import (
    Certificate,
    CertificateStatus,
    LocalAction,
    RegistryEntry,
    TrainerAccreditation,
    Visibility,
)
from certification.standing import in_date_q, leader_certificates
from members.models import ConsentRecord, ConsentText, Profile
from members.selectors import profile_get
from training.models import ACTIVE_ENROLMENT_STATUSES, Cohort, CohortStatus, Enrolment, EnrolmentStatus

User = get_user_model()

NAME_WORDS_MAX = 4


def user_sees_whole_registry(user) -> bool:
    """National staff: every entry, whatever its visibility, and the lineage."""
    return user.is_authenticated and user.has_perm("certification.issue_certificates")


def registry_of_leaders() -> QuerySet[RegistryEntry]:
    """The entries of Future Leaders (certification.standing), the people the dashboard
    counts. A member whose only certificate is revoked is no longer one: their entry is kept,
    unseen, for the day they are certified again."""
    return RegistryEntry.objects.filter(Exists(leader_certificates().filter(holder=OuterRef("member"))))


# Roles that staff give (trainer, regional staff): vetted, so they see "members" entries.
VETTED_ROLE_PERMISSIONS = ("members.access_trainer_area", "members.access_regional_area")


def member_in_good_standing_q(*, user) -> Q:
    """A condition (subqueries, no query of its own) true when `user` is a member in good
    standing: agreed to the current consent text, and holding or seeking a place on a course
    (applied, waitlisted, offered, enrolled, or ended by the cohort's end, completed or not) or
    a leader themselves. Signing up alone is not enough: anyone can do that."""
    latest_text = ConsentText.objects.order_by("-published_at").values("pk")[:1]
    consented = Exists(
        ConsentRecord.objects.filter(user=user.pk, text=Subquery(latest_text), withdrawn_at__isnull=True)
    )
    taking_part = Exists(
        Enrolment.objects.filter(
            member=user.pk,
            status__in=[*ACTIVE_ENROLMENT_STATUSES, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE],
        )
    ) | Exists(RegistryEntry.objects.filter(member=user.pk))
    return Q(consented) & taking_part


def registry_visible_to(*, user) -> QuerySet[RegistryEntry]:
    entries = registry_of_leaders()
    if user_sees_whole_registry(user):
        return entries
    if user.is_authenticated:
        to_members = Q(visibility=Visibility.MEMBERS)
        if not any(user.has_perm(permission) for permission in VETTED_ROLE_PERMISSIONS):
            to_members &= member_in_good_standing_q(user=user)
        return entries.filter(Q(visibility=Visibility.PUBLIC) | to_members)
    return entries.filter(visibility=Visibility.PUBLIC)


def _active_certificate(today) -> Exists:
    """A leader is active while one of their certificates is in date; lapsed otherwise."""
    return Exists(leader_certificates().filter(in_date_q(today), holder=OuterRef("member")))


def registry_filtered(
    *,
    user,
    region_id=None,
    constituency_id=None,
    target_seats: bool = False,
    programme_id=None,
    name: str = "",
) -> QuerySet[RegistryEntry]:
    """The entries the user may see, narrowed by the filters; the search stays inside them."""
    entries = registry_visible_to(user=user)
    if region_id:
        entries = entries.filter(member__profile__region_id=region_id)
    if constituency_id:
        entries = entries.filter(member__profile__constituency_id=constituency_id)
    if target_seats:
        entries = entries.filter(member__profile__constituency__is_target_seat=True)
    if programme_id:
        entries = entries.filter(
            Exists(
                leader_certificates().filter(holder=OuterRef("member"), version__programme_id=programme_id)
            )
        )
    # "Aisha Khan" finds her: each word must be in the first or the last name.
    for word in name.split()[:NAME_WORDS_MAX]:
        entries = entries.filter(Q(member__first_name__icontains=word) | Q(member__last_name__icontains=word))
    return entries


def _active_certificate_per_row(today) -> IsNull:
    """`_active_certificate` for a page of rows: an in-date certificate looked up by index for
    each row shown. The EXISTS is planned as a hash of every in-date certificate when many rows
    are expected (147,000 at a million members, 63 ms a page) although a page shows 50; a
    subquery with a LIMIT cannot be hashed."""
    first_in_date = leader_certificates().filter(in_date_q(today), holder=OuterRef("member")).values("pk")[:1]
    return IsNull(Subquery(first_in_date), False)


def registry_list(*, user, **filters) -> QuerySet[RegistryEntry]:
    """The list page: each leader with their place and whether active, by name. One query
    a page, whatever its length."""
    profiles = Profile.objects.filter(user=OuterRef("member"))
    return (
        registry_filtered(user=user, **filters)
        .select_related("member")
        .annotate(
            region_name=profiles.values("region__name")[:1],
            constituency_name=profiles.values("constituency__name")[:1],
            is_active=_active_certificate_per_row(timezone.localdate()),
        )
        .order_by("member__last_name", "member__first_name", "pk")
    )


def registry_counts(*, user, **filters) -> dict[str, int]:
    """How many entries the list shows, how many are active, and (for staff, who see every
    visibility) how many at each. One query; for staff, unfiltered, one more: the leaders the
    dashboard counts who cannot be listed, their accounts erased at their request (they have
    no place or name left to filter by)."""
    counts = (
        registry_filtered(user=user, **filters)
        .annotate(is_active=_active_certificate(timezone.localdate()))
        .aggregate(
            total=Count("pk"),
            active=Count("pk", filter=Q(is_active=True)),
            **{value: Count("pk", filter=Q(visibility=value)) for value in Visibility.values},
        )
    )
    counts["lapsed"] = counts["total"] - counts["active"]
    if user_sees_whole_registry(user) and not any(filters.values()):
        counts["erased"] = (
            User.objects.filter(erased_at__isnull=False)
            .filter(Exists(leader_certificates().filter(holder=OuterRef("pk"))))
            .count()
        )
    return counts


def registry_entry_get(*, user, pk) -> RegistryEntry:
    """One leader's entry, if the user may see it; 404 otherwise."""
    entry = (
        registry_visible_to(user=user)
        .select_related("member")
        .annotate(is_active=_active_certificate(timezone.localdate()))
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise Http404("Not found.")
    return entry


def registry_entry_get_own(*, user) -> RegistryEntry:
    """The signed-in leader's own entry; 404 for a member who is not (yet) a leader."""
    entry = (
        registry_of_leaders().select_related("member").filter(member=user).first()
        if user.is_authenticated
        else None
    )
    if entry is None:
        raise Http404("Not in the registry: it opens to you with your first certificate.")
    return entry


def registry_entry_place(*, entry: RegistryEntry) -> Profile | None:
    """The leader's region and constituency, as the members app keeps them."""
    return profile_get(user=entry.member)


def registry_entry_certificates(*, entry: RegistryEntry) -> list[Certificate]:
    return list(leader_certificates().filter(holder_id=entry.member_id))


def local_action_list(*, entry: RegistryEntry) -> list[LocalAction]:
    return list(LocalAction.objects.filter(entry=entry).order_by("-started_on", "-pk"))


def local_action_get_for_leader(*, user, pk) -> LocalAction:
    """One of the signed-in leader's own actions; anyone else's is a 404."""
    action = (
        LocalAction.objects.select_related("entry").filter(pk=pk, entry__member=user).first()
        if user.is_authenticated
        else None
    )
    if action is None:
        raise Http404("Not found.")
    return action


def user_registry_entry_exists(*, user) -> bool:
    return user.is_authenticated and registry_of_leaders().filter(member=user).exists()


# --- Lineage: the movement trains itself --------------------------------------------------


def lineage_for(*, entry: RegistryEntry, user) -> dict:
    """Who trained this leader, and the cohorts they have trained with the certified leaders
    each produced (valid certificates only). Three queries, whatever the size of the tree.

    Naming a trainer says they belong to the movement, so a trainer is named only to a
    viewer who may see their own entry (staff see every name); the others are counted.
    """
    sees_all = user_sees_whole_registry(user)
    trainers = list(
        User.objects.filter(
            trained_cohorts__enrolments__certificate__holder_id=entry.member_id,
            trained_cohorts__enrolments__certificate__status=CertificateStatus.VALID,
        )
        .exclude(pk=entry.member_id)
        .annotate(
            entry_id=Subquery(registry_visible_to(user=user).filter(member=OuterRef("pk")).values("pk")[:1])
        )
        .values_list("first_name", "last_name", "email", "entry_id")
        .distinct()
    )
    trained_by = sorted(
        (
            {"name": f"{first} {last}".strip() or email, "entry_id": entry_id}
            for first, last, email, entry_id in trainers
            if sees_all or entry_id
        ),
        key=lambda row: row["name"],
    )
    cohorts = list(
        Cohort.objects.filter(trainers=entry.member_id)
        .annotate(
            leaders=Count(
                "enrolments__certificate",
                filter=Q(enrolments__certificate__status=CertificateStatus.VALID),
                distinct=True,
            )
        )
        # What they have trained: cohorts under way or done, or any that certified someone.
        .filter(Q(status__in=[CohortStatus.RUNNING, CohortStatus.FINISHED]) | Q(leaders__gt=0))
        .order_by("-starts_on", "-pk")
        .values("name", "starts_on", "status", "leaders")
    )
    for cohort in cohorts:
        cohort["is_finished"] = cohort["status"] == CohortStatus.FINISHED
        cohort["status_label"] = CohortStatus(cohort["status"]).label
    accredited = TrainerAccreditation.objects.filter(member_id=entry.member_id).exists()
    return {
        "trained_by": trained_by,
        "trained_by_unnamed": len(trainers) - len(trained_by),
        "cohorts": cohorts,
        "leaders_total": sum(c["leaders"] for c in cohorts),
        "is_trainer": accredited,
    }


@dataclass
class LineageNode:
    """A trainer or leader in the lineage tree, with the leaders they trained below them."""

    member_id: int
    name: str = ""
    entry_id: int | None = None
    generation: int = 0  # 0: a founding trainer, not certified here
    children: list["LineageNode"] = field(default_factory=list)
    descendants: int = 0  # leaders anywhere below
    depth: int = 0  # generations below


def lineage_tree() -> dict:
    """The whole movement's lineage: who trained whom, generations deep. Two queries.

    The founding trainers are those who trained certified leaders without being certified
    here themselves. Generation 1 are the leaders they trained; generation n+1, the leaders
    trained by generation n who are not already in an earlier generation (a leader trained
    by trainers of two generations counts in the earlier one). Each leader appears once,
    under one trainer of the generation before. Only valid certificates count; leaders
    whose trainers lead back to no founding trainer (only a circle of leaders who trained
    each other) are counted apart.
    """
    pairs = (
        leader_certificates()
        .exclude(enrolment__cohort__trainers=None)
        .order_by()  # without the default ordering, DISTINCT really removes duplicate pairs
        .values_list("enrolment__cohort__trainers", "holder_id")
        .distinct()
    )
    trained: dict[int, set[int]] = {}
    leaders: set[int] = set()
    for trainer_id, leader_id in pairs:
        if trainer_id != leader_id:
            trained.setdefault(trainer_id, set()).add(leader_id)
            leaders.add(leader_id)
    founders = set(trained) - leaders
    people = {
        pk: (f"{first} {last}".strip() or email, entry_id)
        for pk, first, last, email, entry_id in User.objects.filter(pk__in=founders | leaders).values_list(
            "pk", "first_name", "last_name", "email", "registry_entry__id"
        )
    }
    nodes = {
        pk: LineageNode(
            member_id=pk, name=people.get(pk, ("", None))[0], entry_id=people.get(pk, ("", None))[1]
        )
        for pk in founders | leaders
    }
    # Breadth first from the founders: each leader takes the first generation that reaches them.
    placed: set[int] = set(founders)
    frontier = sorted(founders, key=lambda pk: (nodes[pk].name, pk))
    generation = 0
    by_generation: list[tuple[int, int]] = []
    order: list[LineageNode] = []
    while frontier:
        generation += 1
        next_frontier = []
        for trainer_id in frontier:
            parent = nodes[trainer_id]
            for leader_id in sorted(trained.get(trainer_id, ()), key=lambda pk: (nodes[pk].name, pk)):
                if leader_id in placed:
                    continue
                placed.add(leader_id)
                node = nodes[leader_id]
                node.generation = generation
                parent.children.append(node)
                order.append(node)
                next_frontier.append(leader_id)
        if next_frontier:
            by_generation.append((generation, len(next_frontier)))
        frontier = next_frontier
    # Deepest first, so each node's children are finished before it.
    for node in [*reversed(order), *(nodes[pk] for pk in founders)]:
        node.descendants = sum(1 + child.descendants for child in node.children)
        node.depth = max((1 + child.depth for child in node.children), default=0)
    trees = sorted((nodes[pk] for pk in founders), key=lambda node: (-node.descendants, node.name))
    return {
        "generations": len(by_generation),
        "by_generation": by_generation,
        "leaders": len(order),
        "untraced": len(leaders) - len(order),
        "trees": trees,
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
