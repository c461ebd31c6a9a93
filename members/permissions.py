"""Roles and what each may do: the one place that decides it for the members app.

A role is a Django group carrying permissions; views ask for permissions, never
for group names, so a role's rights can change here without touching a view.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
    # Staff of one region: the region is their profile's. Apps add what they may see.
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
    ],
}

# The permission that opens each role's home page, and that page's URL name.
ROLE_HOME: dict[Role, tuple[str, str]] = {
    Role.NATIONAL_STAFF: ("members.access_staff_area", "members:staff-home"),
    Role.REGIONAL_STAFF: ("members.access_regional_area", "members:staff-home"),
    Role.TRAINER: ("members.access_trainer_area", "members:trainer-home"),
    Role.TRAINEE: ("members.access_trainee_area", "members:trainee-home"),
}


def role_permissions_extend(role: Role, permissions: list[str]) -> None:
    """Let another app add what its features need to a role (called from its AppConfig.ready)."""
    ROLE_PERMISSIONS[role].extend(perm for perm in permissions if perm not in ROLE_PERMISSIONS[role])


def role_home_set(role: Role, url_name: str) -> None:
    """Let another app give a role a better home page than the placeholder here."""
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
