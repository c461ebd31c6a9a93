"""Authoring programmes: drafts are edited, published versions never change."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from training.models import (
    Assignment,
    Material,
    MaterialKind,
    Module,
    Programme,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    VersionStatus,
)
from training.signals import training_offer_changed_announce
from training.uploads import FILE_TYPE_CHOICES, FILE_TYPE_KEYS, material_file_check

MAX_ATTEMPTS = 10


def _editable_check(version: ProgrammeVersion) -> None:
    if not version.is_editable:
        raise ValidationError(
            _("Version %(number)s is published and cannot change. Start a new draft to edit it.")
            % {"number": version.number},
            code="published",
        )


@transaction.atomic
def programme_create(*, slug: str, title: str, description: str = "") -> Programme:
    """A new programme with an empty draft version 1."""
    programme = Programme(slug=slug, title=title, description=description)
    programme.full_clean()
    programme.save()
    ProgrammeVersion.objects.create(programme=programme, number=1)
    training_offer_changed_announce()
    return programme


@transaction.atomic
def programme_update(
    *,
    programme: Programme,
    title: str,
    description: str,
    session_reminder_hours: str | None = None,
    assignment_reminder_days: int | None = None,
    absence_warning_after: int | None = None,
) -> Programme:
    """Change a programme's details; reminder settings left as None keep their value.

    New reminder settings apply from the next sweep: reminders already written stay as they
    are, and a session reminder whose time no longer matches the programme is not sent.
    """
    programme.title = title
    programme.description = description
    fields = ["title", "description"]
    reminders = {
        "session_reminder_hours": session_reminder_hours,
        "assignment_reminder_days": assignment_reminder_days,
        "absence_warning_after": absence_warning_after,
    }
    for name, value in reminders.items():
        if value is not None:
            setattr(programme, name, value)
            fields.append(name)
    programme.full_clean()
    programme.save(update_fields=fields)
    training_offer_changed_announce()
    return programme


@transaction.atomic
def programme_slug_update(*, programme: Programme, slug: str) -> Programme:
    """Change a programme's short name. Links use its id, so nothing that points at it breaks."""
    programme.slug = slug
    programme.full_clean()
    programme.save(update_fields=["slug"])
    training_offer_changed_announce()
    return programme


@transaction.atomic
def version_draft_create(*, programme: Programme) -> ProgrammeVersion:
    """Start the next draft as a copy of the latest version. One draft at a time.

    The copy is made in a fixed number of queries, whatever the size of the programme:
    one read and one bulk insert per kind of row.
    """
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.versions.filter(status=VersionStatus.DRAFT).exists():
        raise ValidationError(_("This programme already has a draft. Edit or publish it first."))
    source = programme.versions.order_by("-number").first()
    draft = ProgrammeVersion.objects.create(
        programme=programme,
        number=(source.number + 1) if source else 1,
        summary=source.summary if source else "",
        min_attendance_percent=source.min_attendance_percent if source else 75,
        marking_turnaround_days=source.marking_turnaround_days if source else 7,
        certificate_valid_months=source.certificate_valid_months if source else None,
    )
    if source:
        _content_copy(source=source, draft=draft)
    return draft


