"""What the lists behind the dashboard's figures share: the figure's form, then the page of the
list or its download. A subclass names the figures it lists, its template and download, and
says how its selector is called and how its rows become a page and a table."""

from collections.abc import Collection

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views import View

from reporting import dashboard_tables as tables
from reporting.forms import FigureForm
from reporting.views.base import (
    FIGURE_TITLES,
    LIST_PAGE_SIZE,
    TEMPLATES,
    DashboardRequiredMixin,
    bad_request,
    downloads,
    export_format,
    figure_filters_described,
)


class FigureListView(DashboardRequiredMixin, View):
    """The list behind a figure, as a page or (?format=) a download named
    <download_slug>-<figure>. A figure this list does not show is a bad request."""

    figures: Collection[str]
    template_name: str
    download_slug: str

    def figure_list(self, data: dict):
        """What the figure counts, from the selector, for the form's cleaned data."""
        raise NotImplementedError

    def download_table(self, listed, *, figure: str) -> tables.Table:
        raise NotImplementedError

    def page_items(self, listed):
        """What the pages are cut from (a queryset is paged in the database)."""
        return listed

    def page_context(self, listed, page, *, figure: str) -> dict:
        """The rows of the page, as the template shows them."""
        return {}

    def list_read(self, request, *, figure: str, exported: bool) -> None:
        """Called before the list is shown or downloaded (a list of members is audited)."""

    def get(self, request):
        form = FigureForm(request.GET, viewer=self.viewer)
        if not form.is_valid() or form.cleaned_data["figure"] not in self.figures:
            return bad_request(request)
        data = form.cleaned_data
        figure = data["figure"]
        listed = self.figure_list(data)
        download = export_format(request)
        self.list_read(request, figure=figure, exported=download is not None)
        if download is not None:
            return self.download_table(listed, figure=figure).export_response(
                export_format=download, slug=self.download_slug, suffix=figure.replace("_", "-")
            )
        page = Paginator(self.page_items(listed), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            TEMPLATES + self.template_name,
            {
                "viewer": self.viewer,
                "title": FIGURE_TITLES[figure],
                "described": figure_filters_described(data),
                "page_obj": page,
                "downloads": downloads(request),
                **self.page_context(listed, page, figure=figure),
            },
        )
