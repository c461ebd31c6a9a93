"""What a trainee sees and does: their home page, finding, applying, withdrawing, offers.

Through the HTTP client, as a trainee uses them.
"""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import Profile
from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    ConstituencyFactory,
    EnrolmentFactory,
    ModuleFactory,
    RegionFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import (
    AssignmentDueDate,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Outcome,
    SessionMode,
    SessionStatus,
    VersionStatus,
)
from training.services.enrolment import enrolment_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainee(seeded):
    return UserFactory(role=Role.TRAINEE, first_name="Rosa")


@pytest.fixture
def signed_in(client, trainee):
    client.force_login(trainee)
    return client


def html_of(response) -> str:
    return html.unescape(response.content.decode())


def _started_cohort(**kwargs):
    """A running cohort that began a fortnight ago and ends in two months."""
    today = timezone.localdate()
    defaults = {
        "status": CohortStatus.RUNNING,
        "enrolment_opens_on": today - dt.timedelta(days=40),
        "enrolment_closes_on": today - dt.timedelta(days=15),
        "starts_on": today - dt.timedelta(days=14),
        "ends_on": today + dt.timedelta(days=60),
    }
    return CohortFactory(**{**defaults, **kwargs})


def _session_at(cohort, *, days: int, **kwargs):
    starts_at = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    return SessionFactory(
        cohort=cohort, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **kwargs
    )


def _mark(session, enrolment, status):
    return Attendance.objects.create(
        session=session,
        enrolment=enrolment,
        status=status,
        source=AttendanceSource.REGISTER,
        recorded_at=timezone.now(),
    )


# --- My training ---------------------------------------------------------------------


def test_my_training_without_enrolment_welcomes_and_points_to_the_finder(signed_in):
    """A trainee with no cohort is welcomed by name and sent to find one."""
    response = signed_in.get(reverse("training:my-training"))
    assert response.status_code == 200
    page = html_of(response)
    assert re.search(r"<h1[^>]*>Welcome, Rosa</h1>", page)
    assert "You are not in a cohort yet" in page
    assert reverse("training:cohort-list") in page
    assert reverse("training:calendar") in page
    assert reverse("members:profile-edit") in page


def test_my_training_falls_back_to_the_email_without_a_first_name(client, seeded):
    """A member with no first name is welcomed by their email address."""
    member = UserFactory(role=Role.TRAINEE, first_name="", email="nameless@example.org")
    client.force_login(member)
    assert "Welcome, nameless@example.org" in html_of(client.get(reverse("training:my-training")))


def test_my_training_shows_next_session_modules_attendance_and_progress(signed_in, trainee):
    """An enrolled trainee sees the next session with its links, the modules, their
    attendance over past sessions, and progress towards the attendance the rule needs."""
    version = VersionFactory(min_attendance_percent=75)
    cohort = _started_cohort(version=version, name="Tyneside")
    module = ModuleFactory(version=version, title="Power mapping")
    enrolment = EnrolmentFactory(cohort=cohort, member=trainee)
    first = _session_at(cohort, days=-10)
    second = _session_at(cohort, days=-3)
    _session_at(cohort, days=-5, status=SessionStatus.CANCELLED)
    upcoming = _session_at(
        cohort,
        days=4,
        title="Listening campaigns",
        mode=SessionMode.ONLINE,
        venue="",
        address="",
        online_link="https://meet.example.org/tyneside",
    )
    _mark(first, enrolment, AttendanceStatus.PRESENT)
    _mark(second, enrolment, AttendanceStatus.EXCUSED)

    page = html_of(signed_in.get(reverse("training:my-training")))
    assert "Tyneside" in page
    assert "Listening campaigns" in page
    assert "https://meet.example.org/tyneside" in page
    assert reverse("training:session-apology", args=[upcoming.pk]) in page
    assert reverse("training:session-ics", args=[upcoming.pk]) in page
    assert reverse("training:module-detail", args=[module.pk]) in page
    # Two sessions held (the cancelled one does not count): one present, one excused.
    assert re.search(r"Present</dt><dd[^>]*>1<", page)
    assert re.search(r"Absent</dt><dd[^>]*>0<", page)
    assert re.search(r"Excused</dt><dd[^>]*>1<", page)
    # One present of three sessions that go ahead: 33%, against 75% (three sessions).
    assert "Attended 1 of 3 sessions (33%)" in page
    assert "To complete, attend at least 75%: 3 sessions." in page
    assert re.search(r'<progress class="w-100" max="100" value="33" aria-labelledby="progress-\d+">', page)
    assert "You are not in a cohort yet" not in page