def _content_copy(*, source: ProgrammeVersion, draft: ProgrammeVersion) -> None:
    """Copy modules, materials, assignments and their rubrics from `source` into `draft`.

    bulk_create sets the new rows' ids (PostgreSQL and SQLite both return them), and keeps
    the order it was given, so each copy is paired with its source by position in a list.
    """
    modules = list(
        source.modules.order_by("position").prefetch_related(
            Prefetch("attachments", queryset=Material.objects.order_by("pk")),
            Prefetch("assignments", queryset=Assignment.objects.order_by("pk")),
            Prefetch(
                "assignments__criteria",
                queryset=RubricCriterion.objects.order_by("position").prefetch_related("levels"),
            ),
        )
    )
    module_copies = Module.objects.bulk_create(
        Module(
            version=draft,
            position=module.position,
            title=module.title,
            summary=module.summary,
            learning_outcomes=module.learning_outcomes,
            materials=module.materials,
        )
        for module in modules
    )
    Material.objects.bulk_create(
        Material(
            module=copy,
            kind=material.kind,
            title=material.title,
            url=material.url,
            file=material.file.name,  # the file is shared, never rewritten
            content_type=material.content_type,
            size=material.size,
        )
        for module, copy in zip(modules, module_copies, strict=True)
        for material in module.attachments.all()
    )
    assignments = [assignment for module in modules for assignment in module.assignments.all()]
    copy_of_module = {module.pk: copy for module, copy in zip(modules, module_copies, strict=True)}
    assignment_copies = Assignment.objects.bulk_create(
        Assignment(
            module=copy_of_module[assignment.module_id],
            title=assignment.title,
            brief=assignment.brief,
            due_offset_days=assignment.due_offset_days,
            required_for_completion=assignment.required_for_completion,
            accepted_file_types=assignment.accepted_file_types,
            max_attempts=assignment.max_attempts,
        )
        for assignment in assignments
    )
    criteria = [criterion for assignment in assignments for criterion in assignment.criteria.all()]
    copy_of_assignment = {
        assignment.pk: copy for assignment, copy in zip(assignments, assignment_copies, strict=True)
    }
    criterion_copies = RubricCriterion.objects.bulk_create(
        RubricCriterion(
            assignment=copy_of_assignment[criterion.assignment_id],
            position=criterion.position,
            title=criterion.title,
            description=criterion.description,
        )
        for criterion in criteria
    )
    RubricLevel.objects.bulk_create(
        RubricLevel(
            criterion=copy,
            position=level.position,
            title=level.title,
            description=level.description,
            outcome=level.outcome,
        )
        for criterion, copy in zip(criteria, criterion_copies, strict=True)
        for level in criterion.levels.all()
    )


@transaction.atomic
def version_update(
    *,
    version: ProgrammeVersion,
    summary: str,
    min_attendance_percent: int,
    marking_turnaround_days: int | None = None,
    certificate_valid_months: int | None = None,
) -> ProgrammeVersion:
    """Save the version's summary, completion rule, and (if given) marking turnaround.

    `certificate_valid_months` is always saved: None means certificates never lapse.
    """
    _editable_check(version)
    version.summary = summary
    version.min_attendance_percent = min_attendance_percent
    version.certificate_valid_months = certificate_valid_months
    fields = ["summary", "min_attendance_percent", "certificate_valid_months"]
    if marking_turnaround_days is not None:
        version.marking_turnaround_days = marking_turnaround_days
        fields.append("marking_turnaround_days")
    version.full_clean()
    version.save(update_fields=fields)
    training_offer_changed_announce()
    return version


@transaction.atomic
def version_publish(*, version: ProgrammeVersion) -> ProgrammeVersion:
    """Publish a draft. New cohorts use it; running cohorts keep the version they started with."""
    version = ProgrammeVersion.objects.select_for_update().get(pk=version.pk)
    _editable_check(version)
    if not version.modules.exists():
        raise ValidationError(_("Add at least one module before publishing."))
    without_rubric = list(
        Assignment.objects.filter(module__version=version, criteria__isnull=True)
        .order_by("module__position", "pk")
        .values_list("title", flat=True)
    )
    if without_rubric:
        raise ValidationError(
            _(
                "Every assignment needs a rubric before the version is published, so that its "
                "work can be marked. Add criteria to: %(titles)s."
            )
            % {"titles": ", ".join(f"“{title}”" for title in without_rubric)},
            code="no_rubric",
        )
    version.programme.versions.filter(status=VersionStatus.PUBLISHED).update(status=VersionStatus.RETIRED)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    training_offer_changed_announce()
    return version


@transaction.atomic
def module_create(
    *,
    version: ProgrammeVersion,
    title: str,
    summary: str = "",
    learning_outcomes: str = "",
    materials: str = "",
) -> Module:
    _editable_check(version)
    ProgrammeVersion.objects.select_for_update().get(pk=version.pk)
    last = version.modules.aggregate(last=Max("position"))["last"] or 0
    module = Module(
        version=version,
        position=last + 1,
        title=title,
        summary=summary,
        learning_outcomes=learning_outcomes,
        materials=materials,
    )
    module.full_clean()
    module.save()
    return module


