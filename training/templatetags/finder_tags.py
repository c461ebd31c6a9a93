"""The home pages' "cohorts near you": members' templates show training's open cohorts
without the members app importing training (the arrows point training -> members)."""

from django import template
from django.utils import timezone

from training.selectors.finder import NEARBY_SHOWN, cohort_list_nearby

register = template.Library()


@register.inclusion_tag("training/finder/_nearby.html", takes_context=True)
def cohorts_near(context, region):
    """The soonest cohorts open for applications in `region` (a Region), one query, and a
    link to the finder for the rest. Shows no member's data."""
    user = context.get("user")
    member = user if user is not None and user.has_perm("members.access_trainee_area") else None
    return {
        "region": region,
        "cohorts": cohort_list_nearby(region_id=region.pk, member=member),
        "shown": NEARBY_SHOWN,
        "today": timezone.localdate(),
    }
