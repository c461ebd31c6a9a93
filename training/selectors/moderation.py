"""Reads for moderation: what waits for whom, and how often markers agree.

Agreement is counted in the database (one query per table), so the page costs the same
whatever the number of moderated marks.
"""

from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, When

from training.models import Mark, MarkLevel, Moderation


@dataclass
class Agreement:
    label: str
    detail: str
    moderated: int
    agreed: int

    @property
    def percent(self) -> int:
        return round(100 * self.agreed / self.moderated) if self.moderated else 0


def moderation_list_for_staff(*, state: str = "") -> QuerySet[Moderation]:
    """Moderations newest first, optionally by state: waiting, to_settle, agreed or settled."""
    moderations = Moderation.objects.select_related(
        "first_mark__marker",
        "first_mark__submission__assignment",
        "first_mark__submission__enrolment__member",
        "first_mark__submission__enrolment__cohort",
        "second_marker",
        "second_mark",
        "settled_mark",
    ).order_by("-requested_at", "-pk")
    disagree = ~Q(second_mark__outcome=F("first_mark__outcome"))
    states = {
        "waiting": Q(second_mark__isnull=True),
        "to_settle": Q(second_mark__isnull=False, settled_mark__isnull=True) & disagree,
        "agreed": Q(second_mark__isnull=False, settled_mark__isnull=True) & ~disagree,
        "settled": Q(settled_mark__isnull=False),
    }
    return moderations.filter(states[state]) if state in states else moderations


def moderation_list_for_second_marker_page(moderations: QuerySet[Moderation]) -> QuerySet[Moderation]:
    """The second marker's own list: what is still to mark first, then the rest, oldest first."""
    return moderations.select_related(
        "first_mark__submission__assignment", "first_mark__submission__enrolment__cohort"
    ).order_by(F("second_mark").asc(nulls_first=True), "requested_at", "pk")


def moderation_marks_get(*, moderation: Moderation) -> dict[int, Mark]:
    """{mark id: mark} for the moderation's own marks (first, second, settled), each with its
    levels: two queries. The pages that compare them decide which to show to whom: the
    second marker sees the first mark only once theirs is saved."""
    mark_ids = [moderation.first_mark_id, moderation.second_mark_id, moderation.settled_mark_id]
    marks = (
        Mark.objects.filter(pk__in=[pk for pk in mark_ids if pk])
        .select_related("marker")
        .prefetch_related(
            Prefetch(
                "levels",
                queryset=MarkLevel.objects.select_related("criterion", "level").order_by(
                    "criterion__position"
                ),
            )
        )
        .order_by()
    )
    return {mark.pk: mark for mark in marks}


def agreement_by_trainer() -> list[Agreement]:
    """For each first marker: moderated marks and how many the second marker gave the same outcome."""
    rows = (
        Moderation.objects.filter(second_mark__isnull=False)
        .values("first_mark__marker", "first_mark__marker__first_name", "first_mark__marker__last_name")
        .annotate(
            moderated=Count("pk"),
            agreed=Count("pk", filter=Q(second_mark__outcome=F("first_mark__outcome"))),
        )
        .order_by("first_mark__marker__last_name", "first_mark__marker__first_name")
    )
    return [
        Agreement(
            label=f"{row['first_mark__marker__first_name']} {row['first_mark__marker__last_name']}".strip(),
            detail="",
            moderated=row["moderated"],
            agreed=row["agreed"],
        )
        for row in rows
    ]


def agreement_by_criterion() -> list[Agreement]:
    """For each rubric criterion: how often the second marker chose the first marker's level."""
    second_level = Subquery(
        MarkLevel.objects.filter(
            mark=OuterRef("mark__moderation__second_mark"), criterion=OuterRef("criterion")
        ).values("level")[:1]
    )
    rows = (
        MarkLevel.objects.filter(mark__moderation__second_mark__isnull=False)
        .annotate(second_level=second_level)
        .values("criterion", "criterion__title", "criterion__assignment__title")
        .annotate(
            moderated=Count("pk"),
            agreed=Count(Case(When(level=F("second_level"), then=1), output_field=IntegerField())),
        )
        .order_by("criterion__assignment__title", "criterion__position")
    )
    return [
        Agreement(
            label=row["criterion__title"],
            detail=row["criterion__assignment__title"],
            moderated=row["moderated"],
            agreed=row["agreed"],
        )
        for row in rows
    ]
