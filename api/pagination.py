"""Every list is paged. Cursor pagination (stable under inserts, no COUNT, no deep OFFSET)
for the lists that grow; a page number for the short computed lists (targets)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


# A page size beyond the maximum is clamped to it (and a nonsense one gives the default), as
# DRF's pagination does: a client asking for too much gets the most there is, never an error.
PAGE_SIZE_DESCRIPTION = f"Rows per page: {PAGE_SIZE} unless given; at most {PAGE_SIZE_MAX} (more is clamped)."


class ApiCursorPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_description = PAGE_SIZE_DESCRIPTION
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
    ordering = "-pk"


class ApiPageNumberPagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_description = PAGE_SIZE_DESCRIPTION
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
