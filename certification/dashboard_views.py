"""The dashboard (national staff: every region; regional staff: their own), the tables and
lists behind its figures, and the targets pages.

Who may use each view is stated by its mixin; which region a viewer sees, and which targets,
places and lists, is decided only in certification.permissions. Every page runs a fixed
number of queries whatever the size of the data (tests/certification/test_dashboard.py).
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from audit.services import audit_member_list_record
from certification import dashboard_tables as tables
from certification import permissions
from certification.charts import burnup
from certification.dashboard_forms import FigureForm, TableQueryForm, TargetChangeForm, TargetForm
from certification.forecast import PIPELINE_STAGES, STAGE_LABELS, VERDICT_LABELS, verdict_sentence
from certification.models import Target, TargetScope
from certification.selectors.dashboard import (
    NOWHERE,
    Scope,
    base_get,
    funnel,
    funnels,
    lapsed_leaders_count,
    leaders_by_month,
    leaders_count,
    place_names,
    place_rows,
    target_list,
    target_main,
    targets_progress,
)
from certification.selectors.dashboard_cohorts import (
    NUMBERS_WINDOW_DAYS,
    RISK_REASONS,
    SUBMISSIONS_WINDOW_DAYS,
    cohorts_at_risk,
    trainer_rows,
)
from certification.selectors.dashboard_lists import (
    PEOPLE_FIGURES,
    cohorts_for_figure,
    enrolment_stage,
    people_for_figure,
)
from certification.services.targets import target_change, target_create
from reporting.services.figures import dashboard_figures_get
from training.models import Programme
from training.permissions import user_manages_all_cohorts, user_reads_region_cohorts
from training.views.base import form_errors_add

TEMPLATES = "certification/dashboard/"
LIST_PAGE_SIZE = 50
TABLE_PAGE_SIZE = 100
PEOPLE_TABLE_SLUGS = {"trainers"}  # tables that name members: each view or export is audited
DASHBOARD_ROWS = 10  # rows of the longer tables on the dashboard itself; the rest on their page
TABLE_SLUGS = [
    "targets",
    "leaders-by-month",
    "funnel-programme",
    "funnel-region",
    "places",
    "cohorts-at-risk",
    "trainers",
]
FUNNEL_TITLES = {
    "programme": _lazy("People reaching each stage, by programme"),
    "region": _lazy("People reaching each stage, by region"),
    "constituency": _lazy("People reaching each stage, by constituency"),
}
FIGURE_TITLES = {
    "leaders": _lazy("Leaders"),
    "lapsed": _lazy("Leaders whose certificates have all lapsed"),
    "trainer_leaders": _lazy("Leaders certified from a trainer's cohorts"),
    "training": _lazy("People in training"),
    "reached": _lazy("People who reached a stage"),
    "at_risk": _lazy("Cohorts at risk"),
    "trainer_cohorts": _lazy("Cohorts a trainer has run"),
}


class DashboardRequiredMixin(PermissionRequiredMixin):
    """National and regional staff; sets self.viewer (whose region they see)."""

    permission_required = "certification.view_dashboard"

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        self.viewer = permissions.dashboard_viewer_get(user=request.user)
        # Skip PermissionRequiredMixin.dispatch: the permission was checked just above.
        return super(PermissionRequiredMixin, self).dispatch(request, *args, **kwargs)


class SetsTargetsRequiredMixin(PermissionRequiredMixin):
    permission_required = "certification.set_targets"


def _cohort_links(user) -> bool:
    """Cohorts link to their page: national staff manage every cohort, and regional staff read
    their region's, the only cohorts their dashboard lists (training.permissions decides)."""
    return user_manages_all_cohorts(user) or user_reads_region_cohorts(user)


def _cohort_href(user, *, links: bool | None = None):
    if _cohort_links(user) if links is None else links:
        return lambda pk: reverse("training:cohort-manage", args=[pk])
    return lambda pk: None


def _scope_label(viewer) -> str:
    return viewer.region.name if viewer.region else _("every region")


