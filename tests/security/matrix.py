"""The machinery behind the access matrix: walking the URLconf and asking as each role.

The table itself (who gets what) is in test_access_matrix.py, where it is read and changed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.scenario import ROLES, Scenario


@dataclass(frozen=True)
class Row:
    """One URL name: how to fill its arguments, and the answer each role gets (in ROLES order).

    Answers: a status code, `login` (302 to the sign-in page) or `302` (a redirect elsewhere).
    `post` is asked with an empty body (rolled back after), for views that take POST.
    `query` adds a query string (a region's figures, for instance).
    """

    get: str
    post: str | None = None
    kwargs: Callable[[Scenario], dict] = lambda s: {}
    query: Callable[[Scenario], str] = lambda s: ""

    def url(self, name: str, scenario: Scenario) -> str:
        query = self.query(scenario)
        return reverse(name, kwargs=self.kwargs(scenario)) + (f"?{query}" if query else "")

    def expected(self, method: str) -> dict[str, str]:
        line = self.get if method == "get" else self.post
        answers = line.split()
        assert len(answers) == len(ROLES), f"{line!r} needs one answer per role: {ROLES}"
        return dict(zip(ROLES, answers, strict=True))


def pk(name: str, key: str = "pk") -> Callable[[Scenario], dict]:
    return lambda s: {key: getattr(s, name).pk}


def url_patterns() -> dict[str, URLPattern]:
    """Every named pattern in the URLconf, by its full (namespaced) name."""
    found: dict[str, URLPattern] = {}

    def walk(resolver, namespaces):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, namespaces + ([pattern.namespace] if pattern.namespace else []))
            elif pattern.name:
                found.setdefault(":".join([*namespaces, pattern.name]), pattern)

    walk(get_resolver(), [])
    return found


def view_class(pattern: URLPattern):
    return getattr(pattern.callback, "view_class", None)


def takes_post(pattern: URLPattern) -> bool:
    cls = view_class(pattern)
    return cls is not None and hasattr(cls, "post") and "post" in cls.http_method_names


# The admin's pages for each registered model: changelist, add, change, delete, history.
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "delete", "history")


def admin_model_rows(row_for: Callable[[str, object], Row]) -> dict[str, Row]:
    rows = {}
    for model in admin.site._registry:
        meta = model._meta
        for view in ADMIN_MODEL_VIEWS:
            rows[f"admin:{meta.app_label}_{meta.model_name}_{view}"] = row_for(view, model)
    return rows


LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def answer(response) -> str:
    if response.status_code == 302:
        return "login" if response["Location"].startswith(LOGIN_PATHS) else "302"
    return str(response.status_code)


def clients(scenario: Scenario) -> dict[str, Client]:
    made = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role in scenario.users:
            client.force_login(scenario.users[role])
        made[role] = client
    return made


def ask(client: Client, user, method: str, url: str) -> str:
    """GET, or POST with an empty body inside a transaction that is rolled back."""
    if method == "get":
        return answer(client.get(url))
    with transaction.atomic():
        response = client.post(url)
        transaction.set_rollback(True)
    if user is not None and "_auth_user_id" not in client.session:
        client.force_login(user)  # the POST signed the user out (logout)
    return answer(response)


def mismatches(*, table: dict[str, Row], scenario: Scenario, role: str, method: str) -> list[str]:
    client = clients(scenario)[role]
    user = scenario.users.get(role)
    found = []
    for name, row in sorted(table.items()):
        if method == "post" and row.post is None:
            continue
        url = row.url(name, scenario)
        got = ask(client, user, method, url)
        want = row.expected(method)[role]
        if got != want:
            found.append(f"{method.upper()} {name} ({url}): expected {want}, got {got}")
    return found


def observed_table(*, table: dict[str, Row], scenario: Scenario) -> str:
    """The answers each role gets now, as table lines: for writing rows, never for asserting."""
    all_clients = clients(scenario)
    lines = []
    for name, row in sorted(table.items()):
        try:
            url = row.url(name, scenario)
        except Exception as error:  # noqa: BLE001 - shown, to fix the row
            lines.append(f"{name:45} cannot reverse: {error}")
            continue
        for method in ("get", "post") if row.post is not None else ("get",):
            started = time.perf_counter()
            got = [ask(all_clients[r], scenario.users.get(r), method, url) for r in ROLES]
            took = time.perf_counter() - started
            lines.append(f"{name:45} {method:4} {' '.join(got)}   # {took:.2f}s")
    return "\n".join(lines)


# Roles tried first when one permitted user is enough: those who reach the most.
PERMITTED_FIRST = ("national", "trainer", "trainee", "regional", "anonymous", "trainee_other")
DENIED = {"login", "403", "404"}


def permitted_role(row: Row, method: str) -> str | None:
    """A role that gets past the access checks of this URL (None if no role does)."""
    expected = row.expected(method)
    return next((role for role in PERMITTED_FIRST if expected[role] not in DENIED), None)


def database_fingerprint(*, skip: set[str]) -> dict[str, tuple[int, int]]:
    """Per table: (rows, a hash of every row). Compared before and after a request."""
    from django.db import connection

    fingerprint = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True):
            if table in skip:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our table names
            rows = sorted(repr(row) for row in cursor.fetchall())
            fingerprint[table] = (len(rows), hash(tuple(rows)))
    return fingerprint
