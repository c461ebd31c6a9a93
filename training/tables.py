"""The training app's listings (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.tables import ListTable, TemplateColumn, hidden_header, numeric
from training.selectors.marking import marking_queue_rows

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

    pick = TemplateColumn(
        template_name="training/notices/partials/_notice_pick.html",
        verbose_name=hidden_header(_("Send again")),
        empty_values=(),
        exclude_from_export=True,
    )
    recipient = TemplateColumn(
        '{{ record.recipient }}<div class="small text-body-secondary">{{ record.recipient.email }}</div>',
        verbose_name=_("To"),
        attrs={"td": {"class": "fw-normal"}},
    )
    kind = tables.Column(verbose_name=_("Email"))
    scheduled_for = TemplateColumn(
        '{% load i18n %}{{ value|date:"j M Y, H:i" }}<div class="small text-body-secondary">'
        "{% blocktranslate count counter=record.attempts %}{{ counter }} try{% plural %}"
        "{{ counter }} tries{% endblocktranslate %}</div>",
        verbose_name=_("Due"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    sent = TemplateColumn(
        NOTICE_RESULT, verbose_name=_("Sent"), empty_values=(), attrs={"td": {"class": "text-break"}}
    )
    why = TemplateColumn(
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

    # Cells drawn in Python (render_<name> below), not by templates: a page of 25 cohorts
    # draws 150 cells, and a template a cell was most of the page's time (bench/RESULTS.md).
    name = tables.Column(verbose_name=_("Cohort"), order_by=("name", "pk"))
    programme = tables.Column(
        verbose_name=_("Programme"),
        accessor="version__programme__title",
        order_by=("version__programme__title", "version__number", "pk"),
    )
    region = tables.Column(verbose_name=_("Region"), accessor="region__name", order_by=("region__name", "pk"))
    dates = tables.Column(
        verbose_name=_("Dates"),
        accessor="starts_on",
        order_by=("starts_on", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    places_taken = tables.Column(verbose_name=_("Places taken"), attrs=numeric(), orderable=False)
    pending_count = tables.Column(verbose_name=_("Applications to decide"), attrs=numeric(), empty_values=())
    next_session = TemplateColumn(
        template_name="training/manage/partials/_cohort_next_session.html",
        verbose_name=_("Next session"),
        orderable=False,
        empty_values=(),
    )

    def render_name(self, record):
        return format_html(
            '<a href="{}">{}</a><div class="small fw-normal text-body-secondary">{}</div>',
            reverse("training:cohort-manage", args=[record.pk]),
            record.name,
            record.get_status_display(),
        )

    def render_programme(self, record):
        version = record.version
        title, number = version.programme.title, version.number
        return format_html('{} <span class="text-body-secondary">v{}</span>', title, number)

    def render_dates(self, record):
        return f"{date_format(record.starts_on, 'j M Y')} – {date_format(record.ends_on, 'j M Y')}"

    def render_places_taken(self, record):
        return f"{record.places_taken}/{record.capacity}"

    def render_pending_count(self, value):
        return format_html('<span class="badge text-bg-warning">{}</span>', value) if value else "0"


class ProgrammeTable(ListTable):
    """Programmes for their authors, by title, with the version cohorts follow and any draft."""

    row_header = "title"

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    title = TemplateColumn(
        "<a href=\"{% url 'training:programme-detail' record.pk %}\">{{ record.title }}</a>"
        '<div class="small fw-normal text-body-secondary text-break">{{ record.slug }}</div>',
        verbose_name=_("Programme"),
        order_by=("title", "pk"),
    )
    published_number = TemplateColumn(
        "{% load i18n %}{% if value %}"
        "{% blocktranslate with number=value %}Version {{ number }}{% endblocktranslate %}"
        '{% else %}<span class="text-body-secondary">{% translate "Not published" %}</span>{% endif %}',
        verbose_name=_("Published version"),
        empty_values=(),
        orderable=False,
    )
    draft_number = TemplateColumn(
        '{% load i18n %}{% if value %}<span class="badge text-bg-warning">'
        "{% blocktranslate with number=value %}Version {{ number }} in draft{% endblocktranslate %}</span>"
        '{% else %}<span class="text-body-secondary">{% translate "No draft" %}</span>{% endif %}',
        verbose_name=_("Draft"),
        empty_values=(),
        orderable=False,
    )


class MarkingQueueTable(ListTable):
    """Work waiting for a first mark, oldest first; each row opens the marking page.

    Cells drawn in Python (render_<name>), not a template a cell: the queue is the busiest
    staff page, and its 75 template cells a page were a third of its time."""

    row_header = "trainee"
    query_keys = ("region", "cohort", "assignment")

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    trainee = tables.Column(
        verbose_name=_("Trainee"),
        accessor="enrolment__member",
        order_by=("enrolment__member__last_name", "enrolment__member__first_name", "pk"),
    )
    assignment = tables.Column(
        verbose_name=_("Assignment and cohort"),
        order_by=("assignment__title", "submitted_at", "pk"),
    )
    # Waiting longer is "more": ascending puts the newest work first.
    waiting = tables.Column(
        verbose_name=_("Waiting"),
        accessor="submitted_at",
        order_by=("-submitted_at", "-pk"),
    )
    # On phones the column would be scrolled out of view; the assignment link opens the same page.
    mark = tables.Column(
        verbose_name=hidden_header(_("Action")),
        empty_values=(),
        orderable=False,
        attrs={"th": {"class": "d-none d-sm-table-cell"}, "td": {"class": "text-end d-none d-sm-table-cell"}},
    )

    def __init__(self, *args, filter_query: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.filter_query = filter_query
        self.now = timezone.now()

    def _mark_url(self, record) -> str:
        """The marking page, keeping the queue's filters (marking returns to the same list)."""
        url = reverse("training:submission-mark", args=[record.pk])
        return f"{url}?{self.filter_query}" if self.filter_query else url

    def render_assignment(self, record):
        attempt = (
            format_html(
                ' <span class="text-body-secondary">{}</span>',
                _("(attempt %(attempt)s)") % {"attempt": record.attempt},
            )
            if record.attempt > 1
            else ""
        )
        return format_html(
            '<a href="{}">{}</a>{}\n<div class="small text-body-secondary">{}</div>\n',
            self._mark_url(record),
            record.assignment.title,
            attempt,
            record.enrolment.cohort.name,
        )

    def render_waiting(self, record):
        row = marking_queue_rows([record], now=self.now)[0]
        days = row.waited.days
        waited = (
            ngettext("%(counter)s day", "%(counter)s days", days) % {"counter": days}
            if days
            else timesince(record.submitted_at, self.now)
        )
        overdue = ""
        if row.is_overdue:
            limit = row.turnaround_days
            overdue = format_html(
                '<span class="badge text-bg-danger" title="{}">{}</span>',
                ngettext("To be marked within %(counter)s day", "To be marked within %(counter)s days", limit)
                % {"counter": limit},
                _("Overdue"),
            )
        late = (
            format_html(' <span class="badge text-bg-warning">{}</span>', _("Late")) if record.is_late else ""
        )
        handed_in = _("Handed in %(when)s") % {
            "when": date_format(localtime(record.submitted_at), "j M Y, H:i")
        }
        return format_html(
            '{}\n{}\n<div class="small text-body-secondary">{}{}</div>\n', waited, overdue, handed_in, late
        )

    def render_mark(self, record):
        return format_html(
            '<a class="btn btn-sm btn-primary" href="{}">{}'
            '<span class="visually-hidden">: {}, {}</span></a>\n',
            self._mark_url(record),
            _("Mark"),
            record.enrolment.member,
            record.assignment.title,
        )


