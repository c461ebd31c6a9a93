"""`manage.py generate_scale` at a small size: the counts asked for, the invariants the
services keep (checked with the application's own code), the dashboard's summaries exact, every
staff page opening on the data, and the refusals."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.urls import reverse

from certification.models import (
    Certificate,
    CertificateStatus,
    RegistryEntry,
    TrainerAccreditation,
)
from members.models import ConsentRecord, Constituency, Profile, Region, User
from members.permissions import Role
from reporting.models import LeaderTally
from reporting.views.tables import TABLE_SLUGS
from tests.factories import UserFactory
from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Attendance,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Mark,
    MarkLevel,
    Notice,
    NoticeKind,
    ProgrammeVersion,
    RubricCriterion,
    Session,
    Submission,
)
from training.rubric import outcome_from_levels
from training.selectors.standing import enrolment_standing_list
from training.services.cohort_lifecycle import cohorts_move_by_dates
from training.services.completion import completion_note_for

pytestmark = pytest.mark.django_db

MEMBERS = 300
COHORTS = 24
CERTIFICATES = 40
# Places taken at some point: a withdrawal frees a place, but nobody here was given it after.
PLACE_TAKEN = [
    EnrolmentStatus.OFFERED,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
    EnrolmentStatus.WITHDRAWN,
]


def generate(*extra: str) -> str:
    out = StringIO()
    call_command(
        "generate_scale",
        "--members", str(MEMBERS), "--cohorts", str(COHORTS), "--certificates", str(CERTIFICATES),
        *extra,
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


@pytest.fixture
def movement(seeded):
    return generate()


def test_it_makes_what_was_asked_and_says_so(movement):
    assert User.objects.count() == MEMBERS
    assert Cohort.objects.count() == COHORTS
    assert Session.objects.count() == COHORTS * 10  # --sessions-per-cohort defaults to 10
    assert Certificate.objects.count() == CERTIFICATES
    assert RegistryEntry.objects.count() == CERTIFICATES
    # Every member has what onboarding gives: a profile, consent, a role; in every region.
    assert Profile.objects.count() == ConsentRecord.objects.count() == MEMBERS
    assert User.objects.filter(groups__isnull=True).count() == 0
    assert Profile.objects.values("region").distinct().count() == Region.objects.count()
    assert Cohort.objects.values("version").distinct().count() == 3  # --versions
    assert Cohort.objects.filter(status=CohortStatus.FINISHED).exists()
    assert Cohort.objects.filter(status__in=[CohortStatus.RUNNING, CohortStatus.OPEN]).exists()
    assert Attendance.objects.exists()
    assert Submission.objects.exists()
    assert Mark.objects.exists()
    assert Notice.objects.filter(kind=NoticeKind.SESSION_REMINDER).exists()
    assert Notice.objects.filter(kind=NoticeKind.CERTIFICATE_ISSUED).count() == CERTIFICATES
    assert "members.User" in movement
    assert f"{MEMBERS:>10,}" in movement


def test_no_cohort_has_more_people_than_places(movement):
    over = (
        Cohort.objects.annotate(taken=Count("enrolments", filter=Q(enrolments__status__in=PLACE_TAKEN)))
        .filter(taken__gt=F("capacity"))
        .values_list("pk", "capacity", "taken")
    )
    assert list(over) == []
    # Open cohorts that filled up have a waiting list rather than extra places.
    assert not Enrolment.objects.filter(
        status=EnrolmentStatus.WAITLISTED, cohort__status__in=[CohortStatus.FINISHED, CohortStatus.RUNNING]
    ).exists()


def test_a_member_has_one_active_enrolment_per_programme(movement):
    doubled = (
        Enrolment.objects.filter(status__in=ACTIVE_ENROLMENT_STATUSES)
        .values("member", "programme")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert list(doubled) == []


def test_certificates_exactly_where_the_completion_rule_is_met(movement):
    """The application's own reading of the rule (attendance share, every required piece
    passed) agrees with the certificates, both ways, for every enrolment that has begun."""
    begun = Enrolment.objects.filter(
        cohort__status__in=[CohortStatus.FINISHED, CohortStatus.RUNNING],
        status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE],
    ).values_list("pk", flat=True)
    standings = enrolment_standing_list(begun)
    certified = set(Certificate.objects.values_list("enrolment_id", flat=True))
    assert standings
    assert {pk for pk, standing in standings.items() if standing.meets_rule} == certified
    # Each certificate is of its cohort's version and for its enrolment's member.
    assert not Certificate.objects.exclude(version=F("enrolment__cohort__version")).exists()
    assert not Certificate.objects.exclude(holder=F("enrolment__member")).exists()
    # Some fall short on the register, some on the work: both kinds of shortfall are there.
    short = [standing for pk, standing in standings.items() if pk not in certified]
    assert any(standing.sessions_needed for standing in short)
    assert any(standing.assignments_missing and not standing.sessions_needed for standing in short)


def test_marks_follow_the_rubric(movement):
    """Every mark chose one level per criterion, and its outcome is the rubric's."""
    criteria = dict(
        RubricCriterion.objects.values("assignment").annotate(n=Count("pk")).values_list("assignment", "n")
    )
    for mark in Mark.objects.select_related("submission").prefetch_related("levels__level")[:200]:
        chosen = list(mark.levels.all())
        assert len(chosen) == criteria[mark.submission.assignment_id]
        assert outcome_from_levels([choice.level for choice in chosen]) == mark.outcome
        assert mark.submission.outcome  # the submission shows its current mark
    assert MarkLevel.objects.count() >= Mark.objects.count()


