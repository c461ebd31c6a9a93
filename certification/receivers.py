"""certification listens to training (training never imports certification) and to sign-in."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from certification.dashboard_cache import dashboard_figures_changed
from certification.models import Certificate, Target
from certification.navigation import registry_nav_flag_remember
from certification.services.certificates import standing_changed_handle
from certification.services.tally import (
    enrolment_certified_set,
    leader_tally_place_set,
    leader_tally_refresh,
)
from certification.verification_cache import checked_pages_forget
from members.models import Constituency, Profile, Region, User
from training.models import (
    Attendance,
    Cohort,
    Enrolment,
    Mark,
    Programme,
    ProgrammeVersion,
    Session,
    Submission,
)
from training.signals import standing_changed

# What a leader tally row is made of: saving a certificate with only other fields changed
# (its review flag, how the name shows) leaves the tally alone.
TALLY_CERTIFICATE_FIELDS = {"status", "issued_at", "expires_on", "holder", "holder_id"}


def standing_changed_receive(sender, *, enrolment_ids, cause, **kwargs) -> None:
    """Attendance or a mark changed: issue what is now complete, flag what no longer is."""
    standing_changed_handle(enrolment_ids=enrolment_ids)


# Connected on import: apps.CertificationConfig.ready imports this module.
@receiver(user_logged_in, dispatch_uid="certification.registry_nav_flag")
def registry_nav_flag_on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        registry_nav_flag_remember(session=request.session, user=user)


# The leader tally and enrolments' certified_at follow every certificate and profile
# change, whichever service made it.
@receiver(post_save, sender=Certificate, dispatch_uid="certification.tally_certificate_saved")
def tally_on_certificate_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is None or TALLY_CERTIFICATE_FIELDS & set(update_fields):
        enrolment_certified_set(
            enrolment_id=instance.enrolment_id,
            certified_at=None if instance.is_revoked else instance.issued_at,
        )
        leader_tally_refresh(user_ids=[instance.holder_id])


@receiver(post_delete, sender=Certificate, dispatch_uid="certification.tally_certificate_deleted")
def tally_on_certificate_deleted(sender, instance, **kwargs) -> None:
    enrolment_certified_set(enrolment_id=instance.enrolment_id, certified_at=None)
    leader_tally_refresh(user_ids=[instance.holder_id])


@receiver(post_save, sender=Profile, dispatch_uid="certification.tally_profile_saved")
def tally_on_profile_saved(sender, instance, **kwargs) -> None:
    leader_tally_place_set(
        user_id=instance.user_id,
        region_id=instance.region_id,
        constituency_id=instance.constituency_id,
        has_profile=True,
    )


@receiver(post_delete, sender=Profile, dispatch_uid="certification.tally_profile_deleted")
def tally_on_profile_deleted(sender, instance, **kwargs) -> None:
    leader_tally_place_set(user_id=instance.user_id, region_id=None, constituency_id=None, has_profile=False)


# --- The dashboard's kept figures (certification/dashboard_cache.py) ------------------------------
# Any saved or deleted row the figures count from makes the kept figures out of date, whichever
# service changed it; registers saved in bulk announce standing_changed instead.
DASHBOARD_SOURCES = [
    Certificate,
    Profile,
    Target,
    Enrolment,
    Attendance,
    Submission,
    Mark,
    Session,
    Cohort,
    Programme,
    ProgrammeVersion,
    Region,
    Constituency,
]


def dashboard_figures_stale(sender, **kwargs) -> None:
    dashboard_figures_changed()


def dashboard_figures_stale_on_user_saved(sender, update_fields=None, **kwargs) -> None:
    """A trainer's name is on the dashboard; a sign-in (last_login alone) changes nothing there."""
    if update_fields is None or set(update_fields) - {"last_login"}:
        dashboard_figures_changed()


for source in DASHBOARD_SOURCES:
    post_save.connect(
        dashboard_figures_stale, sender=source, dispatch_uid=f"dashboard.saved.{source.__name__}"
    )
    post_delete.connect(
        dashboard_figures_stale, sender=source, dispatch_uid=f"dashboard.deleted.{source.__name__}"
    )
m2m_changed.connect(
    dashboard_figures_stale, sender=Cohort.trainers.through, dispatch_uid="dashboard.trainers"
)
post_save.connect(dashboard_figures_stale_on_user_saved, sender=User, dispatch_uid="dashboard.user_saved")
standing_changed.connect(dashboard_figures_stale, dispatch_uid="dashboard.standing_changed")


# The verification page's kept copy goes with any change to its certificate (revoked, renamed,
# shown by initials), whichever service made it.
@receiver(post_save, sender=Certificate, dispatch_uid="certification.verify_page_certificate_saved")
@receiver(post_delete, sender=Certificate, dispatch_uid="certification.verify_page_certificate_deleted")
def verify_page_forget(sender, instance, **kwargs) -> None:
    checked_pages_forget(codes=[instance.code])
