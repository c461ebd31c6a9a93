"""What the training app loads from seeds/: the Future Leaders programme, and demo cohorts."""

import datetime as dt
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from members.models import Constituency, Region
from training.models import (
    Assignment,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    Outcome,
    Programme,
    SessionMode,
)
from training.services.cohorts import cohort_create, session_create
from training.services.completion import cohort_enrolments_settle
from training.services.enrolment import enrolment_apply
from training.services.marking import mark_save
from training.services.milestones import milestones_rebuild
from training.services.programmes import (
    assignment_create,
    material_link_add,
    module_create,
    programme_create,
    version_publish,
    version_update,
)
from training.services.rubrics import criterion_create
from training.services.submissions import submission_draft_save, submission_submit

PROGRAMME_FILE = Path("programme") / "future_leaders.json"
LONDON_EVENING = dt.time(18, 30)


def programme_load(*, path: Path) -> tuple[Programme, bool]:
    """Create and publish the programme described in `path`, unless its slug exists.

    Each assignment comes with its rubric: criteria in order, each with its levels lowest
    first. A programme already there is left exactly as it is, rubrics included.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    existing = Programme.objects.filter(slug=data["programme"]["slug"]).first()
    if existing:
        return existing, False
    programme = programme_create(**data["programme"])
    version = programme.versions.get()
    version_update(
        version=version,
        summary=data["version"]["summary"],
        min_attendance_percent=data["version"]["min_attendance_percent"],
        marking_turnaround_days=data["version"]["marking_turnaround_days"],
    )
    for item in data["modules"]:
        module = module_create(
            version=version,
            title=item["title"],
            summary=item["summary"],
            learning_outcomes="\n".join(item["learning_outcomes"]),
            materials=item["materials"],
        )
        for link in item.get("links", []):
            material_link_add(module=module, title=link["title"], url=link["url"])
        for fields in item.get("assignments", []):
            assignment = assignment_create(
                module=module, **{name: value for name, value in fields.items() if name != "rubric"}
            )
            for criterion in fields["rubric"]:
                criterion_create(assignment=assignment, **criterion)
    version_publish(version=version)
    return programme, True


def _evening(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, LONDON_EVENING))


def _weekly_sessions(cohort: Cohort, *, mode: str, venue: str = "", address: str = "", link: str = ""):
    for index, module in enumerate(cohort.version.modules.order_by("position")):
        starts_at = _evening(cohort.starts_on + dt.timedelta(weeks=index))
        session_create(
            cohort=cohort,
            title=f"Session {index + 1}: {module.title}",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            mode=mode,
            venue=venue,
            address=address,
            online_link=link,
            modules=[module],
        )


def demo_cohorts_load(*, programme: Programme) -> int:
    """A running cohort with a register half taken, and two cohorts open for applications."""
    if Cohort.objects.exists():
        return 0
    User = get_user_model()
    trainer = User.objects.get(email="trainer@demo.futureleaders.example")
    trainee = User.objects.get(email="trainee@demo.futureleaders.example")
    version = programme.versions.get(status="published")
    today = timezone.localdate()
    north_east = Region.objects.get(ons_code="E12000001")
    wales = Region.objects.get(ons_code="W92000004")

    running = cohort_create(
        version=version,
        name="Tyneside, autumn",
        region=north_east,
        constituency=Constituency.objects.get(ons_code="E14001377"),
        trainers=[trainer],
        capacity=16,
        enrolment_opens_on=today - dt.timedelta(days=60),
        enrolment_closes_on=today,
        starts_on=today - dt.timedelta(days=21),
        ends_on=today + dt.timedelta(days=60),
        reviews_applications=False,
        status=CohortStatus.OPEN,
    )
    _weekly_sessions(
        running,
        mode=SessionMode.IN_PERSON,
        venue="Elswick Community Centre",
        address="Beech Grove Road, Newcastle upon Tyne NE4 6SQ",
    )
    enrolment = enrolment_apply(cohort=running, member=trainee, motivation="Our estate needs a voice.")
    classmates = [
        enrolment_apply(cohort=running, member=member)
        for member in User.objects.filter(email__in=DEMO_CLASSMATES).order_by("email")
    ]
    # Its applications have been taken; it is running now.
    Cohort.objects.filter(pk=running.pk).update(status=CohortStatus.RUNNING)
    now = timezone.now()
    past = running.sessions.filter(ends_at__lt=now).order_by("starts_at")
    Attendance.objects.bulk_create(
        Attendance(
            session=session,
            enrolment=enrolment,
            status=AttendanceStatus.EXCUSED if index == 1 else AttendanceStatus.PRESENT,
            source=AttendanceSource.REGISTER,
            recorded_by=trainer,
            recorded_at=session.ends_at,
        )
        for index, session in enumerate(past)
    )
    _demo_work_load(cohort=running, trainer=trainer, enrolments=[enrolment, *classmates])

    cardiff = cohort_create(
        version=version,
        name="Cardiff, new year",
        region=wales,
        constituency=Constituency.objects.get(ons_code="W07000090"),
        trainers=[trainer],
        capacity=12,
        enrolment_opens_on=today - dt.timedelta(days=3),
        enrolment_closes_on=today + dt.timedelta(days=35),
        starts_on=today + dt.timedelta(days=42),
        ends_on=today + dt.timedelta(days=42 + 70),
        reviews_applications=True,
        status=CohortStatus.OPEN,
    )
    _weekly_sessions(
        cardiff,
        mode=SessionMode.IN_PERSON,
        venue="Cathays Community Centre",
        address="36-38 Cathays Terrace, Cardiff CF24 4HX",
    )
    online = cohort_create(
        version=version,
        name="Online, evenings",
        region=north_east,
        constituency=None,
        trainers=[trainer],
        capacity=20,
        enrolment_opens_on=today - dt.timedelta(days=3),
        enrolment_closes_on=today + dt.timedelta(days=20),
        starts_on=today + dt.timedelta(days=28),
        ends_on=today + dt.timedelta(days=28 + 70),
        reviews_applications=False,
        status=CohortStatus.OPEN,
    )
    _weekly_sessions(online, mode=SessionMode.ONLINE, link="https://meet.example.org/future-leaders-online")
    staff = User.objects.get(email="staff@demo.futureleaders.example")
    _demo_finished_cohort_load(version=version, trainer=staff, trainee=trainer)
    return 4


def _demo_finished_cohort_load(*, version, trainer, trainee) -> Enrolment:
    """Last spring's cohort, finished: the demo trainer took it as a trainee and passed it all,
    so they are a certified Future Leader who now trains others (the lineage starts here)."""
    today = timezone.localdate()
    finished = cohort_create(
        version=version,
        name="Leeds, spring",
        region=Region.objects.get(ons_code="E12000003"),
        constituency=None,
        trainers=[trainer],
        capacity=12,
        enrolment_opens_on=today - dt.timedelta(days=1),
        enrolment_closes_on=today,
        starts_on=today,
        ends_on=today,
        reviews_applications=False,
        status=CohortStatus.OPEN,
    )
    enrolment = enrolment_apply(cohort=finished, member=trainee, motivation="I want to train others.")
    # Applications were taken last winter; it ran from spring to summer.
    starts_on = today - dt.timedelta(days=230)
    Cohort.objects.filter(pk=finished.pk).update(
        enrolment_opens_on=starts_on - dt.timedelta(days=45),
        enrolment_closes_on=starts_on - dt.timedelta(days=7),
        starts_on=starts_on,
        ends_on=starts_on + dt.timedelta(weeks=9),
    )
    finished.refresh_from_db()
    _weekly_sessions(
        finished,
        mode=SessionMode.IN_PERSON,
        venue="Leeds Civic Hall",
        address="Calverley Street, Leeds LS1 1UR",
    )
    Attendance.objects.bulk_create(
        Attendance(
            session=session,
            enrolment=enrolment,
            status=AttendanceStatus.PRESENT,
            source=AttendanceSource.REGISTER,
            recorded_by=trainer,
            recorded_at=session.ends_at,
        )
        for session in finished.sessions.all()
    )
    for assignment in Assignment.objects.filter(module__version=version).order_by("module__position", "pk"):
        draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text=DEMO_ANSWER)
        handed_in = submission_submit(
            submission=draft, now=_evening(starts_on + dt.timedelta(days=assignment.due_offset_days - 1))
        )
        mark_save(
            submission=handed_in,
            marker=trainer,
            levels=_levels_all(assignment, Outcome.PASS),
            feedback="Thoughtful and specific. Passed.",
            seen_version=0,
        )
    # It ended months ago: finished, and its trainee completed, as the move by dates does it.
    Cohort.objects.filter(pk=finished.pk).update(status=CohortStatus.FINISHED)
    cohort_enrolments_settle(cohort=finished)
    enrolment.refresh_from_db()
    return enrolment


DEMO_CLASSMATES = [
    "daniel.hughes@demo.futureleaders.example",
    "grace.obi@demo.futureleaders.example",
    "liam.walsh@demo.futureleaders.example",
    "priya.shah@demo.futureleaders.example",
]
DEMO_ANSWER = (
    "I want to organise because the bus route to the hospital was cut and nobody asked us. "
    "In my first one-to-ones I heard the same story from carers, students and shift workers."
)


def _levels_all(assignment: Assignment, outcome: str) -> dict[int, int]:
    """Every criterion at its first level with `outcome`, for demo marks."""
    return {
        criterion.pk: next(level.pk for level in criterion.levels.all() if level.outcome == outcome)
        for criterion in assignment.criteria.prefetch_related("levels")
    }


def _demo_work_load(*, cohort: Cohort, trainer, enrolments) -> None:
    """Work for the demo: a pass, a resubmit, work waiting (one late) and a draft."""
    first, second = Assignment.objects.filter(module__version=cohort.version).order_by("module__position")[:2]
    now = timezone.now()
    handed_in = {}
    for index, enrolment in enumerate(enrolments):
        draft = submission_draft_save(enrolment=enrolment, assignment=first, text=DEMO_ANSWER)
        # The first assignment was due a fortnight ago; the third person was a day late.
        when = now - dt.timedelta(days=16 if index != 2 else 13, hours=index)
        handed_in[index] = submission_submit(submission=draft, now=when)
    for index, outcome, feedback in [
        (0, Outcome.PASS, "A clear, personal story with a real grievance at its heart. Well done."),
        (1, Outcome.RESUBMIT, "Good start. Say what you heard in your one-to-ones, not only what you think."),
    ]:
        mark_save(
            submission=handed_in[index],
            marker=trainer,
            levels=_levels_all(first, outcome),
            feedback=feedback,
            seen_version=0,
        )
    submission_draft_save(
        enrolment=enrolments[0], assignment=second, text="Notes from my first four meetings..."
    )
    early = submission_draft_save(enrolment=enrolments[-1], assignment=second, text=DEMO_ANSWER)
    submission_submit(submission=early)


def seed(*, seeds_dir: Path, demo: bool) -> list[str]:
    programme, created = programme_load(path=seeds_dir / PROGRAMME_FILE)
    report = [f"Programme {programme.title!r}: {'created' if created else 'already there'}."]
    if demo:
        report.append(f"Demo cohorts created: {demo_cohorts_load(programme=programme)}.")
        # The demo writes some attendance in bulk: bring the milestones up to date.
        milestones_rebuild(fix=True)
    return report
