"""Benchmark: the key pages at 1,000 and at 100,000 members, against a floor view, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
    .venv/bin/python bench/pages.py --members 1000 100000 [--reuse] [--runs 30]

For each size it fills a database of its own, `<name>_pagesbench_<members>` on the server of
DATABASE_URL (dropped and made afresh; kept with `--reuse` when it is there), with the movement
`manage.py generate_scale` makes (scale/generator.py). Then it adds, identically at both sizes,
what makes the pages comparable (`bench_objects_ensure`): a programme version with ten
assignments and a running cohort of 60 trainees on it (registers, work handed in, marked and
waiting), its trainer, who also runs 25 open cohorts in the same region, and 30 leaders called
Okafor with certificates; so each page shows the same rows at both sizes and only the data
around them grows.

Each page is requested through Django's test client (the whole request: middleware, view,
template) under `bench.settings`, which adds the floor view (`bench-floor`: the same
middleware and base template, nothing else). Both sizes are open at once, one connection
each, and the requests are interleaved: size by size, floor then page (or page then floor,
alternately), so that the machine's load drifts over both alike. One warm-up request each,
then `--runs` timed requests with the garbage collector paused; SQL queries are counted on a
separate request. The verification page is asked anonymously, so the bench lifts its rate
limit (VERIFY_RATE_LIMIT) for itself.

`markdown_section(argv)` returns the results as a Markdown section (bench/run.py writes it to
bench/RESULTS.md); run directly, the script prints it.
"""

import argparse
import copy
import datetime as dt
import gc
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/future_leaders"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
EMAIL_DOMAIN = "pagesbench.example"
BENCH_PROGRAMME_SLUG = "pagesbench-ten-assignments"
REGION_CODE = "E12000001"  # North East
GRADEBOOK_TRAINEES = 60
GRADEBOOK_ASSIGNMENTS = 10
OPEN_COHORTS = 25
LEADERS = 30
LEADER_SURNAME = "Okafor"  # not among the generator's surnames: the search finds exactly these

# The issue's goals: median at 100k over median at 1k; p95 over median; median over the floor's.
GOAL_GROWTH = 1.25
GOAL_SPREAD = 2.0
# Issue 23: over the bare signed-in view's median (bench/floor.py), the floor at most 2x and
# every page at most 8x; the floor at most 2 queries (the session and the user).
GOAL_FLOOR_OVER_BARE = 2.0
GOAL_PAGE_OVER_BARE = 8.0
GOAL_FLOOR_QUERIES = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/pages.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, nargs=2, default=[1_000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page and size (default 30)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases a previous run made, if they are there"
    )
    parser.add_argument("--pages", default="", help="comma-separated page keys to measure (default: all)")
    return parser.parse_args(argv)


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- The databases -------------------------------------------------------------------------


def bench_database_create(database_url: str, *, members: int, reuse: bool) -> tuple[str, bool]:
    """`<name>_pagesbench_<members>` on the server of `database_url`: dropped and created
    (kept with `reuse`, when it exists). Returns its URL and whether it must be filled."""
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/")) or "postgres"
    bench_name = f"{name}_pagesbench_{members}"
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        name_sql = sql.Identifier(bench_name)
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone()
        fresh = not (reuse and exists)
        if fresh:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name_sql))
    return url._replace(path=f"/{bench_name}").geturl(), fresh