def _with_params(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()


def _export_format(request) -> str | None:
    """The download asked for by ?format= (csv or xlsx); None for the page itself."""
    value = request.GET.get("format")
    return value if value in tables.EXPORT_FORMATS else None


def _downloads(request) -> list[tuple[str, str]]:
    """The page's rows as each download: (link text, address), every row, not just the page."""
    labels = {"csv": _("Download as CSV"), "xlsx": _("Download as XLSX (Excel)")}
    return [
        (labels[export_format], _with_params(request, format=export_format, page=None))
        for export_format in tables.EXPORT_FORMATS
    ]


def _bad_request(request, message: str = ""):
    return render(
        request,
        TEMPLATES + "bad_request.html",
        {"message": message or _("This page's address asks for something it does not know.")},
        status=400,
    )


def _shorten(table: tables.Table, *, rows: int | None, total: int | None = None) -> tables.Table:
    """The first rows of a table for the dashboard; `total` says how many there are (given
    when the rows were cut before the table was built)."""
    table.total = len(table.rows) if total is None else total
    if rows is not None:
        table.rows = table.rows[:rows]
    return table


# --- The dashboard ---------------------------------------------------------------------------


class DashboardView(DashboardRequiredMixin, View):
    """Targets and forecasts, the burn-up chart, funnels, places, cohorts at risk, trainers.

    The figures are rendered once per generation of the data and kept (dashboard_cache): a
    page load after a change counts afresh, the others read one cache entry."""

    def get(self, request):
        query = TableQueryForm(request.GET)
        if not query.is_valid():
            return _bad_request(request)
        viewer = self.viewer
        asked = None
        if query.cleaned_data.get("target"):
            asked = permissions.dashboard_target_get(viewer=viewer, pk=query.cleaned_data["target"])
        # Everything the rendering depends on, beyond the data: whose figures, which target,
        # which links the viewer may follow, and the language.
        can_set_targets = request.user.has_perm("certification.set_targets")
        cohort_links = _cohort_links(request.user)
        key = ":".join(
            [
                f"region-{viewer.region_id}" if viewer.region_id else "national",
                f"target-{asked.pk}" if asked else "main",
                f"links-{int(can_set_targets)}{int(cohort_links)}",
                get_language(),
            ]
        )
        figures = dashboard_figures_get(
            key=key,
            build=lambda: render_to_string(
                TEMPLATES + "_figures.html",
                self._figures_context(
                    asked=asked, can_set_targets=can_set_targets, cohort_links=cohort_links
                ),
            ),
        )
        return render(
            request,
            TEMPLATES + "dashboard.html",
            {
                "viewer": viewer,
                "scope_label": _scope_label(viewer),
                "counted_at": figures.counted_at,
                "figures": figures.html,  # a SafeString: rendered from the project's template
            },
        )

    def _figures_context(self, *, asked: Target | None, can_set_targets: bool, cohort_links: bool) -> dict:
        """The figures, counted in the database: about twenty queries, whatever the data."""
        viewer = self.viewer
        region_id = viewer.region_id
        targets = target_list(region_id=region_id)
        base = base_get(region_id=region_id, targets=targets)
        progress = targets_progress(targets=targets, base=base)
        main_target = asked or target_main(targets, today=base.today)
        main = next((item for item in progress if main_target and item.target.pk == main_target.pk), None)
        series = leaders_by_month(scope=main.scope if main else Scope(), region_id=region_id)
        regions, constituencies = place_names(region_id=region_id)
        risks = cohorts_at_risk(region_id=region_id)
        trainers = trainer_rows(region_id=region_id)  # most leaders produced first
        place_group = "region" if viewer.is_national else "constituency"
        funnel_rows = funnels(group_bys=["programme", place_group], region_id=region_id)
        cohort_href = _cohort_href(None, links=cohort_links)
        context = {
            "viewer": viewer,
            "can_set_targets": can_set_targets,
            "main": main,
            "leaders_total": leaders_count(base.leaders, scope=Scope()),
            "training_total": base.training_total,
            "lapsed": lapsed_leaders_count(region_id=region_id),
            "links": {
                "leaders": tables.people_url(figure="leaders"),
                "training": tables.people_url(figure="training"),
                "lapsed": tables.people_url(figure="lapsed"),
                "risks": tables.cohorts_url(figure="at_risk"),
            },
            "series_table": tables.leaders_by_month_table(series, caption=_chart_caption(main, viewer)),
            "rates": base.rates,
            "targets_table": tables.targets_table(progress),
            "funnel_programme": tables.funnel_table(
                funnel_rows["programme"], group_by="programme", caption=FUNNEL_TITLES["programme"]
            ),
            "funnel_place": tables.funnel_table(
                funnel_rows[place_group], group_by=place_group, caption=FUNNEL_TITLES[place_group]
            ),
            "places_table": _shorten(
                tables.places_table(
                    place_rows(
                        base=base,
                        targets=targets,
                        regions=regions,
                        constituencies=constituencies,
                        region=viewer.region,
                    ),
                    region=viewer.region,
                    caption=(
                        _("Leaders, people in training and targets, by region")
                        if viewer.is_national
                        else _(
                            "Leaders, people in training and targets, by constituency (target seats first)"
                        )
                    ),
                ),
                rows=None if viewer.is_national else DASHBOARD_ROWS,
            ),
            "risk_count": len(risks),
            "risks_table": _shorten(
                tables.risks_table(
                    risks[:DASHBOARD_ROWS],
                    cohort_href=cohort_href,
                    caption=_("Cohorts at risk, soonest ending first"),
                ),
                rows=DASHBOARD_ROWS,
                total=len(risks),
            ),
            "risk_reasons": RISK_REASONS,
            "risk_windows": {"submissions": SUBMISSIONS_WINDOW_DAYS, "numbers": NUMBERS_WINDOW_DAYS},
            "trainers_table": _shorten(
                tables.trainers_table(
                    trainers[:DASHBOARD_ROWS], caption=_("Trainers: marking, cohorts and leaders")
                ),
                rows=DASHBOARD_ROWS,
                total=len(trainers),
            ),
        }
        if main:
            context |= {
                "main_sentence": verdict_sentence(
                    verdict_key=main.verdict, target=main.target.leaders, result=main.forecast
                ),
                "main_verdict_label": VERDICT_LABELS[main.verdict],
                "main_links": {
                    "certified": tables.people_url(figure="leaders", target=main.target.pk),
                    "pipeline": tables.people_url(figure="training", target=main.target.pk),
                },
                "forecast_rows": _forecast_rows(main, base.rates),
            }
        context["charts"] = {
            size: burnup(
                series=series,
                today=base.today,
                size=size,
                target=main.target.leaders if main else None,
                deadline=main.target.deadline if main else None,
                start=timezone.localtime(main.target.created_at).date() if main else None,
                result=main.forecast if main else None,
            )
            for size in ("wide", "narrow")
        }
        return context


def _chart_caption(main, viewer) -> str:
    place = main.target.place_label if main else _scope_label(viewer)
    return _("Leaders certified, cumulative by month: %(place)s") % {"place": place}


def _forecast_rows(main, rates) -> list[dict]:
    """The forecast of the main target worked out: each stage's people times its rate."""
    rows = []
    for stage in PIPELINE_STAGES:
        people = main.pipeline.get(stage, 0)
        rate = rates.rate(stage)
        rows.append(
            {
                "label": STAGE_LABELS[stage],
                "people": people,
                "rate": rate,
                "expected": people * rate,
                "href": tables.people_url(figure="training", target=main.target.pk, stage=stage),
            }
        )
    place_rate = rates.place_fill * rates.rate("enrolled")
    rows.append(
        {
            "label": _("Places nobody has applied for"),
            "people": main.open_places,
            "rate": place_rate,
            "expected": main.open_places * place_rate,
            "href": None,
        }
    )
    return rows


# --- Tables, sortable, filterable and as CSV ------------------------------------------------------


class DashboardTableView(DashboardRequiredMixin, View):
    """One of the dashboard's tables in full: sorted by ?sort= (allow-listed keys), filtered
    (places: ?region=, ?seats=1, ?gap=1; cohorts at risk: ?reason=), as CSV or XLSX with
    ?format=csv or ?format=xlsx."""

    def get(self, request, slug):
        if slug not in TABLE_SLUGS:
            raise Http404("Not found.")
        query = TableQueryForm(request.GET)
        if not query.is_valid():
            return _bad_request(request)
        data = query.cleaned_data
        region = None
        if slug == "places":
            if data.get("region") == "none":
                raise Http404("Not found.")
            region = permissions.dashboard_region_get(viewer=self.viewer, value=data.get("region"))
            region = region or self.viewer.region
        table, title, suffix = self._table(request, slug, region, data)
        table = table.sorted_by(data.get("sort"))
        export_format = _export_format(request)
        exported = export_format is not None
        if slug in PEOPLE_TABLE_SLUGS:
            audit_member_list_record(request=request, label=title, exported=exported)
        if exported:
            return table.export_response(export_format=export_format, slug=slug, suffix=suffix)
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
                "downloads": _downloads(request),
                "risk_reasons": RISK_REASONS,
                "reason": data.get("reason") or "",
                "seats": bool(data.get("seats")),
                "gap": bool(data.get("gap")),
            },
        )

    def _table(self, request, slug, region, data) -> tuple[tables.Table, str, str]:
        viewer = self.viewer
        region_id = viewer.region_id
        if slug == "targets":
            targets = target_list(region_id=region_id)
            base = base_get(region_id=region_id, targets=targets)
            table = tables.targets_table(targets_progress(targets=targets, base=base))
            return table, _("Targets and forecasts"), ""
        if slug == "leaders-by-month":
            target = (
                permissions.dashboard_target_get(viewer=viewer, pk=data["target"])
                if data.get("target")
                else None
            )
            series = leaders_by_month(
                scope=Scope.of_target(target) if target else Scope(), region_id=region_id
            )
            caption = _("Leaders certified, cumulative by month: %(place)s") % {
                "place": target.place_label if target else _scope_label(viewer)
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
                risks, cohort_href=_cohort_href(request.user), caption=_("Cohorts at risk")
            )
            return table, _("Cohorts at risk"), data.get("reason") or ""
        table = tables.trainers_table(trainer_rows(region_id=region_id), caption=_("Trainers"))
        return table, _("Trainers"), ""


