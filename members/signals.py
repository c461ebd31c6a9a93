"""What members announces. Other apps listen (reporting keeps its copies, imports activates
imported members); members imports none of them.

The read model's events are sent inside the transaction that made the change, so what the
listeners write (the leader tally, enrolments' copies of a member's place) commits or rolls
back with it (decision 0024). An event that starts work of its own is sent on commit.
"""

from django.db import transaction
from django.dispatch import Signal

from members.models import ConsentRecord, Profile, Region, User

# A member's place changed: their profile was made, moved to another region or constituency,
# or removed. `user_ids`: a sorted list.
member_place_changed = Signal()
# A member's name changed (the dashboard shows trainers by name). `user_ids`: a sorted list.
member_name_changed = Signal()
# The geography changed: regions or constituencies added, renamed, or flagged as target seats.
places_changed = Signal()
# Sent on commit: a member gave their consent (or gave it again). `user_id`.
consent_given = Signal()


def member_place_changed_announce(*, user_ids) -> None:
    member_place_changed.send(sender=Profile, user_ids=sorted(set(user_ids)))


def member_name_changed_announce(*, user_ids) -> None:
    member_name_changed.send(sender=User, user_ids=sorted(set(user_ids)))


def places_changed_announce() -> None:
    places_changed.send(sender=Region)


def consent_given_announce(*, user_id: int) -> None:
    """Once the consent commits (never if it rolls back). Robust: a listener that fails is
    logged by Django and cannot undo the consent."""
    transaction.on_commit(lambda: consent_given.send(sender=ConsentRecord, user_id=user_id), robust=True)
