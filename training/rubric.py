"""The rule that turns the levels chosen in a rubric into an outcome. One place, used by all.

Each level says what choosing it means: "pass" (meets the standard), "resubmit" (not yet)
or "fail". The work's outcome is the weakest of the levels chosen: it passes only when
every criterion reaches a passing level.
"""

from training.models import Outcome

RULE_EXPLAINED = (
    "The work passes when every criterion reaches a passing level. A level marked resubmit "
    "on any criterion asks for another attempt; a level marked fail on any criterion fails it."
)

_WEAKEST_FIRST = [Outcome.FAIL, Outcome.RESUBMIT, Outcome.PASS]


def outcome_from_levels(levels) -> str:
    """The outcome of a set of chosen RubricLevels (or their outcome strings)."""
    outcomes = {getattr(level, "outcome", level) for level in levels}
    if not outcomes:
        raise ValueError("A rubric outcome needs at least one level.")
    return next(outcome for outcome in _WEAKEST_FIRST if outcome in outcomes)