# --- The lists behind the figures -------------------------------------------------------------------


class FigureListMixin(DashboardRequiredMixin):
    def _params(self, request):
        """(form data, scope, target, the filters in words); None for a malformed query.
        Places and targets the viewer may not see are 404."""
        form = FigureForm(request.GET)
        if not form.is_valid():
            return None
        data = form.cleaned_data
        viewer = self.viewer
        described = []
        target = None
        if data.get("target"):
            target = permissions.dashboard_target_get(viewer=viewer, pk=data["target"])
            described.append((_("Target"), str(target)))
        region_value = data.get("region") or None
        region = None
        if region_value == "none":
            if not viewer.is_national:
                raise Http404("Not found.")
            described.append((_("Place"), _("Place not recorded")))
        elif region_value:
            region = permissions.dashboard_region_get(viewer=viewer, value=region_value)
            described.append((_("Region"), region.name))
        constituency_value = data.get("constituency") or None
        constituency_id = None
        if constituency_value == "none":
            constituency_id = NOWHERE
            described.append((_("Constituency"), _("No constituency given")))
        elif constituency_value:
            constituency = permissions.dashboard_constituency_get(
                viewer=viewer, pk=int(constituency_value), region=region
            )
            constituency_id = constituency.pk
            described.append((_("Constituency"), constituency.name))
        programme = None
        if data.get("programme"):
            programme = Programme.objects.filter(pk=data["programme"]).first()
            if programme is None:
                raise Http404("Not found.")
            described.append((_("Programme"), programme.title))
        if data.get("seats"):
            described.append((_("Place"), _("Target seats")))
        if target is not None:
            scope = Scope.of_target(target)
        else:
            scope = Scope(
                region_id=NOWHERE if region_value == "none" else (region.pk if region else None),
                constituency_id=constituency_id,
                target_seats=bool(data.get("seats")),
                programme_id=programme.pk if programme else None,
            )
        if data.get("stage"):
            described.append((_("Stage"), STAGE_LABELS[data["stage"]]))
        if data.get("by"):
            described.append((_("Cohorts ending by"), date_format(data["by"], "j M Y")))
        if data.get("reason"):
            described.append((_("Risk"), RISK_REASONS[data["reason"]]))
        if data.get("trainer"):
            described.append((_("Trainer"), _("number %(id)s") % {"id": data["trainer"]}))
        return data, scope, target, described


