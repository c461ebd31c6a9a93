"""Template helpers for training pages."""

from html import escape

import markdown as markdown_lib
import nh3
from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()

# What authored Markdown may become: text structure and links, never script or style.
ALLOWED_TAGS = {
    "p",
    "h3",
    "h4",
    "h5",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "blockquote",
    "a",
    "code",
    "pre",
    "br",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    """Render staff-authored Markdown to HTML, sanitised by nh3."""
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists"])
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 on the line above


# --- The gradebook's cells -------------------------------------------------------------------

OUTCOME_BADGE_CLASSES = {"pass": "text-bg-success", "resubmit": "text-bg-warning", "fail": "text-bg-danger"}
_PK_PLACEHOLDER = "987654321"


# The words every cell may repeat, translated once per language (and each state's label the
# first time it is shown): looking each up per cell costs more than writing the cell.
_WORDS: dict[str, dict[str, str]] = {}


def _gradebook_words() -> dict[str, str]:
    language = get_language() or ""
    words = _WORDS.get(language)
    if words is None:
        words = {"late": escape(gettext("late")), "nothing": escape(gettext("Nothing yet"))}
        _WORDS[language] = words
    return words


@register.simple_tag
def gradebook_cells(row, viewer) -> str:
    """A gradebook row's cells, one <td> per assignment, written in Python.

    The same HTML the template wrote, but without an include and a {% url %} per cell: six
    hundred cells (60 trainees x 10 assignments) through the template engine cost the page
    most of its time. Work is linked to its marking page, except the viewer's own.
    """
    mark_url = reverse("training:submission-mark", args=[_PK_PLACEHOLDER])
    own_row = row.enrolment.member_id == viewer.pk
    name = escape(str(row.name))
    words = _gradebook_words()
    late, nothing = words["late"], words["nothing"]
    cells = []
    for cell in row.cells:
        submission, state = cell.submission, cell.state
        if state:
            label = words.get(state)
            if label is None:
                label = words[state] = escape(str(cell.label))
        if submission is not None:
            css = OUTCOME_BADGE_CLASSES.get(state, "text-bg-light border")
            html = f'<span class="badge {css}">{label}</span>'
            if not own_row:
                url = escape(mark_url.replace(_PK_PLACEHOLDER, str(submission.pk)))
                title = escape(str(cell.assignment.title))
                html = (
                    f'<a href="{url}" class="text-decoration-none">{html}'
                    f'<span class="visually-hidden">: {name}, {title}</span></a>'
                )
            if submission.attempt > 1:
                attempt = escape(gettext("attempt %(number)s") % {"number": submission.attempt})
                html += f' <span class="small text-body-secondary">{attempt}</span>'
            if cell.is_late:
                html += f' <span class="small text-danger fw-semibold">{late}</span>'
        elif state:
            html = f'<span class="text-body-secondary">{label}</span>'
        else:
            html = f'<span aria-hidden="true">—</span><span class="visually-hidden">{nothing}</span>'
        cells.append(f'<td class="text-nowrap">{html}</td>')
    return mark_safe("".join(cells))  # noqa: S308 - every value is escaped above
