"""Staff pages of the member import: upload and check, preview, confirm.

Who may use them: holders of imports.add_memberimport (national staff). Anonymous visitors
are sent to sign in; everyone else gets a 403. An import is found through
member_import_get_for_user (404 for anyone who may not import).
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from config.tables import table_configure
from imports.forms import MemberImportForm
from imports.models import MemberImportStatus
from imports.parsing import MAX_FILE_BYTES, ImportFileError
from imports.selectors import member_import_get_for_user, member_import_list_visible_to
from imports.services import member_import_check, member_import_confirm
from imports.tables import ImportRowTable, MemberImportTable

IMPORTS_PER_PAGE = 20
ROWS_PER_PAGE = 100


class MemberImportPermissionMixin(PermissionRequiredMixin):
    permission_required = "imports.add_memberimport"


class MemberImportCreateView(MemberImportPermissionMixin, View):
    """Upload a file to check it; below, the imports made so far."""

    template_name = "imports/memberimport_create.html"

    def get(self, request):
        return self._render(request, MemberImportForm(user=request.user))

    def post(self, request):
        form = MemberImportForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        try:
            member_import = member_import_check(
                actor=request.user,
                name=upload.name,
                data=upload.read(MAX_FILE_BYTES + 1),
                cohort=form.cleaned_data["cohort"],
            )
        except (ImportFileError, ValidationError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            form.add_error("file", message)
            return self._render(request, form, status=400)
        return redirect("imports:import-detail", pk=member_import.pk)

    def _render(self, request, form, status=200):
        table = table_configure(
            MemberImportTable(member_import_list_visible_to(user=request.user)),
            request=request,
            per_page=IMPORTS_PER_PAGE,
        )
        count = table.paginator.count
        table.caption = ngettext("%(count)d import", "%(count)d imports", count) % {"count": count}
        return render(request, self.template_name, {"form": form, "table": table}, status=status)


class MemberImportDetailView(MemberImportPermissionMixin, View):
    """The preview of a checked file (row by row, errors per field), or what became of it."""

    template_name = "imports/memberimport_detail.html"

    def get(self, request, pk):
        member_import = member_import_get_for_user(user=request.user, pk=pk)
        errors_only = request.GET.get("show") == "errors"
        rows = (
            [row for row in member_import.preview if row["errors"]] if errors_only else member_import.preview
        )
        table = table_configure(ImportRowTable(rows), request=request, per_page=ROWS_PER_PAGE)
        count = table.paginator.count
        table.caption = (
            ngettext("%(count)d row with errors", "%(count)d rows with errors", count)
            if errors_only
            else ngettext("%(count)d row", "%(count)d rows", count)
        ) % {"count": count}
        return render(
            request,
            self.template_name,
            {
                "member_import": member_import,
                "table": table,
                "errors_only": errors_only,
                "statuses": MemberImportStatus,
            },
        )


class MemberImportConfirmView(MemberImportPermissionMixin, View):
    """Write every row of a checked file, or none."""

    def post(self, request, pk):
        member_import = member_import_get_for_user(user=request.user, pk=pk)
        try:
            member_import = member_import_confirm(member_import=member_import, actor=request.user)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("imports:import-detail", pk=pk)
        member_import.refresh_from_db()  # without a broker the write has run already
        if member_import.status == MemberImportStatus.CONFIRMED:
            messages.success(
                request,
                _("Imported: %(new)s new members (invitations on their way), %(updated)s updated.")
                % {"new": member_import.rows_new, "updated": member_import.rows_updated},
            )
        elif member_import.status == MemberImportStatus.REFUSED:
            messages.error(
                request,
                _(
                    "Nothing was imported: some rows no longer pass the check. "
                    "See them below, then upload the file again."
                ),
            )
        elif member_import.write_enqueued_at is None:
            messages.warning(
                request,
                _(
                    "Confirmed, but nothing has been written yet: the task queue cannot be reached "
                    "just now. It is tried again automatically every minute; you need not confirm again."
                ),
            )
        else:
            messages.info(
                request, _("Confirmed. The members are being written; this page shows when it is done.")
            )
        return redirect("imports:import-detail", pk=pk)
