"""The read model's own table. The enrolments' copies (`member_region`,
`member_constituency`, `certified_at`) stay on training's Enrolment table, where the funnels
read them without a join; reporting's services are the only code that writes them."""

from django.conf import settings
from django.db import models

from members.models import Constituency, Region


class LeaderTally(models.Model):
    """One row per certified leader: where they are and since when. Kept by
    `reporting.services.tally` from certification's and members' events, so the dashboard
    counts leaders from one narrow table instead of joining every certificate to every
    profile; `manage.py dashboard_rebuild --check` applies the same rule to every member at once
    (in SQL) and reports differences.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The place of the member's profile now; both empty when they have no profile.
    has_profile = models.BooleanField()
    region = models.ForeignKey(Region, on_delete=models.SET_NULL, null=True, related_name="+")
    constituency = models.ForeignKey(Constituency, on_delete=models.SET_NULL, null=True, related_name="+")
    # Their first valid certificate: when they became a leader.
    first_certified_at = models.DateTimeField()
    # Its month (the first day, in the site's time zone): the burn-up chart groups by it.
    first_certified_month = models.DateField()
    # The last day one of their valid certificates is in date; empty if one never lapses.
    in_date_until = models.DateField(null=True)

    class Meta:
        # Made by certification's migration 0004 and kept where it is: moving the model moved
        # no rows (state-only migrations, no lock).
        db_table = "certification_leadertally"
        indexes = [models.Index(fields=["region", "constituency"], name="certification_tally_place")]

    def __str__(self) -> str:
        return f"Leader {self.user_id} since {self.first_certified_at:%Y-%m-%d}"
