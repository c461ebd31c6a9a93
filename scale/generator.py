"""A national movement in bulk: members in every region and constituency, three years of
cohorts over several programme versions, their registers, work, marks and certificates,
the registry, reminders sent, and targets.

Everything is planned in memory first, ids included, then written table by table with
`RowWriter` (COPY on PostgreSQL). The services are not run, so this module keeps their
invariants itself, and tests check them with the application's own code:

- no cohort has more people holding (or having held) a place than it has places;
- at most one active enrolment per member and programme; a member enrols again only after
  withdrawing;
- a certificate only where the completion rule is met (`training.selectors.standing`:
  attendance share and every required assignment passed), issued when it was met; and every
  enrolment of a finished or running cohort without one falls short of the rule;
- the summaries the dashboard reads (milestones, copies of place and certificate date, the
  leader tally) are written as the services keep them: `dashboard_rebuild --check` agrees;
- marks choose a level for every criterion, and their outcome is the rubric's;
- trainers are accredited Future Leaders (certified in an earlier cohort) or the founders.
"""

import datetime as dt
import heapq
import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from certification.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    LocalAction,
    RegistryEntry,
    TargetScope,
    TrainerAccreditation,
    Verification,
    VerificationChannel,
    Visibility,
    VisibilityChange,
    certificate_code_new,
)
from certification.services.targets import target_create
from certification.status_list import MIN_LENGTH
from members.models import ConsentRecord, Constituency, Profile, Region, User
from members.permissions import ROLE_GROUP_NAMES, Role
from members.selectors import consent_text_current
from reporting.models import LeaderTally
from reporting.services.tally import month_of
from scale.tables import movement_write
from scale.writer import RowWriter
from training.models import (
    Assignment,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Mark,
    MarkKind,
    MarkLevel,
    Module,
    Notice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Programme,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    Session,
    Submission,
    SubmissionStatus,
    VersionStatus,
)
from training.rubric import outcome_from_levels
from training.selectors.standing import Standing
from training.services.completion import completion_note_for
from training.services.programmes import version_draft_create, version_publish, version_update

HISTORY_DAYS = 1095  # cohorts started over the last three years ...
FUTURE_DAYS = 56  # ... and start over the next eight weeks
CAPACITIES = (16, 20, 24, 24, 28, 30)
WEEKLY_AT = dt.time(18, 30)
ON_TIME_AT, LATE_AT = dt.time(19, 45), dt.time(21)
MARKING_HOURS = (20, 44, 70, 120, 190, 310)
# Each version after the first changes how long its certificates last (None: never lapse).
VALID_MONTHS = (None, 12, 24, 36)
# How long after their own cohort ends a new trainer may run one.
TRAINER_AFTER_DAYS = 60
# A progress line per this many enrolments planned (ten at a million members, none when small).
PROGRESS_ENROLMENTS = 100_000

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Cai",
    "Deborah",
    "Eilidh",
    "Femi",
    "Gareth",
    "Hana",
    "Ifeoma",
    "Jack",
    "Kiran",
    "Leah",
    "Mohammed",
    "Niamh",
    "Olu",
    "Priya",
    "Rhys",
    "Sana",
    "Tom",
    "Una",
    "Vikram",
    "Wendy",
    "Yusuf",
    "Zara",
    "Amir",
    "Bethan",
    "Connor",
    "Dylan",
    "Esme",
    "Fatima",
)
LAST_NAMES = (
    "Ahmed",
    "Brown",
    "Campbell",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nolan",
    "Obi",
    "Patel",
    "Quinn",
    "Roberts",
    "Shah",
    "Taylor",
    "Walsh",
    "Williams",
    "Young",
    "Begum",
    "Clarke",
    "Edwards",
)
FEEDBACK = (
    "Clear and specific; the story of the grievance carries it. Passed.",
    "You show the relationships behind the issue well. Passed.",
    "Good start. Say what you heard in your one-to-ones, not only what you think.",
    "The power map needs the decision-maker and who influences them.",
)
ISSUES = ("Bus routes", "Housing repairs", "Youth services", "Street lighting", "Library hours")


