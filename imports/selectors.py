"""Reads of the imports app, and the one access point to an import."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from imports.models import MemberImport
from training.models import Cohort, CohortStatus, VersionStatus
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