class ModerationTable(ListTable):
    """Moderated marks, newest first: the two marks, the final one, and what is left to do."""

    row_header = "work"
    query_keys = ("state",)

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    # Once second-marked, the work opens the page to compare or settle: on phones the button
    # column would be scrolled out of view.
    work = TemplateColumn(
        template_name="training/moderation/partials/_moderation_work.html",
        verbose_name=_("Work"),
        accessor="first_mark__submission__assignment__title",
        order_by=("first_mark__submission__assignment__title", "-requested_at", "-pk"),
    )
    markers = TemplateColumn(
        "{% load i18n %}{% blocktranslate with first=record.first_mark.marker second=record.second_marker %}"
        "First: {{ first }}<br>Second: {{ second }}{% endblocktranslate %}",
        verbose_name=_("Markers"),
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "small"}},
    )
    marks = TemplateColumn(
        template_name="training/moderation/partials/_moderation_marks.html",
        verbose_name=_("Marks"),
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "small"}},
    )
    requested_at = TemplateColumn(
        '{{ value|date:"j M Y" }}',
        verbose_name=_("Sent"),
        order_by=("requested_at", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    action = TemplateColumn(
        template_name="training/moderation/partials/_moderation_action.html",
        verbose_name=hidden_header(_("Action")),
        empty_values=(),
        orderable=False,
        attrs={"th": {"class": "d-none d-sm-table-cell"}, "td": {"class": "text-end d-none d-sm-table-cell"}},
    )
