"""Who may see and do what in certification: the one place that decides it.

Protected objects are reached through `<entity>_get_...` functions that raise Http404 for
what the user may not see, so a changed id in a URL reveals nothing.
"""

from django.http import Http404

from certification.models import Certificate
from training.models import Enrolment


def user_manages_certificates(user) -> bool:
    """National staff: issue manually, revoke, review, and see every certificate."""
    return user.has_perm("certification.issue_certificates")


def user_sees_all_certificates(user) -> bool:
    """National staff, and anyone granted only to look (the model's view permission)."""
    return user_manages_certificates(user) or user.has_perm("certification.view_certificate")


def certificate_get_for_holder_or_staff(*, user, pk) -> Certificate:
    """The holder's own certificate, or any certificate for staff; 404 for everyone else."""
    if not user.is_authenticated:
        raise Http404("Not found.")
    certificates = Certificate.objects.all()
    if not user_sees_all_certificates(user):
        certificates = certificates.filter(holder=user)
    certificate = certificates.filter(pk=pk).first()
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def certificate_get_for_holder(*, user, pk) -> Certificate:
    """The user's own certificate: even staff reach only their own here."""
    certificate = Certificate.objects.filter(pk=pk, holder=user).first() if user.is_authenticated else None
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def certificate_get_for_staff(*, user, pk) -> Certificate:
    certificate = Certificate.objects.filter(pk=pk).first() if user_manages_certificates(user) else None
    if certificate is None:
        raise Http404("Not found.")
    return certificate


def enrolment_get_for_certificate_staff(*, user, pk) -> Enrolment:
    enrolment = (
        Enrolment.objects.select_related("member", "cohort__version__programme").filter(pk=pk).first()
        if user_manages_certificates(user)
        else None
    )
    if enrolment is None:
        raise Http404("Not found.")
    return enrolment
