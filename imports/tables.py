"""The imports app's listings (the site's one table component, config/tables.py)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from config.tables import ListTable, TemplateColumn, numeric


class MemberImportTable(ListTable):
    """The imports made so far, newest first; each file opens its preview or outcome."""

    row_header = "file_name"

    class Meta(ListTable.Meta):
        attrs = {"class": "table table-sm align-top"}

    created_at = TemplateColumn(
        '{% load layout_tags %}<time datetime="{{ value|html_datetime }}">'
        '{{ value|date:"j M Y, H:i" }}</time>',
        verbose_name=_("Uploaded"),
        order_by=("created_at", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    file_name = TemplateColumn(
        "<a href=\"{% url 'imports:import-detail' record.pk %}\">{{ value }}</a>",
        verbose_name=_("File"),
        order_by=("file_name", "pk"),
        attrs={"td": {"class": "fw-normal text-break"}},
    )
    created_by = tables.Column(
        verbose_name=_("By"), accessor="created_by__email", default="–", orderable=False
    )
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "pk"))
    rows_total = tables.Column(verbose_name=_("Rows"), attrs=numeric(), orderable=False)
    rows_new = tables.Column(verbose_name=_("New"), attrs=numeric(), orderable=False)
    rows_updated = tables.Column(verbose_name=_("Updated"), attrs=numeric(), orderable=False)
    rows_invalid = tables.Column(
        verbose_name=_("With errors"), attrs=numeric(), order_by=("rows_invalid", "pk")
    )


class ImportRowTable(ListTable):
    """A checked file row by row (its preview, a list of dicts): rows with errors stand out."""

    row_header = "member"
    query_keys = ("show",)

    class Meta(ListTable.Meta):
        attrs = {"class": "table table-sm align-top"}
        row_attrs = {"class": lambda record: "table-danger" if record["errors"] else ""}

    n = tables.Column(verbose_name=_("Row"))
    member = TemplateColumn(
        template_name="imports/partials/_row_member.html",
        verbose_name=_("Member and outcome"),
        empty_values=(),
        orderable=False,  # names may be missing; the errors filter groups the rows that matter
        attrs={"td": {"class": "fw-normal text-break import-member"}},
    )
    details = TemplateColumn(
        template_name="imports/partials/_row_details.html",
        verbose_name=_("Details"),
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "text-break"}},
    )