class DashboardPeopleView(FigureListMixin, View):
    """The members or enrolments behind a figure: its count is the figure."""

    def get(self, request):
        params = self._params(request)
        if params is None or params[0]["figure"] not in PEOPLE_FIGURES:
            return _bad_request(request)
        data, scope, target, described = params
        figure = data["figure"]
        ends_by = data.get("by")
        if ends_by is None and target is not None and figure == "training":
            ends_by = target.deadline  # the target's pipeline: cohorts finishing by its deadline
            described.append((_("Cohorts ending by"), date_format(ends_by, "j M Y")))
        people = people_for_figure(
            figure=figure,
            scope=scope,
            region_id=self.viewer.region_id,
            stage=data.get("stage") or None,
            ends_by=ends_by,
            trainer_id=data.get("trainer"),
        )
        kind = PEOPLE_FIGURES[figure]
        export_format = _export_format(request)
        exported = export_format is not None
        audit_member_list_record(request=request, label=str(FIGURE_TITLES[figure]), exported=exported)
        if exported:
            return self._export(people, kind=kind, figure=figure, export_format=export_format)
        page = Paginator(people, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + "people.html",
            {
                "viewer": self.viewer,
                "title": FIGURE_TITLES[figure],
                "described": described,
                "kind": kind,
                "page_obj": page,
                "rows": self._rows_with_links(request, page.object_list, kind=kind),
                "downloads": _downloads(request),
            },
        )

    def _rows_with_links(self, request, items, *, kind: str) -> list[dict]:
        rows = [self._row(item, kind=kind) for item in items]
        if kind == "enrolments":
            href = _cohort_href(request.user)
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


