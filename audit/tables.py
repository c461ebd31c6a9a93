"""The audit trail's table (the site's one table component, config/tables.py). The trail's
CSV download is streamed by the view, not written from this table: it may be every entry."""

import json

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.tables import ListTable, TemplateColumn

AUDIT_QUERY_KEYS = ("action", "actor", "subject", "since", "until")


def change_lines(changes) -> list[tuple[str, str]]:
    """`changes` for people to read: "field: before → after", or the value as it is."""
    if not isinstance(changes, dict):
        return [("", json.dumps(changes, ensure_ascii=False))]
    lines = []
    for key, value in changes.items():
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            text = f"{_plain(value['before'])} → {_plain(value['after'])}"
        else:
            text = _plain(value)
        lines.append((key, text))
    return lines


def _plain(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value) or "–"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class AuditEntryTable(ListTable):
    """Newest first; only the time sorts (the trail is large and indexed by time)."""

    row_header = "action"
    query_keys = AUDIT_QUERY_KEYS

    class Meta(ListTable.Meta):
        attrs = {"class": "table table-sm align-top table-audit"}
        orderable = False

    at = TemplateColumn(
        '{% load layout_tags %}<time datetime="{{ value|html_datetime }}">'
        '{{ value|date:"j M Y, H:i:s" }}</time>',
        verbose_name=_("When"),
        orderable=True,
        order_by=("at", "pk"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    action = tables.Column(verbose_name=_("Action"), attrs={"td": {"class": "fw-normal"}})
    actor_label = TemplateColumn(
        '{% load i18n %}{{ record.actor_label|default:_("The system") }}{% if record.client_address %}'
        '<div class="small text-body-secondary">{{ record.client_address }}</div>{% endif %}',
        verbose_name=_("By"),
        empty_values=(),
    )
    object_label = TemplateColumn(
        '{{ record.object_label|default:"–" }}{% if record.object_type %}<div class="small '
        'text-body-secondary">{{ record.object_type.name }}{% if record.object_id %} '
        "{{ record.object_id }}{% endif %}</div>{% endif %}",
        verbose_name=_("Object"),
        empty_values=(),
        attrs={"td": {"class": "text-break"}},
    )
    subject_label = tables.Column(verbose_name=_("About"), default="–")
    changes = tables.Column(verbose_name=_("Changes"), empty_values=(), attrs={"td": {"class": "text-break"}})

    def render_changes(self, value):
        lines = change_lines(value) if value not in (None, "", {}, []) else []
        if not lines:
            return "–"
        items = format_html_join(
            "",
            "<li>{}{}</li>",
            (
                (format_html('<span class="text-body-secondary">{}:</span> ', key) if key else "", text)
                for key, text in lines
            ),
        )
        return format_html('<ul class="list-unstyled mb-0 small">{}</ul>', items)
