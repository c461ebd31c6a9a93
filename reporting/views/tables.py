"""One of the dashboard's tables in full: sorted, filtered, paged, and as CSV or XLSX."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from audit.services import audit_member_list_record
from reporting import dashboard_tables as tables
from reporting.forms import TableQueryForm
from reporting.selectors.dashboard import (
    Scope,
    base_get,
    funnel,
    leaders_by_month,
    place_names,
    place_rows,
    target_list,
    targets_progress,
)
from reporting.selectors.dashboard_cohorts import RISK_REASONS, trainer_rows
from reporting.selectors.dashboard_lists import cohorts_for_figure
from reporting.views.base import (
    FUNNEL_TITLES,
    TEMPLATES,
    DashboardRequiredMixin,
    bad_request,
    cohort_href,
    downloads,
    export_format,
    scope_label,
)

TABLE_PAGE_SIZE = 100
PEOPLE_TABLE_SLUGS = {"trainers"}  # tables that name members: each view or export is audited
TABLE_SLUGS = [
    "targets",
    "leaders-by-month",
    "funnel-programme",
    "funnel-region",
    "places",
    "cohorts-at-risk",
    "trainers",
]


class DashboardTableView(DashboardRequiredMixin, View):
    """One of the dashboard's tables in full: sorted by ?sort= (allow-listed keys), filtered
    (places: ?region=, ?seats=1, ?gap=1; cohorts at risk: ?reason=), as CSV or XLSX with
    ?format=csv or ?format=xlsx."""

    def get(self, request, slug):
        if slug not in TABLE_SLUGS:
            raise Http404("Not found.")
        query = TableQueryForm(request.GET, viewer=self.viewer, table=slug)
        if not query.is_valid():
            return bad_request(request)
        data = query.cleaned_data
        region = data["region"]
        table, title, suffix = self._table(request, slug, data)
        table = table.sorted_by(data.get("sort"))
        download = export_format(request)
        exported = download is not None
        if slug in PEOPLE_TABLE_SLUGS:
            audit_member_list_record(request=request, label=title, exported=exported)
        if exported:
            return table.export_response(export_format=download, slug=slug, suffix=suffix)
        page = Paginator(table.rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + "table.html",
            {
                "viewer": self.viewer,
                "table": table,
                "page_obj": page,
                "title": title,
                "slug": slug,
                "region": region,
                "sort": table.default_sort,
                "downloads": downloads(request),
                "risk_reasons": RISK_REASONS,
                "reason": data.get("reason") or "",
                "seats": bool(data.get("seats")),
                "gap": bool(data.get("gap")),
            },
        )

    def _table(self, request, slug, data) -> tuple[tables.Table, str, str]:
        """(the table, its title, the download's name suffix)."""
        viewer = self.viewer
        region_id = viewer.region_id
        region = data["region"]
        if slug == "targets":
            targets = target_list(region_id=region_id)
            base = base_get(region_id=region_id, targets=targets)
            table = tables.targets_table(targets_progress(targets=targets, base=base))
            return table, _("Targets and forecasts"), ""
        if slug == "leaders-by-month":
            target = data["target"]
            series = leaders_by_month(
                scope=Scope.of_target(target) if target else Scope(), region_id=region_id
            )
            caption = _("Leaders certified, cumulative by month: %(place)s") % {
                "place": target.place_label if target else scope_label(viewer)
            }
            suffix = f"target-{target.pk}" if target else ""
            return tables.leaders_by_month_table(series, caption=caption), caption, suffix
        if slug.startswith("funnel-"):
            group_by = slug.removeprefix("funnel-")
            if group_by == "region" and not viewer.is_national:
                group_by = "constituency"
            title = str(FUNNEL_TITLES[group_by])
            table = tables.funnel_table(
                funnel(group_by=group_by, region_id=region_id), group_by=group_by, caption=title
            )
            return table, title, group_by
        if slug == "places":
            targets = target_list(region_id=region_id)
            base = base_get(region_id=region_id, targets=targets)
            regions, constituencies = place_names(region_id=region.pk if region else None)
            rows = place_rows(
                base=base, targets=targets, regions=regions, constituencies=constituencies, region=region
            )
            if region:
                caption = _("Constituencies of %(region)s (target seats first)") % {"region": region.name}
                title = _("By place: %(region)s") % {"region": region.name}
            else:
                caption = title = _("By place: regions")
            table = tables.places_table(rows, region=region, caption=caption)
            table = tables.places_filtered(table, seats=bool(data.get("seats")), gap=bool(data.get("gap")))
            return table, title, f"region-{region.pk}" if region else "regions"
        if slug == "cohorts-at-risk":
            risks = cohorts_for_figure(figure="at_risk", region_id=region_id, reason=data.get("reason"))
            table = tables.risks_table(
                risks, cohort_href=cohort_href(request.user), caption=_("Cohorts at risk")
            )
            return table, _("Cohorts at risk"), data.get("reason") or ""
        table = tables.trainers_table(trainer_rows(region_id=region_id), caption=_("Trainers"))
        return table, _("Trainers"), ""
