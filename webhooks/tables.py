"""The webhook pages' tables (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from config.tables import ActionsColumn, DateTimeColumn, ListTable, TemplateColumn, numeric

# On a phone the tables scroll sideways inside their region rather than squeezing addresses.
WIDE = {"class": "table table-sm align-middle table-webhooks"}
NOWRAP = {"td": {"class": "text-nowrap"}}


class EndpointTable(ListTable):
    caption = _("Endpoints")
    row_header = "url"

    class Meta(ListTable.Meta):
        attrs = WIDE

    url = TemplateColumn(
        template_name="webhooks/partials/_endpoint_address.html",
        verbose_name=_("Address"),
        attrs={"td": {"class": "fw-normal text-break"}},
    )
    events = tables.Column(verbose_name=_("Events"), orderable=False, attrs={"td": {"class": "small"}})
    state = TemplateColumn(
        template_name="webhooks/partials/_endpoint_state.html",
        verbose_name=_("State"),
        orderable=False,
        empty_values=(),
    )
    waiting_count = tables.Column(verbose_name=_("Waiting"), attrs=numeric())
    gave_up_count = tables.Column(verbose_name=_("Gave up"), attrs=numeric())
    actions = ActionsColumn("webhooks/partials/_endpoint_actions.html")

    def render_events(self, value):
        return ", ".join(value)


class DeliveryTable(ListTable):
    row_header = "event_type"
    query_keys = ("status",)

    class Meta(ListTable.Meta):
        attrs = WIDE
        empty_text = _("No deliveries.")

    event_type = TemplateColumn(
        '{{ record.event_type }}<div class="small text-body-secondary font-monospace text-break">'
        "{{ record.event_id }}</div>",
        verbose_name=_("Event"),
        attrs={"td": {"class": "fw-normal"}},
    )
    created_at = DateTimeColumn(verbose_name=_("Created"), format="j M Y, H:i:s", attrs=NOWRAP)
    status = tables.Column(verbose_name=_("Status"))
    attempts = tables.Column(verbose_name=_("Tries"))
    last_answer = TemplateColumn(
        template_name="webhooks/partials/_delivery_last_answer.html",
        verbose_name=_("Last answer"),
        orderable=False,
        empty_values=(),
        attrs={"td": {"class": "small text-break"}},
    )
    next_attempt_at = TemplateColumn(
        '{% load layout_tags %}{% if record.status == "pending" or record.status == "failed" %}'
        '<time datetime="{{ value|html_datetime }}">{{ value|date:"j M, H:i" }}'
        "</time>{% else %}–{% endif %}",
        verbose_name=_("Next try"),
        attrs=NOWRAP,
        empty_values=(),
    )
    actions = ActionsColumn("webhooks/partials/_delivery_actions.html")

    def __init__(self, *args, max_attempts: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_attempts = max_attempts

    def render_attempts(self, value):
        return f"{value} / {self.max_attempts}"
