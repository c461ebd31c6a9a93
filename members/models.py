from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class Nation(models.TextChoices):
    ENGLAND = "england", _("England")
    SCOTLAND = "scotland", _("Scotland")
    WALES = "wales", _("Wales")
    NORTHERN_IRELAND = "northern_ireland", _("Northern Ireland")


class Region(models.Model):
    """An ONS region of England, or one of the other three nations as a whole."""

    ons_code = models.CharField(_("ONS code"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    nation = models.CharField(_("nation"), max_length=20, choices=Nation.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Constituency(models.Model):
    """A Westminster parliamentary constituency (July 2024 boundaries)."""

    ons_code = models.CharField(_("ONS code"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="constituencies")
    is_target_seat = models.BooleanField(_("target seat"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("constituencies")

    def __str__(self) -> str:
        return self.name


class UserManager(DjangoUserManager):
    """Creates users by email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with a login. Members log in by email address."""

    username = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    # Set when the account is erased (UK GDPR article 17): the row stays, pseudonymised, so
    # that certificates and enrolments still count; nothing else about the person is kept.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    # The region a regional staff member oversees: their access scope, given with the role by
    # those who grant roles (members.services.staff_region_set, or the admin) and audited.
    # Kept apart from the profile's region, which is the member's own place and theirs to edit.
    staff_region = models.ForeignKey(
        Region,
        verbose_name=_("region overseen (regional staff)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Moves whenever what this member may reach changes (a role or a permission given or
    # taken, the superuser flag, an authenticator added or removed): each session compares it
    # with the one its MFA state was worked out at, and works it out again when they differ.
    # Read with the user row every signed-in request loads, so the check costs no query.
    access_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_email_ci_unique"),
        ]
        permissions = [
            ("access_trainee_area", "Can use the trainee pages"),
            ("access_trainer_area", "Can use the trainer pages"),
            ("access_staff_area", "Can use the national staff pages"),
            ("access_regional_area", "Can use the regional staff pages"),
            ("erase_member", "Can erase a member's account at their request"),
            ("grant_roles", "Can set the region a regional staff member oversees"),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return str(_("Erased member"))
        return self.get_full_name() or self.email


class Profile(models.Model):
    """What a member tells us about themselves: where they are and how to reach them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    constituency = models.ForeignKey(
        Constituency, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    phone = PhoneNumberField(_("phone"), blank=True)
    # The member's number in the organisation's own membership system, when staff imported
    # them from it (imports app): a second key, besides the email, to match a re-import by.
    membership_number = models.CharField(_("membership number"), max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("membership_number"),
                condition=~models.Q(membership_number=""),
                name="members_profile_membership_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    def clean(self) -> None:
        if self.constituency_id and self.region_id and self.constituency.region_id != self.region_id:
            raise ValidationError(
                {
                    "constituency": _("%(seat)s is in %(region)s, not in the region you chose.")
                    % {"seat": self.constituency.name, "region": self.constituency.region.name}
                }
            )


class ConsentText(models.Model):
    """A published version of the words a member agrees to. Never edited once in use."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self) -> str:
        return f"Consent text {self.version}"


class ConsentRecord(models.Model):
    """Evidence that a member agreed to one version of the consent text, and when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="records")
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "text"], name="members_consent_once_per_text"),
        ]

    def __str__(self) -> str:
        return f"{self.user} agreed to {self.text.version}"


class DataExportStatus(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Could not be prepared")
    EXPIRED = "expired", _("Expired")


class DataExport(models.Model):
    """A member's request for a copy of everything held about them (UK GDPR article 15).

    The ZIP lives in private storage (MEDIA_ROOT or the object store: config/storage.py),
    served only through a view, until `expires_at`; then the expiry task deletes the file and
    marks the row expired.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(
        _("status"), max_length=10, choices=DataExportStatus.choices, default=DataExportStatus.PREPARING
    )
    requested_at = models.DateTimeField(_("asked for at"))
    # When the build was last handed to the broker (empty: never, or the broker was down);
    # the sweep asks again once this is DATA_EXPORT_REENQUEUE_SECONDS old (decision 0022).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    file = models.FileField(max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # Asking twice while one is being prepared must not start a second.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="preparing"),
                name="members_one_export_preparing",
            ),
        ]

    def __str__(self) -> str:
        return f"Data export {self.pk} of {self.user_id} ({self.status})"
