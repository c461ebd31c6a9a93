"""The forecast arithmetic against cases worked out by hand, and the verdicts."""

import math

import pytest

from reporting.forecast import (
    AT_RISK,
    MET,
    MISSED,
    OFF_TRACK,
    ON_TRACK,
    forecast,
    rates_from_counts,
    verdict,
    verdict_sentence,
)


def _rates():
    # Finished cohorts: 20 applied, 16 enrolled, 10 attended, 8 handed in all their work, and
    # all 8 certified. So the shares certified after each stage are
    #   applied 8/20 = 0.4, enrolled 8/16 = 0.5, attending 8/10 = 0.8, submitted 8/8 = 1.0.
    # Their cohorts had 32 places and 16 people held one: place fill 16/32 = 0.5.
    return rates_from_counts(
        reached={"applied": 20, "enrolled": 16, "attending": 10, "submitted": 8},
        certified_after={"applied": 8, "enrolled": 8, "attending": 8, "submitted": 8},
        places=32,
        filled=16,
    )


def test_rates_are_the_share_certified_after_each_stage():
    rates = _rates()
    assert rates.to_certified == {"applied": 0.4, "enrolled": 0.5, "attending": 0.8, "submitted": 1.0}
    assert rates.place_fill == 0.5
    assert rates.finished_enrolments == 20


def test_a_stage_nobody_reached_has_rate_zero_and_fill_never_passes_one():
    rates = rates_from_counts(reached={"applied": 3}, certified_after={"applied": 3}, places=2, filled=3)
    assert rates.to_certified == {"applied": 1.0, "enrolled": 0.0, "attending": 0.0, "submitted": 0.0}
    assert rates.place_fill == 1.0  # more people than places (a capacity lowered later): capped


def test_forecast_worked_out_by_hand():
    """100 certified; 16 enrolled and 10 with all work in, in cohorts ending in time; 12 open places.

    From the pipeline:   16 x 0.5 + 10 x 1.0 = 8 + 10 = 18
    Its variance:        16 x 0.5 x 0.5 + 10 x 1.0 x 0.0 = 4 + 0 = 4
    A place's chance:    fill 0.5 x enrolled's rate 0.5 = 0.25
    From open places:    12 x 0.25 = 3, variance 12 x 0.25 x 0.75 = 2.25
    Expected:            100 + 18 + 3 = 121
    Band:                2 x sqrt(4 + 2.25) = 2 x 2.5 = 5, so 116 to 126.
    """
    result = forecast(
        certified_now=100, pipeline={"enrolled": 16, "submitted": 10}, open_places=12, rates=_rates()
    )
    assert result.from_pipeline == pytest.approx(18)
    assert result.from_open_places == pytest.approx(3)
    assert result.expected == pytest.approx(121)
    assert result.low == pytest.approx(116)
    assert result.high == pytest.approx(126)


def test_forecast_with_every_stage():
    """40 certified; 5 applied, 4 enrolled, 10 attending, 3 submitted; no open places.

    From the pipeline:   5 x 0.4 + 4 x 0.5 + 10 x 0.8 + 3 x 1.0 = 2 + 2 + 8 + 3 = 15
    Its variance:        5 x 0.4 x 0.6 + 4 x 0.5 x 0.5 + 10 x 0.8 x 0.2 + 0 = 1.2 + 1 + 1.6 = 3.8
    Expected 55; band 2 x sqrt(3.8) = 3.8987 either side: 51.10 to 58.90.
    """
    result = forecast(
        certified_now=40,
        pipeline={"applied": 5, "enrolled": 4, "attending": 10, "submitted": 3},
        open_places=0,
        rates=_rates(),
    )
    assert result.expected == pytest.approx(55)
    assert result.high - result.expected == pytest.approx(2 * math.sqrt(3.8))
    assert result.low == pytest.approx(55 - 3.8987, abs=1e-4)
    assert result.high == pytest.approx(55 + 3.8987, abs=1e-4)


def test_the_low_end_never_goes_below_the_leaders_certified_already():
    """10 certified; 4 applied at a share of 0.1: expected 10 + 0.4 = 10.4, variance
    4 x 0.1 x 0.9 = 0.36, band 2 x 0.6 = 1.2, so 9.2 to 11.6; the low end is held at 10."""
    rates = rates_from_counts(reached={"applied": 10}, certified_after={"applied": 1}, places=0, filled=0)
    result = forecast(certified_now=10, pipeline={"applied": 4}, open_places=0, rates=rates)
    assert result.expected == pytest.approx(10.4)
    assert result.high == pytest.approx(11.6)
    assert result.low == 10


def test_without_finished_cohorts_the_forecast_is_what_is_certified():
    """No finished cohort: every rate is 0, so nothing in the pipeline counts yet."""
    rates = rates_from_counts(reached={}, certified_after={}, places=0, filled=0)
    result = forecast(certified_now=7, pipeline={"enrolled": 50}, open_places=30, rates=rates)
    assert (result.expected, result.low, result.high) == (7, 7, 7)


@pytest.mark.parametrize(
    ("target", "deadline_passed", "expected"),
    [
        (100, False, MET),  # certified already (100 of 100)
        (116, False, ON_TRACK),  # the low end (116) reaches it
        (120, False, AT_RISK),  # only the high end (126) does
        (126, False, AT_RISK),
        (127, False, OFF_TRACK),  # not even the high end
        (120, True, MISSED),  # the deadline passed short of it
        (100, True, MET),  # reached, whenever the deadline was
    ],
)
def test_verdicts(target, deadline_passed, expected):
    result = forecast(
        certified_now=100, pipeline={"enrolled": 16, "submitted": 10}, open_places=12, rates=_rates()
    )
    assert verdict(target=target, result=result, deadline_passed=deadline_passed) == expected


def test_the_verdict_in_words_gives_the_numbers_that_decide_it():
    result = forecast(
        certified_now=100, pipeline={"enrolled": 16, "submitted": 10}, open_places=12, rates=_rates()
    )
    assert verdict_sentence(verdict_key=OFF_TRACK, target=1000, result=result) == (
        "Off track: even the high end of the forecast (126) falls 874 short of the target of 1,000."
    )
    assert "even the low end of the forecast (116)" in verdict_sentence(
        verdict_key=ON_TRACK, target=110, result=result
    )
    assert "between 116 and 126" in verdict_sentence(verdict_key=AT_RISK, target=120, result=result)
    assert "20 short" in verdict_sentence(verdict_key=MISSED, target=120, result=result)
