"""Signal receivers of the members app (connected in MembersConfig.ready).

A role is a group membership, and the admin, the services, the factories and a shell all
change it through Django's many-to-many managers (`user.groups.add`, `group.user_set.remove`,
`group.permissions.set`). One receiver on those tables moves each affected member's
`access_version`, so that no path that gives or takes a role can leave a session deciding
the second factor on roles it no longer has (decision 0020). A signal, not a call in each
service, because the paths are not all ours: the admin's form saves groups itself.

The same version moves when a complete onboarding stops being complete (a consent withdrawn
or deleted, the profile deleted) and when an authenticator is deleted; the cache's copy of
the current consent text is replaced when a text is published or removed. By any path (the
service, the admin, a shell): the state sessions keep is stamped with both
(members.member_state, decision 0028).

After `migrate`, once the last app has made its permissions, each role's group is given what
the apps declared for it (members.services.roles_sync).
"""

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from members.member_state import consent_text_current_announce
from members.models import ConsentRecord, ConsentText, Profile
from members.services import roles_sync, user_access_version_bump

# m2m_changed actions after which the rows are as they will stay; a clear is caught before,
# while the rows it removes can still be read.
AFTER = {"post_add", "post_remove"}


def on_access_m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in AFTER and action != "pre_clear":
        return
    if action in AFTER and not pk_set:
        return  # nothing was added or removed (an add of what was there already)
    User = get_user_model()
    if isinstance(instance, User):
        user_ids = [instance.pk]
    elif isinstance(instance, Group) and model is User:
        # group.user_set.add(...) / remove(...) / clear()
        user_ids = pk_set if action != "pre_clear" else instance.user_set.values_list("pk", flat=True)
    elif isinstance(instance, Group):
        # The group's permissions changed: a role now means something else for its members.
        user_ids = instance.user_set.values_list("pk", flat=True)
    elif isinstance(instance, Permission) and model is Group:
        groups = pk_set if action != "pre_clear" else instance.group_set.values_list("pk", flat=True)
        user_ids = User.objects.filter(groups__in=list(groups)).values_list("pk", flat=True)
    elif isinstance(instance, Permission):
        user_ids = pk_set if action != "pre_clear" else instance.user_set.values_list("pk", flat=True)
    else:
        return
    user_access_version_bump(user_ids=list(user_ids or []))


def on_consent_record_saved(sender, instance, **kwargs) -> None:
    # A consent given needs no stamp (an onboarding not complete is read on every request).
    if instance.withdrawn_at is not None:
        user_access_version_bump(user_ids=[instance.user_id])


def on_member_row_deleted(sender, instance, **kwargs) -> None:
    # A profile or a consent ends a complete onboarding; an authenticator removed by an
    # operator (the admin, a shell: allauth's own flows also send authenticator_removed)
    # may put a trainer back before the second-factor gate.
    user_access_version_bump(user_ids=[instance.user_id])


def on_consent_text_changed(sender, **kwargs) -> None:
    consent_text_current_announce()


def on_post_migrate(sender, **kwargs) -> None:
    # Every app's permissions exist only once the last app has migrated. Django sends
    # post_migrate only for apps with a models module, so the last of those.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is with_models[-1]:
        roles_sync()


def connect() -> None:
    post_migrate.connect(on_post_migrate, dispatch_uid="members_roles_sync")
    post_save.connect(on_consent_record_saved, sender=ConsentRecord, dispatch_uid="members_state_consent")
    for model in (ConsentRecord, Profile, Authenticator):
        post_delete.connect(
            on_member_row_deleted, sender=model, dispatch_uid=f"members_state_deleted_{model.__name__}"
        )
    for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
        signal.connect(on_consent_text_changed, sender=ConsentText, dispatch_uid=f"members_state_text_{name}")
    User = get_user_model()
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            on_access_m2m_changed, sender=through, dispatch_uid=f"members_access_version_{through.__name__}"
        )