def test_trainers_are_founders_or_accredited_leaders(movement):
    trainers = User.objects.filter(trained_cohorts__isnull=False).distinct()
    accredited = set(TrainerAccreditation.objects.values_list("member_id", flat=True))
    leaders = set(LeaderTally.objects.values_list("user_id", flat=True))
    assert accredited <= leaders
    # No trainer marks the cohort they are a trainee in.
    assert not Enrolment.objects.filter(cohort__trainers=F("member")).exists()
    assert trainers.filter(groups__name="Trainer").count() == trainers.count()


def test_the_dashboard_summaries_match_their_source_rows(movement):
    """dashboard_rebuild --check recomputes milestones, places, certified dates and the tally."""
    out = StringIO()
    call_command("dashboard_rebuild", "--check", stdout=out)
    assert " 0 differed" in out.getvalue()
    assert LeaderTally.objects.count() == Certificate.objects.filter(status=CertificateStatus.VALID).count()


def test_every_staff_page_opens_on_the_data(client, movement):
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    client.force_login(staff)
    running = Cohort.objects.filter(status=CohortStatus.RUNNING).first() or Cohort.objects.first()
    held = Session.objects.filter(cohort=running, attendance__isnull=False).first()
    urls = [
        reverse("reporting:dashboard"),
        *(reverse("reporting:dashboard-table", args=[slug]) for slug in TABLE_SLUGS),
        reverse("reporting:dashboard-people") + "?figure=leaders",
        reverse("reporting:dashboard-people") + "?figure=training",
        reverse("reporting:dashboard-people") + "?figure=lapsed",
        reverse("reporting:dashboard-cohorts") + "?figure=at_risk",
        reverse("reporting:target-list"),
        reverse("certification:registry"),
        reverse("certification:registry-lineage"),
        reverse("certification:staff-overview"),
        reverse("training:cohort-manage", args=[running.pk]),
        reverse("training:marking-queue"),
        reverse("training:notice-list"),
    ]
    if held:
        urls.append(reverse("training:session-register", args=[held.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    # Every page of the cohort list.
    page, pages = 1, 1
    while page <= pages:
        response = client.get(reverse("training:manage-cohort-list"), {"page": page})
        assert response.status_code == 200, page
        page_obj = response.context.get("page_obj")
        pages = page_obj.paginator.num_pages if page_obj else 1
        page += 1


def test_it_refuses_a_database_with_members(seeded):
    UserFactory()
    with pytest.raises(CommandError, match="already has 1 members.*--force.*--flush"):
        generate()
    assert User.objects.count() == 1


def test_force_adds_a_second_movement_beside_the_first(movement):
    """New ids continue past the generated ones, emails and check-in codes stay unique."""
    generate("--force", "--seed", "8")
    assert User.objects.count() == 2 * MEMBERS
    assert Certificate.objects.count() == 2 * CERTIFICATES
    assert Session.objects.values("checkin_code").distinct().count() == Session.objects.count()
    UserFactory()  # the id sequence moved on
    call_command("dashboard_rebuild", "--check", verbosity=0)


# flush empties tables with TRUNCATE, which PostgreSQL refuses inside a transaction that
# still has checks pending (the test's own): run it as the command runs, outside one.
@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_database_first(seeded):
    UserFactory(email="someone@example.org")
    generate("--flush")
    assert User.objects.count() == MEMBERS
    assert not User.objects.filter(email="someone@example.org").exists()
    assert Constituency.objects.count() == 650  # the seeds loaded again
    assert ProgrammeVersion.objects.count() == 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--members", "5"], "--members must be at least 10"),
        (["--members", "100", "--cohorts", "0"], "--cohorts must be between"),
        (["--members", "100", "--sessions-per-cohort", "0"], "--sessions-per-cohort"),
        (["--members", "100", "--certificates", "101"], "--certificates must be between"),
        (["--members", "100", "--versions", "11"], "--versions"),
    ],
)
def test_bad_sizes_are_refused_with_a_reason(seeded, flags, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_scale", *flags)
    assert not User.objects.exists()


def test_it_asks_for_the_reference_data_first(unseeded):
    with pytest.raises(CommandError, match="load_seeds"):
        call_command("generate_scale", "--members", "100")


def test_finished_cohorts_end_as_the_completion_service_ends_them(movement):
    """Nobody in a finished cohort is still enrolled: those meeting the rule completed, the
    others did not, with the service's own note; and the hourly move by dates, run over the
    generated movement, finds nothing to change."""
    finished = Enrolment.objects.filter(cohort__status=CohortStatus.FINISHED)
    assert not finished.filter(status=EnrolmentStatus.ENROLLED).exists()
    ended = finished.filter(status__in=[EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE])
    standings = enrolment_standing_list(ended.values_list("pk", flat=True))
    assert {standing.enrolment.status for standing in standings.values()} == {
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.INCOMPLETE,
    }
    for standing in standings.values():
        enrolment = standing.enrolment
        if standing.meets_rule:
            assert (enrolment.status, enrolment.completion_note) == (EnrolmentStatus.COMPLETED, "")
        else:
            assert enrolment.status == EnrolmentStatus.INCOMPLETE
            assert enrolment.completion_note == completion_note_for(standing) != ""
    assert EnrolmentEvent.objects.filter(to_status=EnrolmentStatus.INCOMPLETE).count() == len(
        [s for s in standings.values() if not s.meets_rule]
    )

    report = cohorts_move_by_dates()
    assert (report.started, report.finished, report.completed, report.incomplete) == ([], [], 0, 0)


def test_it_shows_its_progress_unless_asked_to_be_quiet(seeded):
    shown = generate()
    assert "Planned 24 cohorts" in shown
    assert "training.Attendance: " in shown
    assert "Written; making the indexes and checking the foreign keys." in shown
    quiet = generate("--force", "-v0")
    assert "Planned" not in quiet
    assert "members.User" in quiet  # what was made is still said