@dataclass(frozen=True)
class Sizes:
    """How much to make. Left out, the others follow from `members` in the issue's shape
    (100,000 members: 5,000 cohorts, 50,000 sessions, 20,000 certificates)."""

    members: int
    cohorts: int | None = None
    sessions_per_cohort: int = 10
    certificates: int | None = None
    versions: int = 3
    reminder_weeks: int = 8

    def resolved(self) -> "Sizes":
        cohorts = self.cohorts if self.cohorts is not None else max(3, self.members // 20)
        certificates = self.certificates if self.certificates is not None else self.members // 5
        return Sizes(
            members=self.members,
            cohorts=cohorts,
            sessions_per_cohort=self.sessions_per_cohort,
            certificates=certificates,
            versions=self.versions,
            reminder_weeks=self.reminder_weeks,
        )

    def check(self) -> list[str]:
        """What is wrong with these sizes, in words (nothing: empty)."""
        problems = []
        if self.members < 10:
            problems.append("--members must be at least 10.")
        if self.cohorts is not None and not 1 <= self.cohorts <= max(1, self.members // 2):
            problems.append("--cohorts must be between 1 and half the members.")
        if not 1 <= self.sessions_per_cohort <= 30:
            problems.append("--sessions-per-cohort must be between 1 and 30.")
        if self.certificates is not None and not 0 <= self.certificates <= self.members:
            problems.append("--certificates must be between 0 and the number of members.")
        if not 1 <= self.versions <= 10:
            problems.append("--versions must be between 1 and 10.")
        if not 0 <= self.reminder_weeks <= 52:
            problems.append("--reminder-weeks must be between 0 and 52.")
        return problems


class GenerationError(Exception):
    """The database is not ready for generating (no reference data, say)."""


# --- The plan: plain objects, ids chosen up front ---------------------------------------------


@dataclass
class PlannedSession:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    cancelled: bool
    module_id: int | None

    def held(self, now: dt.datetime) -> bool:
        return not self.cancelled and self.ends_at < now


@dataclass
class PlannedCohort:
    id: int
    index: int
    version: "VersionInfo"
    name: str
    region_id: int
    constituency_id: int | None
    capacity: int
    reviews: bool
    opens_on: dt.date
    closes_on: dt.date
    starts_on: dt.date
    ends_on: dt.date
    status: str
    online: bool
    sessions: list[PlannedSession] = field(default_factory=list)
    trainer_ids: list[int] = field(default_factory=list)


@dataclass
class Person:
    id: int
    first: str
    last: str
    region_id: int
    constituency_id: int | None
    joined: dt.datetime | None = None
    trainer: bool = False
    founder: bool = False


@dataclass
class PlannedEnrolment:
    id: int
    cohort: PlannedCohort
    person: Person
    applied_at: dt.datetime
    # finished (then complete, short_attendance or short_work), withdrawn, running; in open
    # cohorts applied, enrolled or waitlisted.
    fate: str
    withdrawn_at: dt.datetime | None = None
    events: list[tuple[str, str, int | None, dt.datetime]] = field(default_factory=list)
    status: str = ""
    status_changed_at: dt.datetime | None = None
    waitlisted_at: dt.datetime | None = None
    present_times: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # (starts, recorded)
    # assignment id: first time handed in; assignment id: (time passed, marked at)
    handed_in: dict[int, dt.datetime] = field(default_factory=dict)
    passed: dict[int, dt.datetime] = field(default_factory=dict)
    certificate_id: int | None = None
    certified_at: dt.datetime | None = None
    # Its certificate stands (issued and not revoked): the enrolment's certified_at is kept.
    certificate_stands: bool = False
    completion_note: str = ""


@dataclass
class VersionInfo:
    id: int
    number: int
    min_attendance_percent: int
    valid_months: int | None
    modules: list[tuple[int, str]]  # (id, title) by position
    # (id, due_offset_days, required, max_attempts, title, criteria) in module order; criteria are
    # [[(level id, outcome), ...] per criterion]
    assignments: list[tuple[int, int, bool, int, str, list]]

    @property
    def required_ids(self) -> set[int]:
        return {a[0] for a in self.assignments if a[2]}


class MovementGenerator:
    def __init__(self, *, sizes: Sizes, seed: int = 7, log: Callable[[str], None] | None = None):
        self.sizes = sizes.resolved()
        self.rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
        self.log = log or (lambda line: None)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        # Read once: timezone.make_aware() looks the zone up on every call, a million times.
        self.tz = timezone.get_current_timezone()
        self.started = time.perf_counter()
        self.rows: dict[type, list[tuple]] = {}
        self.counts: dict[str, int] = {}

    def _local(self, day: dt.date, at: dt.time) -> dt.datetime:
        """That wall-clock time in the site's zone (what timezone.make_aware gives)."""
        return dt.datetime.combine(day, at, tzinfo=self.tz)

    def say(self, line: str) -> None:
        self.log(f"[{time.perf_counter() - self.started:6.1f}s] {line}")

    # --- Reference data -------------------------------------------------------------------

    def _reference_load(self) -> None:
        self.constituencies = list(Constituency.objects.order_by("pk").values_list("pk", "region_id", "name"))
        self.regions = list(Region.objects.order_by("pk").values_list("pk", flat=True))
        self.consent_text = consent_text_current()
        self.programme = (
            Programme.objects.filter(versions__status=VersionStatus.PUBLISHED).order_by("pk").first()
        )
        if not self.constituencies or self.programme is None or self.consent_text is None:
            raise GenerationError(
                "Load the reference data first (regions, constituencies, the programme, the "
                "consent text): manage.py load_seeds."
            )
        groups = dict(Group.objects.values_list("name", "pk"))
        try:
            self.trainee_group = groups[ROLE_GROUP_NAMES[Role.TRAINEE]]
            self.trainer_group = groups[ROLE_GROUP_NAMES[Role.TRAINER]]
        except KeyError as error:
            raise GenerationError("The roles are missing: manage.py load_seeds.") from error
        # About one seat in seven is a target seat, unless staff have chosen already.
        if not Constituency.objects.filter(is_target_seat=True).exists():
            Constituency.objects.filter(pk__in=[row[0] for row in self.constituencies[::7]]).update(
                is_target_seat=True
            )
        self.versions = self._versions_ensure()

    def _versions_ensure(self) -> list[VersionInfo]:
        """The programme's last `versions` versions, oldest first, making new ones through the
        authoring services (a draft copied from the latest, then published) if it has fewer."""
        programme = self.programme
        made = 0
        while (
            programme.versions.exclude(status=VersionStatus.DRAFT).count() < self.sizes.versions
            and not programme.versions.filter(status=VersionStatus.DRAFT).exists()
        ):
            draft = version_draft_create(programme=programme)
            version_update(
                version=draft,
                summary=draft.summary,
                min_attendance_percent=draft.min_attendance_percent,
                certificate_valid_months=VALID_MONTHS[(draft.number - 1) % len(VALID_MONTHS)],
            )
            version_publish(version=draft)
            made += 1
        versions = list(
            programme.versions.exclude(status=VersionStatus.DRAFT).order_by("-number")[: self.sizes.versions]
        )[::-1]
        if made:
            self.say(f"Published {made} new version(s) of {programme.title}.")
        infos = []
        for version in versions:
            modules = list(
                Module.objects.filter(version=version).order_by("position").values_list("pk", "title")
            )
            levels: dict[int, list[tuple[int, str]]] = {}
            for level_id, criterion_id, outcome in (
                RubricLevel.objects.filter(criterion__assignment__module__version=version)
                .order_by("criterion_id", "position")
                .values_list("pk", "criterion_id", "outcome")
            ):
                levels.setdefault(criterion_id, []).append((level_id, outcome))
            criteria: dict[int, list[int]] = {}
            for criterion_id, assignment_id in (
                RubricCriterion.objects.filter(assignment__module__version=version)
                .order_by("assignment_id", "position")
                .values_list("pk", "assignment_id")
            ):
                criteria.setdefault(assignment_id, []).append(criterion_id)
            assignments = [
                (
                    a.pk,
                    a.due_offset_days,
                    a.required_for_completion,
                    a.max_attempts,
                    a.title,
                    [
                        (criterion_id, levels[criterion_id])
                        for criterion_id in criteria.get(a.pk, [])
                        if levels.get(criterion_id)
                    ],
                )
                for a in Assignment.objects.filter(module__version=version).order_by("module__position", "pk")
            ]
            infos.append(
                VersionInfo(
                    id=version.pk,
                    number=version.number,
                    min_attendance_percent=version.min_attendance_percent,
                    valid_months=version.certificate_valid_months,
                    modules=modules,
                    assignments=assignments,
                )
            )
        return infos

    # --- Cohorts and sessions -----------------------------------------------------------------

    def _cohorts_plan(self) -> None:
        sizes, rng = self.sizes, self.rng
        weeks = sizes.sessions_per_cohort
        count = sizes.cohorts
        cohort_ids = self.writer.ids(Cohort, count)
        session_ids = iter(self.writer.ids(Session, count * weeks))
        first_day = self.today - dt.timedelta(days=HISTORY_DAYS)
        span = HISTORY_DAYS + FUTURE_DAYS
        self.cohorts: list[PlannedCohort] = []
        for index in range(count):
            starts_on = first_day + dt.timedelta(days=span * index // count)
            # A week after the last session for the last work to come in.
            ends_on = starts_on + dt.timedelta(weeks=weeks)
            if ends_on < self.today:
                status = CohortStatus.CANCELLED if rng.random() < 0.02 else CohortStatus.FINISHED
            elif starts_on <= self.today:
                status = CohortStatus.RUNNING
            else:
                status = CohortStatus.OPEN
            seat_id, region_id, seat_name = rng.choice(self.constituencies)
            version = self.versions[min(len(self.versions) - 1, index * len(self.versions) // count)]
            cohort = PlannedCohort(
                id=cohort_ids[index],
                index=index,
                version=version,
                name=f"{seat_name}, {starts_on:%B %Y}",
                region_id=region_id,
                constituency_id=seat_id if rng.random() < 0.7 else None,
                capacity=rng.choice(CAPACITIES),
                reviews=rng.random() < 0.3,
                opens_on=starts_on - dt.timedelta(days=45),
                closes_on=starts_on - dt.timedelta(days=3),
                starts_on=starts_on,
                ends_on=ends_on,
                status=status,
                online=rng.random() < 0.2,
            )
            for week in range(weeks):
                starts_at = self._local(starts_on + dt.timedelta(weeks=week), WEEKLY_AT)
                cancelled = status == CohortStatus.CANCELLED or (week > 0 and rng.random() < 0.01)
                module = version.modules[week] if week < len(version.modules) else None
                cohort.sessions.append(
                    PlannedSession(
                        id=next(session_ids),
                        starts_at=starts_at,
                        ends_at=starts_at + dt.timedelta(hours=2),
                        cancelled=cancelled,
                        module_id=module[0] if module else None,
                    )
                )
            self.cohorts.append(cohort)
        self.starts = [cohort.starts_on for cohort in self.cohorts]

    # --- People and enrolments ----------------------------------------------------------------

    def _people_plan(self) -> None:
        sizes, rng = self.sizes, self.rng
        ids = self.writer.ids(User, sizes.members)
        self.people: list[Person] = []
        for user_id in ids:
            seat_id, region_id, _name = rng.choice(self.constituencies)
            self.people.append(
                Person(
                    id=user_id,
                    first=rng.choice(FIRST_NAMES),
                    last=rng.choice(LAST_NAMES),
                    region_id=region_id,
                    constituency_id=seat_id if rng.random() < 0.9 else None,
                )
            )
        trainers = max(1, min(sizes.cohorts // 4, sizes.members // 10))
        self.founders = self.people[: max(1, trainers // 5)]
        # Later trainers are Future Leaders: each completes one of the first cohorts.
        self.new_trainers = self.people[len(self.founders) : trainers][: sizes.certificates]
        for person in self.founders:
            person.trainer = person.founder = True
        for person in self.new_trainers:
            person.trainer = True

    def _enrolments_plan(self) -> None:
        rng, now = self.rng, self.now
        desired = []
        for cohort in self.cohorts:
            if cohort.status == CohortStatus.CANCELLED:
                desired.append(0.0)
            elif cohort.status == CohortStatus.OPEN:
                desired.append(cohort.capacity * rng.uniform(0.3, 1.15))
            else:
                desired.append(cohort.capacity * rng.uniform(0.8, 1.0))
        queue = self.new_trainers + [p for p in self.people if not p.trainer]
        queue.reverse()  # pop() from the end
        # Enough for every member once, and about one in twenty again after withdrawing.
        scale = min(1.0, len(queue) * 1.04 / max(1.0, sum(desired)))
        again: list[tuple[dt.date, int, Person]] = []  # (may apply from, tie-break, person)
        order = itertools.count()
        self.enrolments: list[PlannedEnrolment] = []
        for cohort, wanted in zip(self.cohorts, desired, strict=True):
            size = round(wanted * scale)
            if cohort.status != CohortStatus.OPEN:
                size = min(size, cohort.capacity)
            members = []
            while len(members) < size and again and again[0][0] <= cohort.opens_on:
                members.append(heapq.heappop(again)[2])
            while len(members) < size and queue:
                members.append(queue.pop())
            held = [s for s in cohort.sessions if s.held(now)]
            for position, person in enumerate(members):
                applied_at = self._local(cohort.opens_on, dt.time(9)) + dt.timedelta(
                    minutes=rng.randint(0, (cohort.closes_on - cohort.opens_on).days * 1440)
                )
                if cohort.status == CohortStatus.OPEN:
                    if position >= cohort.capacity:
                        fate = "applied" if cohort.reviews else "waitlisted"
                    else:
                        fate = "applied" if cohort.reviews and rng.random() < 0.5 else "enrolled"
                    applied_at = min(applied_at, now - dt.timedelta(minutes=rng.randint(5, 600)))
                elif not person.trainer and rng.random() < (
                    0.08 if cohort.status == CohortStatus.FINISHED else 0.05
                ):
                    fate = "withdrawn"
                else:
                    fate = "finished" if cohort.status == CohortStatus.FINISHED else "running"
                enrolment = PlannedEnrolment(
                    id=0, cohort=cohort, person=person, applied_at=applied_at, fate=fate
                )
                if fate == "withdrawn":
                    if held:
                        last = held[min(len(held), rng.randint(1, 3)) - 1]
                        enrolment.withdrawn_at = last.ends_at + dt.timedelta(days=rng.randint(1, 5))
                    else:
                        enrolment.withdrawn_at = applied_at + dt.timedelta(days=rng.randint(1, 10))
                    enrolment.withdrawn_at = min(enrolment.withdrawn_at, now - dt.timedelta(hours=1))
                    if rng.random() < 0.5:
                        heapq.heappush(
                            again,
                            (enrolment.withdrawn_at.date() + dt.timedelta(days=5), next(order), person),
                        )
                if person.joined is None:
                    person.joined = applied_at - dt.timedelta(
                        days=rng.randint(1, 60), minutes=rng.randint(0, 1440)
                    )
                self.enrolments.append(enrolment)
        for enrolment, enrolment_id in zip(
            self.enrolments, self.writer.ids(Enrolment, len(self.enrolments)), strict=True
        ):
            enrolment.id = enrolment_id
        earliest = self._local(self.cohorts[0].opens_on, dt.time(9)) if self.cohorts else now
        for person in self.people:
            if person.joined is None:
                person.joined = (
                    earliest - dt.timedelta(days=rng.randint(30, 120))
                    if person.founder
                    else now - dt.timedelta(days=rng.randint(1, HISTORY_DAYS), minutes=rng.randint(0, 1440))
                )

    def _trainers_plan(self) -> None:
        """One trainer per cohort (some have two): the founders at first, then also the new
        trainers, each from a while after their own cohort ended."""
        rng = self.rng
        ready: list[tuple[dt.date, int]] = sorted(
            (enrolment.cohort.ends_on + dt.timedelta(days=TRAINER_AFTER_DAYS), enrolment.person.id)
            for enrolment in self.enrolments
            if enrolment.person.trainer
        )
        pool = [person.id for person in self.founders]
        for cohort in self.cohorts:
            while ready and ready[0][0] <= cohort.starts_on:
                pool.append(ready.pop(0)[1])
            cohort.trainer_ids = [rng.choice(pool)]
            if len(pool) > 1 and rng.random() < 0.2:
                second = rng.choice(pool)
                if second != cohort.trainer_ids[0]:
                    cohort.trainer_ids.append(second)

    def _fates_decide(self) -> None:
        """Exactly the certificates asked for (when there are enough finished enrolments):
        every new trainer completes, and a random choice of the others."""
        rng = self.rng
        candidates = [e for e in self.enrolments if e.fate == "finished"]
        forced = [e for e in candidates if e.person.trainer]
        others = [e for e in candidates if not e.person.trainer]
        wanted = max(0, min(len(others), self.sizes.certificates - len(forced)))
        chosen = {id(e) for e in rng.sample(others, wanted)} | {id(e) for e in forced}
        for enrolment in candidates:
            if id(enrolment) in chosen:
                enrolment.fate = "complete"
            else:
                enrolment.fate = "short_attendance" if rng.random() < 0.35 else "short_work"

    # --- What each enrolment did ----------------------------------------------------------------

    def _activity_plan(self) -> None:
        """Registers, work and marks. The hot loop of the generator (a million rows): plain
        strings instead of the enums, the time zone read once, and what depends only on the
        cohort worked out once per cohort."""
        rng, now, local = self.rng, self.now, self._local
        rnd, tz = rng.random, self.tz
        hours, day, minute = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(minutes=1)
        present_s, absent_s, excused_s = (
            str(AttendanceStatus.PRESENT),
            str(AttendanceStatus.ABSENT),
            str(AttendanceStatus.EXCUSED),
        )
        register_s, check_in_s = str(AttendanceSource.REGISTER), str(AttendanceSource.CHECK_IN)
        submitted_s, first_s = str(SubmissionStatus.SUBMITTED), str(MarkKind.FIRST)
        passed_s, resubmit_s, fail_s = str(Outcome.PASS), str(Outcome.RESUBMIT), str(Outcome.FAIL)
        text = "My work for this assignment."
        attendance = self.rows.setdefault(Attendance, [])
        submissions = self.rows.setdefault(Submission, [])
        marks = self.rows.setdefault(Mark, [])
        levels = self.rows.setdefault(MarkLevel, [])
        ids = {
            model: itertools.count(self.writer.next_id[model])
            for model in (Attendance, Submission, Mark, MarkLevel)
        }
        attendance_id, submission_id_new = ids[Attendance].__next__, ids[Submission].__next__
        mark_id_new, level_id_new = ids[Mark].__next__, ids[MarkLevel].__next__
        # Per version: each assignment with its criteria's passing and weaker levels.
        rubrics = {}
        for version in self.versions:
            rubrics[version.id] = {
                a[0]: (
                    a,
                    [
                        (
                            criterion_id,
                            [level for level in criterion_levels if level[1] == passed_s] or criterion_levels,
                            {
                                outcome: [level for level in criterion_levels if level[1] == outcome]
                                or [level for level in criterion_levels if level[1] != passed_s]
                                for outcome in (resubmit_s, fail_s)
                            },
                        )
                        for criterion_id, criterion_levels in a[5]
                    ],
                )
                for a in version.assignments
            }
        per_cohort: dict[int, tuple] = {}
        for number, enrolment in enumerate(self.enrolments, start=1):
            if number % PROGRESS_ENROLMENTS == 0:
                self.say(f"Registers, work and marks: {number:,} of {len(self.enrolments):,} enrolments.")
            cohort, fate = enrolment.cohort, enrolment.fate
            trainer = cohort.trainer_ids[0]
            self._events_plan(enrolment, trainer)
            if fate in ("applied", "enrolled", "waitlisted"):
                continue
            known = per_cohort.get(cohort.id)
            if known is None:
                counted = [s for s in cohort.sessions if not s.cancelled]
                version = cohort.version
                known = per_cohort[cohort.id] = (
                    [s for s in counted if s.ends_at < now],
                    math.ceil(version.min_attendance_percent * len(counted) / 100),
                    [a for a in version.assignments if a[2]],
                    [a for a in version.assignments if not a[2]],
                    {a[0]: cohort.starts_on + dt.timedelta(days=a[1]) for a in version.assignments},
                    rubrics[version.id],
                )
            held, need, required, optional, due, rubric = known
            # The register.
            if enrolment.withdrawn_at is not None:
                held = [s for s in held if s.ends_at < enrolment.withdrawn_at]
            chance = {"complete": 0.93, "short_attendance": 0.5, "withdrawn": 0.6}.get(fate, 0.85)
            present = [rnd() < chance for _ in held]
            if fate == "complete":
                absent = [i for i, here in enumerate(present) if not here]
                rng.shuffle(absent)
                while sum(present) < need and absent:
                    present[absent.pop()] = True
            elif fate == "short_attendance":
                here = [i for i, yes in enumerate(present) if yes]
                rng.shuffle(here)
                while sum(present) >= need and here:
                    present[here.pop()] = False
            enrolment_id = enrolment.id
            present_times = enrolment.present_times
            for session, here in zip(held, present, strict=True):
                if here:
                    if rnd() < 0.3:
                        recorded_at = session.starts_at + minute * int(rnd() * 30 - 10)
                        attendance.append(
                            (
                                attendance_id(),
                                session.id,
                                enrolment_id,
                                present_s,
                                check_in_s,
                                None,
                                recorded_at,
                            )
                        )
                    else:
                        recorded_at = session.ends_at
                        attendance.append(
                            (
                                attendance_id(),
                                session.id,
                                enrolment_id,
                                present_s,
                                register_s,
                                trainer,
                                recorded_at,
                            )
                        )
                    present_times.append((session.starts_at, recorded_at))
                else:
                    attendance.append(
                        (
                            attendance_id(),
                            session.id,
                            enrolment_id,
                            excused_s if rnd() < 0.3 else absent_s,
                            register_s,
                            trainer,
                            session.ends_at,
                        )
                    )
            # The work.
            if fate == "complete":
                plan = [(a[0], True) for a in required] + [(a[0], True) for a in optional if rnd() < 0.3]
            elif fate == "short_work" and required:
                passed = int(rnd() * len(required))
                plan = [(a[0], True) for a in required[:passed]]
                if rnd() < 0.5:
                    plan.append((required[passed][0], False))
            else:
                plan = [(a[0], True) for a in required if rnd() < 0.7]
                plan += [(a[0], True) for a in optional if rnd() < 0.15]
                if required and fate != "short_attendance":
                    # Short of the rule whatever the register says: the last required piece is
                    # not in (still to come, or never handed in).
                    plan = [item for item in plan if item[0] != required[-1][0]]
            limit = enrolment.withdrawn_at or now
            handed_in, passed_at = enrolment.handed_in, enrolment.passed
            for assignment_id, goal_pass in plan:
                assignment, criteria = rubric[assignment_id]
                max_attempts = assignment[3]
                due_on = due[assignment_id]
                if fate != "complete" and rnd() < 0.1:
                    submitted_at = local(due_on + day * int(1 + rnd() * 4), LATE_AT)
                else:
                    submitted_at = local(due_on - day * int(rnd() * 7), ON_TIME_AT)
                submitted_at += minute * int(rnd() * 120)
                if fate == "complete":
                    submitted_at = min(submitted_at, now - 2 * day)
                for attempt in range(1, max_attempts + 1):
                    if submitted_at >= limit:
                        break
                    last = attempt == max_attempts
                    if goal_pass:
                        # Whoever completes had their resubmission marked in time.
                        no_time = fate == "complete" and submitted_at > now - 30 * day
                        wanted = passed_s if last or no_time or rnd() < 0.9 else resubmit_s
                    else:
                        wanted = fail_s if last or rnd() < 0.2 else resubmit_s
                    marked_at = submitted_at + hours * MARKING_HOURS[int(rnd() * len(MARKING_HOURS))]
                    if fate == "complete":
                        marked_at = min(marked_at, now - hours * int(1 + rnd() * 20))
                        marked_at = max(marked_at, submitted_at + 5 * minute)
                    elif fate == "running" and rnd() < 0.25:
                        marked_at = now  # not marked yet: in the marking queue
                    submission_id = submission_id_new()
                    is_late = submitted_at.astimezone(tz).date() > due_on
                    if assignment_id not in handed_in:
                        handed_in[assignment_id] = submitted_at
                    if marked_at >= now:
                        submissions.append(
                            (
                                submission_id,
                                enrolment_id,
                                assignment_id,
                                attempt,
                                submitted_s,
                                text,
                                submitted_at - 2 * hours,
                                submitted_at,
                                is_late,
                                None,
                                "",
                                None,
                                0,
                            )
                        )
                        break
                    # A level for every criterion: passing ones, and for a resubmit or fail one
                    # criterion at that level; the rubric's rule then gives the outcome.
                    chosen = {c[0]: c[1][int(rnd() * len(c[1]))] for c in criteria}
                    if wanted != passed_s and criteria:
                        criterion_id, _passing, weaker = criteria[int(rnd() * len(criteria))]
                        if weaker[wanted]:
                            chosen[criterion_id] = weaker[wanted][int(rnd() * len(weaker[wanted]))]
                    outcome = (
                        outcome_from_levels([level[1] for level in chosen.values()]) if chosen else wanted
                    )
                    mark_id = mark_id_new()
                    submissions.append(
                        (
                            submission_id,
                            enrolment_id,
                            assignment_id,
                            attempt,
                            submitted_s,
                            text,
                            submitted_at - 2 * hours,
                            submitted_at,
                            is_late,
                            None,
                            outcome,
                            marked_at,
                            1,
                        )
                    )
                    marks.append(
                        (
                            mark_id,
                            submission_id,
                            trainer,
                            first_s,
                            outcome,
                            FEEDBACK[int(rnd() * len(FEEDBACK))],
                            "",
                            marked_at,
                        )
                    )
                    for criterion_id, level in chosen.items():
                        levels.append((level_id_new(), mark_id, criterion_id, level[0]))
                    if outcome == passed_s and assignment_id not in passed_at:
                        passed_at[assignment_id] = marked_at
                    if outcome != resubmit_s:
                        break
                    submitted_at = marked_at + day * int(2 + rnd() * 6) + minute * int(rnd() * 600)
            self._rule_settle(enrolment, need=need, required={a[0] for a in required})
        for model, counter in ids.items():
            self.writer.next_id[model] = next(counter)

    def _rule_settle(self, enrolment: PlannedEnrolment, *, need: int, required: set[int]) -> None:
        """Decide the certificate: where the rule is met (as `training.selectors.standing` reads
        it), the moment it was met; and check that only those meant to complete meet it."""
        counted = sum(1 for s in enrolment.cohort.sessions if not s.cancelled)
        present = len(enrolment.present_times)
        meets = counted > 0 and present >= need and required <= set(enrolment.passed)
        if meets != (enrolment.fate == "complete"):
            raise AssertionError(
                f"Planned enrolment {enrolment.id} ({enrolment.fate}) "
                f"{'meets' if meets else 'misses'} the rule."
            )
        if meets:
            attended = (
                sorted(recorded for _starts, recorded in enrolment.present_times)[need - 1] if need else None
            )
            worked = max((enrolment.passed[pk] for pk in required), default=None)
            moments = [moment for moment in (attended, worked) if moment is not None]
            met = max(moments) if moments else self._local(enrolment.cohort.ends_on, dt.time(21))
            enrolment.certified_at = min(met + dt.timedelta(seconds=self.rng.randint(5, 90)), self.now)

    def _events_plan(self, enrolment: PlannedEnrolment, trainer: int) -> None:
        """The status history, as the services would write it, and the status it ends in."""
        rng, fate, member = self.rng, enrolment.fate, enrolment.person.id
        at = enrolment.applied_at
        events = enrolment.events
        if fate == "waitlisted":
            events.append(("", EnrolmentStatus.WAITLISTED, member, at))
            enrolment.waitlisted_at = at
        elif fate == "applied":
            events.append(("", EnrolmentStatus.APPLIED, member, at))
        elif enrolment.cohort.reviews:
            events.append(("", EnrolmentStatus.APPLIED, member, at))
            decided = min(at + dt.timedelta(days=rng.randint(1, 5)), self.now - dt.timedelta(minutes=1))
            events.append((EnrolmentStatus.APPLIED, EnrolmentStatus.ENROLLED, trainer, decided))
        else:
            events.append(("", EnrolmentStatus.ENROLLED, member, at))
        if enrolment.withdrawn_at is not None:
            events.append(
                (EnrolmentStatus.ENROLLED, EnrolmentStatus.WITHDRAWN, member, enrolment.withdrawn_at)
            )
        enrolment.status = events[-1][1]
        enrolment.status_changed_at = events[-1][3]

    # --- Certificates, the registry and the summaries ------------------------------------------

    def _status_list_indexes(self, count: int) -> list[int]:
        """Distinct positions in the status list, drawn at random beside those already taken,
        in a list at most half full (as certification.status_list allocates them one by one)."""
        taken = set(Certificate.objects.values_list("status_list_index", flat=True))
        capacity = MIN_LENGTH * (2 * (len(taken) + count) // MIN_LENGTH + 1)
        drawn: list[int] = []
        chosen: set[int] = set()
        while len(drawn) < count:
            index = self.rng.randrange(capacity)
            if index not in taken and index not in chosen:
                chosen.add(index)
                drawn.append(index)
        return drawn

    def _ends_settle(self) -> None:
        """Enrolled trainees of finished cohorts end as the cohort's end settles them
        (training.services.completion): completed where the rule holds (a certificate issued
        since completes one the end left short, but none is planned so), otherwise not
        completed, with what was lacking in the service's own words. Just after the cohort's
        last day, as the hourly move by dates does it."""
        # The service's sentence depends only on these counts: made once per combination
        # (a few hundred), not once per enrolment (a million translations).
        notes: dict[tuple, str] = {}
        for enrolment in self.enrolments:
            cohort = enrolment.cohort
            if cohort.status != CohortStatus.FINISHED or enrolment.status != EnrolmentStatus.ENROLLED:
                continue
            ended = self._local(cohort.ends_on + dt.timedelta(days=1), dt.time(0, 30))
            ended = min(max(ended, enrolment.status_changed_at), self.now)
            if enrolment.fate == "complete":
                status = EnrolmentStatus.COMPLETED
            else:
                status = EnrolmentStatus.INCOMPLETE
                version = cohort.version
                total = sum(1 for s in cohort.sessions if not s.cancelled)
                required = {a[0]: a[4] for a in version.assignments if a[2]}
                passed = frozenset(enrolment.passed).intersection(required)
                key = (version.id, total, len(enrolment.present_times), passed)
                if key not in notes:
                    notes[key] = completion_note_for(
                        Standing(
                            enrolment=None,
                            sessions_total=total,
                            sessions_present=len(enrolment.present_times),
                            min_attendance_percent=version.min_attendance_percent,
                            required=required,
                            passed=set(passed),
                        )
                    )
                enrolment.completion_note = notes[key]
            enrolment.events.append((EnrolmentStatus.ENROLLED, status, None, ended))
            enrolment.status = status
            enrolment.status_changed_at = ended

    def _certificates_plan(self) -> None:
        rng, now = self.rng, self.now
        completed = [e for e in self.enrolments if e.certified_at is not None]
        ids = iter(self.writer.ids(Certificate, len(completed)))
        entry_ids = iter(self.writer.ids(RegistryEntry, len(completed)))
        certificates = self.rows.setdefault(Certificate, [])
        cert_events = self.rows.setdefault(CertificateEvent, [])
        verifications = self.rows.setdefault(Verification, [])
        entries = self.rows.setdefault(RegistryEntry, [])
        changes = self.rows.setdefault(VisibilityChange, [])
        actions = self.rows.setdefault(LocalAction, [])
        tally = self.rows.setdefault(LeaderTally, [])
        accreditations = self.rows.setdefault(TrainerAccreditation, [])
        event_ids = self.writer.next_id
        issuer = settings.CERTIFICATE_ISSUER_NAME
        codes: set[str] = set(Certificate.objects.values_list("code", flat=True))
        status_indexes = iter(self._status_list_indexes(len(completed)))

        def next_id(model) -> int:
            value = event_ids[model]
            event_ids[model] = value + 1
            return value

        for enrolment in completed:
            cohort, person, version = enrolment.cohort, enrolment.person, enrolment.cohort.version
            issued_at = enrolment.certified_at
            certificate_id = next(ids)
            enrolment.certificate_id = certificate_id
            expires_on = (
                timezone.localdate(issued_at) + relativedelta(months=version.valid_months)
                if version.valid_months
                else None
            )
            revoked = not person.trainer and rng.random() < 0.01
            revoked_at = min(issued_at + dt.timedelta(days=rng.randint(3, 200)), now) if revoked else None
            code = certificate_code_new()
            while code in codes:
                code = certificate_code_new()
            codes.add(code)
            certificates.append(
                (
                    certificate_id,
                    enrolment.id,
                    person.id,
                    version.id,
                    code,
                    f"{person.first} {person.last}",
                    self.programme.title,
                    version.number,
                    cohort.name,
                    issuer,
                    issued_at,
                    False,
                    expires_on,
                    CertificateStatus.REVOKED if revoked else CertificateStatus.VALID,
                    revoked_at,
                    "Issued in error." if revoked else "",
                    rng.random() < 0.9,
                    False,
                    "",
                    next(status_indexes),
                )
            )
            cert_events.append(
                (next_id(CertificateEvent), certificate_id, CertificateEventKind.ISSUED, None, "", issued_at)
            )
            if revoked:
                cert_events.append(
                    (
                        next_id(CertificateEvent),
                        certificate_id,
                        CertificateEventKind.REVOKED,
                        None,
                        "Issued in error.",
                        revoked_at,
                    )
                )
            else:
                enrolment.certificate_stands = True
                # Kept as the services keep them: the enrolment's copy of its certificate's
                # date, and the leader tally (one certificate per leader here).
                tally.append(
                    (
                        person.id,
                        True,
                        person.region_id,
                        person.constituency_id,
                        issued_at,
                        month_of(issued_at),
                        expires_on,
                    )
                )
            for _ in range(rng.choice((0, 0, 0, 1, 2))):
                verifications.append(
                    (
                        next_id(Verification),
                        certificate_id,
                        rng.choice(VerificationChannel.values),
                        min(issued_at + dt.timedelta(days=rng.randint(1, 300)), now),
                    )
                )
            # Certification makes a member a Future Leader: an entry, staff-only at first.
            entry_id = next(entry_ids)
            visibility = rng.choices(
                [Visibility.STAFF, Visibility.MEMBERS, Visibility.PUBLIC], weights=[75, 15, 10]
            )[0]
            entries.append(
                (
                    entry_id,
                    person.id,
                    issued_at,
                    visibility,
                    "Organising where I live." if visibility != Visibility.STAFF else "",
                )
            )
            if visibility != Visibility.STAFF:
                changes.append(
                    (
                        next_id(VisibilityChange),
                        entry_id,
                        visibility,
                        person.id,
                        min(issued_at + dt.timedelta(days=rng.randint(1, 60)), now),
                    )
                )
            if rng.random() < 0.15:
                started = timezone.localdate(issued_at) + dt.timedelta(days=rng.randint(7, 90))
                if started <= self.today:
                    actions.append(
                        (
                            next_id(LocalAction),
                            entry_id,
                            rng.choice(ISSUES),
                            "Neighbours and the tenants' association",
                            "We met the council and set out what we had heard.",
                            "",
                            started,
                            None,
                            self._local(started, dt.time(12)),
                        )
                    )
            if person.trainer and not person.founder:
                accreditations.append(
                    (
                        person.id,
                        issued_at + dt.timedelta(days=7),
                        None,
                        None,
                        "Accredited after their own cohort.",
                    )
                )

    def _notices_plan(self) -> None:
        """The ledger as the sweep and the certificate services leave it: session reminders
        sent over the last weeks, a notice per certificate, and a few that failed."""
        rng, now = self.rng, self.now
        rows = self.rows.setdefault(Notice, [])
        next_id = self.writer.next_id[Notice]
        offsets = self.programme.session_reminder_offsets
        since = now - dt.timedelta(weeks=self.sizes.reminder_weeks)
        attending: dict[int, list[PlannedEnrolment]] = {}
        for enrolment in self.enrolments:
            if enrolment.fate not in ("applied", "waitlisted"):
                attending.setdefault(enrolment.cohort.id, []).append(enrolment)

        def add(recipient: int, kind: str, subject: str, at: dt.datetime) -> None:
            nonlocal next_id
            failed = rng.random() < 0.002
            rows.append(
                (
                    next_id,
                    recipient,
                    kind,
                    subject,
                    at,
                    NoticeStatus.FAILED if failed else NoticeStatus.SENT,
                    5 if failed else 1,
                    at,
                    at,
                    "",
                    None,
                    None if failed else at + dt.timedelta(seconds=rng.randint(2, 90)),
                    "Mailbox unavailable (550)." if failed else "",
                    None,
                    at,
                )
            )
            next_id += 1

        for cohort in self.cohorts:
            if cohort.status not in (CohortStatus.RUNNING, CohortStatus.FINISHED):
                continue
            for session in cohort.sessions:
                if session.cancelled or not since <= session.starts_at <= now:
                    continue
                recipients = set(cohort.trainer_ids) | {
                    e.person.id
                    for e in attending.get(cohort.id, [])
                    if e.withdrawn_at is None or e.withdrawn_at > session.starts_at
                }
                for hours in offsets:
                    at = session.starts_at - dt.timedelta(hours=hours)
                    for recipient in sorted(recipients):
                        add(recipient, NoticeKind.SESSION_REMINDER, f"session:{session.id}", at)
        for certificate in self.rows[Certificate]:
            add(
                certificate[2],
                NoticeKind.CERTIFICATE_ISSUED,
                f"certificate:{certificate[0]}",
                certificate[10],
            )
            if certificate[14] is not None:
                add(
                    certificate[2],
                    NoticeKind.CERTIFICATE_REVOKED,
                    f"certificate:{certificate[0]}",
                    certificate[14],
                )
        self.writer.next_id[Notice] = next_id

    def _targets_set(self) -> None:
        """Targets through the service (a handful of rows, with their history)."""
        leaders = len(self.rows[LeaderTally])
        deadline = self.today.replace(year=self.today.year + 1, day=min(self.today.day, 28))
        national = max(10, int(leaders * 1.4))
        target_create(scope=TargetScope.NATIONAL, leaders=national, deadline=deadline, actor=None)
        seats: dict[int, int] = {}
        for _seat, region_id, _name in self.constituencies:
            seats[region_id] = seats.get(region_id, 0) + 1
        total = sum(seats.values())
        for region in Region.objects.filter(pk__in=list(seats)):
            target_create(
                scope=TargetScope.REGION,
                region=region,
                leaders=max(1, national * seats[region.pk] // total),
                deadline=deadline,
                actor=None,
            )
        target_create(
            scope=TargetScope.TARGET_SEATS, leaders=max(1, national // 6), deadline=deadline, actor=None
        )
        for seat in Constituency.objects.filter(is_target_seat=True).order_by("pk")[:5]:
            target_create(
                scope=TargetScope.CONSTITUENCY, constituency=seat, leaders=25, deadline=deadline, actor=None
            )

    # --- All of it -------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        models = [
            User,
            User.groups.through,
            EmailAddress,
            ConsentRecord,
            Profile,
            Cohort,
            Cohort.trainers.through,
            Session,
            Session.modules.through,
            Enrolment,
            EnrolmentEvent,
            Attendance,
            Submission,
            Mark,
            MarkLevel,
            Certificate,
            CertificateEvent,
            Verification,
            RegistryEntry,
            VisibilityChange,
            LocalAction,
            TrainerAccreditation,
            LeaderTally,
            Notice,
        ]
        with transaction.atomic():
            self._reference_load()
            self.writer = RowWriter(models, progress=self.say)
            self.writer.begin()
            self._cohorts_plan()
            self._people_plan()
            self._enrolments_plan()
            self._trainers_plan()
            self._fates_decide()
            self.say(f"Planned {len(self.cohorts):,} cohorts and {len(self.enrolments):,} enrolments.")
            self._activity_plan()
            self._certificates_plan()
            self._ends_settle()
            self._notices_plan()
            self.say("Planned the registers, work, marks, certificates and notices; writing.")
            movement_write(self)
            self.say("Written; making the indexes and checking the foreign keys.")
            self.writer.finish()
            self._targets_set()
            self._versions_backdate()
        self.say("Committed; analysing the tables.")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Fresh statistics for the planner, as after a restore.
                for model in models:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.say("Done.")
        return self.counts

    def _versions_backdate(self) -> None:
        """A version cannot be published after its first cohort opened for applications."""
        for version in self.versions:
            first = next((c for c in self.cohorts if c.version is version), None)
            if first is None:
                continue
            before = self._local(first.opens_on, dt.time(9)) - dt.timedelta(days=30)
            ProgrammeVersion.objects.filter(pk=version.id, published_at__gt=before).update(
                published_at=before, created_at=before - dt.timedelta(days=30)
            )


def scale_generate(
    *, sizes: Sizes, seed: int = 7, log: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Fill the database with a movement of `sizes` (see the module's docstring). Returns rows
    written per model label. One transaction: on any error nothing is left behind."""
    return MovementGenerator(sizes=sizes, seed=seed, log=log).run()
