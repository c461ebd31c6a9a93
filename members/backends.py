"""Permission checks answered from what the request's member keeps (members.member_state).

First in AUTHENTICATION_BACKENDS, and Django's ModelBackend in everything else (signing in,
loading the session's user: the test client's force_login and the benchmarks sign in
through the first backend). For a user the request has handed kept permissions
(`user.kept_permissions`, set by members.member_state.member_state_load) it answers every
check without a query: yes when the permission is kept, and otherwise a refusal that stops
the backends after it (raising PermissionDenied is Django's documented way for a backend to
end a check). For any other user object (one a service or a test loaded) it is ModelBackend,
reading the database.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied


def kept_permissions_of(user_obj) -> frozenset[str] | None:
    return getattr(user_obj, "kept_permissions", None)


class KeptPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        kept = kept_permissions_of(user_obj)
        if kept is None or obj is not None:
            return super().get_all_permissions(user_obj, obj)
        return set(kept)

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        kept = kept_permissions_of(user_obj)
        if kept is None or obj is not None:
            return super().has_perm(user_obj, perm, obj)
        if perm in kept:
            return True
        raise PermissionDenied

    def has_module_perms(self, user_obj, app_label) -> bool:
        kept = kept_permissions_of(user_obj)
        if kept is None:
            return super().has_module_perms(user_obj, app_label)
        if any(perm.startswith(f"{app_label}.") for perm in kept):
            return True
        raise PermissionDenied
