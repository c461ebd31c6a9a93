"""Personal API tokens: scoped, expiring, revocable, stored hashed.

A token is `fl_<prefix>_<secret>`. Only the prefix (to find the row) and the SHA-256 of the
whole token are stored: the token itself is shown once, when it is made. SHA-256 (not a slow
password hash) is enough because the secret is 256 random bits, not something a person
chose; a slow hash would cost every API call tens of milliseconds. See
docs/decisions/0013-rest-api.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenAccess(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiResource(models.TextChoices):
    """What a token may reach; each API view names the one it belongs to."""

    PROGRAMMES = "programmes", _("Programmes")
    COHORTS = "cohorts", _("Cohorts and sessions")
    ENROLMENTS = "enrolments", _("Enrolments")
    ATTENDANCE = "attendance", _("Attendance registers")
    CERTIFICATES = "certificates", _("Certificates")
    REGISTRY = "registry", _("Registry")
    DASHBOARD = "dashboard", _("Targets and dashboard figures")


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    access = models.CharField(_("access"), max_length=10, choices=TokenAccess.choices)
    resources = models.JSONField(_("resources"), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="api_token_expires_later"
            ),
            models.CheckConstraint(condition=Q(access__in=TokenAccess.values), name="api_token_access_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (fl_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def may_write(self) -> bool:
        return self.access == TokenAccess.READ_WRITE

    def reaches(self, resource: str) -> bool:
        return resource in self.resources
