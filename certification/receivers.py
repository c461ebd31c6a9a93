"""certification listens to training (training never imports certification) and to sign-in."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from certification.navigation import registry_nav_flag_remember
from certification.services.certificates import standing_changed_handle


def standing_changed_receive(sender, *, enrolment_ids, cause, **kwargs) -> None:
    """Attendance or a mark changed: issue what is now complete, flag what no longer is."""
    standing_changed_handle(enrolment_ids=enrolment_ids)


# Connected on import: apps.CertificationConfig.ready imports this module.
@receiver(user_logged_in, dispatch_uid="certification.registry_nav_flag")
def registry_nav_flag_on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        registry_nav_flag_remember(session=request.session, user=user)
