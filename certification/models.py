"""Certificates, their audit trail and verifications; the Future Leaders registry; trainers.

A certificate copies what it certifies (the holder's name, programme, cohort, dates) at
issue, so that later edits elsewhere never change what was certified.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Constituency, Region
from training.models import Enrolment, Programme, ProgrammeVersion

# No 0/O or 1/I/L: codes are read from paper. 16 characters of 31: about 79 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16


def certificate_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")


def name_initials(name: str) -> str:
    """'A. K.' for 'Aisha Khan': what the verification page shows if the holder prefers."""
    return " ".join(f"{part[0]}." for part in name.split() if part)


class Certificate(models.Model):
    """Proof that a member completed a programme version in a cohort. One per enrolment."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT, related_name="certificate")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    version = models.ForeignKey(ProgrammeVersion, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=CODE_LENGTH, unique=True, default=certificate_code_new, editable=False)
    # Its bit in the credentials' revocation list, drawn at random at issue (status_list.py).
    status_list_index = models.PositiveIntegerField(unique=True, editable=False)
    holder_name = models.CharField(_("name on the certificate"), max_length=300)
    programme_title = models.CharField(max_length=200)
    version_number = models.PositiveIntegerField()
    cohort_name = models.CharField(max_length=200)
    issuer_name = models.CharField(max_length=200)
    issued_at = models.DateTimeField()
    issued_manually = models.BooleanField(default=False)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Shown publicly on the verification page: keep it neutral.
    revoked_reason = models.CharField(_("reason shown publicly"), max_length=200, blank=True)
    # How the verification page names the holder; the holder chooses.
    shows_full_name = models.BooleanField(_("show my full name when checked"), default=True)
    # Set when a later correction takes the enrolment below the rule: staff decide.
    needs_review = models.BooleanField(default=False)
    review_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        permissions = [("issue_certificates", "Can issue, revoke and review certificates")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True)
                | Q(status="revoked", revoked_at__isnull=False),
                name="certification_revoked_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_title}: {self.holder_name} ({self.code})"

    @property
    def is_revoked(self) -> bool:
        return self.status == CertificateStatus.REVOKED

    @property
    def is_withdrawn(self) -> bool:
        """The holder erased their account: the certificate still counts (anonymously) but no
        longer vouches for anyone. Load `holder` with the certificate (select_related)."""
        return self.holder.erased_at is not None

    @property
    def holder_initials(self) -> str:
        return name_initials(self.holder_name)

    @property
    def standing(self):
        """Valid, expired, revoked or withdrawn now: certification.standing decides. Load
        `holder` with the certificate (select_related)."""
        from certification.standing import certificate_standing  # it reads this module

        return certificate_standing(self)


class CertificateEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued automatically")
    ISSUED_MANUALLY = "issued_manually", _("Issued by staff")
    REVOKED = "revoked", _("Revoked")
    FLAGGED = "flagged", _("Flagged for review")
    REVIEWED = "reviewed", _("Review closed")
    RENEWED = "renewed", _("Renewed")


class CertificateEvent(models.Model):
    """The audit trail: who did what to a certificate, when and why. Only ever added to."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=CertificateEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class VerificationChannel(models.TextChoices):
    PAGE = "page", _("Verification page")
    CREDENTIAL = "credential", _("Credential status check")
    API = "api", _("API check")


class Verification(models.Model):
    """That a certificate was checked, and how; never who checked."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="verifications")
    channel = models.CharField(max_length=12, choices=VerificationChannel.choices)
    # A default, not auto_now_add: the page's checks are written a little later, with their time.
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["certificate", "at"], name="certification_verification_at")]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.channel} {self.at:%Y-%m-%d}"


# --- The Future Leaders registry --------------------------------------------------------


class Visibility(models.TextChoices):
    STAFF = "staff", _("National staff only")
    # Members in good standing, not anyone with an account (certification.selectors.registry).
    MEMBERS = "members", _("Members taking part (on a course or certified), trainers and staff")
    PUBLIC = "public", _("Anyone (public)")


class RegistryEntry(models.Model):
    """A certified member's place in the registry. Listing reveals a political affiliation,
    so it is visible to staff only until the leader opts in to more."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registry_entry"
    )
    joined_at = models.DateTimeField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.STAFF)
    bio = models.TextField(_("a short bio"), max_length=600, blank=True)

    class Meta:
        ordering = ["-joined_at", "-pk"]
        indexes = [models.Index(fields=["visibility", "joined_at"], name="certification_registry_vis")]

    def __str__(self) -> str:
        return str(self.member)


class VisibilityChange(models.Model):
    """Each opt-in and withdrawal: what the leader chose and when."""

    entry = models.ForeignKey(RegistryEntry, on_delete=models.CASCADE, related_name="visibility_changes")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.visibility} {self.at:%Y-%m-%d}"


class LocalAction(models.Model):
    """Organising a leader did after training: shown on their entry at its visibility."""

    entry = models.ForeignKey(RegistryEntry, on_delete=models.CASCADE, related_name="actions")
    issue = models.CharField(_("the issue"), max_length=200)
    organised_with = models.CharField(_("who you organised with"), max_length=300)
    what_happened = models.TextField(_("what you did"), max_length=2000)
    outcome = models.TextField(_("the outcome"), max_length=1000, blank=True)
    started_on = models.DateField(_("started"))
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="certification_action_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.issue


class TrainerAccreditation(models.Model):
    """A Future Leader accredited to train others, by staff or by a trainers' programme."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainer_accreditation"
    )
    accredited_at = models.DateTimeField()
    accredited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via_certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accredited_at"]

    def __str__(self) -> str:
        return str(self.member)


# --- Targets ----------------------------------------------------------------------------


class TargetScope(models.TextChoices):
    NATIONAL = "national", _("National")
    REGION = "region", _("A region")
    CONSTITUENCY = "constituency", _("A constituency")
    TARGET_SEATS = "target_seats", _("The target seats")


class Target(models.Model):
    """A number of certified leaders by a deadline, for a place (and optionally a programme).

    Changing the number or the date adds a TargetChange: the history is never overwritten.
    """

    scope = models.CharField(_("for"), max_length=12, choices=TargetScope.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    constituency = models.ForeignKey(
        Constituency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave blank to count leaders certified by any programme."),
    )
    leaders = models.PositiveIntegerField(_("certified leaders"))
    deadline = models.DateField(_("by"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["deadline", "scope", "pk"]
        permissions = [
            ("view_dashboard", "Can see the dashboard of their own region"),
            ("view_national_dashboard", "Can see the dashboard of every region"),
            ("set_targets", "Can set and change targets"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(leaders__gte=1), name="certification_target_at_least_one"),
            models.CheckConstraint(
                condition=(
                    Q(scope="region", region__isnull=False, constituency__isnull=True)
                    | Q(scope="constituency", constituency__isnull=False, region__isnull=True)
                    | Q(
                        scope__in=["national", "target_seats"], region__isnull=True, constituency__isnull=True
                    )
                ),
                name="certification_target_place_matches_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leaders} leaders, {self.place_label}, by {self.deadline:%d %b %Y}"

    @property
    def place_label(self) -> str:
        if self.scope == TargetScope.REGION:
            return str(self.region)
        if self.scope == TargetScope.CONSTITUENCY:
            return str(self.constituency)
        return str(TargetScope(self.scope).label)


class TargetChange(models.Model):
    """One setting of a target's number and date: who, when, and why."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="changes")
    leaders = models.PositiveIntegerField()
    deadline = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.leaders} by {self.deadline} (set {self.at:%Y-%m-%d})"
