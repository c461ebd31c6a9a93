"""The members or enrolments behind a figure of the dashboard: its count is the figure."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from audit.services import audit_member_list_record
from reporting import dashboard_tables as tables
from reporting.forecast import STAGE_LABELS
from reporting.forms import FigureForm
from reporting.selectors.dashboard_lists import PEOPLE_FIGURES, enrolment_stage, people_for_figure
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


class DashboardPeopleView(DashboardRequiredMixin, View):
    """The members or enrolments behind a figure: its count is the figure."""

    def get(self, request):
        form = FigureForm(request.GET, viewer=self.viewer)
        if not form.is_valid() or form.cleaned_data["figure"] not in PEOPLE_FIGURES:
            return bad_request(request)
        data = form.cleaned_data
        figure = data["figure"]
        people = people_for_figure(
            figure=figure,
            scope=data["scope"],
            region_id=self.viewer.region_id,
            stage=data.get("stage") or None,
            ends_by=data["ends_by"],
            trainer_id=data.get("trainer"),
        )
        kind = PEOPLE_FIGURES[figure]
        download = export_format(request)
        exported = download is not None
        audit_member_list_record(request=request, label=str(FIGURE_TITLES[figure]), exported=exported)
        if exported:
            return self._export(people, kind=kind, figure=figure, export_format=download)
        page = Paginator(people, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + "people.html",
            {
                "viewer": self.viewer,
                "title": FIGURE_TITLES[figure],
                "described": figure_filters_described(form.cleaned_data),
                "kind": kind,
                "page_obj": page,
                "rows": self._rows_with_links(request, page.object_list, kind=kind),
                "downloads": downloads(request),
            },
        )

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

    def _export(self, people, *, kind: str, figure: str, export_format: str):
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
        table = tables.Table(
            slug=figure,
            caption="",
            columns=columns,
            rows=[
                {key: str(value) for key, value in self._row(item, kind=kind).items()}
                for item in people.iterator(chunk_size=2000)
            ],
        )
        return table.export_response(
            export_format=export_format, slug="people", suffix=figure.replace("_", "-")
        )
