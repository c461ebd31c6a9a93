"""What every listing on the one table component promises (decision 0023), checked on a page
as its users get it: a caption and header scopes, sorting by an allowed key only, pages, and
the site's rule for a bad page (not a number: the first; past the end: the last)."""

import html
import re

ROW_HEADER = re.compile(r'<th scope="row"[^>]*>(.*?)</th>', re.S)


def page_of(client, url: str, query: dict):
    response = client.get(url, query)
    assert response.status_code == 200, (query, response.status_code)
    return html.unescape(response.content.decode())


def row_headers(page: str, table: str) -> list[str]:
    """The text of each row's header cell in the table whose id is `table`, tags and spacing
    dropped (none when the page does not show that table)."""
    start = page.find(f'<table id="{table}"')
    if start < 0:
        return []
    rows = ROW_HEADER.findall(page[start : page.index("</table>", start)])
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in rows]


def listing_check(
    client,
    url: str,
    *,
    table: str,
    caption: str,
    sort: str,
    per_page: int,
    total: int,
    query=None,
    prefix: str = "",
) -> None:
    """`url` shows the table whose id is `table`, listing `total` rows, `per_page` a page (more
    than one page), captioned `caption`; `sort` is an allowed key (as ?sort= takes it) that
    changes the rows' order. `prefix` is the table's own (for pages with several tables)."""
    query = dict(query or {})
    sort_key, page_key = f"{prefix}sort", f"{prefix}page"
    first = page_of(client, url, query)
    assert f'<caption id="{table}-caption"' in first
    assert caption in first
    assert '<th scope="col"' in first
    first_rows = row_headers(first, table)
    assert len(first_rows) == per_page

    # An allowed key sorts (and says which way); an unknown one leaves the default order.
    by_key = page_of(client, url, {**query, sort_key: sort})
    assert 'aria-sort="' in by_key
    assert row_headers(by_key, table) != first_rows
    for unknown in ("nonsense", "-pk; drop table", "__class__"):
        assert row_headers(page_of(client, url, {**query, sort_key: unknown}), table) == first_rows

    # Page 2 has the rest; a page that is not a number is the first, one past the end the last.
    last_page = -(-total // per_page)
    second = page_of(client, url, {**query, page_key: 2})
    second_rows = row_headers(second, table)
    assert len(second_rows) == min(per_page, total - per_page)
    assert not set(second_rows) & set(first_rows)
    assert f"page 2 of {last_page}" in second
    assert row_headers(page_of(client, url, {**query, page_key: "x"}), table) == first_rows
    last = row_headers(page_of(client, url, {**query, page_key: last_page}), table)
    assert row_headers(page_of(client, url, {**query, page_key: 999}), table) == last
