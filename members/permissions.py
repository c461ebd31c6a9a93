"""Roles and what each may do: the one place that decides it for the members app.

A role is a Django group carrying permissions; views ask for permissions, never
for group names, so a role's rights can change here without touching a view.
"""

from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from members.models import User


class Role(models.TextChoices):
    TRAINEE = "trainee", _("Trainee")
    TRAINER = "trainer", _("Trainer")
    REGIONAL_STAFF = "regional_staff", _("Regional staff")
    NATIONAL_STAFF = "national_staff", _("National staff")


ROLE_GROUP_NAMES: dict[Role, str] = {
    Role.TRAINEE: "Trainee",
    Role.TRAINER: "Trainer",
    Role.REGIONAL_STAFF: "Regional staff",
    Role.NATIONAL_STAFF: "National staff",
}

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.TRAINEE: ["members.access_trainee_area"],
    Role.TRAINER: ["members.access_trainer_area"],
    # Staff of one region: the region they oversee (User.staff_region, set by national staff;
    # see staff_region_scope). Apps add what they may see.
    Role.REGIONAL_STAFF: ["members.access_regional_area"],
    Role.NATIONAL_STAFF: [
        "members.access_staff_area",
        "members.view_user",
        "members.view_profile",
        "members.view_region",
        "members.view_constituency",
        "members.change_constituency",
        "members.view_consenttext",
        "members.add_consenttext",
        "members.view_consentrecord",
        "members.erase_member",
        "members.grant_roles",
        # The audit trail sits below members (every app records into it and it imports none),
        # so its one permission is given here: national staff read the trail and export it;
        # nobody may change it.
        "audit.view_auditentry",
    ],
}

# The permission that opens each role's home page, and that page's URL name. Trainees and
# trainers have their homes in the training app, which sets them (training/apps.py); until
# then they land on their profile.
ROLE_HOME: dict[Role, tuple[str, str]] = {
    Role.NATIONAL_STAFF: ("members.access_staff_area", "members:staff-home"),
    Role.REGIONAL_STAFF: ("members.access_regional_area", "members:staff-home"),
    Role.TRAINER: ("members.access_trainer_area", "members:profile-edit"),
    Role.TRAINEE: ("members.access_trainee_area", "members:profile-edit"),
}


def role_permissions_extend(role: Role, permissions: list[str]) -> None:
    """Let another app add what its features need to a role (called from its AppConfig.ready)."""
    ROLE_PERMISSIONS[role].extend(perm for perm in permissions if perm not in ROLE_PERMISSIONS[role])


def role_home_set(role: Role, url_name: str) -> None:
    """Let another app give a role its home page."""
    ROLE_HOME[role] = (ROLE_HOME[role][0], url_name)


def user_roles(user) -> list[Role]:
    """The roles a user holds, most senior first."""
    if not user.is_authenticated:
        return []
    return [role for role, (perm, _url) in ROLE_HOME.items() if user.has_perm(perm)]


def user_home_url_name(user) -> str | None:
    """The URL name of the home page a user lands on after login, if any."""
    roles = user_roles(user)
    return ROLE_HOME[roles[0]][1] if roles else None


def staff_region_scope(user) -> int | None:
    """The id of the region whose data `user` reads as regional staff: the region national
    staff gave them to oversee (User.staff_region), never their profile's region, which is
    their own place and theirs to edit. None for anyone not regional staff, and for regional
    staff who have been given no region (they read no region's data).

    Every rule that limits regional staff to their region reads it here, so no edit a member
    makes to their own profile changes what they may see. Costs no query: the column is on
    the user row the request has already loaded."""
    if not user.is_authenticated or not user.has_perm("members.access_regional_area"):
        return None
    return user.staff_region_id


# --- Regional staff, for those who grant roles ------------------------------------------


def user_grants_roles(user) -> bool:
    """National staff: they set the region a regional staff member oversees."""
    return user.has_perm("members.grant_roles")


def regional_staff_list_for_granter(*, user):
    """The members holding the regional staff role (not erased), for those who grant roles;
    none for anyone else."""
    if not user_grants_roles(user):
        return User.objects.none()
    return User.objects.filter(
        groups__name=ROLE_GROUP_NAMES[Role.REGIONAL_STAFF], erased_at__isnull=True
    ).select_related("staff_region", "profile__region")


def regional_staff_get_for_granter(*, user, pk):
    """A regional staff member whose region `user` may set; 404 for anyone else (a member who
    does not hold the role, an unknown id) and for those who do not grant roles."""
    member = regional_staff_list_for_granter(user=user).filter(pk=pk).first()
    if member is None:
        raise Http404("Not found.")
    return member
