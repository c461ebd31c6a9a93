"""Demo people for `make run`: one login per role, ready to use."""

import json
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from members.models import Constituency, Region, User
from members.permissions import Role
from members.selectors import consent_text_current
from members.services import consent_give, profile_save, staff_region_set, user_assign_role

# Roles that must use two-factor authentication (members/mfa.py).
MFA_ROLES = {Role.TRAINER, Role.REGIONAL_STAFF, Role.NATIONAL_STAFF}


@transaction.atomic
def demo_people_load(*, path: Path, password: str, totp_secret: str) -> int:
    """Create the demo people listed in `path` who do not exist yet; return how many.

    Trainers and staff get an authenticator app with `totp_secret`, as the site requires
    of them. People who exist are left exactly as they are, so running it again changes
    nothing.
    """
    consent_text = consent_text_current()
    if consent_text is None:
        raise ValueError("Publish a consent text before loading demo people.")
    created = 0
    for person in json.loads(Path(path).read_text(encoding="utf-8")):
        if User.objects.filter(email__iexact=person["email"]).exists():
            continue
        user = User.objects.create_user(
            email=person["email"],
            password=password,
            is_staff=person.get("is_staff", False),
            is_superuser=person.get("is_superuser", False),
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        roles = {Role(role) for role in person["roles"]}
        for role in roles:
            user_assign_role(user=user, role=role)
        if roles & MFA_ROLES or user.is_superuser:
            TOTP.activate(user, totp_secret)
        consent_give(user=user, text=consent_text)
        region = Region.objects.get(ons_code=person["region"])
        if Role.REGIONAL_STAFF in roles:
            # Demo regional staff oversee the region they live in (set by national staff
            # in real life: members:staff-region-edit).
            staff_region_set(user=user, region=region, actor=None)
        profile_save(
            user=user,
            first_name=person["first_name"],
            last_name=person["last_name"],
            region=region,
            constituency=(
                Constituency.objects.get(ons_code=person["constituency"])
                if person.get("constituency")
                else None
            ),
            phone=person.get("phone", ""),
        )
        created += 1
    return created
