"""The forecast of certified leaders at a deadline, from the pipeline (pure arithmetic).

Each person in training is at the furthest stage they have reached: applied, enrolled,
attending, all work submitted. Finished cohorts tell us what share of the people who reached
each stage went on to be certified. The forecast is the leaders certified now, plus each
person in a cohort that finishes by the deadline counted at their stage's share, plus the
places still open in those cohorts, counted at the share of places that get filled times the
share of the enrolled who finish.

The band is two standard deviations either side, treating each person as an independent
chance of finishing (the variance of a sum of Bernoulli trials: n x p x (1 - p) per stage).
"""

import math
from dataclasses import dataclass

# The stages, in order. "certified" is the last; its people are already counted.
STAGES = ["applied", "enrolled", "attending", "submitted", "certified"]
PIPELINE_STAGES = STAGES[:-1]
STAGE_LABELS = {
    "applied": "Applied",
    "enrolled": "Enrolled",
    "attending": "Attending",
    "submitted": "All work submitted",
    "certified": "Certified",
}

# Verdicts, from the band: the low end reaches the target; the middle does; neither.
ON_TRACK, AT_RISK, OFF_TRACK, MET = "on_track", "at_risk", "off_track", "met"
VERDICT_LABELS = {
    MET: "Met",
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    OFF_TRACK: "Off track",
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
        place_fill=(filled / places) if places else 0.0,
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


def verdict(*, target: int, result: Forecast) -> str:
    if result.certified_now >= target:
        return MET
    if result.low >= target:
        return ON_TRACK
    if result.high >= target:
        return AT_RISK
    return OFF_TRACK
