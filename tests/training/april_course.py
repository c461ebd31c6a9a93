"""The course several training tests run on: a cohort running through April 2027 in London
time, its three evening sessions, and one required assignment ("Power map") with a rubric."""

import datetime as dt
from zoneinfo import ZoneInfo

from tests.factories import AssignmentFactory, CohortFactory, SessionFactory, rubric_add
from training.models import CohortStatus

LONDON = ZoneInfo("Europe/London")
STARTS, ENDS = dt.date(2027, 4, 1), dt.date(2027, 4, 30)
SESSION_DAYS = (5, 12, 19)


def clock_mover(time_machine):
    """A function that moves the frozen clock to a moment (time stays still there)."""

    def move(when: dt.datetime) -> None:
        time_machine.move_to(when, tick=False)

    return move


def april_cohort(*, trainer):
    """The running cohort (applications taken in March) and its sessions on 5, 12 and 19 April."""
    cohort = CohortFactory(
        trainers=[trainer],
        enrolment_opens_on=dt.date(2027, 3, 1),
        enrolment_closes_on=dt.date(2027, 3, 25),
        starts_on=STARTS,
        ends_on=ENDS,
        status=CohortStatus.RUNNING,
    )
    sessions = [
        SessionFactory(
            cohort=cohort,
            starts_at=dt.datetime(2027, 4, day, 18, 30, tzinfo=LONDON),
            ends_at=dt.datetime(2027, 4, day, 20, 30, tzinfo=LONDON),
        )
        for day in SESSION_DAYS
    ]
    return cohort, sessions


def power_map(cohort, *, criteria: int, **fields):
    """The cohort's required assignment "Power map", with a rubric of `criteria` criteria."""
    assignment = AssignmentFactory(
        module__version=cohort.version, required_for_completion=True, title="Power map", **fields
    )
    rubric_add(assignment, criteria=criteria)
    return assignment
