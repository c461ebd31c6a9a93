"""Every key page runs the same number of SQL queries in a small world and in one five times
larger (tests/performance/world.py), and that number is pinned in PAGES: a query in a loop
fails CI, and any change to a page's cost shows as a diff in one table. Timings stay in the
benchmark (bench/), never here.

Each page is requested twice at each size, the cache emptied first. The first request fills
what the site keeps (the dashboard's figures, Django's content types), so it runs the
page's whole computation; the second is what most visits cost. Both are pinned, and both
must be the same at both sizes. Each page must also show more at the larger size (a page
about one certificate: the same certificate), so an empty page or an error cannot pass.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiResource, TokenAccess
from api.services import api_token_create
from audit.models import AuditAction
from config.cache import FailSafeRedisCache
from config.celery import app as celery_app
from tests.performance.world import World, world_build, world_grow
from training.models import NoticeStatus

pytestmark = pytest.mark.django_db

# The larger world has this many units of everything; the small one has one.
LARGE_UNITS = 5


def _distinct(pattern: str) -> Callable:
    """How many different matches of `pattern` the page shows (people, cohorts, sessions)."""
    return lambda response: len(set(re.findall(pattern, response.content.decode())))


def _counted(pattern: str) -> Callable:
    return lambda response: len(re.findall(pattern, response.content.decode()))


def _leaders_total(response) -> int:
    """The dashboard's count of leaders (0 if the figure is missing)."""
    found = re.search(r"Leaders: <a [^>]*><strong>([\d,]+)</strong>", response.content.decode())
    return int(found.group(1).replace(",", "")) if found else 0


def _results(response) -> int:
    return len(response.json()["results"])


def _showing(text: str) -> Callable:
    """Pages about one thing: 1 when it shows `text`, whatever the size."""
    return lambda response: int(text in response.content.decode())


# The verification page: the certificate read once, then kept; each check counted by an
# INSERT, on Redis too (decision 0016, amended: a count survives a Redis restart).
VERIFICATION_QUERIES = (2, 1)

PEOPLE = _distinct(r"Person\d{3}")
COHORTS = _distinct(r"Group \d{3}")


@dataclass(frozen=True)
class Page:
    name: str
    viewer: str  # a key of World.people, "anonymous", or "api" (national staff's token)
    url: Callable[[World], str]
    shows: Callable  # response -> how much of the world it shows
    queries: tuple[int, int]  # pinned: (with the cache empty, on the next request)
    grows: bool = True  # False for a page about one object


def plain(route: str, query: str = "") -> Callable[[World], str]:
    """The page at `route`, with a query string that may name {region} and {programme}."""
    return lambda w: (
        reverse(route) + query.format(region=w.region_a.pk, programme=w.objects["version"].programme_id)
    )


def of(route: str, name: str, attribute: str = "pk") -> Callable[[World], str]:
    """The page at `route` about the world's object `name` (cohort, session, certificate)."""
    return lambda w: reverse(route, args=[getattr(w.objects[name], attribute)])


REGISTRY_SEARCH = plain("certification:registry", "?name=Sam+Person&region={region}&programme={programme}")
CERTIFICATES_ISSUED = f"?action={AuditAction.CERTIFICATE_ISSUED}"
EMAILS_WAITING = f"?status={NoticeStatus.PENDING}"
IN_REGION = "?region={region}"
CERTIFICATE_CARDS = _distinct(r'id="certificate-\d+"')
SESSIONS = _distinct(r"Session \d+")
TABLE_ROWS = _counted(r"<tr")

