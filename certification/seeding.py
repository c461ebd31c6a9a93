"""What certification loads for the demo: the certified demo trainer listed publicly, with a
local action, as an accredited trainer; and the targets (a thousand leaders in two years,
shared between the regions). Reference data: none."""

import datetime as dt
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from certification.models import Certificate, RegistryEntry, Target, TargetScope, Visibility
from certification.services.certificates import certificate_issue_if_complete
from certification.services.registry import local_action_create, registry_entry_update, trainer_accredit
from certification.services.targets import target_create
from members.models import Region
from training.models import Enrolment

DEMO_NATIONAL_TARGET = 1000

DEMO_LEADER = "trainer@demo.futureleaders.example"


def demo_leader_load() -> bool:
    User = get_user_model()
    leader = User.objects.filter(email=DEMO_LEADER).first()
    if leader is None or Certificate.objects.filter(holder=leader).exists():
        return False
    enrolment = Enrolment.objects.filter(member=leader, cohort__name="Leeds, spring").first()
    if enrolment is None or certificate_issue_if_complete(enrolment_id=enrolment.pk) is None:
        return False
    entry = RegistryEntry.objects.get(member=leader)
    registry_entry_update(
        entry=entry,
        actor=leader,
        visibility=Visibility.PUBLIC,
        bio="Organises with tenants and carers in Cathays on buses, repairs and youth services.",
    )
    local_action_create(
        entry=entry,
        actor=leader,
        issue="Bus route 38 cut",
        organised_with="Carers, students and shift workers on the estate",
        what_happened="Forty residents met the transport committee chair with a costed alternative.",
        outcome="The weekday service was restored.",
        started_on=timezone.localdate() - timedelta(days=90),
        ended_on=timezone.localdate() - timedelta(days=30),
    )
    staff = User.objects.get(email="staff@demo.futureleaders.example")
    trainer_accredit(member=leader, actor=staff, note="Demo: runs the Tyneside cohort.")
    return True


def regional_shares(*, total: int, weights: dict[int, int]) -> dict[int, int]:
    """`total` split in proportion to `weights` (largest remainders), so the shares add up to it."""
    weight_sum = sum(weights.values())
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    shares = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def demo_targets_load() -> int:
    """A thousand leaders by the end of the month two years from now, and each region's share,
    in proportion to its constituencies. Nothing if any target exists. Returns how many made."""
    if Target.objects.exists():
        return 0
    User = get_user_model()
    staff = User.objects.get(email="staff@demo.futureleaders.example")
    today = timezone.localdate()
    in_two_years = today.replace(year=today.year + 2, day=1)
    deadline = (in_two_years + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    target_create(
        scope=TargetScope.NATIONAL,
        leaders=DEMO_NATIONAL_TARGET,
        deadline=deadline,
        actor=staff,
        note="The movement's goal: a thousand Future Leaders.",
    )
    regions = {region.pk: region for region in Region.objects.annotate(seats=Count("constituencies"))}
    shares = regional_shares(
        total=DEMO_NATIONAL_TARGET,
        weights={pk: region.seats for pk, region in regions.items() if region.seats},
    )
    for pk, leaders in sorted(shares.items()):
        if leaders:
            target_create(
                scope=TargetScope.REGION,
                region=regions[pk],
                leaders=leaders,
                deadline=deadline,
                actor=staff,
                note="The region's share of the thousand, by its number of constituencies.",
            )
    return 1 + sum(1 for leaders in shares.values() if leaders)


def seed(*, seeds_dir, demo: bool) -> list[str]:
    if not demo:
        return []
    return [
        f"Demo Future Leader listed: {'yes' if demo_leader_load() else 'already there'}.",
        f"Demo targets set: {demo_targets_load() or 'already there'}.",
    ]
