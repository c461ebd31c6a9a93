"""The cohorts behind a figure of the dashboard: at risk (for a reason, if given), or run by a
trainer."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views import View

from reporting import dashboard_tables as tables
from reporting.forms import FigureForm
from reporting.selectors.dashboard_lists import PEOPLE_FIGURES, cohorts_for_figure
from reporting.views.base import (
    FIGURE_TITLES,
    LIST_PAGE_SIZE,
    TEMPLATES,
    DashboardRequiredMixin,
    bad_request,
    cohort_href,
    downloads,
    export_format,
    figure_filters_described,
)


class DashboardCohortsView(DashboardRequiredMixin, View):
    """The cohorts behind a figure: at risk (for a reason, if given), or run by a trainer."""

    def get(self, request):
        form = FigureForm(request.GET, viewer=self.viewer)
        if not form.is_valid() or form.cleaned_data["figure"] in PEOPLE_FIGURES:
            return bad_request(request)
        data = form.cleaned_data
        figure = data["figure"]
        cohorts = cohorts_for_figure(
            figure=figure,
            region_id=self.viewer.region_id,
            reason=data.get("reason"),
            trainer_id=data.get("trainer"),
        )
        href = cohort_href(request.user)
        if figure == "at_risk":
            table = tables.risks_table(cohorts, cohort_href=href, caption=str(FIGURE_TITLES[figure]))
        else:
            table = tables.trainer_cohorts_table(
                cohorts, cohort_href=href, caption=str(FIGURE_TITLES[figure])
            )
        download = export_format(request)
        if download is not None:
            return table.export_response(
                export_format=download, slug="cohorts", suffix=figure.replace("_", "-")
            )
        page = Paginator(table.rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + "cohorts.html",
            {
                "viewer": self.viewer,
                "title": FIGURE_TITLES[figure],
                "described": figure_filters_described(form.cleaned_data),
                "table": table,
                "page_obj": page,
                "downloads": downloads(request),
            },
        )
