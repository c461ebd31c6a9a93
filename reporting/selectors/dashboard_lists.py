"""The lists behind the dashboard's figures: the people or cohorts a number counts.

Each list is built from the same filters as its figure (selectors/dashboard.py), so that the
count of a list is the figure; tests check that they agree. Figures and their parameters
are allow-listed here.
"""

import datetime as dt

from django.db.models import QuerySet

from reporting.forecast import PIPELINE_STAGES, STAGES
from reporting.selectors.dashboard import (
    Scope,
    in_flight_enrolments,
    lapsed_leader_list,
    leader_list,
    stage_now_q,
    stage_reached_q,
)
from reporting.selectors.dashboard_cohorts import (
    RISK_REASONS,
    CohortRisk,
    cohorts_at_risk,
    trainer_cohort_list,
    trainer_leader_list,
)
from training.models import Cohort, Enrolment

# figure: what its rows are ("members", "enrolments", "cohorts").
PEOPLE_FIGURES = {
    "leaders": "members",
    "lapsed": "members",
    "trainer_leaders": "members",
    "training": "enrolments",
    "reached": "enrolments",
}
COHORT_FIGURES = {"at_risk", "trainer_cohorts"}


def people_for_figure(
    *,
    figure: str,
    scope: Scope,
    region_id: int | None = None,
    stage: str | None = None,
    ends_by: dt.date | None = None,
    trainer_id: int | None = None,
) -> QuerySet:
    """Members or enrolments behind a figure, in name order. `region_id`: the viewer's region.

    leaders: in scope; lapsed: every leader whose certificates have all lapsed (in the
    viewer's region); trainer_leaders: certified from a trainer's cohorts; training: in
    training now, in scope, at a stage if given, in cohorts ending by `ends_by` if given;
    reached: every enrolment in scope that reached `stage` (the funnels)."""
    if figure == "leaders":
        members = leader_list(scope=scope, region_id=region_id)
    elif figure == "lapsed":
        members = lapsed_leader_list(region_id=region_id)
    elif figure == "trainer_leaders":
        members = trainer_leader_list(trainer_id=trainer_id, region_id=region_id)
    elif figure in ("training", "reached"):
        return _enrolments(figure=figure, scope=scope, region_id=region_id, stage=stage, ends_by=ends_by)
    else:
        raise ValueError(f"Unknown figure {figure!r}")
    return members.select_related("profile__region", "profile__constituency").order_by(
        "last_name", "first_name", "pk"
    )


def _enrolments(*, figure, scope, region_id, stage, ends_by) -> QuerySet[Enrolment]:
    if figure == "training":
        enrolments = in_flight_enrolments()
        if stage in PIPELINE_STAGES:
            enrolments = enrolments.filter(stage_now_q()[stage])
        if ends_by is not None:
            enrolments = enrolments.filter(cohort__ends_on__lte=ends_by)
    else:
        enrolments = Enrolment.objects.filter(stage_reached_q()[stage if stage in STAGES else "applied"])
    if scope.programme_id:
        enrolments = enrolments.filter(programme_id=scope.programme_id)
    return (
        enrolments.filter(scope.place_q("member", region_id=region_id))
        .select_related("member__profile__region", "member__profile__constituency", "cohort", "programme")
        .order_by("member__last_name", "member__first_name", "pk")
    )


def enrolment_stage(enrolment: Enrolment) -> str:
    """The furthest stage an enrolment reached (without looking at certificates)."""
    if enrolment.work_submitted_at:
        return "submitted"
    if enrolment.first_attended_at:
        return "attending"
    if enrolment.first_enrolled_at:
        return "enrolled"
    return "applied"


def cohorts_for_figure(
    *, figure: str, region_id: int | None = None, reason: str | None = None, trainer_id: int | None = None
) -> list[CohortRisk] | QuerySet[Cohort]:
    """Cohorts behind a figure: at risk (for one reason, if given), or run by a trainer."""
    if figure == "at_risk":
        risks = cohorts_at_risk(region_id=region_id)
        if reason in RISK_REASONS:
            risks = [risk for risk in risks if reason in risk.reasons]
        return risks
    if figure == "trainer_cohorts":
        return (
            trainer_cohort_list(trainer_id=trainer_id, region_id=region_id)
            .select_related("version__programme", "region")
            .order_by("-starts_on", "name", "pk")
        )
    raise ValueError(f"Unknown figure {figure!r}")
