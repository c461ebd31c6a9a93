"""The cohorts behind a figure of the dashboard: at risk (for a reason, if given), or run by a
trainer."""

from reporting import dashboard_tables as tables
from reporting.selectors.dashboard_lists import cohorts_for_figure
from reporting.views.base import FIGURE_TITLES, cohort_href
from reporting.views.figure_list import FigureListView


class DashboardCohortsView(FigureListView):
    """The cohorts behind a figure: at risk (for a reason, if given), or run by a trainer."""

    # The table each figure's cohorts are shown in; its keys are the figures this page lists.
    tables_by_figure = {"at_risk": tables.risks_table, "trainer_cohorts": tables.trainer_cohorts_table}
    figures = tables_by_figure.keys()
    template_name = "cohorts.html"
    download_slug = "cohorts"

    def figure_list(self, data: dict) -> tables.Table:
        figure = data["figure"]
        cohorts = cohorts_for_figure(
            figure=figure,
            region_id=self.viewer.region_id,
            reason=data.get("reason"),
            trainer_id=data.get("trainer"),
        )
        make_table = self.tables_by_figure[figure]
        return make_table(
            cohorts, cohort_href=cohort_href(self.request.user), caption=str(FIGURE_TITLES[figure])
        )

    def download_table(self, listed: tables.Table, *, figure: str) -> tables.Table:
        return listed

    def page_items(self, listed: tables.Table) -> list:
        return listed.rows

    def page_context(self, listed: tables.Table, page, *, figure: str) -> dict:
        return {"table": listed}
