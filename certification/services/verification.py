"""Counting verifications: that a certificate was checked, and how; never who checked."""

from certification.models import Certificate, Verification


def verification_record(*, certificate: Certificate, channel: str) -> None:
    Verification.objects.create(certificate=certificate, channel=channel)
