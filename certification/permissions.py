"""Who may see and do what in certification: the one place that decides it.

Protected objects are reached through `<entity>_get_...` functions that raise Http404 for
what the user may not see, so a changed id in a URL reveals nothing.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from certification.models import Certificate, Target, TargetScope
from config.ids import id_from_text
from members.models import Constituency, Region
from members.permissions import staff_region_scope
from training.models import Enrolment


def user_manages_certificates(user) -> bool:
    """National staff: issue manually, revoke, review, and see every certificate."""
    return user.has_perm("certification.issue_certificates")


def user_sees_all_certificates(user) -> bool:
    """National staff, and anyone granted only to look (the model's view permission)."""
    return user_manages_certificates(user) or user.has_perm("certification.view_certificate")


def certificate_list_for_holder_or_staff(*, user) -> QuerySet[Certificate]:
    """The holder's own certificates, or every certificate for staff; none for anyone else."""
    if not user.is_authenticated:
        return Certificate.objects.none()
    # A withdrawn certificate (its holder erased their account) is no longer handed out.
    certificates = Certificate.objects.filter(holder__erased_at__isnull=True).select_related("holder")
    if not user_sees_all_certificates(user):
        certificates = certificates.filter(holder=user)
    return certificates


def certificate_get_for_holder_or_staff(*, user, pk) -> Certificate:
    """The holder's own certificate, or any certificate for staff; 404 for everyone else."""
    certificate = certificate_list_for_holder_or_staff(user=user).filter(pk=pk).first()
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def certificate_get_for_holder(*, user, pk) -> Certificate:
    """The user's own certificate: even staff reach only their own here."""
    certificate = Certificate.objects.filter(pk=pk, holder=user).first() if user.is_authenticated else None
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def certificate_get_for_staff(*, user, pk) -> Certificate:
    certificate = Certificate.objects.filter(pk=pk).first() if user_manages_certificates(user) else None
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def enrolment_get_for_certificate_staff(*, user, pk) -> Enrolment:
    enrolment = (
        Enrolment.objects.select_related("member", "cohort__version__programme").filter(pk=pk).first()
        if user_manages_certificates(user)
        else None
    )
    if enrolment is None:
        raise Http404("Not found.")
    return enrolment


# --- The dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardViewer:
    """Whose dashboard: every region (national staff), or one (regional staff)."""

    region: Region | None

    @property
    def region_id(self) -> int | None:
        return self.region.pk if self.region else None

    @property
    def is_national(self) -> bool:
        return self.region is None


def dashboard_viewer_get(*, user) -> DashboardViewer:
    """National staff see every region; regional staff the region they oversee (given by
    national staff: members.permissions.staff_region_scope, never their profile's region).
    Anyone else, and regional staff given no region, are refused with a reason."""
    if user.has_perm("certification.view_national_dashboard"):
        return DashboardViewer(region=None)
    if not user.has_perm("certification.view_dashboard"):
        raise PermissionDenied(_("The dashboard is for national and regional staff."))
    region_id = staff_region_scope(user)
    region = Region.objects.filter(pk=region_id).first() if region_id is not None else None
    if region is None:
        raise PermissionDenied(
            _(
                "Your dashboard shows the region you oversee, and you have not been given one. "
                "Ask national staff to set the region you oversee."
            )
        )
    return DashboardViewer(region=region)


def dashboard_region_get(*, viewer: DashboardViewer, value: str | None) -> Region | None:
    """The region a ?region= asks for: any for national staff, only their own for regional
    staff (404 otherwise, as for a region that does not exist). None when not asked."""
    if value in (None, ""):
        return None
    region_id = id_from_text(value)
    region = Region.objects.filter(pk=region_id).first() if region_id else None
    if region is None or (viewer.region is not None and region.pk != viewer.region.pk):
        raise Http404("Not found.")
    return region


def dashboard_constituency_get(*, viewer: DashboardViewer, pk: int, region: Region | None) -> Constituency:
    """A constituency in the viewer's region (and in `region`, if given); 404 otherwise."""
    constituencies = Constituency.objects.all()
    for limit in (viewer.region, region):
        if limit is not None:
            constituencies = constituencies.filter(region=limit)
    constituency = constituencies.filter(pk=pk).first()
    if constituency is None:
        raise Http404("Not found.")
    return constituency


def dashboard_target_get(*, viewer: DashboardViewer, pk: int) -> Target:
    """A target the viewer may see (regional staff: their region's and its seats'); 404 otherwise."""
    targets = Target.objects.select_related("region", "constituency", "programme")
    if viewer.region is not None:
        targets = targets.filter(
            Q(scope=TargetScope.REGION, region=viewer.region)
            | Q(scope=TargetScope.CONSTITUENCY, constituency__region=viewer.region)
        )
    target = targets.filter(pk=pk).first()
    if target is None:
        raise Http404("Not found.")
    return target


def target_get_for_setter(*, user, pk) -> Target:
    """Any target, for those who set targets; 404 for everyone else."""
    target = (
        Target.objects.select_related("region", "constituency", "programme").filter(pk=pk).first()
        if user.has_perm("certification.set_targets")
        else None
    )
    if target is None:
        raise Http404("Not found.")
    return target
