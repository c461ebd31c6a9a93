"""What every dashboard and targets page shares: who may use them (the mixins), and small
helpers for links, downloads and malformed addresses.

Which region a viewer sees, and which targets, places and lists, is decided only in
certification.permissions; the forms (reporting.forms) resolve what a page asks for with it.
Every page runs a fixed number of queries whatever the size of the data
(tests/reporting/test_dashboard.py, tests/performance).
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from certification import permissions
from reporting import dashboard_tables as tables
from reporting.forecast import STAGE_LABELS
from reporting.selectors.dashboard import NOWHERE
from reporting.selectors.dashboard_cohorts import RISK_REASONS
from training.permissions import user_manages_all_cohorts, user_reads_region_cohorts

TEMPLATES = "reporting/"
LIST_PAGE_SIZE = 50
FUNNEL_TITLES = {
    "programme": _lazy("People reaching each stage, by programme"),
    "region": _lazy("People reaching each stage, by region"),
    "constituency": _lazy("People reaching each stage, by constituency"),
}
FIGURE_TITLES = {
    "leaders": _lazy("Leaders"),
    "lapsed": _lazy("Leaders whose certificates have all lapsed"),
    "trainer_leaders": _lazy("Leaders certified from a trainer's cohorts"),
    "training": _lazy("People in training"),
    "reached": _lazy("People who reached a stage"),
    "at_risk": _lazy("Cohorts at risk"),
    "trainer_cohorts": _lazy("Cohorts a trainer has run"),
}


class DashboardRequiredMixin(PermissionRequiredMixin):
    """National and regional staff; sets self.viewer (whose region they see)."""

    permission_required = "certification.view_dashboard"

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        self.viewer = permissions.dashboard_viewer_get(user=request.user)
        # Skip PermissionRequiredMixin.dispatch: the permission was checked just above.
        return super(PermissionRequiredMixin, self).dispatch(request, *args, **kwargs)


class SetsTargetsRequiredMixin(PermissionRequiredMixin):
    """National staff, who set the targets."""

    permission_required = "certification.set_targets"


def cohort_links(user) -> bool:
    """Cohorts link to their page: national staff manage every cohort, and regional staff read
    their region's, the only cohorts their dashboard lists (training.permissions decides)."""
    return user_manages_all_cohorts(user) or user_reads_region_cohorts(user)


def cohort_href(user, *, links: bool | None = None):
    """A function giving a cohort's address by its id, or None where the user may not follow it."""
    if cohort_links(user) if links is None else links:
        return lambda pk: reverse("training:cohort-manage", args=[pk])
    return lambda pk: None


def scope_label(viewer) -> str:
    return viewer.region.name if viewer.region else _("every region")


def with_params(request, **changes) -> str:
    """This page's query string with some parameters changed (None removes one)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()


def export_format(request) -> str | None:
    """The download asked for by ?format= (csv or xlsx); None for the page itself."""
    value = request.GET.get("format")
    return value if value in tables.EXPORT_FORMATS else None


def downloads(request) -> list[tuple[str, str]]:
    """The page's rows as each download: (link text, address), every row, not just the page."""
    labels = {"csv": _("Download as CSV"), "xlsx": _("Download as XLSX (Excel)")}
    return [
        (labels[each_format], with_params(request, format=each_format, page=None))
        for each_format in tables.EXPORT_FORMATS
    ]


def bad_request(request, message: str = ""):
    return render(
        request,
        TEMPLATES + "bad_request.html",
        {"message": message or _("This page's address asks for something it does not know.")},
        status=400,
    )


def figure_filters_described(data: dict) -> list[tuple[str, str]]:
    """The filters of a list behind a figure in words, (label, value) each, for its heading;
    `data` is a valid FigureForm's cleaned_data."""
    described = []
    if data["target"] is not None:
        described.append((_("Target"), str(data["target"])))
    if data["nowhere"]:
        described.append((_("Place"), _("Place not recorded")))
    elif data["region"] is not None:
        described.append((_("Region"), data["region"].name))
    if data["constituency_id"] == NOWHERE:
        described.append((_("Constituency"), _("No constituency given")))
    elif data["constituency"] is not None:
        described.append((_("Constituency"), data["constituency"].name))
    if data["programme"] is not None:
        described.append((_("Programme"), data["programme"].title))
    if data.get("seats"):
        described.append((_("Place"), _("Target seats")))
    if data.get("stage"):
        described.append((_("Stage"), STAGE_LABELS[data["stage"]]))
    if data.get("by"):
        described.append((_("Cohorts ending by"), date_format(data["by"], "j M Y")))
    if data.get("reason"):
        described.append((_("Risk"), RISK_REASONS[data["reason"]]))
    if data.get("trainer"):
        described.append((_("Trainer"), _("number %(id)s") % {"id": data["trainer"]}))
    if not data.get("by") and data["ends_by"] is not None:  # a target's pipeline: by its deadline
        described.append((_("Cohorts ending by"), date_format(data["ends_by"], "j M Y")))
    return described
