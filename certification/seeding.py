"""What certification loads for the demo: the certified demo trainer listed publicly, with a
local action, as an accredited trainer. Reference data: none."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from certification.models import Certificate, RegistryEntry, Visibility
from certification.services.certificates import certificate_issue_if_complete
from certification.services.registry import local_action_create, registry_entry_update, trainer_accredit
from training.models import Enrolment

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


def seed(*, seeds_dir, demo: bool) -> list[str]:
    if not demo:
        return []
    return [f"Demo Future Leader listed: {'yes' if demo_leader_load() else 'already there'}."]
