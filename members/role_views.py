"""National staff set the region each regional staff member oversees (their access scope,
apart from the member's own profile region; decision 0020). Who may use each view is in its
docstring."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from audit.services import audit_member_list_record
from config.tables import table_configure
from members.forms import StaffRegionForm
from members.permissions import regional_staff_get_for_granter, regional_staff_list_for_granter
from members.services import staff_region_set
from members.tables import RegionalStaffTable


class StaffRegionListView(PermissionRequiredMixin, View):
    """National staff (members.grant_roles): every regional staff member, the region they
    oversee and the region they live in. Viewing the list is recorded in the audit trail."""

    permission_required = "members.grant_roles"
    template_name = "members/staff_region_list.html"

    def get(self, request):
        staff = regional_staff_list_for_granter(user=request.user).order_by("last_name", "first_name", "pk")
        table = table_configure(RegionalStaffTable(staff), request=request)
        audit_member_list_record(request=request, label="Regional staff and their regions")
        return render(request, self.template_name, {"table": table})


class StaffRegionEditView(PermissionRequiredMixin, View):
    """National staff (members.grant_roles): set the region a regional staff member oversees.
    Recorded in the audit trail. A member who is not regional staff is a 404."""

    permission_required = "members.grant_roles"
    template_name = "members/staff_region_edit.html"

    def get(self, request, pk):
        member = regional_staff_get_for_granter(user=request.user, pk=pk)
        form = StaffRegionForm(initial={"region": member.staff_region_id})
        return self._render(request, member, form)

    def post(self, request, pk):
        member = regional_staff_get_for_granter(user=request.user, pk=pk)
        form = StaffRegionForm(request.POST)
        if not form.is_valid():
            return self._render(request, member, form, status=400)
        staff_region_set(user=member, region=form.cleaned_data["region"], actor=request.user)
        messages.success(
            request,
            _("%(name)s now oversees %(region)s.")
            % {"name": member.get_full_name() or member.email, "region": form.cleaned_data["region"].name},
        )
        return redirect("members:staff-region-list")

    def _render(self, request, member, form, *, status=200):
        return render(request, self.template_name, {"member": member, "form": form}, status=status)
