"""A small movement for the query-count guard, and a way to make it several times larger.

`world_build()` makes the people who look at the pages and one "unit" of everything;
`world_grow(world, units)` adds more units. A unit adds rows to every table a key page reads,
in the viewers' own cohorts and outside them (other cohorts, programmes, places and regions):

- cohort A (region A, run by trainer Tia, the trainee Ada enrolled): 3 more trainees, a
  co-trainer, 2 more sessions with the register taken, a module with an assignment and its
  rubric, every trainee's work on every assignment (half of it marked), an apology and a
  confirmation, reminders about the new session;
- in region A: 2 open cohorts with a session and an applicant, and a finished cohort of the
  same programme with 3 certified leaders (one certificate revoked), public in the registry,
  their certificates checked; targets for the region, a target seat and the programme;
- for Ada: a running cohort of another programme (Tia runs it too), an application to an
  open one, and a certificate from a finished one;
- in region B: a running cohort with its trainer, trainees, a session, register and work,
  and a finished cohort with a leader.

New members live in the unit's own constituency, so places grow too. Members are named
"<first> PersonNNN" and cohorts "Group NNN", so that a page's HTML shows how many it lists.
The dashboard's kept summaries are rebuilt after each step, as the bench does after its bulk
inserts.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.core.management import call_command
from django.utils import timezone

from certification.models import (
    Certificate,
    CertificateStatus,
    RegistryEntry,
    TargetScope,
    Verification,
    VerificationChannel,
    Visibility,
)
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.targets import target_create
from members.models import ConsentRecord, Constituency, Profile, Region
from members.permissions import Role
from members.selectors import consent_text_current
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    VersionFactory,
    levels_chosen,
    rubric_add,
)
from training.models import (
    Apology,
    Assignment,
    AttendanceStatus,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    NoticeKind,
    Outcome,
    SessionConfirmation,
    Submission,
    SubmissionStatus,
)
from training.services.attendance import register_save
from training.services.marking import mark_save
from training.services.notices import notices_create

TRAINEES_PER_UNIT = 3
SESSIONS_PER_UNIT = 2


@dataclass
class World:
    region_a: Region
    region_b: Region
    people: dict = field(default_factory=dict)  # viewer name -> User
    objects: dict = field(default_factory=dict)  # name -> object a page's URL points at
    units: int = 0
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def number(self) -> int:
        return next(self._numbers)


def _today() -> dt.date:
    return timezone.localdate()


def member(world: World, region: Region, *, role=Role.TRAINEE, first_name="Sam"):
    """An onboarded member living in `region`, in one of the unit's constituencies there (the
    factory's own profile would make a new region)."""
    user = UserFactory(
        role=role,
        first_name=first_name,
        last_name=f"Person{world.number():03d}",
        onboarding=False,
        staff_region=region,
    )
    ConsentRecord.objects.create(user=user, text=consent_text_current(), given_at=timezone.now())
    Profile.objects.create(user=user, region=region, constituency=_seat(region, world.units))
    return user


def _seat(region: Region, index: int) -> Constituency:
    """The region's index-th constituency: each unit brings people from one more place."""
    return Constituency.objects.filter(region=region).order_by("pk")[index]


def _cohort(world: World, *, region, status=CohortStatus.OPEN, trainers=(), **kwargs):
    today = _today()
    if status == CohortStatus.RUNNING:
        kwargs.setdefault("starts_on", today - dt.timedelta(days=30))
        kwargs.setdefault("enrolment_opens_on", today - dt.timedelta(days=60))
        kwargs.setdefault("enrolment_closes_on", today - dt.timedelta(days=31))
    if status == CohortStatus.FINISHED:
        kwargs.setdefault("starts_on", today - dt.timedelta(days=150))
        kwargs.setdefault("ends_on", today - dt.timedelta(days=40))
        kwargs.setdefault("enrolment_opens_on", today - dt.timedelta(days=200))
        kwargs.setdefault("enrolment_closes_on", today - dt.timedelta(days=151))
    return CohortFactory(
        name=f"Group {world.number():03d}",
        region=region,
        status=status,
        trainers=list(trainers),
        capacity=100,
        **kwargs,
    )


def _past_session(cohort, *, days_ago: int):
    starts = timezone.now() - dt.timedelta(days=days_ago, hours=1)
    return SessionFactory(cohort=cohort, starts_at=starts, ends_at=starts + dt.timedelta(hours=2))


def _register_all(session, *, actor) -> None:
    enrolled = Enrolment.objects.filter(cohort=session.cohort, status=EnrolmentStatus.ENROLLED)
    statuses = itertools.cycle([AttendanceStatus.PRESENT, AttendanceStatus.PRESENT, AttendanceStatus.ABSENT])
    register_save(
        session=session,
        marks={pk: next(statuses) for pk in enrolled.values_list("pk", flat=True)},
        actor=actor,
    )


