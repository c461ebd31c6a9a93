"""The audit trail for national staff: filtered, paginated, and exported as CSV.

Who may use it: holders of audit.view_auditentry (national staff); anonymous visitors are
sent to sign in, everyone else gets a 403.
"""

import csv
import json

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View

from audit.forms import AuditFilterForm
from audit.models import AuditAction
from audit.selectors import audit_entry_as_dict, audit_entry_list
from audit.services import audit_record
from audit.tables import AuditEntryTable

# One function decides what a spreadsheet would run as a formula; the dashboard's CSVs use it too.
from config.spreadsheets import csv_safe
from config.tables import table_configure

PER_PAGE = 50
CSV_COLUMNS = [
    ("at", _("When (UTC)")),
    ("action", _("Action")),
    ("action_label", _("Action (in words)")),
    ("by", _("By")),
    ("object_type", _("Object type")),
    ("object_id", _("Object id")),
    ("object", _("Object")),
    ("about", _("About")),
    ("changes", _("Changes")),
    ("client_address", _("Client address")),
]


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer."""

    def write(self, value):
        return value


class AuditEntryListView(PermissionRequiredMixin, View):
    """National staff: every audit entry, newest first, filtered by action, who acted, whom
    it is about and dates (allow-listed keys only); ?format=csv downloads the filtered list."""

    permission_required = "audit.view_auditentry"
    template = "audit/auditentry_list.html"

    def get(self, request):
        form = AuditFilterForm(request.GET)
        wants_csv = request.GET.get("format") == "csv"
        if not form.is_valid() or request.GET.get("format") not in (None, "csv"):
            return render(request, self.template, {"form": form, "invalid": True}, status=400)
        filters = form.filters()
        entries = audit_entry_list(**filters)
        if wants_csv:
            return self._csv(request, entries, filters)
        table = table_configure(AuditEntryTable(entries), request=request, per_page=PER_PAGE)
        count = table.paginator.count
        table.caption = ngettext("%(count)d entry", "%(count)d entries", count) % {"count": count}
        if any(filters.values()):
            table.caption += " " + str(_("(filtered)"))
        params = request.GET.copy()
        params.pop("page", None)
        params["format"] = "csv"
        return render(
            request,
            self.template,
            {
                "form": form,
                "table": table,
                "is_filtered": any(filters.values()),
                "csv_url": "?" + params.urlencode(),
            },
        )

    def _csv(self, request, entries, filters):
        # Recorded before the first row is sent: an export that fails halfway still shows.
        audit_record(
            actor=request.user,
            action=AuditAction.AUDIT_EXPORTED,
            changes={"filters": {key: str(value) for key, value in filters.items() if value}},
            request=request,
        )
        writer = csv.writer(_Echo())

        def rows():
            yield "\ufeff"  # lets Excel read names as UTF-8
            yield writer.writerow([str(label) for _key, label in CSV_COLUMNS])
            for entry in entries.iterator(chunk_size=2000):
                data = audit_entry_as_dict(entry)
                data["changes"] = json.dumps(data["changes"], ensure_ascii=False, sort_keys=True)
                yield writer.writerow([csv_safe(_cell(data[key])) for key, _label in CSV_COLUMNS])

        filename = f"audit-{timezone.localdate():%Y-%m-%d}.csv"
        return StreamingHttpResponse(
            rows(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _cell(value) -> str:
    return "" if value is None else str(value)
