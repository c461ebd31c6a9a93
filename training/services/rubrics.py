"""Authoring rubrics: an assignment's criteria, each with its levels, lowest first.

Like the rest of a programme's content, a rubric changes only while its version is a draft
(the same refusal as training.services.programmes). Every change locks the version's row
first, as publishing does, so a rubric never changes under a version being published.
"""

from collections.abc import Sequence
from typing import TypedDict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from training.models import Assignment, Outcome, ProgrammeVersion, RubricCriterion, RubricLevel
from training.services.programmes import _editable_check

MIN_LEVELS = 2
MAX_LEVELS = 6
MAX_CRITERIA = 20


class LevelData(TypedDict):
    title: str
    description: str
    outcome: str


class CriterionData(TypedDict):
    """One row of a whole rubric: `id` is the saved criterion it updates, or None for a new one."""

    id: int | None
    title: str
    description: str
    levels: Sequence[LevelData]


def _draft_lock(version_id: int) -> ProgrammeVersion:
    version = ProgrammeVersion.objects.select_for_update().get(pk=version_id)
    _editable_check(version)
    return version


def criterion_levels_check(*, levels: Sequence[LevelData]) -> None:
    """The rules a criterion's levels follow, or a ValidationError on "levels" naming each broken one.

    Also called by the criterion form, so that the page and the service say the same thing.
    """
    errors = []
    if len(levels) < MIN_LEVELS:
        errors.append(
            _(
                "A criterion needs at least %(min)s levels, from the lowest to the highest, "
                "so that a marker has a choice to make. Add another level."
            )
            % {"min": MIN_LEVELS}
        )
    if len(levels) > MAX_LEVELS:
        errors.append(_("A criterion has at most %(max)s levels. Remove one.") % {"max": MAX_LEVELS})
    seen, repeated = set(), {}
    for level in levels:
        key = level["title"].strip().casefold()
        if key in seen:
            repeated.setdefault(key, level["title"].strip())
        seen.add(key)
    for title in repeated.values():
        errors.append(
            _("Two levels are called “%(title)s”. Give each level its own title.") % {"title": title}
        )
    if levels and not any(level["outcome"] == Outcome.PASS for level in levels):
        errors.append(
            _("Give at least one level the outcome “Pass”: otherwise no work could ever pass this criterion.")
        )
    if errors:
        raise ValidationError({"levels": errors})


def _levels_build(levels: Sequence[LevelData]) -> tuple[list[RubricLevel], list[str]]:
    """Unsaved RubricLevels, position 0 the lowest, and what is wrong with any of them."""
    built, errors = [], []
    for position, data in enumerate(levels):
        level = RubricLevel(
            position=position,
            title=data["title"].strip(),
            description=data["description"].strip(),
            outcome=data["outcome"],
        )
        try:
            # The positions are set here, 0 to n-1, so the constraint on them holds by construction.
            level.full_clean(exclude=["criterion"], validate_constraints=False)
        except ValidationError as error:
            for messages in error.message_dict.values():
                errors.extend(
                    _("Level %(number)s: %(message)s") % {"number": position + 1, "message": message}
                    for message in messages
                )
        built.append(level)
    return built, errors


def _criterion_check(criterion: RubricCriterion, levels: Sequence[LevelData]) -> list[RubricLevel]:
    """Check the criterion and its levels together, so every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    try:
        criterion.full_clean(exclude=["assignment"], validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        criterion_levels_check(levels=levels)
    except ValidationError as error:
        errors.update(error.message_dict)
    built, level_errors = _levels_build(levels)
    if level_errors:
        errors.setdefault("levels", []).extend(level_errors)
    if errors:
        raise ValidationError(errors)
    return built


def _levels_replace(criterion: RubricCriterion, built: list[RubricLevel]) -> None:
    criterion.levels.all().delete()
    for level in built:
        level.criterion = criterion
    RubricLevel.objects.bulk_create(built)


def _positions_write(ordered: list[RubricCriterion]) -> None:
    # Two passes so that the unique (assignment, position) constraint holds at every step.
    offset = len(ordered) + 1000
    for index, criterion in enumerate(ordered, start=1):
        RubricCriterion.objects.filter(pk=criterion.pk).update(position=offset + index)
    for index, criterion in enumerate(ordered, start=1):
        RubricCriterion.objects.filter(pk=criterion.pk).update(position=index)


@transaction.atomic
def criterion_create(
    *, assignment: Assignment, title: str, description: str = "", levels: Sequence[LevelData]
) -> RubricCriterion:
    """Add a criterion, with its levels (lowest first), at the end of the assignment's rubric."""
    _draft_lock(assignment.module.version_id)
    last = assignment.criteria.aggregate(last=Max("position"))["last"] or 0
    criterion = RubricCriterion(
        assignment=assignment, position=last + 1, title=title.strip(), description=description.strip()
    )
    built = _criterion_check(criterion, levels)
    criterion.save()
    _levels_replace(criterion, built)
    return criterion