def database_fill(database_url: str, members: int) -> None:
    """Migrate, load the reference data and generate the movement, in a process of its own
    (manage.py, as anyone would), so that this one keeps its connections."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    python = sys.executable
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_seeds", "-v0"],
        ["generate_scale", "--members", str(members), "-v1"],
    ):
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own manage.py, with arguments of our own
            [python, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, stdout=sys.stderr
        )
        log(f"    {command[0]}: {time.perf_counter() - started:.0f}s")


def database_migrate(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=sys.stderr,
    )


def database_wrapper(database_url: str):
    """A second (third...) connection to another database, with the same settings as
    `default`: swapped in as `default` while that size is measured."""
    from django.db import connections
    from django.db.utils import load_backend

    settings_dict = copy.deepcopy(connections.settings["default"])
    settings_dict["NAME"] = unquote(urlsplit(database_url).path.lstrip("/"))
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


@dataclass
class Size:
    members: int
    url: str
    wrapper: object = None
    objects: "BenchObjects | None" = None
    clients: dict = field(default_factory=dict)

    def use(self) -> None:
        """Make this size's database and cache the ones every request reads."""
        from django.core.cache import caches
        from django.db import connections

        connections["default"] = self.wrapper
        # The caches (the dashboard's, the verification rate) must not mix the sizes.
        caches["default"].key_prefix = f"pagesbench{self.members}"


# --- What makes the pages comparable -------------------------------------------------------


@dataclass
class BenchObjects:
    national: object
    trainer: object
    trainee: object
    cohort: object  # 60 trainees, 10 assignments, running
    register_session: object
    region_id: int
    certificate_code: str


def _user(email: str, first: str, last: str, role, region, constituency=None):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from members.models import Profile, User
    from members.permissions import Role
    from members.selectors import consent_text_current
    from members.services import consent_give, user_assign_role

    user = User.objects.create_user(email=email, password=None, first_name=first, last_name=last)
    user_assign_role(user=user, role=role)
    consent_give(user=user, text=consent_text_current())
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Profile.objects.create(user=user, region=region, constituency=constituency)
    if role != Role.TRAINEE and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())  # trainers and staff need a second factor
    return user


FIRST_NAMES = ("Ada", "Bola", "Carys", "Dev", "Efe", "Finn", "Gita", "Huw", "Ines", "Jon", "Kemi", "Lior")
LAST_NAMES = ("Adeyemi", "Barker", "Cole", "Dunne", "Ellis", "Foster", "Grant", "Hale", "Irwin", "Jarvis")


def _programme_ten_assignments():
    """A published version with ten modules of one assignment each (the gradebook's columns),
    made through the authoring services."""
    from training.models import Outcome
    from training.services.programmes import (
        assignment_create,
        module_create,
        programme_create,
        version_publish,
    )
    from training.services.rubrics import criterion_create

    programme = programme_create(
        slug=BENCH_PROGRAMME_SLUG, title="Community Organising (bench edition)", description="For benchmarks."
    )
    version = programme.versions.get()
    levels = [
        {"title": "Not yet", "description": "Missing.", "outcome": Outcome.FAIL},
        {"title": "Nearly", "description": "Partly there.", "outcome": Outcome.RESUBMIT},
        {"title": "Met", "description": "Clear and specific.", "outcome": Outcome.PASS},
    ]
    for index in range(GRADEBOOK_ASSIGNMENTS):
        module = module_create(version=version, title=f"Week {index + 1}")
        assignment = assignment_create(
            module=module,
            title=f"Assignment {index + 1}",
            brief="Write it up.",
            due_offset_days=7 * index + 6,
            required_for_completion=index < 6,
            accepted_file_types="",
        )
        for criterion in ("Story", "Power map"):
            criterion_create(assignment=assignment, title=criterion, levels=levels)
    return version_publish(version=version)


