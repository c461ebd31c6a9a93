"""The members app's staff lists (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from config.tables import ActionsColumn, ListTable, TemplateColumn, hidden_header


class RegionalStaffTable(ListTable):
    """Regional staff, the region each oversees and the one each lives in."""

    caption = _("Regional staff")
    row_header = "name"

    class Meta(ListTable.Meta):
        empty_text = _("No one holds the regional staff role.")

    name = tables.Column(
        verbose_name=_("Name"),
        accessor="last_name",
        order_by=("last_name", "first_name", "pk"),
        empty_values=(),
    )
    email = tables.Column(verbose_name=_("Email"))
    staff_region = tables.Column(
        verbose_name=_("Region they oversee"), order_by=("staff_region__name", "pk"), empty_values=()
    )
    lives_in = tables.Column(
        verbose_name=_("Lives in"),
        accessor="profile__region",
        order_by=("profile__region__name", "pk"),
        empty_values=(),
    )
    change = ActionsColumn("members/partials/_staff_region_change.html")

    def render_name(self, record):
        return record.get_full_name() or _("Not given")

    def render_staff_region(self, value):
        return value or _("None: sees no region")

    def render_lives_in(self, value):
        return value or _("Not given")


class UserSessionTable(ListTable):
    """Where a member is signed in (allauth's UserSession rows, a list sorted in Python),
    oldest first; the one this request comes from is marked."""

    caption = _("Your sessions")
    row_header = "created_at"

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    created_at = TemplateColumn(
        '{{ value|date:"j M Y, H:i" }}', verbose_name=_("Signed in"), attrs={"td": {"class": "fw-normal"}}
    )
    ip = tables.Column(verbose_name=_("Address"), orderable=False)
    user_agent = tables.Column(
        verbose_name=_("Browser"),
        default=_("Unknown"),
        orderable=False,
        attrs={"td": {"class": "text-break"}},
    )
    last_seen_at = TemplateColumn(
        '{{ value|date:"j M Y, H:i" }}', verbose_name=_("Last seen"), orderable=False
    )
    is_current = TemplateColumn(
        '{% load i18n %}{% if record.is_current %}<span class="badge text-bg-success">'
        '{% translate "This one" %}</span>{% endif %}',
        verbose_name=hidden_header(_("This session")),
        empty_values=(),
        orderable=False,
    )

    def __init__(self, *args, show_last_seen_at: bool, **kwargs):
        kwargs["exclude"] = () if show_last_seen_at else ("last_seen_at",)
        super().__init__(*args, **kwargs)