def _hand_in_everything(cohort, *, marker) -> None:
    """Every enrolled trainee's work on every assignment of the cohort, in every state a
    gradebook cell can show: marked (pass, or resubmit and handed in again late, or resubmit
    with a draft since), waiting, and withdrawn then handed in again."""
    enrolments = list(Enrolment.objects.filter(cohort=cohort, status=EnrolmentStatus.ENROLLED).order_by("pk"))
    assignments = list(Assignment.objects.filter(module__version_id=cohort.version_id).order_by("pk"))
    done = set(
        Submission.objects.filter(enrolment__cohort=cohort).values_list("enrolment_id", "assignment_id")
    )
    for index, (enrolment, assignment) in enumerate(itertools.product(enrolments, assignments)):
        if (enrolment.pk, assignment.pk) in done:
            continue
        submission = SubmissionFactory(enrolment=enrolment, assignment=assignment)
        again = {"enrolment": enrolment, "assignment": assignment, "attempt": 2}
        if index % 2 == 0:
            outcome = Outcome.PASS if index % 4 == 0 else Outcome.RESUBMIT
            levels = levels_chosen(assignment, [Outcome.PASS, outcome])
            mark_save(
                submission=submission, marker=marker, levels=levels, feedback="Good work.", seen_version=0
            )
            if index % 8 == 2:
                SubmissionFactory(**again, is_late=True)
            elif index % 8 == 6:
                SubmissionFactory(**again, status=SubmissionStatus.DRAFT, submitted_at=None)
        elif index % 6 == 1:
            Submission.objects.filter(pk=submission.pk).update(
                status=SubmissionStatus.WITHDRAWN, withdrawn_at=timezone.now()
            )
            SubmissionFactory(**again)


def _apply(cohort, member_, status: str):
    """An application that has reached `status` without a place taken up (offered at most)."""
    return EnrolmentFactory(
        cohort=cohort,
        member=member_,
        status=status,
        first_enrolled_at=None,
        waitlisted_at=timezone.now() if status == EnrolmentStatus.WAITLISTED else None,
    )


def _certify(cohort, member_, *, actor) -> Certificate:
    enrolment = EnrolmentFactory(cohort=cohort, member=member_, status=EnrolmentStatus.COMPLETED)
    return certificate_issue_manually(enrolment=enrolment, actor=actor, reason="Evidence on paper.")


def world_build() -> World:
    """The viewers, cohort A and its programme, and one unit of everything."""
    call_command("load_seeds", verbosity=0, stdout=_Discard())
    region_a, region_b = Region.objects.order_by("pk")[:2]
    world = World(region_a=region_a, region_b=region_b)
    people = world.people
    people["trainee"] = member(world, region_a, first_name="Ada")
    people["trainer"] = member(world, region_a, role=Role.TRAINER, first_name="Tia")
    people["trainer_b"] = member(world, region_b, role=Role.TRAINER, first_name="Tom")
    people["regional"] = member(world, region_a, role=Role.REGIONAL_STAFF, first_name="Rae")
    people["national"] = member(world, region_a, role=Role.NATIONAL_STAFF, first_name="Nia")

    version = VersionFactory()
    cohort = _cohort(
        world, region=region_a, status=CohortStatus.RUNNING, trainers=[people["trainer"]], version=version
    )
    EnrolmentFactory(cohort=cohort, member=people["trainee"])
    world.objects.update(version=version, cohort=cohort)
    world_grow(world, 1)
    world.objects["session"] = cohort.sessions.order_by("starts_at", "pk").first()
    # Checked against: Ada's first certificate (valid), and a revoked one.
    world.objects["certificate"] = Certificate.objects.filter(holder=people["trainee"]).earliest("pk")
    world.objects["revoked"] = Certificate.objects.filter(status=CertificateStatus.REVOKED).earliest("pk")
    return world


def world_grow(world: World, units: int) -> None:
    for _ in range(units):
        _unit_add(world)
        world.units += 1
    RegistryEntry.objects.update(visibility=Visibility.PUBLIC)
    # Bulk inserts skip the receivers that keep the dashboard's summaries: correct them.
    call_command("dashboard_rebuild", verbosity=0, stdout=_Discard())


class _Discard:
    def write(self, text):
        pass

    def flush(self):
        pass


