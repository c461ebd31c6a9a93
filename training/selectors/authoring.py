"""Reads for the pages where national staff author programmes.

Programmes, versions and modules are fetched through training.permissions. Materials,
assignments and rubric criteria have no access function there, so the three below play that part: they are
called only by views that have already required the author permission, and check it again.
Each page's cost is a fixed number of queries, whatever the number of rows.
"""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from training.models import (
    Assignment,
    Cohort,
    Material,
    Module,
    Programme,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    VersionStatus,
)
from training.permissions import user_authors_programmes
from training.uploads import FILE_TYPES


def _count(queryset: QuerySet, *, by: str) -> Coalesce:
    """COUNT of `queryset` rows, correlated through the column `by` (filtered on OuterRef).

    A subquery rather than Count() over joins: two joined counts would multiply each other.
    """
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- Access to materials and assignments -------------------------------------------------


def material_get_for_author(*, user, pk) -> Material:
    """A material of any version, for programme authors; 404 for anyone else."""
    materials = Material.objects.select_related("module__version__programme").filter(
        module__version__in=ProgrammeVersion.objects.all()
    )
    material = materials.filter(pk=pk).first() if user_authors_programmes(user) else None
    if material is None:
        raise Http404("Not found.")
    return material


def assignment_get_for_author(*, user, pk) -> Assignment:
    """An assignment of any version, for programme authors; 404 for anyone else."""
    assignments = Assignment.objects.select_related("module__version__programme").filter(
        module__version__in=ProgrammeVersion.objects.all()
    )
    assignment = assignments.filter(pk=pk).first() if user_authors_programmes(user) else None
    if assignment is None:
        raise Http404("Not found.")
    return assignment


def criterion_get_for_author(*, user, pk) -> RubricCriterion:
    """A rubric criterion of any version, for programme authors; 404 for anyone else."""
    criteria = RubricCriterion.objects.select_related("assignment__module__version__programme")
    criterion = criteria.filter(pk=pk).first() if user_authors_programmes(user) else None
    if criterion is None:
        raise Http404("Not found.")
    return criterion


# --- Programmes ----------------------------------------------------------------------


def programme_list_for_author_page(*, programmes: QuerySet[Programme]) -> QuerySet[Programme]:
    """`programmes` (from permissions) with what the list page shows, in one query.

    Annotated with `published_number` (the version new cohorts follow, or None) and
    `draft_number` (the draft being edited, or None).
    """
    versions = ProgrammeVersion.objects.filter(programme=OuterRef("pk"))
    published = versions.filter(status=VersionStatus.PUBLISHED).order_by("-number")
    draft = versions.filter(status=VersionStatus.DRAFT)
    return programmes.annotate(
        published_number=Subquery(published.values("number")[:1]),
        draft_number=Subquery(draft.values("number")[:1]),
    ).order_by("title", "pk")


def programme_slug_in_use(*, slug: str, exclude_pk: int | None = None) -> bool:
    programmes = Programme.objects.filter(slug=slug)
    if exclude_pk is not None:
        programmes = programmes.exclude(pk=exclude_pk)
    return programmes.exists()


def programme_draft_get(*, programme: Programme) -> ProgrammeVersion | None:
    """The programme's draft version, if one is being edited."""
    return programme.versions.filter(status=VersionStatus.DRAFT).first()


def programme_version_list(*, programme: Programme) -> list[ProgrammeVersion]:
    """The programme's versions, newest first, with `module_count` and `cohort_count`."""
    return list(
        programme.versions.annotate(
            module_count=_count(Module.objects.filter(version=OuterRef("pk")), by="version"),
            cohort_count=_count(Cohort.objects.filter(version=OuterRef("pk")), by="version"),
        ).order_by("-number")
    )


# --- Versions and modules ------------------------------------------------------------


def version_module_list(*, version: ProgrammeVersion) -> list[Module]:
    """The version's modules in order, with `material_count` and `assignment_count`."""
    return list(
        version.modules.annotate(
            material_count=_count(Material.objects.filter(module=OuterRef("pk")), by="module"),
            assignment_count=_count(Assignment.objects.filter(module=OuterRef("pk")), by="module"),
        ).order_by("position")
    )


def version_assignment_list(*, version: ProgrammeVersion) -> list[Assignment]:
    """The version's assignments in module order, with their module and `criterion_count`.

    The version's page reads both the completion rule (those required for completion) and
    what stops publishing (those with no criteria yet) from this one query.
    """
    return list(
        Assignment.objects.filter(module__version=version)
        .annotate(
            criterion_count=_count(RubricCriterion.objects.filter(assignment=OuterRef("pk")), by="assignment")
        )
        .select_related("module")
        .order_by("module__position", "pk")
    )


def module_material_list(*, module: Module) -> list[Material]:
    """The module's files and links, each with `type_label` ("PDF", "Word"; blank for links)."""
    materials = list(module.attachments.order_by("pk"))
    for material in materials:
        file_type = FILE_TYPES.get(material.content_type)
        material.type_label = file_type.label if file_type else ""
    return materials


def module_assignment_list(*, module: Module) -> list[Assignment]:
    """The module's assignments, each with `criterion_count` (0: no rubric yet)."""
    return list(
        module.assignments.annotate(
            criterion_count=_count(RubricCriterion.objects.filter(assignment=OuterRef("pk")), by="assignment")
        ).order_by("pk")
    )


# --- Rubrics -------------------------------------------------------------------------


def assignment_criterion_list(*, assignment: Assignment) -> list[RubricCriterion]:
    """The assignment's rubric: its criteria in order, each with `levels` lowest first. Two queries."""
    return list(
        assignment.criteria.order_by("position").prefetch_related(
            Prefetch("levels", queryset=RubricLevel.objects.order_by("position"))
        )
    )
