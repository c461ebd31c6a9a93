"""certification listens to training; training never imports certification."""

from certification.services.certificates import standing_changed_handle


def standing_changed_receive(sender, *, enrolment_ids, cause, **kwargs) -> None:
    """Attendance or a mark changed: issue what is now complete, flag what no longer is."""
    standing_changed_handle(enrolment_ids=enrolment_ids)