# The key pages of issue 9 and their queries (with the cache empty, on the next request), the
# same on SQLite and PostgreSQL. A dashboard's first number counts its figures; the second reads
# them from the cache (reporting/services/figures.py). A signed-in page's first number also
# reads the current consent text, which the next request finds in the cache (decision 0028).
# fmt: off
PAGES = [
    Page("my training", "trainee", plain("training:my-training"), COHORTS, (10, 9)),
    Page("find a cohort", "trainee", plain("training:cohort-list"), COHORTS, (9, 8)),
    Page("cohort page (trainee)", "trainee", of("training:cohort-detail", "cohort"), SESSIONS, (9, 8)),
    Page("find a cohort (visitor)", "anonymous", plain("training:cohort-list", IN_REGION), COHORTS, (5, 5)),
    # The region's first three cohorts, at both sizes.
    Page("home (visitor)", "anonymous", plain("members:home", IN_REGION), COHORTS, (3, 3), grows=False),
    Page("my certificates", "trainee", plain("certification:my-certificates"), CERTIFICATE_CARDS, (5, 4)),
    Page("cohort list (trainer)", "trainer", plain("training:manage-cohort-list"), COHORTS, (6, 5)),
    Page("cohort list (staff)", "national", plain("training:manage-cohort-list"), COHORTS, (6, 5)),
    Page("cohort page (trainer)", "trainer", of("training:cohort-manage", "cohort"), PEOPLE, (10, 8)),
    Page("cohort page (regional)", "regional", of("training:cohort-manage", "cohort"), PEOPLE, (9, 7)),
    Page("register", "trainer", of("training:session-register", "session"), PEOPLE, (10, 8)),
    Page("marking queue", "trainer", plain("training:marking-queue"), PEOPLE, (8, 7)),
    Page("gradebook", "trainer", of("training:cohort-gradebook", "cohort"), PEOPLE, (12, 10)),
    Page("gradebook CSV", "trainer", of("training:cohort-gradebook-csv", "cohort"), PEOPLE, (12, 10)),
    Page("registry search", "anonymous", REGISTRY_SEARCH, PEOPLE, (7, 7)),
    Page("registry search (staff)", "national", REGISTRY_SEARCH, PEOPLE, (10, 9)),
    Page("verification (valid)", "anonymous", of("certification:verify", "certificate", "code"),
         _showing("Ada Person001"), VERIFICATION_QUERIES, grows=False),
    Page("verification (revoked)", "anonymous", of("certification:verify", "revoked", "code"),
         _showing("Revoked"), VERIFICATION_QUERIES, grows=False),
    Page("national dashboard", "national", plain("reporting:dashboard"), _leaders_total, (23, 2)),
    Page("regional dashboard", "regional", plain("reporting:dashboard"), _leaders_total, (25, 3)),
    Page("audit list", "national", plain("audit:entry-list", CERTIFICATES_ISSUED), TABLE_ROWS, (5, 4)),
    Page("notices list", "national", plain("training:notice-list", EMAILS_WAITING), PEOPLE, (8, 7)),
    Page("API cohorts", "api", plain("api:cohort-list"), _results, (7, 6)),
    Page("API certificates", "api", plain("api:certificate-list"), _results, (6, 5)),
]
# fmt: on


@dataclass
class Visit:
    status: int
    shown: int
    first: int  # queries with the caches empty
    queries: int  # queries on the next request
    cache_answered: bool  # Redis (when configured) answered throughout: nothing kept was lost
    hour: int  # the local hour the visit began: noon, far from the day's change (see visits)


def _clients(world: World) -> dict:
    clients = {"anonymous": Client()}
    for name, user in world.people.items():
        clients[name] = Client()
        clients[name].force_login(user)
    _token, raw = api_token_create(
        user=world.people["national"],
        name="Query counts",
        access=TokenAccess.READ,
        resources=list(ApiResource.values),
        expires_in_days=1,
    )
    clients["api"] = APIClient()
    clients["api"].credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return clients


def _count(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if getattr(response, "streaming", False):
            response.content = b"".join(response.streaming_content)
    return len(queries), response


def _visit(page: Page, world: World, clients: dict) -> Visit:
    client, url = clients[page.viewer], page.url(world)
    hour = timezone.localtime().hour
    cache.clear()
    ContentType.objects.clear_cache()
    first, _response = _count(client, url)
    queries, response = _count(client, url)
    shown = page.shows(response) if response.status_code == 200 else 0
    backend = caches["default"]
    answered = backend.reachable() if isinstance(backend, FailSafeRedisCache) else True
    return Visit(
        status=response.status_code,
        shown=shown,
        first=first,
        queries=queries,
        cache_answered=answered,
        hour=hour,
    )


@pytest.fixture(scope="module")
def visits(django_db_setup, django_db_blocker, tmp_path_factory) -> dict[str, tuple[Visit, Visit]]:
    """Every page visited in the small world, then in the large one; all rolled back after."""
    # What the function-scoped autouse fixture in tests/conftest.py does for single tests.
    settings = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    # Today at noon, the clock ticking from there: the verification page keeps its copy under
    # the day's date, so a visit whose two requests fell either side of midnight read the
    # certificate again, a query more than pinned (seen once, in a run at midnight).
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    previous_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with (
            time_machine.travel(noon, tick=True),
            django_db_blocker.unblock(),
            settings,
            transaction.atomic(),
        ):
            world = world_build()
            clients = _clients(world)
            small = {page.name: _visit(page, world, clients) for page in PAGES}
            world_grow(world, LARGE_UNITS - 1)
            yield {page.name: (small[page.name], _visit(page, world, clients)) for page in PAGES}
            transaction.set_rollback(True)
    finally:
        celery_app.conf.task_always_eager = previous_eager


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_queries_do_not_grow_with_the_data(visits, page):
    small, large = visits[page.name]
    assert (small.status, large.status) == (200, 200)
    assert small.shown > 0, "the small world's page shows nothing of it"
    if page.grows:
        assert large.shown > small.shown, "the larger world's page does not show its extra data"
    else:
        assert large.shown == small.shown
    assert (small.hour, large.hour) == (12, 12), "the visits must run at noon, not near midnight"
    assert small.cache_answered, "Redis did not answer the cache: the counts say nothing"
    assert large.cache_answered, "Redis did not answer the cache: the counts say nothing"
    assert (small.first, small.queries) == (large.first, large.queries), "queries grew with the data"
    assert (large.first, large.queries) == page.queries, "the page's cost changed: update PAGES if intended"
