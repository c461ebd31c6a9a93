"""The forecast of certified leaders at a deadline, from the pipeline (pure arithmetic).

Each person in training is at the furthest stage they have reached: applied, enrolled,
attending, all work submitted. Finished cohorts tell us what share of the people who reached
each stage went on to be certified. The forecast is the leaders certified now, plus each
person in a cohort that finishes by the deadline counted at their stage's share, plus the
places in those cohorts that nobody holds or has applied for, counted at the share of places
that get filled times the share of the enrolled who finish. Applicants are in the pipeline,
so the places they seek are not counted again: each person once.

The band is two standard deviations either side, treating each person as an independent
chance of finishing (the variance of a sum of Bernoulli trials: n x p x (1 - p) per stage).
"""

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The stages, in order. "certified" is the last; its people are already counted.
STAGES = ["applied", "enrolled", "attending", "submitted", "certified"]
PIPELINE_STAGES = STAGES[:-1]
STAGE_LABELS = {
    "applied": gettext_lazy("Applied"),
    "enrolled": gettext_lazy("Enrolled"),
    "attending": gettext_lazy("Attending"),
    "submitted": gettext_lazy("All work submitted"),
    "certified": gettext_lazy("Certified"),
}

# Verdicts, from the band: the low end reaches the target (on track); only the high end does
# (at risk); not even the high end (off track). Met: reached already; missed: the deadline has
# passed without reaching it.
ON_TRACK, AT_RISK, OFF_TRACK, MET, MISSED = "on_track", "at_risk", "off_track", "met", "missed"
VERDICT_LABELS = {
    MET: gettext_lazy("Met"),
    ON_TRACK: gettext_lazy("On track"),
    AT_RISK: gettext_lazy("At risk"),
    OFF_TRACK: gettext_lazy("Off track"),
    MISSED: gettext_lazy("Missed"),
}


@dataclass(frozen=True)
class ConversionRates:
    """Share of people who reached each stage in finished cohorts and were then certified,
    and the share of finished cohorts' places that were taken up."""

    to_certified: dict[str, float]
    place_fill: float
    finished_enrolments: int

    def rate(self, stage: str) -> float:
        return self.to_certified.get(stage, 0.0)


def rates_from_counts(
    *, reached: dict[str, int], certified_after: dict[str, int], places: int, filled: int
) -> ConversionRates:
    """reached[stage]: people in finished cohorts who reached it; certified_after[stage]: of
    them, how many were certified. A stage nobody reached gets rate 0."""
    return ConversionRates(
        to_certified={
            stage: (certified_after.get(stage, 0) / reached[stage]) if reached.get(stage) else 0.0
            for stage in PIPELINE_STAGES
        },
        place_fill=min(filled / places, 1.0) if places else 0.0,
        finished_enrolments=reached.get("applied", 0),
    )


@dataclass(frozen=True)
class Forecast:
    certified_now: int
    from_pipeline: float
    from_open_places: float
    low: float
    high: float

    @property
    def expected(self) -> float:
        return self.certified_now + self.from_pipeline + self.from_open_places


def forecast(
    *, certified_now: int, pipeline: dict[str, int], open_places: int, rates: ConversionRates
) -> Forecast:
    """pipeline[stage]: people in cohorts finishing by the deadline, at that stage now."""
    from_pipeline = 0.0
    variance = 0.0
    for stage, count in pipeline.items():
        p = rates.rate(stage)
        from_pipeline += count * p
        variance += count * p * (1 - p)
    p_place = rates.place_fill * rates.rate("enrolled")
    from_places = open_places * p_place
    variance += open_places * p_place * (1 - p_place)
    spread = 2 * math.sqrt(variance)
    expected = certified_now + from_pipeline + from_places
    return Forecast(
        certified_now=certified_now,
        from_pipeline=from_pipeline,
        from_open_places=from_places,
        low=max(float(certified_now), expected - spread),
        high=expected + spread,
    )


def verdict(*, target: int, result: Forecast, deadline_passed: bool = False) -> str:
    if result.certified_now >= target:
        return MET
    if deadline_passed:
        return MISSED
    if result.low >= target:
        return ON_TRACK
    if result.high >= target:
        return AT_RISK
    return OFF_TRACK


def verdict_sentence(*, verdict_key: str, target: int, result: Forecast) -> str:
    """The verdict in plain words, with the numbers that decide it."""
    numbers = {
        "target": f"{target:,}",
        "now": f"{result.certified_now:,}",
        "low": f"{round(result.low):,}",
        "expected": f"{round(result.expected):,}",
        "high": f"{round(result.high):,}",
        "short": f"{max(target - round(result.high), 0):,}",
        "gap": f"{max(target - result.certified_now, 0):,}",
    }
    sentences = {
        MET: _("Met: %(now)s leaders certified against a target of %(target)s."),
        ON_TRACK: _("On track: even the low end of the forecast (%(low)s) reaches the target of %(target)s."),
        AT_RISK: _(
            "At risk: the forecast is %(expected)s (between %(low)s and %(high)s); the target of "
            "%(target)s is reached only if things go better than the low end."
        ),
        OFF_TRACK: _(
            "Off track: even the high end of the forecast (%(high)s) falls %(short)s short of the "
            "target of %(target)s."
        ),
        MISSED: _("Missed: the deadline has passed with %(now)s of %(target)s certified, %(gap)s short."),
    }
    return sentences[verdict_key] % numbers