def test_waitlisted_trainee_sees_their_position(client, seeded):
    """A trainee on a waiting list is told their place in the queue."""
    cohort = CohortFactory(capacity=1)
    members = UserFactory.create_batch(4, role=Role.TRAINEE)
    for member in members:
        enrolment_apply(cohort=cohort, member=member)
    client.force_login(members[3])
    page = html_of(client.get(reverse("training:my-training")))
    assert "You are number 3 on the waiting list." in page


def test_applied_trainee_sees_the_application_pending(signed_in, trainee):
    """An application to a reviewed cohort shows as waiting for a decision, with Withdraw."""
    enrolment = enrolment_apply(cohort=CohortFactory(reviews_applications=True), member=trainee)
    page = html_of(signed_in.get(reverse("training:my-training")))
    assert "Your application is waiting for a trainer’s decision." in page
    assert reverse("training:enrolment-withdraw", args=[enrolment.pk]) in page


def test_my_training_runs_a_fixed_number_of_queries(signed_in, trainee):
    """The home page costs the same whatever the number of cohorts, sessions, modules,
    applications and attendance records."""
    url = reverse("training:my-training")
    version = VersionFactory()
    cohort = _started_cohort(version=version)
    enrolment = EnrolmentFactory(cohort=cohort, member=trainee)
    ModuleFactory(version=version)
    _mark(_session_at(cohort, days=-7), enrolment, AttendanceStatus.PRESENT)
    _session_at(cohort, days=7)
    signed_in.get(url)  # warm per-process caches

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(url).status_code == 200
        return len(queries)

    small = count_queries()
    for days in range(-13, -1):
        _mark(_session_at(cohort, days=days), enrolment, AttendanceStatus.ABSENT)
    for days in range(8, 20):
        _session_at(cohort, days=days)
    ModuleFactory.create_batch(8, version=version)
    other_version = VersionFactory()
    other = _started_cohort(version=other_version)
    other_enrolment = EnrolmentFactory(cohort=other, member=trainee)
    ModuleFactory.create_batch(3, version=other_version)
    _mark(_session_at(other, days=-2), other_enrolment, AttendanceStatus.PRESENT)
    enrolment_apply(cohort=CohortFactory(reviews_applications=True), member=trainee)
    enrolment_apply(cohort=CohortFactory(), member=trainee)
    # Work due, marked work (feedback), a cohort's own due date, and finished cohorts.
    module = ModuleFactory(version=version)
    for n, assignment in enumerate(AssignmentFactory.create_batch(6, module=module)):
        if n % 2:
            SubmissionFactory(
                enrolment=enrolment, assignment=assignment, outcome=Outcome.PASS, marked_at=timezone.now()
            )
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=cohort.ends_on)
    AssignmentFactory.create_batch(4, module=ModuleFactory(version=other_version))
    EnrolmentFactory(member=trainee, status=EnrolmentStatus.COMPLETED, certified_at=timezone.now())
    EnrolmentFactory(member=trainee, status=EnrolmentStatus.INCOMPLETE, completion_note="Two sessions short.")
    assert count_queries() == small
    # The enrolments, then sessions, attendance, modules, assignments and attempts: one each.
    assert small <= 11


# --- The finder ----------------------------------------------------------------------