@transaction.atomic
def module_update(*, module: Module, **fields) -> Module:
    _editable_check(module.version)
    for name, value in fields.items():
        setattr(module, name, value)
    module.full_clean()
    module.save(update_fields=list(fields))
    return module


def _positions_write(version: ProgrammeVersion, ordered: list[Module]) -> None:
    # Two passes so that the unique (version, position) constraint holds at every step.
    offset = len(ordered) + 1000
    for index, module in enumerate(ordered, start=1):
        Module.objects.filter(pk=module.pk).update(position=offset + index)
    for index, module in enumerate(ordered, start=1):
        Module.objects.filter(pk=module.pk).update(position=index)


@transaction.atomic
def module_move(*, module: Module, direction: str) -> None:
    """Move a module one place "up" or "down" in its version."""
    _editable_check(module.version)
    ProgrammeVersion.objects.select_for_update().get(pk=module.version_id)
    ordered = list(module.version.modules.order_by("position"))
    index = next(i for i, item in enumerate(ordered) if item.pk == module.pk)
    target = index - 1 if direction == "up" else index + 1
    if direction not in {"up", "down"} or not 0 <= target < len(ordered):
        return  # already first or last: nothing to do
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _positions_write(module.version, ordered)


@transaction.atomic
def module_delete(*, module: Module) -> None:
    version = module.version
    _editable_check(version)
    ProgrammeVersion.objects.select_for_update().get(pk=version.pk)
    module.delete()
    _positions_write(version, list(version.modules.order_by("position")))


@transaction.atomic
def material_link_add(*, module: Module, title: str, url: str) -> Material:
    _editable_check(module.version)
    material = Material(module=module, kind=MaterialKind.LINK, title=title, url=url)
    material.full_clean()
    material.save()
    return material


@transaction.atomic
def material_file_add(*, module: Module, title: str, upload) -> Material:
    """Attach an uploaded file after checking its real type (by content) and size."""
    _editable_check(module.version)
    content_type = material_file_check(upload)
    material = Material(
        module=module,
        kind=MaterialKind.FILE,
        title=title,
        file=upload,
        content_type=content_type,
        size=upload.size,
    )
    material.full_clean()
    material.save()
    return material


@transaction.atomic
def material_delete(*, material: Material) -> None:
    _editable_check(material.module.version)
    material.delete()


def _assignment_limits_check(assignment: Assignment) -> None:
    """What the model leaves open: known file types only (stored in a stable order), 1 to 10 attempts."""
    keys = [key.strip() for key in assignment.accepted_file_types.split(",") if key.strip()]
    errors = {}
    unknown = sorted(set(keys) - FILE_TYPE_KEYS)
    if unknown:
        errors["accepted_file_types"] = _("These are not file types the platform accepts: %(keys)s.") % {
            "keys": ", ".join(unknown)
        }
    if not 1 <= assignment.max_attempts <= MAX_ATTEMPTS:
        errors["max_attempts"] = _("Allow from 1 to %(max)s attempts.") % {"max": MAX_ATTEMPTS}
    if errors:
        raise ValidationError(errors)
    assignment.accepted_file_types = ",".join(key for key, _label in FILE_TYPE_CHOICES if key in keys)


@transaction.atomic
def assignment_create(
    *,
    module: Module,
    title: str,
    brief: str,
    due_offset_days: int,
    required_for_completion: bool,
    accepted_file_types: str = "pdf,docx,odt",
    max_attempts: int = 3,
) -> Assignment:
    """An assignment without a rubric yet: add its criteria before the version is published.

    `accepted_file_types` holds keys of training.uploads.FILE_TYPES, comma-separated; empty
    means a written answer only.
    """
    _editable_check(module.version)
    assignment = Assignment(
        module=module,
        title=title,
        brief=brief,
        due_offset_days=due_offset_days,
        required_for_completion=required_for_completion,
        accepted_file_types=accepted_file_types,
        max_attempts=max_attempts,
    )
    _assignment_limits_check(assignment)
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, **fields) -> Assignment:
    _editable_check(assignment.module.version)
    for name, value in fields.items():
        setattr(assignment, name, value)
    _assignment_limits_check(assignment)
    assignment.full_clean()
    assignment.save(update_fields=list(fields))
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment) -> None:
    _editable_check(assignment.module.version)
    assignment.delete()