def bench_objects_make() -> None:
    """Everything the pages are measured on, identical at every size (same names, dates,
    counts). One transaction; services where they exist, bulk rows for enrolments and work."""
    from django.db import transaction
    from django.utils import timezone

    from certification.models import RegistryEntry, Visibility
    from certification.services.certificates import certificate_issue_manually
    from certification.services.registry import visibility_set
    from members.models import Constituency, Region
    from members.permissions import Role
    from training.models import (
        Assignment,
        AttendanceStatus,
        CohortStatus,
        Enrolment,
        EnrolmentStatus,
        Module,
        RubricLevel,
        SessionMode,
        Submission,
        SubmissionStatus,
    )
    from training.services.attendance import register_save
    from training.services.cohorts import cohort_create, session_create
    from training.services.marking import mark_save

    today = timezone.localdate()
    now = timezone.now()
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        region = Region.objects.get(ons_code=REGION_CODE)
        seat = Constituency.objects.filter(region=region).order_by("pk").first()
        national = _user(f"national@{EMAIL_DOMAIN}", "Nia", "National", Role.NATIONAL_STAFF, region)
        trainer = _user(f"trainer@{EMAIL_DOMAIN}", "Tomi", "Trainer", Role.TRAINER, region, seat)
        trainees = [
            _user(
                f"trainee-{i:02}@{EMAIL_DOMAIN}",
                FIRST_NAMES[i % len(FIRST_NAMES)],
                LAST_NAMES[i % len(LAST_NAMES)],
                Role.TRAINEE,
                region,
                seat,
            )
            for i in range(GRADEBOOK_TRAINEES)
        ]
        version = _programme_ten_assignments()
        starts_on = today - dt.timedelta(days=32)  # five weekly sessions held, five to come
        cohort = cohort_create(
            version=version,
            name="Bench: gradebook cohort",
            region=region,
            constituency=seat,
            trainers=[trainer],
            capacity=GRADEBOOK_TRAINEES,
            enrolment_opens_on=starts_on - dt.timedelta(days=40),
            enrolment_closes_on=starts_on - dt.timedelta(days=3),
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(weeks=10),
            reviews_applications=False,
            status=CohortStatus.RUNNING,
        )
        modules = list(Module.objects.filter(version=version).order_by("position"))
        sessions = []
        for week in range(10):
            starts_at = dt.datetime.combine(starts_on + dt.timedelta(weeks=week), dt.time(18, 30), tzinfo=tz)
            sessions.append(
                session_create(
                    cohort=cohort,
                    title=f"Week {week + 1}",
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(hours=2),
                    mode=SessionMode.IN_PERSON,
                    venue="Bench community hall",
                    modules=[modules[week]],
                )
            )
        applied_at = dt.datetime.combine(starts_on - dt.timedelta(days=20), dt.time(10), tzinfo=tz)
        enrolments = Enrolment.objects.bulk_create(
            Enrolment(
                cohort=cohort,
                member=trainee,
                programme_id=version.programme_id,
                status=EnrolmentStatus.ENROLLED,
                applied_at=applied_at + dt.timedelta(minutes=i),
                status_changed_at=applied_at + dt.timedelta(minutes=i),
                first_enrolled_at=applied_at + dt.timedelta(minutes=i),
                member_region=region,
                member_constituency=seat,
            )
            for i, trainee in enumerate(trainees)
        )
        held = [session for session in sessions if session.ends_at < now]
        for week, session in enumerate(held):
            marks = {}
            for i, enrolment in enumerate(enrolments):
                if (i + week) % 11 == 0:
                    marks[enrolment.pk] = AttendanceStatus.EXCUSED
                elif (i + week) % 7 == 0:
                    marks[enrolment.pk] = AttendanceStatus.ABSENT
                else:
                    marks[enrolment.pk] = AttendanceStatus.PRESENT
            register_save(session=session, marks=marks, actor=trainer)
        # Work: the first five assignments handed in (a few missing, a few late), the first
        # three marked; the sixth started as drafts.
        assignments = list(Assignment.objects.filter(module__version=version).order_by("module__position"))
        rows = []
        for j, assignment in enumerate(assignments[:6]):
            due = dt.datetime.combine(
                starts_on + dt.timedelta(days=assignment.due_offset_days), dt.time(23, 59), tzinfo=tz
            )
            for i, enrolment in enumerate(enrolments):
                if (i * 3 + j) % 9 == 0:
                    continue
                if j == 5:
                    rows.append(
                        Submission(enrolment=enrolment, assignment=assignment, attempt=1, text="Draft.")
                    )
                    continue
                late = (i + j) % 13 == 0
                submitted_at = min(
                    due + dt.timedelta(days=1 if late else -1, minutes=i), now - dt.timedelta(hours=1)
                )
                rows.append(
                    Submission(
                        enrolment=enrolment,
                        assignment=assignment,
                        attempt=1,
                        status=SubmissionStatus.SUBMITTED,
                        text="My work for this assignment.",
                        submitted_at=submitted_at,
                        is_late=late and submitted_at > due,
                    )
                )
        Submission.objects.bulk_create(rows)
        levels = {}
        for level in RubricLevel.objects.filter(criterion__assignment__module__version=version):
            levels.setdefault(level.criterion.assignment_id, {}).setdefault(level.criterion_id, {})[
                level.outcome
            ] = level.pk
        to_mark = Submission.objects.filter(
            enrolment__cohort=cohort, assignment__in=assignments[:3], status=SubmissionStatus.SUBMITTED
        ).order_by("pk")
        for n, submission in enumerate(to_mark):
            outcome = "resubmit" if n % 8 == 0 else "pass"
            chosen = {
                criterion: by_outcome[outcome]
                for criterion, by_outcome in levels[submission.assignment_id].items()
            }
            mark_save(submission=submission, marker=trainer, levels=chosen, feedback="Clear.", seen_version=0)
        # The trainer's other cohorts: open, in the same region, for the finder and their list.
        for k in range(OPEN_COHORTS):
            open_starts = today + dt.timedelta(days=25 + k)
            open_cohort = cohort_create(
                version=version,
                name=f"Bench: open cohort {k + 1:02}",
                region=region,
                constituency=seat if k % 2 else None,
                trainers=[trainer],
                capacity=20,
                enrolment_opens_on=today - dt.timedelta(days=10),
                enrolment_closes_on=open_starts - dt.timedelta(days=3),
                starts_on=open_starts,
                ends_on=open_starts + dt.timedelta(weeks=10),
                reviews_applications=bool(k % 3 == 0),
                status=CohortStatus.OPEN,
            )
            starts_at = dt.datetime.combine(open_starts, dt.time(18, 30), tzinfo=tz)
            session_create(
                cohort=open_cohort,
                title="Week 1",
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(hours=2),
                mode=SessionMode.ONLINE if k % 2 else SessionMode.IN_PERSON,
                venue="" if k % 2 else "Bench community hall",
                online_link="https://meet.example/bench" if k % 2 else "",
            )
        # Thirty leaders called Okafor, certified in a finished cohort, visible to members.
        leaders_starts = today - dt.timedelta(days=150)
        leaders_cohort = cohort_create(
            version=version,
            name="Bench: leaders cohort",
            region=region,
            constituency=seat,
            trainers=[trainer],
            capacity=LEADERS,
            enrolment_opens_on=leaders_starts - dt.timedelta(days=40),
            enrolment_closes_on=leaders_starts - dt.timedelta(days=3),
            starts_on=leaders_starts,
            ends_on=leaders_starts + dt.timedelta(weeks=10),
            reviews_applications=False,
            status=CohortStatus.FINISHED,
        )
        leaders = [
            _user(
                f"leader-{i:02}@{EMAIL_DOMAIN}",
                FIRST_NAMES[i % len(FIRST_NAMES)],
                LEADER_SURNAME,
                Role.TRAINEE,
                region,
                seat,
            )
            for i in range(LEADERS)
        ]
        applied_at = dt.datetime.combine(leaders_starts - dt.timedelta(days=20), dt.time(10), tzinfo=tz)
        leader_enrolments = Enrolment.objects.bulk_create(
            Enrolment(
                cohort=leaders_cohort,
                member=leader,
                programme_id=version.programme_id,
                status=EnrolmentStatus.ENROLLED,
                applied_at=applied_at,
                status_changed_at=applied_at,
                first_enrolled_at=applied_at,
                member_region=region,
                member_constituency=seat,
            )
            for leader in leaders
        )
        for enrolment in leader_enrolments:
            certificate_issue_manually(
                enrolment=enrolment, actor=national, reason="Bench: evidence outside the platform."
            )
        for entry in RegistryEntry.objects.filter(member__in=leaders).select_related("member"):
            visibility_set(entry=entry, visibility=Visibility.MEMBERS, actor=entry.member)


