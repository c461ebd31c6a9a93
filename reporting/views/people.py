"""The members or enrolments behind a figure of the dashboard: its count is the figure."""

from django.utils.translation import gettext as _

from audit.services import audit_member_list_record
from reporting import dashboard_tables as tables
from reporting.forecast import STAGE_LABELS
from reporting.selectors.dashboard_lists import PEOPLE_FIGURES, enrolment_stage, people_for_figure
from reporting.views.base import FIGURE_TITLES, cohort_href
from reporting.views.figure_list import FigureListView


class DashboardPeopleView(FigureListView):
    """The members or enrolments behind a figure: its count is the figure."""

    figures = PEOPLE_FIGURES
    template_name = "people.html"
    download_slug = "people"

    def figure_list(self, data: dict):
        return people_for_figure(
            figure=data["figure"],
            scope=data["scope"],
            region_id=self.viewer.region_id,
            stage=data.get("stage") or None,
            ends_by=data["ends_by"],
            trainer_id=data.get("trainer"),
        )

    def list_read(self, request, *, figure: str, exported: bool) -> None:
        audit_member_list_record(request=request, label=str(FIGURE_TITLES[figure]), exported=exported)

    def page_context(self, listed, page, *, figure: str) -> dict:
        kind = PEOPLE_FIGURES[figure]
        return {"kind": kind, "rows": self._rows_with_links(self.request, page.object_list, kind=kind)}

    def _rows_with_links(self, request, items, *, kind: str) -> list[dict]:
        rows = [self._row(item, kind=kind) for item in items]
        if kind == "enrolments":
            href = cohort_href(request.user)
            for row, item in zip(rows, items, strict=True):
                # Regional staff read their region's cohorts only; their members may train elsewhere.
                readable = self.viewer.is_national or item.cohort.region_id == self.viewer.region_id
                row["cohort_href"] = href(item.cohort_id) if readable else None
        return rows

    @staticmethod
    def _row(item, *, kind: str) -> dict:
        member = item.member if kind == "enrolments" else item
        profile = getattr(member, "profile", None)
        row = {
            "name": member.get_full_name() or _("(no name)"),
            "region": profile.region.name if profile else _("Place not recorded"),
            "constituency": profile.constituency.name if profile and profile.constituency else "",
        }
        if kind == "enrolments":
            row |= {
                "cohort": item.cohort.name,
                "cohort_id": item.cohort_id,
                "programme": item.programme.title,
                "status": item.get_status_display(),
                "stage": STAGE_LABELS[enrolment_stage(item)],
            }
        return row

    def download_table(self, listed, *, figure: str) -> tables.Table:
        kind = PEOPLE_FIGURES[figure]
        columns = [
            tables.Column("name", _("Name")),
            tables.Column("region", _("Region")),
            tables.Column("constituency", _("Constituency")),
        ]
        if kind == "enrolments":
            columns += [
                tables.Column("cohort", _("Cohort")),
                tables.Column("programme", _("Programme")),
                tables.Column("status", _("Status")),
                tables.Column("stage", _("Furthest stage")),
            ]
        return tables.Table(
            slug=figure,
            caption="",
            columns=columns,
            rows=[
                {key: str(value) for key, value in self._row(item, kind=kind).items()}
                for item in listed.iterator(chunk_size=2000)
            ],
        )
