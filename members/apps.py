from django.apps import AppConfig


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from allauth.mfa.models import Authenticator
        from allauth.mfa.signals import authenticator_added, authenticator_removed
        from django.contrib.auth.signals import user_logged_in

        from config import checks  # noqa: F401 - registers the platform's own system checks
        from config.crypto import EncryptedStore, store_register
        from members import (
            erasure,
            mfa,
            onboarding,
            receivers,
            tasks,  # noqa: F401 - registers the tasks the services enqueue by name
        )

        user_logged_in.connect(mfa.on_user_logged_in, dispatch_uid="members_mfa_logged_in")
        authenticator_added.connect(mfa.on_authenticator_changed, dispatch_uid="members_mfa_added")
        authenticator_removed.connect(mfa.on_authenticator_changed, dispatch_uid="members_mfa_removed")
        store_register(
            EncryptedStore(
                name="authenticator secrets",
                table=Authenticator._meta.db_table,
                reencrypt=mfa.authenticators_reencrypt,
                unreadable_count=mfa.authenticators_unreadable_count,
            )
        )
        # A sign-up's `next` outlives email verification (members/onboarding.py).
        user_signed_up.connect(onboarding.on_user_signed_up, dispatch_uid="members_onboarding_return_to")
        # Roles are synced after migrate; a role given or taken moves the member's access_version.
        receivers.connect()
        erasure.register()  # the account's own section of the data export and erasure
