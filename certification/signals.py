"""What certification announces. reporting listens; certification does not import it.

Sent inside the transaction that made the change, so what the listeners write (the leader
tally, enrolments' certified_at) commits or rolls back with it (decision 0024).
"""

from django.dispatch import Signal

from certification.models import Certificate, Target

# Certificates were issued, revoked, renewed or removed, or their expiry changed: whether
# their holders are leaders (and since when, until when) may have changed. `holder_ids` and
# `enrolment_ids`: sorted lists.
certificate_standing_changed = Signal()
# A target was set or changed.
targets_changed = Signal()


def certificate_standing_changed_announce(*, holder_ids, enrolment_ids) -> None:
    certificate_standing_changed.send(
        sender=Certificate, holder_ids=sorted(set(holder_ids)), enrolment_ids=sorted(set(enrolment_ids))
    )


def targets_changed_announce() -> None:
    targets_changed.send(sender=Target)