@transaction.atomic
def criterion_update(
    *, criterion: RubricCriterion, title: str, description: str, levels: Sequence[LevelData]
) -> RubricCriterion:
    """Save a criterion's title and description, and replace its levels with `levels`."""
    _draft_lock(criterion.assignment.module.version_id)
    criterion.title = title.strip()
    criterion.description = description.strip()
    built = _criterion_check(criterion, levels)
    criterion.save(update_fields=["title", "description"])
    _levels_replace(criterion, built)
    return criterion


@transaction.atomic
def criterion_move(*, criterion: RubricCriterion, direction: str) -> None:
    """Move a criterion one place "up" or "down" in its rubric."""
    _draft_lock(criterion.assignment.module.version_id)
    ordered = list(criterion.assignment.criteria.order_by("position"))
    index = next(i for i, item in enumerate(ordered) if item.pk == criterion.pk)
    target = index - 1 if direction == "up" else index + 1
    if direction not in {"up", "down"} or not 0 <= target < len(ordered):
        return  # already first or last: nothing to do
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _positions_write(ordered)


@transaction.atomic
def criterion_delete(*, criterion: RubricCriterion) -> None:
    """Delete a criterion with its levels; the criteria after it move up one place."""
    assignment = criterion.assignment
    _draft_lock(assignment.module.version_id)
    criterion.delete()
    _positions_write(list(assignment.criteria.order_by("position")))


@transaction.atomic
def rubric_save(*, assignment: Assignment, criteria: Sequence[CriterionData]) -> list[RubricCriterion]:
    """Make the assignment's rubric exactly `criteria`, in that order, in one transaction.

    Rows with an `id` update that criterion, rows without one add a criterion, and the
    assignment's criteria not listed are deleted with their levels. Every row follows the same
    rules as criterion_create. Refused as a whole, changing nothing, with a ValidationError
    whose keys are the rows' indexes ("0" for the first) and NON_FIELD_ERRORS for the rubric.
    """
    _draft_lock(assignment.module.version_id)
    if len(criteria) > MAX_CRITERIA:
        raise ValidationError(
            _("A rubric has at most %(max)s criteria. Remove one.") % {"max": MAX_CRITERIA}, code="too_many"
        )
    saved = {criterion.pk: criterion for criterion in assignment.criteria.select_for_update()}
    rows: list[tuple[RubricCriterion, list[RubricLevel]]] = []
    errors: dict[str, list[str]] = {}
    for index, data in enumerate(criteria):
        if data["id"] is None:
            criterion = RubricCriterion(assignment=assignment)
        elif data["id"] in saved:
            criterion = saved[data["id"]]
        else:
            # Deleted meanwhile, or another assignment's: never touch it from here.
            errors[str(index)] = [
                _(
                    "This criterion is no longer part of the rubric. "
                    "Reload the page to see the rubric as it is."
                )
            ]
            continue
        criterion.title, criterion.description = data["title"].strip(), data["description"].strip()
        criterion.position = index + 1  # its place once saved; checked now with the rest
        try:
            rows.append((criterion, _criterion_check(criterion, data["levels"])))
        except ValidationError as error:
            errors[str(index)] = [message for messages in error.message_dict.values() for message in messages]
    ids = [data["id"] for data in criteria if data["id"] is not None]
    if len(ids) != len(set(ids)):
        errors.setdefault(NON_FIELD_ERRORS, []).append(_("A criterion appears twice. Reload the page."))
    if errors:
        raise ValidationError(errors)

    kept = {criterion.pk for criterion, _levels in rows if criterion.pk}
    RubricCriterion.objects.filter(pk__in=set(saved) - kept).delete()
    # Out of the way first, so that the unique (assignment, position) constraint holds at every step.
    offset = len(saved) + len(criteria) + 1000
    for step, pk in enumerate(kept, start=1):
        RubricCriterion.objects.filter(pk=pk).update(position=offset + step)
    RubricLevel.objects.filter(criterion_id__in=kept).delete()
    levels: list[RubricLevel] = []
    for position, (criterion, built) in enumerate(rows, start=1):
        criterion.position = position
        if criterion.pk:
            criterion.save(update_fields=["position", "title", "description"])
        else:
            criterion.save()
        for level in built:
            level.criterion = criterion
        levels.extend(built)
    RubricLevel.objects.bulk_create(levels)
    return [criterion for criterion, _levels in rows]
