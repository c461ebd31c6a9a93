"""certification listens to training's events (training never imports certification), to
sign-in, and to its own certificates. It acts on no other app's models: what the dashboard
keeps is reporting's, fed by the events in certification/signals.py."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from certification.models import Certificate
from certification.navigation import registry_nav_flag_remember
from certification.services.certificates import standing_changed_handle
from certification.verification_cache import checked_pages_forget


def standing_changed_receive(sender, *, enrolment_ids, cause, **kwargs) -> None:
    """Attendance or a mark changed: issue what is now complete, flag what no longer is."""
    standing_changed_handle(enrolment_ids=enrolment_ids)


# Connected on import: apps.CertificationConfig.ready imports this module.
@receiver(user_logged_in, dispatch_uid="certification.registry_nav_flag")
def registry_nav_flag_on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        registry_nav_flag_remember(session=request.session, user=user)


# The verification page's kept copy goes with any change to its certificate (revoked, renamed,
# shown by initials), whichever service made it: certification's own model and cache.
@receiver(post_save, sender=Certificate, dispatch_uid="certification.verify_page_certificate_saved")
@receiver(post_delete, sender=Certificate, dispatch_uid="certification.verify_page_certificate_deleted")
def verify_page_forget(sender, instance, **kwargs) -> None:
    checked_pages_forget(codes=[instance.code])
