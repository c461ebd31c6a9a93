"""The targets pages' reads: every target with its history, for those who set targets (the
views' SetsTargetsRequiredMixin decides who; one target is fetched through
certification.permissions.target_get_for_setter)."""

from django.db.models import QuerySet

from certification.models import Target, TargetChange


def target_list_with_history() -> QuerySet[Target]:
    """Every target, soonest deadline first, with its changes and who made them: two queries."""
    return Target.objects.select_related("region", "constituency", "programme").prefetch_related(
        "changes__actor"
    )


def target_history_list(*, target: Target) -> list[TargetChange]:
    """A target's changes, oldest first, with who made each."""
    return list(target.changes.select_related("actor"))
