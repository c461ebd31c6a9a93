"""What training announces. certification and reporting listen; training imports neither.

`enrolments_changed` and `training_offer_changed` feed the read model: they are sent inside
the transaction that made the change, so what reporting writes commits or rolls back with it
(decision 0024). `standing_changed` starts work of its own (a certificate may be owed) and is
sent on commit.
"""

from django.db import transaction
from django.dispatch import Signal

from training.models import Cohort, Enrolment

# Sent after commit when something that counts towards completion changes (an attendance
# record or a mark), with `enrolment_ids` (a list) and `cause` ("attendance" or "mark").
standing_changed = Signal()
# Enrolments were made (`made=True`), or something the dashboard counts of them changed:
# their status, their milestones, their attendance, work handed in or marked.
# `enrolment_ids`: a sorted list.
enrolments_changed = Signal()
# What is offered changed: a programme or version, a cohort (its dates, status, place or
# trainers), a session, a due date. The dashboard shows them; no copy is kept of them.
training_offer_changed = Signal()


def standing_changed_announce(*, sender, enrolment_ids: list[int], cause: str) -> None:
    """Send standing_changed once the current transaction commits (never if it rolls back).

    Robust: a listener that fails is logged by Django and cannot undo the saved change.
    """
    ids = list(enrolment_ids)
    transaction.on_commit(
        lambda: standing_changed.send(sender=sender, enrolment_ids=ids, cause=cause), robust=True
    )


def enrolments_changed_announce(*, enrolment_ids, made: bool = False) -> None:
    enrolments_changed.send(sender=Enrolment, enrolment_ids=sorted(set(enrolment_ids)), made=made)


def training_offer_changed_announce() -> None:
    training_offer_changed.send(sender=Cohort)
