"""An imported member becomes active (and takes up the place held for them) the moment both
halves are done: a password of their own, and their own consent. Either may come first."""

from django.db import transaction

from imports.services import imported_member_activate, imported_member_email_verified
from members.models import User


def on_consent_given(sender, *, user_id, **kwargs) -> None:
    """members announces a consent once it has committed: a cohort that refuses the place
    must not undo the consent."""
    imported_member_activate(user=User.objects.get(pk=user_id))


def on_password_reset(sender, request, user, **kwargs) -> None:
    imported_member_email_verified(user=user)
    transaction.on_commit(lambda: imported_member_activate(user=user), robust=True)


def on_password_set(sender, request, user, **kwargs) -> None:
    transaction.on_commit(lambda: imported_member_activate(user=user), robust=True)
