"""reporting listens to the events the other apps announce (members/signals.py,
training/signals.py, certification/signals.py), never to their models' saves and deletes.

Each receiver runs the same idempotent sync the rebuild runs over everyone
(reporting/services/), for the ids the event names, inside the transaction of the change;
and every event makes the dashboard's kept figures out of date. Connected in
ReportingConfig.ready.
"""

from certification.signals import certificate_standing_changed, targets_changed
from members.signals import member_name_changed, member_place_changed, places_changed
from reporting.services.enrolment_copies import enrolment_certified_sync, enrolment_places_sync
from reporting.services.figures import dashboard_figures_changed
from reporting.services.tally import leader_tally_sync
from training.signals import enrolments_changed, training_offer_changed


def on_member_place_changed(sender, *, user_ids, **kwargs) -> None:
    """A profile made, moved or removed: the member's enrolments and tally row follow."""
    enrolment_places_sync(member_ids=user_ids)
    leader_tally_sync(user_ids=user_ids)
    dashboard_figures_changed()


def on_enrolments_changed(sender, *, enrolment_ids, made=False, **kwargs) -> None:
    """A new enrolment starts in its member's place (later moves come with
    member_place_changed, so a status change costs no query); any change is counted on the
    next load."""
    if made:
        enrolment_places_sync(enrolment_ids=enrolment_ids)
    dashboard_figures_changed()


def on_certificate_standing_changed(sender, *, holder_ids, enrolment_ids, **kwargs) -> None:
    enrolment_certified_sync(enrolment_ids=enrolment_ids)
    leader_tally_sync(user_ids=holder_ids)
    dashboard_figures_changed()


def on_shown_data_changed(sender, **kwargs) -> None:
    """Names, places, what is offered, targets: nothing kept but the figures that show them."""
    dashboard_figures_changed()


def connect() -> None:
    member_place_changed.connect(on_member_place_changed, dispatch_uid="reporting.member_place_changed")
    enrolments_changed.connect(on_enrolments_changed, dispatch_uid="reporting.enrolments_changed")
    certificate_standing_changed.connect(
        on_certificate_standing_changed, dispatch_uid="reporting.certificate_standing_changed"
    )
    for signal, name in [
        (member_name_changed, "member_name_changed"),
        (places_changed, "places_changed"),
        (training_offer_changed, "training_offer_changed"),
        (targets_changed, "targets_changed"),
    ]:
        signal.connect(on_shown_data_changed, dispatch_uid=f"reporting.{name}")