def _unit_add(world: World) -> None:
    people, objects = world.people, world.objects
    region_a, region_b = world.region_a, world.region_b
    trainer, national, ada = people["trainer"], people["national"], people["trainee"]
    cohort, version = objects["cohort"], objects["version"]

    # Cohort A: trainees, a co-trainer, sessions with registers, a module with an assignment,
    # work and marks; an apology and a confirmation for the register's first session.
    new_trainees = [
        EnrolmentFactory(cohort=cohort, member=member(world, region_a)) for _ in range(TRAINEES_PER_UNIT)
    ]
    for status in (
        EnrolmentStatus.APPLIED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.OFFERED,
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.DECLINED,
    ):
        _apply(cohort, member(world, region_a), status)
    first_session = cohort.sessions.order_by("starts_at", "pk").first()
    if first_session is not None:
        now = timezone.now()
        Apology.objects.create(session=first_session, enrolment=new_trainees[0], note="Ill.", created_at=now)
        SessionConfirmation.objects.create(session=first_session, enrolment=new_trainees[1], created_at=now)
    cohort.trainers.add(member(world, region_a, role=Role.TRAINER, first_name="Cody"))
    sessions = [
        _past_session(cohort, days_ago=20 - world.units * SESSIONS_PER_UNIT - i)
        for i in range(SESSIONS_PER_UNIT)
    ]
    for session in cohort.sessions.all():
        _register_all(session, actor=trainer)
    module = ModuleFactory(version=version, title=f"Module {world.number():03d}")
    assignment = AssignmentFactory(module=module, title=f"Assignment {world.number():03d}")
    rubric_add(assignment, criteria=2)
    _hand_in_everything(cohort, marker=trainer)
    trainees = Enrolment.objects.filter(cohort=cohort, status=EnrolmentStatus.ENROLLED).values_list(
        "member_id", flat=True
    )
    notices_create(
        kind=NoticeKind.SESSION_REMINDER, subject=f"session:{sessions[0].pk}", recipient_ids=list(trainees)
    )

    # Region A: open cohorts with applicants, and a finished cohort of the same programme.
    for _ in range(2):
        open_cohort = _cohort(world, region=region_a)
        SessionFactory(cohort=open_cohort)
        _apply(open_cohort, member(world, region_a), EnrolmentStatus.APPLIED)
    finished = _cohort(
        world, region=region_a, status=CohortStatus.FINISHED, version=version, trainers=[trainer]
    )
    certificates = [_certify(finished, member(world, region_a), actor=national) for _ in range(3)]
    certificate_revoke(certificate=certificates[-1], actor=national, public_reason="Issued in error.")
    Verification.objects.bulk_create(
        Verification(certificate=certificate, channel=VerificationChannel.PAGE)
        for certificate in certificates
        for _ in range(3)
    )

    # Ada: enrolled in another running cohort; applied, waitlisted, offered a place and declined
    # in open ones; certified by a finished one. Each of another programme.
    running = _cohort(world, region=region_a, status=CohortStatus.RUNNING, trainers=[trainer])
    EnrolmentFactory(cohort=running, member=ada)
    _register_all(_past_session(running, days_ago=3), actor=trainer)
    for status in (
        EnrolmentStatus.APPLIED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.OFFERED,
        EnrolmentStatus.DECLINED,
    ):
        _apply(_cohort(world, region=region_a), ada, status)
    own = _certify(_cohort(world, region=region_a, status=CohortStatus.FINISHED), ada, actor=national)
    Verification.objects.bulk_create(
        Verification(certificate=own, channel=VerificationChannel.PAGE) for _ in range(2)
    )

    # Targets: for region A, for one of its seats (a target seat), and for the programme.
    seat = _seat(region_a, world.units)
    Constituency.objects.filter(pk=seat.pk).update(is_target_seat=True)
    deadline = _today() + dt.timedelta(days=200 + 30 * world.units)
    target_create(scope=TargetScope.REGION, region=region_a, leaders=20, deadline=deadline, actor=national)
    target_create(
        scope=TargetScope.CONSTITUENCY, constituency=seat, leaders=5, deadline=deadline, actor=national
    )
    target_create(
        scope=TargetScope.NATIONAL,
        programme=version.programme,
        leaders=100,
        deadline=deadline,
        actor=national,
    )

    # Region B: another trainer's running cohort with its own work, and a leader.
    cohort_b = _cohort(world, region=region_b, status=CohortStatus.RUNNING, trainers=[people["trainer_b"]])
    for _ in range(2):
        EnrolmentFactory(cohort=cohort_b, member=member(world, region_b))
    _register_all(_past_session(cohort_b, days_ago=5), actor=people["trainer_b"])
    assignment_b = AssignmentFactory(module__version=cohort_b.version)
    rubric_add(assignment_b, criteria=2)
    _hand_in_everything(cohort_b, marker=people["trainer_b"])
    _certify(
        _cohort(world, region=region_b, status=CohortStatus.FINISHED), member(world, region_b), actor=national
    )
