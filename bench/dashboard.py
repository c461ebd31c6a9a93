"""Benchmark: the dashboard and the pages behind it at N members, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    .venv/bin/python bench/dashboard.py --members 10000 100000

For each N it fills a database of its own (`<name>_dashboard_bench`, dropped and migrated
afresh: the database in DATABASE_URL is not touched) with two years of a movement: cohorts of
twenty across the regions (finished, running and open), their enrolments, eight weekly
sessions each with the register taken, the required work handed in and marked, certificates
for those who completed (some revoked, some lapsed), trainers who were once trainees, and
targets. About 10 attendance and submission rows per member: a million at 100,000 members.

Then, signed in as national staff and as regional staff, it requests each page through
Django's test client (the whole request: middleware, views, templates) and reports the
median of `--runs` requests after one warm-up, and the SQL queries of each. The conversion
rates are cached for ten minutes; the warm-up fills that cache, as the first visitor of the
morning does.

`movement_create` is also used to look at the dashboard with realistic data:

    DATABASE_URL=sqlite:////tmp/movement.sqlite3 .venv/bin/python manage.py migrate
    ... manage.py load_seeds --demo, then in `manage.py shell`:
    from bench.dashboard import movement_create; movement_create(members=3000)
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

COHORT_CAPACITY = 20
WEEKS = 8
PAST_DAYS = 730  # cohorts started over the last two years ...
FUTURE_DAYS = 90  # ... and start over the next three months


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5, help="requests per page, after a warm-up")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data a previous run left (one --members value), instead of making it again",
    )
    return parser.parse_args()


def bench_database_create(database_url: str, *, reuse: bool = False) -> str:
    """Drop and create `<name>_dashboard_bench` on the same server (kept, with `reuse`);
    return its URL."""
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/")) or "postgres"
    bench_name = f"{name}_dashboard_bench"
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        name_sql = sql.Identifier(bench_name)
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone()
        if not (reuse and exists):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name_sql))
    return url._replace(path=f"/{bench_name}").geturl()


# --- The movement ------------------------------------------------------------------------------


def movement_create(*, members: int, seed: int = 7) -> dict:
    """Two years of cohorts for about `members` members (reference data must be loaded:
    `load_seeds`). Returns counts of what was made. Bulk inserts: the services are not run,
    so the enrolment milestones are written here as the services would keep them."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from certification.models import Certificate, CertificateStatus, TargetScope
    from certification.services.tally import enrolment_certified_rebuild, leader_tally_rebuild
    from certification.services.targets import target_create
    from members.models import Constituency, Profile, Region, User
    from members.permissions import Role
    from members.services import user_assign_role
    from training.models import (
        Assignment,
        Attendance,
        AttendanceSource,
        AttendanceStatus,
        Cohort,
        CohortStatus,
        Enrolment,
        EnrolmentStatus,
        Mark,
        MarkKind,
        Outcome,
        Programme,
        Session,
        SessionMode,
        Submission,
        SubmissionStatus,
    )
    from training.services.milestones import enrolment_places_rebuild, milestones_rebuild

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    programme = Programme.objects.order_by("pk").first()
    version = programme.versions.filter(status="published").first()
    assignments = list(Assignment.objects.filter(module__version=version).order_by("module__position", "pk"))
    required = [assignment for assignment in assignments if assignment.required_for_completion]
    optional = [assignment for assignment in assignments if not assignment.required_for_completion]
    constituencies = list(Constituency.objects.select_related("region"))
    # About one seat in seven is a target seat.
    Constituency.objects.filter(pk__in=[c.pk for c in constituencies[::7]]).update(is_target_seat=True)
    regions = list(Region.objects.all())
    no_password = make_password(None)

    def person(index: int, kind: str) -> User:
        return User(
            email=f"{kind}{index}@bench.example",
            password=no_password,
            first_name=rng.choice(["Aisha", "Ben", "Cai", "Dee", "Eve", "Femi", "Gus", "Hana", "Ife", "Jo"]),
            last_name=f"{kind.title()} {index}",
        )

    with transaction.atomic():
        cohorts_count = max(4, members // 16)
        trainers_count = max(3, cohorts_count // 4)
        trainers = User.objects.bulk_create([person(i, "trainer") for i in range(trainers_count)])
        people = User.objects.bulk_create((person(i, "member") for i in range(members)), batch_size=5000)
        everyone = trainers + people
        places = {}
        profiles = []
        for user in everyone:
            seat = rng.choice(constituencies)
            places[user.pk] = seat
            profiles.append(
                Profile(user=user, region=seat.region, constituency=seat if rng.random() < 0.9 else None)
            )
        Profile.objects.bulk_create(profiles, batch_size=5000)
        for trainer in trainers:
            user_assign_role(user=trainer, role=Role.TRAINER)

        # Cohorts: spread over two years, founders' cohorts first.
        founders = trainers[: max(1, trainers_count // 5)]
        cohorts = []
        for index in range(cohorts_count):
            starts_on = (
                today
                - dt.timedelta(days=PAST_DAYS)
                + dt.timedelta(days=int((PAST_DAYS + FUTURE_DAYS) * index / cohorts_count))
            )
            ends_on = starts_on + dt.timedelta(weeks=WEEKS - 1)
            if ends_on < today:
                status = CohortStatus.CANCELLED if rng.random() < 0.03 else CohortStatus.FINISHED
            elif starts_on <= today:
                status = CohortStatus.RUNNING
            else:
                status = CohortStatus.OPEN
            seat = rng.choice(constituencies)
            cohorts.append(
                Cohort(
                    version=version,
                    name=f"{seat.name}, {starts_on:%B %Y}",
                    region=seat.region,
                    constituency=seat if rng.random() < 0.7 else None,
                    capacity=COHORT_CAPACITY,
                    enrolment_opens_on=starts_on - dt.timedelta(days=45),
                    enrolment_closes_on=starts_on - dt.timedelta(days=3),
                    starts_on=starts_on,
                    ends_on=ends_on,
                    status=status,
                )
            )
        cohorts = Cohort.objects.bulk_create(cohorts, batch_size=2000)
        # The first fifth are trained by the founders; later ones by anyone, so leaders who
        # became trainers carry the lineage on.
        trainer_links = []
        trainer_of = {}
        for index, cohort in enumerate(cohorts):
            pool = founders if index < cohorts_count // 5 else trainers
            trainer = rng.choice(pool)
            trainer_of[cohort.pk] = trainer
            trainer_links.append(Cohort.trainers.through(cohort=cohort, user=trainer))
        Cohort.trainers.through.objects.bulk_create(trainer_links, batch_size=5000)

        sessions = []
        for index, cohort in enumerate(cohorts):
            for week in range(WEEKS):
                starts_at = timezone.make_aware(
                    dt.datetime.combine(cohort.starts_on + dt.timedelta(weeks=week), dt.time(18, 30))
                )
                sessions.append(
                    Session(
                        cohort=cohort,
                        title=f"Session {week + 1}",
                        starts_at=starts_at,
                        ends_at=starts_at + dt.timedelta(hours=2),
                        mode=SessionMode.IN_PERSON,
                        venue="Community Centre",
                        address="1 High Street",
                        checkin_code=f"D{index:06d}{week}",
                    )
                )
        sessions = Session.objects.bulk_create(sessions, batch_size=5000)
        sessions_of: dict[int, list[Session]] = {}
        for session in sessions:
            sessions_of.setdefault(session.cohort_id, []).append(session)

        # Enrolments: members in turn; non-founding trainers first join an early cohort.
        queue = [t for t in trainers if t not in founders] + people
        enrolments = []
        outcome_of = {}
        position = 0
        for cohort in cohorts:
            if cohort.status == CohortStatus.CANCELLED:
                continue
            fill = rng.uniform(0.2, 0.9) if cohort.status == CohortStatus.OPEN else rng.uniform(0.55, 1.0)
            for _ in range(int(cohort.capacity * fill)):
                if position >= len(queue):
                    break
                member = queue[position]
                position += 1
                draw = rng.random()
                if cohort.status == CohortStatus.FINISHED:
                    fate = (
                        "complete"
                        if draw < 0.7 or member in trainers
                        else "withdraw"
                        if draw < 0.85
                        else "fail"
                    )
                elif cohort.status == CohortStatus.RUNNING:
                    fate = "withdraw" if draw < 0.1 else "running"
                else:
                    fate = "applied" if draw < 0.4 else "waiting"
                status = {
                    "complete": EnrolmentStatus.COMPLETED,
                    "withdraw": EnrolmentStatus.WITHDRAWN,
                    "fail": EnrolmentStatus.ENROLLED,
                    "running": EnrolmentStatus.ENROLLED,
                    "applied": EnrolmentStatus.APPLIED,
                    "waiting": EnrolmentStatus.ENROLLED,
                }[fate]
                applied_at = timezone.make_aware(
                    dt.datetime.combine(cohort.enrolment_opens_on, dt.time(12))
                ) + dt.timedelta(days=rng.randint(0, 30))
                enrolment = Enrolment(
                    cohort=cohort,
                    member=member,
                    programme=programme,
                    status=status,
                    applied_at=applied_at,
                    status_changed_at=applied_at,
                    first_enrolled_at=applied_at if fate != "applied" else None,
                )
                outcome_of[id(enrolment)] = fate
                enrolments.append(enrolment)

        # Registers, work and marks, as the services would leave them (the milestones too,
        # set before the enrolments are written).
        attendance, submissions = [], []
        for enrolment in enrolments:
            fate = outcome_of[id(enrolment)]
            if fate in ("applied", "waiting"):
                continue
            held = [s for s in sessions_of[enrolment.cohort_id] if s.ends_at < now]
            chance = {"complete": 0.92, "running": 0.7, "withdraw": 0.4, "fail": 0.5}[fate]
            for session in held[: 3 if fate == "withdraw" else len(held)]:
                present = rng.random() < chance
                attendance.append(
                    Attendance(
                        session=session,
                        enrolment=enrolment,
                        status=AttendanceStatus.PRESENT if present else AttendanceStatus.ABSENT,
                        source=AttendanceSource.REGISTER,
                        recorded_at=session.ends_at,
                    )
                )
                if present and enrolment.first_attended_at is None:
                    enrolment.first_attended_at = session.starts_at
            starts = timezone.make_aware(dt.datetime.combine(enrolment.cohort.starts_on, dt.time(20)))
            handed = {"complete": len(required), "fail": 2, "withdraw": 1}.get(fate)
            if fate == "running":
                handed = min(len(required), max(0, len(held) // 2 - rng.randint(0, 2)))
            work = required[:handed] + (optional[:2] if fate == "complete" else [])
            for number, assignment in enumerate(work):
                submitted_at = starts + dt.timedelta(days=14 * (number % len(required)) + rng.randint(0, 9))
                if submitted_at > now:
                    break
                marked = fate != "running" or rng.random() < 0.7
                submissions.append(
                    Submission(
                        enrolment=enrolment,
                        assignment=assignment,
                        attempt=1,
                        status=SubmissionStatus.SUBMITTED,
                        text="Bench work.",
                        submitted_at=submitted_at,
                        outcome=(
                            Outcome.PASS if fate == "complete" or rng.random() < 0.6 else Outcome.RESUBMIT
                        )
                        if marked
                        else "",
                        marked_at=submitted_at + dt.timedelta(days=rng.choice([1, 2, 3, 5, 8, 13]))
                        if marked
                        else None,
                    )
                )
                if number == len(required) - 1:
                    enrolment.work_submitted_at = submitted_at
        enrolments = Enrolment.objects.bulk_create(enrolments, batch_size=5000)
        Attendance.objects.bulk_create(attendance, batch_size=10000)
        Submission.objects.bulk_create(submissions, batch_size=10000)
        marks = [
            Mark(
                submission=submission,
                marker=trainer_of[submission.enrolment.cohort_id],
                kind=MarkKind.FIRST,
                outcome=submission.outcome,
                feedback="Bench feedback.",
            )
            for submission in submissions
            if submission.outcome
        ]
        marks = Mark.objects.bulk_create(marks, batch_size=10000)
        # Marked when the submission says, not now (created_at is set on insert).
        Mark.objects.update(
            created_at=Subquery(
                Submission.objects.filter(pk=OuterRef("submission_id")).values("marked_at")[:1]
            )
        )

        certificates = []
        for enrolment in enrolments:
            if outcome_of[id(enrolment)] != "complete":
                continue
            issued_at = timezone.make_aware(
                dt.datetime.combine(enrolment.cohort.ends_on, dt.time(21))
            ) + dt.timedelta(days=rng.randint(0, 14))
            revoked = rng.random() < 0.01
            certificates.append(
                Certificate(
                    enrolment=enrolment,
                    holder=enrolment.member,
                    version=version,
                    holder_name=f"{enrolment.member.first_name} {enrolment.member.last_name}",
                    programme_title=programme.title,
                    version_number=version.number,
                    cohort_name=enrolment.cohort.name,
                    issuer_name="Movement for Change",
                    issued_at=min(issued_at, now),
                    expires_on=(issued_at + dt.timedelta(days=365)).date() if rng.random() < 0.1 else None,
                    status=CertificateStatus.REVOKED if revoked else CertificateStatus.VALID,
                    revoked_at=now if revoked else None,
                )
            )
        Certificate.objects.bulk_create(certificates, batch_size=5000)
        # Bulk inserts skip the services, so bring the kept summaries (milestones, places,
        # certified dates, the leader tally) up to date as `dashboard_rebuild` would.
        milestones_rebuild(fix=True)
        enrolment_places_rebuild(fix=True)
        enrolment_certified_rebuild(fix=True)
        leader_tally_rebuild(fix=True)

        staff = User.objects.filter(groups__name="National staff").first() or trainers[0]
        deadline = today.replace(year=today.year + 1)
        national = max(1000, int(len(certificates) * 1.4))
        target_create(scope=TargetScope.NATIONAL, leaders=national, deadline=deadline, actor=staff)
        weights = {}
        for seat in constituencies:
            weights[seat.region_id] = weights.get(seat.region_id, 0) + 1
        total = sum(weights.values())
        for region in regions:
            if weights.get(region.pk):
                target_create(
                    scope=TargetScope.REGION,
                    region=region,
                    leaders=max(1, national * weights[region.pk] // total),
                    deadline=deadline,
                    actor=staff,
                )
        target_create(
            scope=TargetScope.TARGET_SEATS, leaders=max(1, national // 6), deadline=deadline, actor=staff
        )
    return {
        "members": len(everyone),
        "cohorts": len(cohorts),
        "enrolments": len(enrolments),
        "attendance": len(attendance),
        "submissions": len(submissions),
        "marks": len(marks),
        "certificates": len(certificates),
    }


# --- Measuring -------------------------------------------------------------------------------------


def pages(regional: bool) -> list[str]:
    from django.urls import reverse

    from members.models import Region

    table = "certification:dashboard-table"
    north_east = Region.objects.get(ons_code="E12000001").pk
    urls = [
        reverse("certification:dashboard"),
        reverse(table, args=["places"]),
        reverse(table, args=["places"]) + f"?region={north_east}&sort=-leaders",
        reverse(table, args=["cohorts-at-risk"]),
        reverse(table, args=["trainers"]),
        reverse("certification:dashboard-people") + "?figure=leaders",
        reverse("certification:dashboard-people") + "?figure=training&stage=attending",
        reverse("certification:dashboard-cohorts") + "?figure=at_risk",
    ]
    if not regional:
        urls += [reverse(table, args=["targets"]), reverse(table, args=["funnel-region"])]
    return urls


def measure(client, url: str, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(queries)


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    os.environ["DATABASE_URL"] = bench_database_create(database_url, reuse=args.reuse)
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.totp.internal.auth import generate_totp_secret as totp_secret_new
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from members.models import Profile, Region, User
    from members.permissions import Role
    from members.selectors import consent_text_current
    from members.services import consent_give, user_assign_role

    setup_test_environment()
    print(f"Database {os.environ['DATABASE_URL']}", flush=True)
    results = []
    for members in args.members:
        started = time.perf_counter()
        if args.reuse and User.objects.filter(email__endswith="@bench.example").exists():
            made = "the data of the last run"
        else:
            call_command("flush", "--noinput", verbosity=0)
            call_command("migrate", verbosity=0)
            call_command("load_seeds", verbosity=0)
            north_east = Region.objects.get(ons_code="E12000001")
            for role in (Role.NATIONAL_STAFF, Role.REGIONAL_STAFF):
                user = User.objects.create_user(email=f"{role}@bench.example", password=None)
                user_assign_role(user=user, role=role)
                consent_give(user=user, text=consent_text_current())
                Profile.objects.create(user=user, region=north_east)
            made = movement_create(members=members)
        viewers = {
            role: User.objects.get(email=f"{role}@bench.example")
            for role in (Role.NATIONAL_STAFF, Role.REGIONAL_STAFF)
        }
        # Staff must have a second factor before the dashboard opens (members.mfa).
        for user in viewers.values():
            if not Authenticator.objects.filter(user=user).exists():
                TOTP.activate(user, totp_secret_new())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"{members:,} members: made {made} in {time.perf_counter() - started:.0f}s", flush=True)
        for who, user in (
            ("national", viewers[Role.NATIONAL_STAFF]),
            ("regional", viewers[Role.REGIONAL_STAFF]),
        ):
            client = Client()
            client.force_login(user)
            for url in pages(regional=who == "regional"):
                seconds, queries = measure(client, url, args.runs)
                results.append((members, who, url, seconds, queries))
                print(f"  {who:8} {seconds * 1000:7.0f} ms {queries:3} queries  {url}", flush=True)
    print()
    print("members  viewer    median ms  queries  page")
    for members, who, url, seconds, queries in results:
        print(f"{members:>7,}  {who:8}  {seconds * 1000:9.0f}  {queries:7}  {url}")


if __name__ == "__main__":
    main()