class DashboardCohortsView(FigureListMixin, View):
    """The cohorts behind a figure: at risk (for a reason, if given), or run by a trainer."""

    def get(self, request):
        params = self._params(request)
        if params is None or params[0]["figure"] in PEOPLE_FIGURES:
            return _bad_request(request)
        data, _scope, _target, described = params
        figure = data["figure"]
        cohorts = cohorts_for_figure(
            figure=figure,
            region_id=self.viewer.region_id,
            reason=data.get("reason"),
            trainer_id=data.get("trainer"),
        )
        href = _cohort_href(request.user)
        if figure == "at_risk":
            table = tables.risks_table(cohorts, cohort_href=href, caption=str(FIGURE_TITLES[figure]))
        else:
            table = tables.trainer_cohorts_table(
                cohorts, cohort_href=href, caption=str(FIGURE_TITLES[figure])
            )
        export_format = _export_format(request)
        if export_format is not None:
            return table.export_response(
                export_format=export_format, slug="cohorts", suffix=figure.replace("_", "-")
            )
        page = Paginator(table.rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + "cohorts.html",
            {
                "viewer": self.viewer,
                "title": FIGURE_TITLES[figure],
                "described": described,
                "table": table,
                "page_obj": page,
                "downloads": _downloads(request),
            },
        )


# --- Targets ---------------------------------------------------------------------------------------


class TargetListView(SetsTargetsRequiredMixin, View):
    """Every target with its history."""

    def get(self, request):
        targets = Target.objects.select_related("region", "constituency", "programme").prefetch_related(
            "changes__actor"
        )
        return render(request, TEMPLATES + "target_list.html", {"targets": targets})


class TargetCreateView(SetsTargetsRequiredMixin, View):
    def get(self, request):
        return self._render(request, TargetForm(initial={"scope": TargetScope.NATIONAL}))

    def post(self, request):
        form = TargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = target_create(
                    scope=data["scope"],
                    region=data["region"],
                    constituency=data["constituency"],
                    programme=data["programme"],
                    leaders=data["leaders"],
                    deadline=data["deadline"],
                    note=data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Target set: %(target)s.") % {"target": target})
                return redirect("certification:target-list")
        return self._render(request, form, status=400)

    def _render(self, request, form, *, status: int = 200):
        return render(request, TEMPLATES + "target_form.html", {"form": form}, status=status)


class TargetChangeView(SetsTargetsRequiredMixin, View):
    """A new number or date with the reason; the history keeps the old ones."""

    def get(self, request, pk):
        target = permissions.target_get_for_setter(user=request.user, pk=pk)
        form = TargetChangeForm(initial={"leaders": target.leaders, "deadline": target.deadline})
        return self._render(request, target, form)

    def post(self, request, pk):
        target = permissions.target_get_for_setter(user=request.user, pk=pk)
        form = TargetChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = target_change(
                    target=target,
                    leaders=data["leaders"],
                    deadline=data["deadline"],
                    note=data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Target changed: %(target)s.") % {"target": target})
                return redirect("certification:target-list")
        return self._render(request, target, form, status=400)

    def _render(self, request, target, form, *, status: int = 200):
        return render(
            request,
            TEMPLATES + "target_change.html",
            {"target": target, "form": form, "changes": list(target.changes.select_related("actor"))},
            status=status,
        )
