"""The rebuild: every kept summary the dashboard reads, checked (or corrected) against the
source rows by the same functions the events run, over every id instead of the few an event
names. `manage.py dashboard_rebuild` and the seeds call it; after a bulk load or an UPDATE by
SQL (which announce nothing) it is what brings the copies back in step.
"""

from dataclasses import dataclass

from reporting.services.enrolment_copies import enrolment_certified_sync, enrolment_places_sync
from reporting.services.figures import dashboard_figures_changed
from reporting.services.tally import leader_tally_sync
from training.services.milestones import milestones_rebuild


@dataclass(frozen=True)
class RebuildReport:
    enrolments: int
    milestones_differing: int
    places_differing: int
    certified_differing: int
    leaders: int
    tally_differing: int

    @property
    def differing(self) -> int:
        return (
            self.milestones_differing
            + self.places_differing
            + self.certified_differing
            + self.tally_differing
        )


def read_model_rebuild(*, fix: bool) -> RebuildReport:
    """Compare every kept summary with its source rows; with `fix`, correct what differs.
    The kept figures are thrown away either way: corrections are bulk writes, and a check
    may follow an UPDATE by SQL that nothing announced."""
    # The milestones are training's own columns, kept by training's services in the same
    # transaction as the change; checked here because the dashboard's funnels read them.
    enrolments, milestones_differing = milestones_rebuild(fix=fix)
    _checked, places_differing = enrolment_places_sync(fix=fix)
    _checked, certified_differing = enrolment_certified_sync(fix=fix)
    leaders, tally_differing = leader_tally_sync(fix=fix)
    dashboard_figures_changed()
    return RebuildReport(
        enrolments=enrolments,
        milestones_differing=milestones_differing,
        places_differing=places_differing,
        certified_differing=certified_differing,
        leaders=leaders,
        tally_differing=tally_differing,
    )
