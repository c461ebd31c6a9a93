"""The training app's listings (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.tables import ListTable, hidden_header, numeric

NOTICE_RESULT = (
    '{% if record.sent_at %}{{ record.sent_at|date:"j M Y, H:i" }}'
    '{% else %}{{ record.outcome|default:"–" }}{% endif %}'
)


class NoticeTable(ListTable):
    """Emails of one status, newest first. Failed ones get a tick box each (the page's form
    sends the ticked ones again); sent ones show when, the others why."""

    row_header = "recipient"
    query_keys = ("status",)

    class Meta(ListTable.Meta):
        attrs = {"class": "table table-sm align-middle table-notices"}
        orderable = False  # the order is the queue's: newest due first

    pick = tables.TemplateColumn(
        template_name="training/notices/partials/_notice_pick.html",
        verbose_name=hidden_header(_("Send again")),
        empty_values=(),
        exclude_from_export=True,
    )
    recipient = tables.TemplateColumn(
        '{{ record.recipient }}<div class="small text-body-secondary">{{ record.recipient.email }}</div>',
        verbose_name=_("To"),
        attrs={"td": {"class": "fw-normal"}},
    )
    kind = tables.Column(verbose_name=_("Email"))
    scheduled_for = tables.TemplateColumn(
        '{% load i18n %}{{ value|date:"j M Y, H:i" }}<div class="small text-body-secondary">'
        "{% blocktranslate count counter=record.attempts %}{{ counter }} try{% plural %}"
        "{{ counter }} tries{% endblocktranslate %}</div>",
        verbose_name=_("Due"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    sent = tables.TemplateColumn(
        NOTICE_RESULT, verbose_name=_("Sent"), empty_values=(), attrs={"td": {"class": "text-break"}}
    )
    why = tables.TemplateColumn(
        NOTICE_RESULT, verbose_name=_("Why"), empty_values=(), attrs={"td": {"class": "text-break"}}
    )

    def __init__(self, *args, status: str, **kwargs):
        shown_only = {"pick": status == "failed", "sent": status == "sent", "why": status != "sent"}
        kwargs["exclude"] = [name for name, shown in shown_only.items() if not shown]
        super().__init__(*args, **kwargs)
        self.about_labels: dict[int, str] = {}  # set once the page is known (one query)

    def render_kind(self, value, record):
        about = self.about_labels.get(record.pk)
        detail = (
            format_html("{}", about)
            if about
            else format_html('<code class="text-body-secondary">{}</code>', record.subject)
        )
        return format_html('{}<div class="small text-body-secondary">{}</div>', value, detail)


class CohortTable(ListTable):
    """The cohorts a trainer runs, or every cohort for staff: still to run first."""

    row_header = "name"
    query_keys = ("status", "region")

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    name = tables.TemplateColumn(
        "<a href=\"{% url 'training:cohort-manage' record.pk %}\">{{ record.name }}</a>"
        '<div class="small fw-normal text-body-secondary">{{ record.get_status_display }}</div>',
        verbose_name=_("Cohort"),
        order_by=("name", "pk"),
    )
    programme = tables.TemplateColumn(
        '{{ record.version.programme.title }} <span class="text-body-secondary">'
        "v{{ record.version.number }}</span>",
        verbose_name=_("Programme"),
        accessor="version__programme__title",
        order_by=("version__programme__title", "version__number", "pk"),
    )
    region = tables.Column(verbose_name=_("Region"), accessor="region__name", order_by=("region__name", "pk"))
    dates = tables.TemplateColumn(
        '{{ record.starts_on|date:"j M Y" }} – {{ record.ends_on|date:"j M Y" }}',
        verbose_name=_("Dates"),
        accessor="starts_on",
        order_by=("starts_on", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    places_taken = tables.TemplateColumn(
        "{{ record.places_taken }}/{{ record.capacity }}",
        verbose_name=_("Places taken"),
        attrs=numeric(),
        orderable=False,
    )
    pending_count = tables.TemplateColumn(
        '{% if value %}<span class="badge text-bg-warning">{{ value }}</span>{% else %}0{% endif %}',
        verbose_name=_("Applications to decide"),
        attrs=numeric(),
        empty_values=(),
    )
    next_session = tables.TemplateColumn(
        template_name="training/manage/partials/_cohort_next_session.html",
        verbose_name=_("Next session"),
        orderable=False,
        empty_values=(),
    )
