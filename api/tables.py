"""The API tokens page's table (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from config.tables import ActionsColumn, DateColumn, DateTimeColumn, ListTable, TemplateColumn

DAY = {"format": "j M Y"}
NOWRAP = {"td": {"class": "text-nowrap"}}


class ApiTokenTable(ListTable):
    caption = _("Your tokens")
    row_header = "name"

    class Meta(ListTable.Meta):  # tables2 reads only a table's own Meta: keep the site's options
        pass

    name = tables.Column(verbose_name=_("Name"))
    prefix = TemplateColumn("<code>fl_{{ value }}_…</code>", verbose_name=_("Starts with"), orderable=False)
    access = tables.Column(verbose_name=_("Access"))
    resources = tables.Column(verbose_name=_("Resources"), orderable=False)
    created_at = DateColumn(verbose_name=_("Created"), attrs=NOWRAP, **DAY)
    expires_at = DateTimeColumn(verbose_name=_("Expires"), format="j M Y H:i", attrs=NOWRAP)
    state = TemplateColumn(
        template_name="api/partials/_token_state.html",
        verbose_name=_("State"),
        orderable=False,
        empty_values=(),
    )
    actions = ActionsColumn("api/partials/_token_actions.html")

    def render_resources(self, value):
        return ", ".join(value)
