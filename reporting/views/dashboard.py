"""The dashboard itself (national staff: every region; regional staff: their own): targets and
forecasts, the burn-up chart, funnels, places, cohorts at risk and trainers, each table cut to
its first rows with a link to the whole (reporting.views.tables)."""

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from certification.models import Target
from reporting import dashboard_tables as tables
from reporting.charts import burnup
from reporting.forecast import PIPELINE_STAGES, STAGE_LABELS, VERDICT_LABELS, verdict_sentence
from reporting.forms import TableQueryForm
from reporting.selectors.dashboard import (
    Scope,
    base_get,
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
from reporting.selectors.dashboard_cohorts import (
    NUMBERS_WINDOW_DAYS,
    RISK_REASONS,
    SUBMISSIONS_WINDOW_DAYS,
    cohorts_at_risk,
    trainer_rows,
)
from reporting.services.figures import dashboard_figures_get
from reporting.views.base import (
    FUNNEL_TITLES,
    TEMPLATES,
    DashboardRequiredMixin,
    bad_request,
    cohort_href,
    cohort_links,
    scope_label,
)

DASHBOARD_ROWS = 10  # rows of the longer tables on the dashboard itself; the rest on their page


class DashboardView(DashboardRequiredMixin, View):
    """Targets and forecasts, the burn-up chart, funnels, places, cohorts at risk, trainers.

    The figures are rendered once per generation of the data and kept (dashboard_cache): a
    page load after a change counts afresh, the others read one cache entry."""

    def get(self, request):
        query = TableQueryForm(request.GET, viewer=self.viewer)
        if not query.is_valid():
            return bad_request(request)
        viewer = self.viewer
        asked = query.cleaned_data["target"]  # None: the main target
        # Everything the rendering depends on, beyond the data: whose figures, which target,
        # which links the viewer may follow, and the language.
        can_set_targets = request.user.has_perm("certification.set_targets")
        links = cohort_links(request.user)
        key = ":".join(
            [
                f"region-{viewer.region_id}" if viewer.region_id else "national",
                f"target-{asked.pk}" if asked else "main",
                f"links-{int(can_set_targets)}{int(links)}",
                get_language(),
            ]
        )
        figures = dashboard_figures_get(
            key=key,
            build=lambda: render_to_string(
                TEMPLATES + "partials/_figures.html",
                self._figures_context(asked=asked, can_set_targets=can_set_targets, links=links),
            ),
        )
        return render(
            request,
            TEMPLATES + "dashboard.html",
            {
                "viewer": viewer,
                "scope_label": scope_label(viewer),
                "counted_at": figures.counted_at,
                "figures": figures.html,  # a SafeString: rendered from the project's template
            },
        )

    def _figures_context(self, *, asked: Target | None, can_set_targets: bool, links: bool) -> dict:
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
        href = cohort_href(None, links=links)
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
                    cohort_href=href,
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
    place = main.target.place_label if main else scope_label(viewer)
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


def _shorten(table: tables.Table, *, rows: int | None, total: int | None = None) -> tables.Table:
    """The first rows of a table for the dashboard; `total` says how many there are (given
    when the rows were cut before the table was built)."""
    table.total = len(table.rows) if total is None else total
    if rows is not None:
        table.rows = table.rows[:rows]
    return table
