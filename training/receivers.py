"""training listens to members: an enrolment's copy of its member's place follows the profile."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from members.models import Profile
from training.models import Enrolment


@receiver(post_save, sender=Profile, dispatch_uid="training.enrolment_place_on_profile_saved")
def enrolment_place_on_profile_saved(sender, instance, **kwargs) -> None:
    Enrolment.objects.filter(member_id=instance.user_id).update(
        member_region_id=instance.region_id, member_constituency_id=instance.constituency_id
    )


@receiver(post_delete, sender=Profile, dispatch_uid="training.enrolment_place_on_profile_deleted")
def enrolment_place_on_profile_deleted(sender, instance, **kwargs) -> None:
    Enrolment.objects.filter(member_id=instance.user_id).update(member_region=None, member_constituency=None)
