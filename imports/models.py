"""A staff import of members: the file's rows kept privately between preview and confirm,
and, for each member it created, the consent evidence it brought and the place it holds."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Checked, waiting for confirmation")
    CONFIRMING = "confirming", _("Confirmed, being written")
    CONFIRMED = "confirmed", _("Imported")
    REFUSED = "refused", _("Not imported: rows changed since the check")
    EXPIRED = "expired", _("Expired before confirmation")


class MemberImport(models.Model):
    """One uploaded file. Its parsed rows and the preview (members' data) are kept only until
    it is confirmed or expires; then only the counts remain."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"))
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(
        _("status"), max_length=10, choices=MemberImportStatus.choices, default=MemberImportStatus.PREVIEWED
    )
    file_name = models.CharField(_("file"), max_length=200)
    file_sha256 = models.CharField(max_length=64)
    # What the file was read as: "xlsx", or the CSV's text encoding as detected.
    file_format = models.CharField(_("read as"), max_length=30)
    cohort = models.ForeignKey(
        "training.Cohort", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rows = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_new = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # While confirming: when the write was last handed to the broker; empty if the broker
    # could not be reached. The sweep hands it over again once this is older than
    # MEMBER_IMPORT_WRITE_LEASE_SECONDS (imports.services.member_imports_confirming_sweep).
    write_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Member import {self.pk} ({self.status})"

    @property
    def can_confirm(self) -> bool:
        return self.status == MemberImportStatus.PREVIEWED and self.rows_invalid == 0 and self.rows_total > 0


class ImportedMember(models.Model):
    """A member whose account an import created. Until they have set a password and given
    their own consent (`activated_at`), they hold no place in any cohort: the cohort the
    import chose waits here, and nothing that sends reminders knows them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member_import = models.ForeignKey(MemberImport, on_delete=models.PROTECT, related_name="members")
    # The organisation's evidence that the member agreed to be contacted (from its own records).
    consent_evidence_date = models.DateField(_("consent evidence: date"))
    consent_evidence_source = models.CharField(_("consent evidence: source"), max_length=200)
    cohort = models.ForeignKey(
        "training.Cohort", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation_claimed_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    # What happened to the waiting place when the member activated (enrolled, waitlisted, or why not).
    placement_outcome = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Imported member {self.user_id}"
