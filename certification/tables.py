"""The certification app's staff listings (the site's one table component, config/tables.py).

The staff overview shows three tables on one page, each paging on keys of its own (the
flagged certificates `flagged-page`, the trainees one step away `near-page`, the certificates
`page` and `sort`). The two short lists keep their one order (oldest flag first; by cohort
and name), so they do not sort."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from config.tables import ListTable, TemplateColumn, hidden_header

# A certificate's holder, opening its staff page (review, revoke, audit trail).
HOLDER_LINK = "<a href=\"{% url 'certification:staff-certificate' record.pk %}\">{{ value }}</a>"


class FlaggedCertificateTable(ListTable):
    """Certificates a correction has taken below the rule, oldest first: each to review."""

    caption = _("Certificates flagged for review")
    row_header = "holder_name"

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}
        orderable = False

    # The holder opens the review too: on phones the button column is out of view.
    holder_name = TemplateColumn(
        HOLDER_LINK,
        verbose_name=_("Holder"),
    )
    programme_title = tables.Column(verbose_name=_("Programme"))
    review_note = tables.Column(verbose_name=_("Why"), attrs={"td": {"class": "small"}})
    review = TemplateColumn(
        '{% load i18n %}<a class="btn btn-primary btn-sm" '
        'href="{% url \'certification:staff-certificate\' record.pk %}">{% translate "Review" %}'
        '<span class="visually-hidden">: {{ record.holder_name }}</span></a>',
        verbose_name=hidden_header(_("Action")),
        empty_values=(),
        orderable=False,
        attrs={"th": {"class": "d-none d-sm-table-cell"}, "td": {"class": "d-none d-sm-table-cell"}},
    )


class OneStepAwayTable(ListTable):
    """Trainees one session or assignment short of the rule (Standing rows), by cohort; staff
    may issue with a reason where the rule is met outside the platform."""

    caption = _("Trainees one step away from a certificate")
    row_header = "trainee"

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}
        orderable = False

    trainee = tables.Column(verbose_name=_("Trainee"), accessor="enrolment__member")
    cohort = tables.Column(verbose_name=_("Cohort"), accessor="enrolment__cohort__name")
    missing = TemplateColumn(
        '{% load i18n %}{% if record.sessions_needed %}{% translate "One more session" %}'
        "{% else %}{{ record.assignments_missing.0 }}{% endif %}",
        verbose_name=_("What is missing"),
        empty_values=(),
        orderable=False,
    )
    issue = TemplateColumn(
        '{% load i18n %}<a class="btn btn-outline-primary btn-sm" '
        "href=\"{% url 'certification:staff-manual-issue' record.enrolment.pk %}\">"
        '{% translate "Issue with a reason" %}'
        '<span class="visually-hidden">: {{ record.enrolment.member }}</span></a>',
        verbose_name=hidden_header(_("Action")),
        empty_values=(),
        orderable=False,
    )


class CertificateTable(ListTable):
    """Every certificate (or those a search finds), newest first."""

    row_header = "holder_name"
    query_keys = ("q",)

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle"}

    holder_name = TemplateColumn(
        HOLDER_LINK,
        verbose_name=_("Holder"),
        order_by=("holder_name", "pk"),
        attrs={"td": {"class": "fw-normal"}},
    )
    programme_title = tables.Column(verbose_name=_("Programme"), order_by=("programme_title", "pk"))
    issued_at = TemplateColumn(
        '{{ value|date:"j M Y" }}',
        verbose_name=_("Issued"),
        order_by=("issued_at", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    status = TemplateColumn(
        '{% include "certification/partials/_standing_badge.html" '
        "with certificate=record show_review=True %}",
        verbose_name=_("Status"),
        empty_values=(),
        orderable=False,
    )
