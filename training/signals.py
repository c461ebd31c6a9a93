"""What training announces. certification listens; training never imports it."""

from django.db import transaction
from django.dispatch import Signal

# Sent after commit when something that counts towards completion changes (an attendance
# record or a mark), with `enrolment_ids` (a list) and `cause` ("attendance" or "mark").
standing_changed = Signal()


def standing_changed_announce(*, sender, enrolment_ids: list[int], cause: str) -> None:
    """Send standing_changed once the current transaction commits (never if it rolls back).

    Robust: a listener that fails is logged by Django and cannot undo the saved change.
    """
    ids = list(enrolment_ids)
    transaction.on_commit(
        lambda: standing_changed.send(sender=sender, enrolment_ids=ids, cause=cause), robust=True
    )