def _titles(response) -> list[str]:
    return re.findall(
        r'<h2 class="h5 card-title mb-1"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def test_finder_lists_only_cohorts_open_for_applications(signed_in):
    """Open cohorts of published versions, with applications not closed, are listed;
    draft, cancelled, running, closed and draft-version cohorts are not."""
    today = timezone.localdate()
    CohortFactory(name="Open one")
    CohortFactory(name="Draft one", status=CohortStatus.DRAFT)
    CohortFactory(name="Cancelled one", status=CohortStatus.CANCELLED)
    CohortFactory(name="Running one", status=CohortStatus.RUNNING)
    CohortFactory(
        name="Closed one",
        enrolment_opens_on=today - dt.timedelta(days=20),
        enrolment_closes_on=today - dt.timedelta(days=1),
    )
    CohortFactory(name="Unpublished", version=VersionFactory(status=VersionStatus.DRAFT, published_at=None))
    response = signed_in.get(reverse("training:cohort-list"), {"region": ""})
    assert response.status_code == 200
    assert _titles(response) == ["Open one"]


def test_finder_preselects_the_trainees_region(signed_in, trainee):
    """At first the finder shows the trainee's own region; "Any region" shows all."""
    home = Profile.objects.get(user=trainee).region
    CohortFactory(name="Near", region=home)
    CohortFactory(name="Far")
    response = signed_in.get(reverse("training:cohort-list"))
    assert _titles(response) == ["Near"]
    assert re.search(rf'<option value="{home.pk}" selected>', response.content.decode())
    assert "Showing cohorts in your region" in html_of(response)
    assert _titles(signed_in.get(reverse("training:cohort-list"), {"region": ""})) == ["Far", "Near"]


def test_finder_filters_by_region_constituency_date_and_mode(signed_in):
    """Each filter narrows the list; a constituency also finds cohorts open to its whole region."""
    today = timezone.localdate()
    north = RegionFactory()
    seat = ConstituencyFactory(region=north)
    other_seat = ConstituencyFactory(region=north)
    in_seat = CohortFactory(name="In seat", region=north, constituency=seat)
    CohortFactory(name="Region wide", region=north, starts_on=today + dt.timedelta(days=40))
    CohortFactory(name="Other seat", region=north, constituency=other_seat)
    online = CohortFactory(name="Online elsewhere")
    SessionFactory(cohort=online, mode=SessionMode.ONLINE, venue="", online_link="https://meet.example.org/x")
    SessionFactory(cohort=in_seat)
    url = reverse("training:cohort-list")

    assert set(_titles(signed_in.get(url, {"region": north.pk}))) == {"In seat", "Region wide", "Other seat"}
    assert _titles(signed_in.get(url, {"constituency": seat.pk})) == ["In seat", "Region wide"]
    starts_from = (today + dt.timedelta(days=30)).isoformat()
    assert _titles(signed_in.get(url, {"region": "", "starts_from": starts_from})) == ["Region wide"]
    assert _titles(signed_in.get(url, {"mode": "online"})) == ["Online elsewhere"]
    assert _titles(signed_in.get(url, {"mode": "in_person"})) == ["In seat"]


def test_finder_reads_only_its_own_keys(signed_in):
    """Unknown query keys are ignored, not passed to the query; malformed values of its own
    keys are a 400 that says which, with the other filters still applied."""
    CohortFactory(name="Open one")
    CohortFactory(name="Draft one", status=CohortStatus.DRAFT)
    response = signed_in.get(
        reverse("training:cohort-list"),
        {"region": "", "status": "draft", "mode": "teleport", "starts_from": "not a date", "order_by": "-pk"},
    )
    assert response.status_code == 400
    assert _titles(response) == ["Open one"]
    assert "Choose how the cohort meets from the list." in html_of(response)


def test_finder_rows_show_places_and_review(signed_in):
    """Each row says how many places are left, "Full – join the waiting list" when none,
    and whether applications are reviewed."""
    full = CohortFactory(name="Full one", capacity=1)
    EnrolmentFactory(cohort=full)
    CohortFactory(name="Reviewed", reviews_applications=True, capacity=5)
    page = html_of(signed_in.get(reverse("training:cohort-list"), {"region": ""}))
    assert "Full – join the waiting list" in page
    assert "5 places left" in page
    assert page.count("Applications reviewed") == 1


def test_finder_pages_by_twenty(signed_in):
    """25 cohorts make two pages: 20, then 5."""
    CohortFactory.create_batch(25)
    url = reverse("training:cohort-list")
    assert len(_titles(signed_in.get(url, {"region": ""}))) == 20
    second = signed_in.get(url, {"region": "", "page": 2})
    assert len(_titles(second)) == 5
    assert "Page 2 of 2" in html_of(second)


def test_finder_runs_a_fixed_number_of_queries(signed_in, trainee):
    """The finder costs the same for 2 cohorts as for 30, with sessions and enrolments."""
    url = reverse("training:cohort-list")
    CohortFactory.create_batch(2)
    signed_in.get(url, {"region": ""})

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(url, {"region": ""}).status_code == 200
        return len(queries)

    small = count_queries()
    for cohort in CohortFactory.create_batch(28, reviews_applications=True):
        SessionFactory(cohort=cohort)
        EnrolmentFactory(cohort=cohort)
    enrolment_apply(cohort=cohort, member=trainee)
    assert count_queries() == small


# --- One cohort ----------------------------------------------------------------------


def test_cohort_page_shows_sessions_trainers_modules_and_apply(signed_in, seeded):
    """The cohort page lists trainers, modules and sessions (cancelled ones struck through)
    and offers an Apply button; the online link is hidden from those not enrolled."""
    trainer = UserFactory(role=Role.TRAINER, first_name="Ada", last_name="Lovelace")
    cohort = CohortFactory(trainers=[trainer])
    ModuleFactory(version=cohort.version, title="Listening")
    SessionFactory(cohort=cohort, title="Opening night")
    SessionFactory(cohort=cohort, title="Dropped", status=SessionStatus.CANCELLED)
    SessionFactory(
        cohort=cohort,
        title="Online catch-up",
        mode=SessionMode.ONLINE,
        venue="",
        online_link="https://meet.example.org/secret-room",
    )
    response = signed_in.get(reverse("training:cohort-detail", args=[cohort.pk]))
    assert response.status_code == 200
    page = html_of(response)
    assert "Ada Lovelace" in page
    assert "Listening" in page
    assert "<del>Dropped</del>" in page
    assert "Cancelled" in page
    assert "Online catch-up" in page
    assert "secret-room" not in page
    assert reverse("training:cohort-apply", args=[cohort.pk]) in page


def test_online_link_shown_to_enrolled_members_and_trainers(client, seeded):
    """Enrolled members and the cohort's trainers see the online link."""
    trainer = UserFactory(role=Role.TRAINER)
    # A trainer too, so (like any trainer) they have a second factor set up.
    trainer_and_trainee = UserFactory(role=Role.TRAINEE, mfa=True)
    trainer_and_trainee.groups.add(*trainer.groups.all())
    cohort = CohortFactory(trainers=[trainer_and_trainee])
    SessionFactory(
        cohort=cohort, mode=SessionMode.ONLINE, venue="", online_link="https://meet.example.org/secret-room"
    )
    enrolled = EnrolmentFactory(cohort=cohort).member
    url = reverse("training:cohort-detail", args=[cohort.pk])
    for user in (enrolled, trainer_and_trainee):
        client.force_login(user)
        assert "secret-room" in html_of(client.get(url))


def test_cohort_page_runs_a_fixed_number_of_queries(signed_in, trainee, seeded):
    """The cohort page costs the same whatever the number of sessions, modules, trainers
    and enrolments."""
    cohort = CohortFactory(trainers=[UserFactory(role=Role.TRAINER)])
    EnrolmentFactory(cohort=cohort, member=trainee)
    SessionFactory(cohort=cohort)
    ModuleFactory(version=cohort.version)
    url = reverse("training:cohort-detail", args=[cohort.pk])
    signed_in.get(url)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(url).status_code == 200
        return len(queries)

    small = count_queries()
    SessionFactory.create_batch(10, cohort=cohort)
    ModuleFactory.create_batch(6, version=cohort.version)
    EnrolmentFactory.create_batch(5, cohort=cohort)
    cohort.trainers.add(*UserFactory.create_batch(2, role=Role.TRAINER))
    assert count_queries() == small


def test_hidden_cohorts_are_404(signed_in):
    """Draft cohorts, and cancelled ones the trainee had nothing to do with, are not found."""
    for status in (CohortStatus.DRAFT, CohortStatus.CANCELLED):
        cohort = CohortFactory(status=status)
        assert signed_in.get(reverse("training:cohort-detail", args=[cohort.pk])).status_code == 404
        assert signed_in.get(reverse("training:cohort-apply", args=[cohort.pk])).status_code == 404
        response = signed_in.post(reverse("training:cohort-apply", args=[cohort.pk]))
        assert response.status_code == 404
    assert not Enrolment.objects.exists()


# --- Applying ------------------------------------------------------------------------


def test_apply_form_asks_why_with_a_label(signed_in):
    """The apply page has an optional, labelled "why you want to take part" box."""
    cohort = CohortFactory()
    page = html_of(signed_in.get(reverse("training:cohort-apply", args=[cohort.pk])))
    assert re.search(r'<label\s+for="id_motivation"[^>]*>\s*Why you want to take part \(optional\)', page)
    assert "novalidate" in page


def test_apply_to_auto_accept_cohort_enrols(signed_in, trainee):
    """Applying while places remain enrols the trainee at once and says so."""
    cohort = CohortFactory(name="Leeds")
    response = signed_in.post(
        reverse("training:cohort-apply", args=[cohort.pk]),
        {"motivation": " My street needs me. "},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("training:my-training")
    assert "You’re enrolled in Leeds." in html_of(response)
    enrolment = Enrolment.objects.get(member=trainee)
    assert (enrolment.status, enrolment.motivation) == (EnrolmentStatus.ENROLLED, "My street needs me.")


def test_apply_to_full_cohort_joins_the_waiting_list(signed_in, trainee):
    """Applying to a full cohort puts the trainee on its waiting list."""
    cohort = CohortFactory(capacity=1)
    EnrolmentFactory(cohort=cohort)
    response = signed_in.post(reverse("training:cohort-apply", args=[cohort.pk]), follow=True)
    assert "waiting list" in html_of(response)
    assert Enrolment.objects.get(member=trainee).status == EnrolmentStatus.WAITLISTED


def test_apply_to_reviewed_cohort_waits_for_a_decision(signed_in, trainee):
    """Applying to a reviewed cohort leaves the application for a trainer."""
    cohort = CohortFactory(reviews_applications=True)
    response = signed_in.post(reverse("training:cohort-apply", args=[cohort.pk]), follow=True)
    assert "A trainer will review it." in html_of(response)
    assert Enrolment.objects.get(member=trainee).status == EnrolmentStatus.APPLIED


def test_apply_after_applications_close_is_refused(signed_in):
    """An open cohort whose applications have closed refuses with a message; nothing is written."""
    today = timezone.localdate()
    cohort = CohortFactory(
        enrolment_opens_on=today - dt.timedelta(days=20), enrolment_closes_on=today - dt.timedelta(days=1)
    )
    response = signed_in.post(reverse("training:cohort-apply", args=[cohort.pk]))
    assert response.status_code == 400
    assert "This cohort is not taking applications." in html_of(response)
    assert not Enrolment.objects.exists()


def test_apply_to_cancelled_cohort_is_refused(signed_in, trainee):
    """A cancelled cohort the trainee can still see (they withdrew) refuses with a message."""
    cohort = CohortFactory(status=CohortStatus.CANCELLED)
    EnrolmentFactory(cohort=cohort, member=trainee, status=EnrolmentStatus.WITHDRAWN)
    response = signed_in.post(reverse("training:cohort-apply", args=[cohort.pk]))
    assert response.status_code == 400
    assert "This cohort is not taking applications." in html_of(response)
    assert Enrolment.objects.count() == 1


def test_second_active_enrolment_in_a_programme_is_refused(signed_in, trainee):
    """A trainee with a place in one cohort cannot apply to another of the same programme."""
    version = VersionFactory()
    EnrolmentFactory(cohort=CohortFactory(version=version, name="First"), member=trainee)
    second = CohortFactory(version=version)
    page = html_of(signed_in.get(reverse("training:cohort-detail", args=[second.pk])))
    assert "You already have a place or an application in this programme, in First." in page
    response = signed_in.post(reverse("training:cohort-apply", args=[second.pk]))
    assert response.status_code == 400
    assert "You already have a place or an application in this programme." in html_of(response)
    assert Enrolment.objects.filter(member=trainee).count() == 1


# --- Withdrawing and offers -----------------------------------------------------------


def test_withdraw_frees_the_place_for_the_first_waitlisted_who_accepts(client, seeded):
    """Withdrawing (after confirming) frees the place; it is offered to the first on the
    waiting list, who accepts it from their home page."""
    cohort = CohortFactory(capacity=1, name="Leeds")
    leaver, first, second = UserFactory.create_batch(3, role=Role.TRAINEE)
    leaving = enrolment_apply(cohort=cohort, member=leaver)
    waiting = enrolment_apply(cohort=cohort, member=first)
    enrolment_apply(cohort=cohort, member=second)

    client.force_login(leaver)
    url = reverse("training:enrolment-withdraw", args=[leaving.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Withdraw from Leeds?" in html_of(confirm)
    leaving.refresh_from_db()
    assert leaving.status == EnrolmentStatus.ENROLLED  # a GET changes nothing
    response = client.post(url, {"note": "Moving away"}, follow=True)
    assert "You have withdrawn from Leeds." in html_of(response)
    leaving.refresh_from_db()
    waiting.refresh_from_db()
    assert (leaving.status, waiting.status) == (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.OFFERED)

    client.force_login(first)
    home = html_of(client.get(reverse("training:my-training")))
    assert "Accept the place" in home
    assert reverse("training:enrolment-offer", args=[waiting.pk]) in home
    response = client.post(
        reverse("training:enrolment-offer", args=[waiting.pk]), {"accept": "yes"}, follow=True
    )
    assert "You’ve accepted your place in Leeds." in html_of(response)
    waiting.refresh_from_db()
    assert waiting.status == EnrolmentStatus.ENROLLED


def test_declining_an_offer_passes_the_place_on(client, seeded):
    """Declining an offer withdraws the trainee and offers the place to the next in line."""
    cohort = CohortFactory(capacity=1)
    offered = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.OFFERED)
    next_in_line = EnrolmentFactory(
        cohort=cohort, status=EnrolmentStatus.WAITLISTED, waitlisted_at=timezone.now()
    )
    client.force_login(offered.member)
    response = client.post(reverse("training:enrolment-offer", args=[offered.pk]), {"accept": "no"})
    assert response.status_code == 302
    offered.refresh_from_db()
    next_in_line.refresh_from_db()
    assert (offered.status, next_in_line.status) == (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.OFFERED)


def test_offer_answer_must_be_yes_or_no_and_the_offer_open(signed_in, trainee):
    """A malformed answer, or an answer with no open offer, is refused with a message."""
    offered = EnrolmentFactory(member=trainee, status=EnrolmentStatus.OFFERED)
    url = reverse("training:enrolment-offer", args=[offered.pk])
    assert signed_in.post(url, {"accept": "maybe"}).status_code == 400
    enrolled = EnrolmentFactory(member=trainee)
    response = signed_in.post(reverse("training:enrolment-offer", args=[enrolled.pk]), {"accept": "yes"})
    assert response.status_code == 400
    assert "There is no open offer of a place." in html_of(response)
    offered.refresh_from_db()
    assert offered.status == EnrolmentStatus.OFFERED


def test_withdrawing_twice_is_refused(signed_in, trainee):
    """An enrolment already withdrawn has nothing to withdraw: no form, and a 400 on POST."""
    enrolment = EnrolmentFactory(member=trainee, status=EnrolmentStatus.WITHDRAWN)
    url = reverse("training:enrolment-withdraw", args=[enrolment.pk])
    assert "There is nothing to withdraw from" in html_of(signed_in.get(url))
    response = signed_in.post(url)
    assert response.status_code == 400
    assert "This enrolment is no longer active." in html_of(response)


def test_another_trainees_enrolment_is_404(signed_in):
    """A trainee changing the id to someone else's enrolment finds nothing, and changes nothing."""
    theirs = EnrolmentFactory(status=EnrolmentStatus.OFFERED)
    for name in ("training:enrolment-withdraw", "training:enrolment-offer"):
        url = reverse(name, args=[theirs.pk])
        assert signed_in.get(url).status_code == 404
        assert signed_in.post(url, {"accept": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == EnrolmentStatus.OFFERED


# --- Who may use the pages ---------------------------------------------------------------

TRAINEE_ONLY = [
    ("training:my-training", []),
    # Not the finder and the cohort page: anyone may use them (tests/training/test_cohort_finder.py).
    ("training:cohort-apply", ["cohort"]),
    ("training:enrolment-withdraw", ["enrolment"]),
    ("training:enrolment-offer", ["enrolment"]),
    ("training:session-apology", ["session"]),
    ("training:checkin", []),
    # Not the calendar page: every member has a feed of the sessions they attend or run
    # (tests/training/test_calendar_feed.py).
]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.NATIONAL_STAFF])
@pytest.mark.parametrize(("name", "args"), TRAINEE_ONLY)
def test_trainee_pages_refuse_other_roles(client, seeded, role, name, args):
    """Trainers and staff get a 403 on the trainee's own pages, even for their own cohort."""
    user = UserFactory(role=role)
    cohort = CohortFactory(trainers=[user])
    objects = {
        "cohort": cohort.pk,
        "enrolment": EnrolmentFactory(cohort=cohort).pk,
        "session": SessionFactory(cohort=cohort).pk,
    }
    client.force_login(user)
    assert client.get(reverse(name, args=[objects[arg] for arg in args])).status_code == 403


@pytest.mark.parametrize(("name", "args"), TRAINEE_ONLY)
def test_trainee_pages_send_anonymous_visitors_to_sign_in(client, db, name, args):
    """Anonymous visitors are sent to sign in."""
    response = client.get(reverse(name, args=[1] * len(args)))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
