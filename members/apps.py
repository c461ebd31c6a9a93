from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _roles_sync_after_last_app(sender, **kwargs) -> None:
    # Every app's permissions exist only once the last app has migrated. post_migrate is sent
    # only for apps with a models module, so the last of those (not a model-less app such as
    # dbbackup, which would leave the role groups never made).
    migrated = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is migrated[-1]:
        from members.services import roles_sync

        roles_sync()


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        post_migrate.connect(_roles_sync_after_last_app, dispatch_uid="members_roles_sync")

        from allauth.mfa.models import Authenticator
        from allauth.mfa.signals import authenticator_added, authenticator_removed
        from django.contrib.auth.signals import user_logged_in

        from config import checks  # noqa: F401 - registers the platform's own system checks
        from config.crypto import EncryptedStore, store_register
        from members import mfa

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
        from allauth.account.signals import user_signed_up

        from members import onboarding

        # A sign-up's `next` outlives email verification (members/onboarding.py).
        user_signed_up.connect(onboarding.on_user_signed_up, dispatch_uid="members_onboarding_return_to")
        from members import receivers

        receivers.connect()  # a role given or taken moves the member's access_version
        from members import erasure

        erasure.register()  # the account's own section of the data export and erasure