def bench_objects_get() -> BenchObjects | None:
    from certification.models import Certificate
    from members.models import Region, User
    from training.models import Cohort, Session

    users = {user.email: user for user in User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")}
    if f"trainer@{EMAIL_DOMAIN}" not in users:
        return None
    from django.utils import timezone

    cohort = Cohort.objects.get(name="Bench: gradebook cohort", version__programme__slug=BENCH_PROGRAMME_SLUG)
    return BenchObjects(
        national=users[f"national@{EMAIL_DOMAIN}"],
        trainer=users[f"trainer@{EMAIL_DOMAIN}"],
        trainee=users[f"trainee-01@{EMAIL_DOMAIN}"],
        cohort=cohort,
        register_session=Session.objects.filter(cohort=cohort, ends_at__lt=timezone.now())
        .order_by("-starts_at")
        .first(),
        region_id=Region.objects.get(ons_code=REGION_CODE).pk,
        certificate_code=Certificate.objects.filter(holder__email=f"leader-01@{EMAIL_DOMAIN}").get().code,
    )


def bench_objects_ensure() -> BenchObjects:
    objects = bench_objects_get()
    if objects is None:
        started = time.perf_counter()
        bench_objects_make()
        log(f"    made the bench's own objects in {time.perf_counter() - started:.1f}s")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        objects = bench_objects_get()
    return objects


# --- The pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    viewer: str  # an attribute of BenchObjects, or "anonymous"
    floor_goal: float | None  # the issue's goal for median / floor median; None: no goal


PAGES = [
    Page("trainee-home", "Trainee home (My training)", "trainee", 4),
    Page("cohort-list", "Cohort list (finder, own region)", "trainee", 5),
    Page("cohort-list-trainer", "Cohort list (trainer's cohorts)", "trainer", 5),
    Page("cohort-list-staff", "Cohort list (national staff: all)", "national", 5),
    Page("cohort-page", "Cohort page (trainer)", "trainer", None),
    Page("register", "Register (60 trainees)", "trainer", 5),
    Page("marking-queue", "Marking queue (trainer)", "trainer", 5),
    Page("marking-queue-staff", "Marking queue (national staff: all)", "national", 5),
    Page("gradebook", "Gradebook (60 x 10)", "trainer", 5),
    Page("registry-search", "Registry search (a name)", "trainee", 5),
    Page("verification", "Certificate verification (anonymous)", "anonymous", 2),
    Page("dashboard", "National dashboard", "national", 5),
    Page("cohort-csv", "CSV export of a cohort (gradebook)", "trainer", None),
]


def page_url(page: Page, objects: BenchObjects) -> str:
    from django.urls import reverse

    cohort = objects.cohort.pk
    return {
        "trainee-home": lambda: reverse("training:my-training"),
        "cohort-list": lambda: reverse("training:cohort-list") + f"?region={objects.region_id}",
        "cohort-list-trainer": lambda: reverse("training:manage-cohort-list"),
        "cohort-list-staff": lambda: reverse("training:manage-cohort-list"),
        "cohort-page": lambda: reverse("training:cohort-manage", args=[cohort]),
        "register": lambda: reverse("training:session-register", args=[objects.register_session.pk]),
        "marking-queue": lambda: reverse("training:marking-queue"),
        "marking-queue-staff": lambda: reverse("training:marking-queue"),
        "gradebook": lambda: reverse("training:cohort-gradebook", args=[cohort]),
        "registry-search": lambda: reverse("certification:registry") + f"?name={LEADER_SURNAME}",
        "verification": lambda: reverse("certification:verify", args=[objects.certificate_code]),
        "dashboard": lambda: reverse("reporting:dashboard"),
        "cohort-csv": lambda: reverse("training:cohort-gradebook-csv", args=[cohort]),
    }[page.key]()


def client_for(size: Size, viewer: str):
    """One signed-in client per size and viewer, kept for the run (a session, as a browser's)."""
    from django.test import Client

    if viewer not in size.clients:
        client = Client()
        if viewer != "anonymous":
            client.force_login(getattr(size.objects, viewer))
        size.clients[viewer] = client
    return size.clients[viewer]


def _get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    else:
        response.content  # noqa: B018 - rendered already; read as a browser would
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed


def _get_bare(client) -> float:
    """The bare signed-in view (bench/floor.py), with the client's session cookie."""
    from django.conf import settings
    from django.test import RequestFactory

    from bench.floor import bare_signed_in

    started = time.perf_counter()
    morsel = client.cookies.get(settings.SESSION_COOKIE_NAME)
    headers = {"cookie": f"{morsel.key}={morsel.value}"} if morsel else {}
    response = bare_signed_in(RequestFactory().get("/bench/bare/", headers=headers))
    response.content  # noqa: B018 - as _get reads it
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the bare signed-in view answered {response.status_code}")
    return elapsed


def _queries(client, url: str | None) -> int:
    """SQL queries of one request of `url`; of the bare signed-in view for None."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _get(client, url) if url is not None else _get_bare(client)
    return len(captured)


@dataclass
class Figures:
    queries: int
    floor_queries: int
    bare_queries: int
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    bare_times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.times, n=20, method="inclusive")[18]

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_times)

    @property
    def floor_ratio(self) -> float:
        return self.median / self.floor_median

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare_times)

    @property
    def bare_ratio(self) -> float:
        return self.median / self.bare_median

    @property
    def floor_over_bare(self) -> float:
        return self.floor_median / self.bare_median

    @property
    def spread(self) -> float:
        return self.p95 / self.median


ORDER = ("floor", "page", "bare")
# An anonymous page is read against the bare signed-in view of this viewer: without a
# session there is nothing signed in to measure.
BARE_VIEWER_FOR_ANONYMOUS = "trainee"


def bare_client_for(size: Size, viewer: str):
    return client_for(size, BARE_VIEWER_FOR_ANONYMOUS if viewer == "anonymous" else viewer)


def page_measure(page: Page, sizes: list[Size], runs: int) -> dict[int, Figures]:
    floor_url = "/bench/floor/"
    urls, figures = {}, {}
    for size in sizes:
        size.use()
        client = client_for(size, page.viewer)
        urls[size.members] = page_url(page, size.objects)
        _get(client, floor_url)  # warm-up: the first request fills caches, as a morning's first visitor
        _get(client, urls[size.members])
        _get_bare(bare_client_for(size, page.viewer))
        figures[size.members] = Figures(
            queries=_queries(client, urls[size.members]),
            floor_queries=_queries(client, floor_url),
            bare_queries=_queries(bare_client_for(size, page.viewer), None),
        )
    gc.collect()
    gc.disable()
    try:
        for run in range(runs):
            # Alternate the order, so neither size nor the floor always goes first.
            for size in sizes if run % 2 == 0 else sizes[::-1]:
                size.use()
                client = client_for(size, page.viewer)
                numbers = figures[size.members]
                # Rotate the order of the three, so none always goes first.
                for which in ORDER[run % 3 :] + ORDER[: run % 3]:
                    if which == "floor":
                        numbers.floor_times.append(_get(client, floor_url))
                    elif which == "page":
                        numbers.times.append(_get(client, urls[size.members]))
                    else:
                        numbers.bare_times.append(_get_bare(bare_client_for(size, page.viewer)))
            if run % 10 == 9:
                gc.collect()  # outside the timed requests: the pause is not charged to a page
    finally:
        gc.enable()
    return figures


# --- The report ------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"


def _verdict(value: float, goal: float) -> str:
    return f"{value:.2f} ✓" if value <= goal else f"**{value:.2f} ✗**"


def _load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(
    results: list[tuple[Page, dict[int, Figures]]], small: int, large: int, runs: int, load: tuple
) -> str:
    def size_label(n: int) -> str:
        return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"

    s, L = size_label(small), size_label(large)
    lines = [
        f"### Key pages at {small:,} and {large:,} members (bench/pages.py)",
        "",
        f"{runs} requests per page and size after one warm-up, through Django's test client "
        "(middleware, view, template), interleaved with the floor view (same middleware and base "
        "template, nothing else) and the bare signed-in view (Django's session and authentication "
        "middleware and a one-line response, called directly: bench/floor.py) as the same viewer "
        f"(the {BARE_VIEWER_FOR_ANONYMOUS}'s bare signed-in view for an anonymous page); "
        f"times are the whole request in ms. Load average {load[0]} at the start, {load[1]} at the end.",
        "",
        f"| page | viewer | queries {s} / {L} | median {s} | p95 {s} | median {L} | p95 {L} | "
        f"{L}/{s} (≤{GOAL_GROWTH}) | p95/median {s} / {L} (≤{GOAL_SPREAD:g}) | × floor {s} / {L} | "
        f"floor goal | × bare signed-in {s} / {L} (≤{GOAL_PAGE_OVER_BARE:g}) |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    missed = []
    for page, figures in results:
        a, b = figures[small], figures[large]
        growth = b.median / a.median
        equal = a.queries == b.queries
        queries = f"{a.queries} / {b.queries}" if equal else f"**{a.queries} / {b.queries} ✗**"
        spread = f"{_verdict(a.spread, GOAL_SPREAD)} / {_verdict(b.spread, GOAL_SPREAD)}"
        if page.floor_goal is None:
            floor = f"{a.floor_ratio:.1f} / {b.floor_ratio:.1f}"
            floor_goal = "none"
        else:
            floor = f"{_verdict(a.floor_ratio, page.floor_goal)} / {_verdict(b.floor_ratio, page.floor_goal)}"
            floor_goal = f"≤{page.floor_goal:g}"
        lines.append(
            f"| {page.label} | {page.viewer} | {queries} | {_ms(a.median)} | {_ms(a.p95)} | "
            f"{_ms(b.median)} | {_ms(b.p95)} | {_verdict(growth, GOAL_GROWTH)} | {spread} | {floor} | "
            f"{floor_goal} | {_verdict(a.bare_ratio, GOAL_PAGE_OVER_BARE)} / "
            f"{_verdict(b.bare_ratio, GOAL_PAGE_OVER_BARE)} |"
        )
        goals = [
            ("queries equal", equal),
            ("growth", growth <= GOAL_GROWTH),
            ("p95/median", max(a.spread, b.spread) <= GOAL_SPREAD),
        ]
        if page.floor_goal is not None:
            goals.append(("× floor", max(a.floor_ratio, b.floor_ratio) <= page.floor_goal))
        goals.append(("× bare signed-in", max(a.bare_ratio, b.bare_ratio) <= GOAL_PAGE_OVER_BARE))
        failed = [name for name, ok in goals if not ok]
        if failed:
            missed.append(f"{page.label}: {', '.join(failed)}")

    def floor_of(viewer: str, members: int) -> str:
        return _ms(statistics.median([f[members].floor_median for p, f in results if p.viewer == viewer]))

    floors = ", ".join(
        f"{viewer} {floor_of(viewer, small)} / {floor_of(viewer, large)} ms"
        for viewer in dict.fromkeys(p.viewer for p, _ in results)
    )
    lines += [
        "",
        f"Floor view medians ({s} / {L}), by viewer: {floors}.",
        "",
        f"The floor against the bare signed-in view, by viewer (goals: at most {GOAL_FLOOR_OVER_BARE:g}x "
        f"its median, at most {GOAL_FLOOR_QUERIES} queries for a signed-in viewer):",
        "",
        f"| viewer | floor queries | bare queries | floor median {s} / {L} | bare median {s} / {L} | "
        f"floor ÷ bare {s} / {L} |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for viewer in dict.fromkeys(p.viewer for p, _ in results):
        rows = [f for p, f in results if p.viewer == viewer]
        line, viewer_missed = _floor_row(viewer, rows, small, large)
        lines.append(line)
        missed += viewer_missed
    lines += [
        "",
        "Goals met: " + ("all." if not missed else f"all but {len(missed)} row(s)."),
    ]
    lines += [f"- missed: {line}" for line in missed]
    return "\n".join(lines) + "\n"


def _floor_row(viewer: str, rows: list[dict[int, Figures]], small: int, large: int) -> tuple[str, list[str]]:
    """The floor and the bare signed-in view for one viewer, over every page they viewed."""

    def median_of(attribute: str, members: int) -> float:
        return statistics.median([getattr(figures[members], attribute) for figures in rows])

    floor = {n: median_of("floor_median", n) for n in (small, large)}
    bare = {n: median_of("bare_median", n) for n in (small, large)}
    ratio = {n: floor[n] / bare[n] for n in (small, large)}
    queries = max(figures[n].floor_queries for figures in rows for n in (small, large))
    bare_queries = max(figures[n].bare_queries for figures in rows for n in (small, large))
    signed_in = viewer != "anonymous"
    missed = []
    if signed_in and max(ratio.values()) > GOAL_FLOOR_OVER_BARE:
        missed.append(f"floor ({viewer}): × bare signed-in")
    if signed_in and queries > GOAL_FLOOR_QUERIES:
        missed.append(f"floor ({viewer}): {queries} queries")
    shown_ratio = (
        " / ".join(_verdict(ratio[n], GOAL_FLOOR_OVER_BARE) for n in (small, large))
        if signed_in
        else " / ".join(f"{ratio[n]:.2f}" for n in (small, large))
    )
    shown_queries = str(queries) if not signed_in or queries <= GOAL_FLOOR_QUERIES else f"**{queries} ✗**"
    line = (
        f"| {viewer} | {shown_queries} | {bare_queries} | {_ms(floor[small])} / {_ms(floor[large])} | "
        f"{_ms(bare[small])} / {_ms(bare[large])} | {shown_ratio} |"
    )
    return line, missed


# --- Running it ------------------------------------------------------------------------------


def markdown_section(argv: list[str]) -> str:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP
    os.environ["VERIFY_RATE_LIMIT"] = "1000000000"  # the bench checks one code many times a minute
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    small, large = args.members
    sizes = []
    for members in (small, large):
        url, fresh = bench_database_create(database_url, members=members, reuse=args.reuse)
        if fresh:
            log(f"{members:,} members: filling {url}")
            started = time.perf_counter()
            database_fill(url, members)
            log(f"{members:,} members: filled in {time.perf_counter() - started:.0f}s")
        else:
            database_migrate(url)  # the code may have moved on since the data was made
        sizes.append(Size(members=members, url=url))
    os.environ["DATABASE_URL"] = sizes[0].url
    import django

    django.setup()
    # No setup_test_environment(): it instruments every template render so that the test
    # client can keep each context, a copy per template (a field is a template), which would
    # charge a form-heavy page for the test rather than for itself.
    for size in sizes:
        size.wrapper = database_wrapper(size.url)
        size.use()
        size.objects = bench_objects_ensure()
    keys = [key for key in args.pages.split(",") if key]
    pages = [page for page in PAGES if not keys or page.key in keys]
    load_start = _load_average()
    results = []
    for page in pages:
        figures = page_measure(page, sizes, args.runs)
        a, b = figures[small], figures[large]
        log(
            f"  {page.key:20} queries {a.queries:3}/{b.queries:3}"
            f"  median {_ms(a.median):>6}/{_ms(b.median):>6} ms"
            f"  p95 {_ms(a.p95):>6}/{_ms(b.p95):>6}  floor x{a.floor_ratio:.1f}/x{b.floor_ratio:.1f}"
            f"  bare x{a.bare_ratio:.1f}/x{b.bare_ratio:.1f}  floor/bare x{a.floor_over_bare:.1f}"
            f"  floor queries {a.floor_queries}"
        )
        results.append((page, figures))
    return report(results, small, large, args.runs, (load_start, _load_average()))


if __name__ == "__main__":
    print(markdown_section(sys.argv[1:]))
