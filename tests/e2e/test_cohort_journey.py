"""Staff open a cohort; two trainees apply, a trainer decides, a place passes along the
waiting list, and the trainer takes the register on a phone."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from members.models import Profile, Region
from members.permissions import Role
from tests.e2e.conftest import PHONE, assert_accessible, field
from tests.factories import UserFactory
from training.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    ProgrammeVersion,
    Session,
    SessionMode,
    VersionStatus,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROGRAMME = "Future Leaders: Community Organising"
COHORT = "London, journey cohort"
REGION = "London"


def _when(starts: dt.datetime, ends: dt.datetime) -> str:
    """A session's time as the pages print it (templates/training/manage/_session_when.html)."""
    return f"{dateformat.format(starts, 'D j F Y, H:i')}–{dateformat.format(ends, 'H:i')}"


def _offset(day: dt.date, zone) -> dt.timedelta:
    return dt.datetime.combine(day, dt.time(12), tzinfo=zone).utcoffset()


def _action(verb: str, name: str) -> re.Pattern:
    """An action's name, "Decide: Amira Khan": Chromium puts a space before the colon, as the
    visually hidden part (": Amira Khan") is absolutely positioned, so laid out as a block."""
    return re.compile(rf"^{re.escape(verb)}\s*: {re.escape(name)}$")


def _message(page, text: str):
    return page.get_by_role("status").get_by_text(text, exact=True)


def test_cohort_journey(sign_in, live_server):
    """Open a cohort, fill it, pass its place along the waiting list, take its register."""
    call_command("load_seeds", verbosity=0)
    version = ProgrammeVersion.objects.get(programme__title=PROGRAMME, status=VersionStatus.PUBLISHED)
    london = Region.objects.get(name=REGION)
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Staff")
    trainer = UserFactory(role=Role.TRAINER, first_name="Tomasz", last_name="Trainer")
    first = UserFactory(role=Role.TRAINEE, first_name="Amira", last_name="Khan")
    second = UserFactory(role=Role.TRAINEE, first_name="Ben", last_name="Owusu")
    # The first trainee lives in London, where the cohort meets; the second elsewhere.
    Profile.objects.filter(user=first).update(region=london)
    Profile.objects.filter(user=second).update(region=Region.objects.exclude(pk=london.pk).first())

    today = timezone.localdate()
    opens, closes = today, today + dt.timedelta(days=10)
    # A year-long cohort, so that its sessions can fall in both GMT and BST.
    starts_on, ends_on = today + dt.timedelta(days=14), today + dt.timedelta(days=379)
    zone = timezone.get_current_timezone()  # Europe/London
    first_day = starts_on
    second_day = next(
        first_day + dt.timedelta(days=n)
        for n in range(7, 365)
        if _offset(first_day + dt.timedelta(days=n), zone) != _offset(first_day, zone)
    )
    meeting = ("Meeting one: why organise", first_day, dt.time(18, 30), dt.time(20, 30))
    online = ("Meeting two: listening", second_day, dt.time(10, 0), dt.time(11, 45))

    # --- 1. National staff open the cohort and schedule two sessions ---------------------
    page = sign_in(staff)
    page.wait_for_url("**/staff/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("National staff home")
    assert_accessible(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts", exact=True).click()

    page.wait_for_url("**/manage/cohorts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cohorts")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="New cohort").click()

    page.wait_for_url("**/manage/cohorts/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("New cohort")
    assert_accessible(page)
    field(page, "Programme version").select_option(label=str(version))
    field(page, "Name").fill(COHORT)
    field(page, "Region or nation").select_option(label=REGION)
    page.get_by_label(f"Tomasz Trainer ({trainer.email})").check()
    field(page, "Places").fill("1")
    field(page, "Applications open").fill(opens.isoformat())
    field(page, "Applications close").fill(closes.isoformat())
    field(page, "Starts").fill(starts_on.isoformat())
    field(page, "Ends").fill(ends_on.isoformat())
    field(page, "Status").select_option(label="Open for applications")
    field(page, "Applications are reviewed").check()
    page.get_by_role("button", name="Save cohort").click()

    page.wait_for_url(re.compile(r"/manage/cohorts/\d+/$"))
    cohort = Cohort.objects.get(name=COHORT)
    expect(_message(page, f"Cohort “{COHORT}” is open.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(COHORT)
    expect(page.get_by_text("each is reviewed by a trainer")).to_be_visible()
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    assert_accessible(page)
    cohort_manage_url = page.url

    for title, day, start, end in (meeting, online):
        page.get_by_role("link", name="Add session").click()
        page.wait_for_url(f"**/manage/cohorts/{cohort.pk}/sessions/new/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Add a session")
        if title == meeting[0]:
            assert_accessible(page)
        field(page, "Title").fill(title)
        field(page, "Date").fill(day.isoformat())
        field(page, "Starts at").fill(start.strftime("%H:%M"))
        field(page, "Ends at").fill(end.strftime("%H:%M"))
        if title == meeting[0]:
            page.get_by_label("In person", exact=True).check()
            field(page, "Venue").fill("Bethnal Green Community Centre")
            field(page, "Address").fill("1 Roman Road\nLondon E2 0HU")
        else:
            page.get_by_label("Online", exact=True).check()
            field(page, "Online link").fill("https://meet.example.org/listening")
        page.get_by_role("button", name="Add session").click()
        page.wait_for_url(cohort_manage_url)
        expect(_message(page, f"Session “{title}” added.")).to_be_visible()

    # Both sessions are listed at the UK times they were typed in, whatever UTC says.
    sessions = page.get_by_role("region", name="Sessions")
    for title, day, start, end in (meeting, online):
        item = sessions.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
        expected = _when(dt.datetime.combine(day, start), dt.datetime.combine(day, end))
        expect(item).to_contain_text(expected)
    expect(sessions).to_contain_text("Bethnal Green Community Centre")
    expect(sessions).to_contain_text("https://meet.example.org/listening")
    assert_accessible(page)
    saved = {session.title: session for session in cohort.sessions.all()}
    assert saved[meeting[0]].mode == SessionMode.IN_PERSON
    assert saved[online[0]].mode == SessionMode.ONLINE
    for title, day, start, end in (meeting, online):
        assert saved[title].starts_at == dt.datetime.combine(day, start, tzinfo=zone)
        assert saved[title].ends_at == dt.datetime.combine(day, end, tzinfo=zone)
    # One of the two is in BST, an hour off UTC, yet shows the time typed in.
    assert {_offset(first_day, zone), _offset(second_day, zone)} == {dt.timedelta(0), dt.timedelta(hours=1)}

    # --- 2. The first trainee finds the cohort in their region and applies -------------
    amira = sign_in(first)
    amira.wait_for_url("**/my-training/")
    expect(amira.get_by_role("heading", level=1)).to_have_text("Welcome, Amira")
    expect(amira.get_by_role("heading", name="Start your training")).to_be_visible()
    assert_accessible(amira)
    amira.get_by_role("navigation", name="Main").get_by_role("link", name="Find a cohort").click()

    amira.wait_for_url("**/cohorts/")
    expect(amira.get_by_role("heading", level=1)).to_have_text("Find a cohort")
    expect(amira.get_by_text(f"Showing cohorts in your region, {REGION}.")).to_be_visible()
    card = amira.get_by_role("listitem").filter(has=amira.get_by_role("link", name=COHORT))
    expect(card).to_contain_text("Applications reviewed")
    expect(card).to_contain_text("1 place left")
    expect(card).to_contain_text("Online and in person")
    assert_accessible(amira)
    card.get_by_role("link", name=COHORT).click()

    amira.wait_for_url(f"**/cohorts/{cohort.pk}/")
    expect(amira.get_by_role("heading", level=1)).to_have_text(COHORT)
    expect(amira.get_by_text("A trainer reviews each application.")).to_be_visible()
    expect(amira.get_by_role("region", name="Sessions")).to_contain_text(meeting[0])
    assert_accessible(amira)
    amira.get_by_role("main").get_by_role("link", name="Apply", exact=True).click()

    amira.wait_for_url(f"**/cohorts/{cohort.pk}/apply/")
    expect(amira.get_by_role("heading", level=1)).to_have_text(f"Apply to {COHORT}")
    assert_accessible(amira)
    field(amira, "Why you want to take part (optional)").fill("I run the tenants’ association on our estate.")
    amira.get_by_role("button", name="Apply").click()

    amira.wait_for_url("**/my-training/")
    expect(
        _message(amira, f"Your application to {COHORT} is sent. A trainer will review it.")
    ).to_be_visible()
    applications = amira.get_by_role("region", name="Your applications")
    expect(applications).to_contain_text("Your application is waiting for a trainer’s decision.")
    assert_accessible(amira)

    # The trainer accepts it from the cohort's page.
    tomasz = sign_in(trainer)
    tomasz.wait_for_url("**/manage/cohorts/")
    expect(tomasz.get_by_role("heading", level=1)).to_have_text("Your cohorts")
    assert_accessible(tomasz)
    tomasz.get_by_role("link", name=COHORT).click()

    tomasz.wait_for_url(cohort_manage_url)
    expect(tomasz.get_by_role("heading", level=1)).to_have_text(COHORT)
    expect(tomasz.get_by_role("link", name="Edit cohort")).to_have_count(0)  # staff only
    assert_accessible(tomasz)
    tomasz.get_by_role("link", name=_action("Decide", "Amira Khan")).click()

    tomasz.wait_for_url(re.compile(r"/manage/enrolments/\d+/decide/$"))
    expect(tomasz.get_by_role("heading", level=1)).to_have_text("Application from Amira Khan")
    expect(tomasz.get_by_text("I run the tenants’ association on our estate.")).to_be_visible()
    assert_accessible(tomasz)
    tomasz.get_by_label("Accept", exact=True).check()
    tomasz.get_by_role("button", name="Save decision").click()

    tomasz.wait_for_url(cohort_manage_url)
    expect(_message(tomasz, "Amira Khan is enrolled.")).to_be_visible()
    expect(tomasz.get_by_text("1 of 1", exact=True)).to_be_visible()

    amira.reload()
    expect(amira.get_by_role("heading", level=2, name=COHORT)).to_be_visible()
    expect(amira.get_by_role("heading", name="Next session")).to_be_visible()
    expect(amira.get_by_text(meeting[0], exact=True)).to_be_visible()
    expect(amira.get_by_role("region", name="Your applications")).to_have_count(0)
    assert_accessible(amira)
    amira.get_by_role("link", name=_action("All sessions and details of this cohort", COHORT)).click()

    amira.wait_for_url(f"**/cohorts/{cohort.pk}/")
    expect(amira.get_by_text("You’re enrolled in this cohort.")).to_be_visible()
    assert_accessible(amira)

    # --- 3. The second trainee applies to the full cohort: accepted onto the waiting list --
    ben = sign_in(second)
    ben.wait_for_url("**/my-training/")
    ben.get_by_role("navigation", name="Main").get_by_role("link", name="Find a cohort").click()
    ben.wait_for_url("**/cohorts/")
    # Their own region has no cohort: they widen the search.
    expect(ben.get_by_text("No open cohorts match these choices.")).to_be_visible()
    assert_accessible(ben)
    field(ben, "Region or nation").select_option(label="Any region")
    ben.get_by_role("button", name="Find cohorts").click()
    ben.wait_for_url(re.compile(r"/cohorts/\?"))
    card = ben.get_by_role("listitem").filter(has=ben.get_by_role("link", name=COHORT))
    expect(card).to_contain_text("Full – join the waiting list")
    assert_accessible(ben)
    card.get_by_role("link", name=COHORT).click()

    ben.wait_for_url(f"**/cohorts/{cohort.pk}/")
    about = ben.get_by_role("region", name="About this cohort")
    expect(about).to_contain_text("Full – join the waiting list")
    ben.get_by_role("main").get_by_role("link", name="Apply", exact=True).click()
    ben.wait_for_url(f"**/cohorts/{cohort.pk}/apply/")
    field(ben, "Why you want to take part (optional)").fill("Our youth club wants a skate park.")
    ben.get_by_role("button", name="Apply").click()

    # A reviewed cohort leaves every application to the trainer, full or not.
    ben.wait_for_url("**/my-training/")
    expect(_message(ben, f"Your application to {COHORT} is sent. A trainer will review it.")).to_be_visible()
    assert Enrolment.objects.get(member=second).status == EnrolmentStatus.APPLIED

    tomasz.reload()
    tomasz.get_by_role("link", name=_action("Decide", "Ben Owusu")).click()
    tomasz.wait_for_url(re.compile(r"/manage/enrolments/\d+/decide/$"))
    full_note = "If you accept and the cohort is full, they go on the waiting list."
    expect(tomasz.get_by_text(full_note)).to_be_visible()
    tomasz.get_by_label("Accept", exact=True).check()
    tomasz.get_by_role("button", name="Save decision").click()
    tomasz.wait_for_url(cohort_manage_url)
    expect(
        _message(tomasz, "Ben Owusu is accepted; the cohort is full, so they are on the waiting list.")
    ).to_be_visible()
    waiting = tomasz.get_by_role("table", name="Waiting list, in the order places are offered")
    expect(waiting.get_by_role("row").filter(has_text="Ben Owusu")).to_contain_text("1")
    assert_accessible(tomasz)

    ben.reload()
    expect(ben.get_by_role("region", name="Your applications")).to_contain_text(
        "You are number 1 on the waiting list."
    )
    assert_accessible(ben)

    # --- 4. The first trainee withdraws; the place is offered to the second, who takes it --
    amira.get_by_role("link", name="Withdraw from this cohort").click()
    amira.wait_for_url(re.compile(r"/enrolments/\d+/withdraw/$"))
    expect(amira.get_by_role("heading", level=1)).to_have_text(f"Withdraw from {COHORT}?")
    expect(amira.get_by_text("Your place will go to the next person on the waiting list.")).to_be_visible()
    assert_accessible(amira)
    field(amira, "Tell your trainer why (optional)").fill("I have moved to Leeds.")
    amira.get_by_role("button", name="Withdraw").click()

    amira.wait_for_url("**/my-training/")
    expect(_message(amira, f"You have withdrawn from {COHORT}.")).to_be_visible()
    expect(amira.get_by_role("heading", level=2, name=COHORT)).to_have_count(0)
    expect(amira.get_by_role("heading", name="Start your training")).to_be_visible()
    assert_accessible(amira)

    ben.reload()
    offer = ben.get_by_role("region", name="A place is waiting for you")
    expect(offer.get_by_role("heading", name=COHORT)).to_be_visible()
    assert_accessible(ben)
    offer.get_by_role("button", name=_action("Accept the place", COHORT)).click()

    ben.wait_for_url("**/my-training/")
    expect(_message(ben, f"You’ve accepted your place in {COHORT}.")).to_be_visible()
    expect(ben.get_by_role("heading", level=2, name=COHORT)).to_be_visible()
    expect(ben.get_by_role("region", name="A place is waiting for you")).to_have_count(0)
    expect(ben.get_by_text(meeting[0], exact=True)).to_be_visible()
    assert_accessible(ben)

    # --- 5. The trainer takes the first session's register on a phone -------------------
    tomasz.set_viewport_size(PHONE)
    tomasz.reload()
    expect(tomasz.get_by_text("Ben Owusu", exact=True)).to_be_visible()  # now enrolled
    assert_accessible(tomasz)
    tomasz.get_by_role("link", name=_action("Register", meeting[0])).click()

    tomasz.wait_for_url(f"**/manage/sessions/{saved[meeting[0]].pk}/register/")
    expect(tomasz.get_by_role("heading", level=1)).to_have_text(f"Register: {meeting[0]}")
    expect(tomasz.get_by_text("1 trainee enrolled.")).to_be_visible()
    expect(tomasz.get_by_role("group", name="Amira Khan")).to_have_count(0)  # she withdrew
    # Before the session starts the register says when it opens and offers only "Excused".
    expect(tomasz.get_by_text("You can take the register from")).to_be_visible()
    expect(tomasz.get_by_role("group", name="Ben Owusu").get_by_label("Present")).to_have_count(0)
    # The evening comes: the session has started.
    started = timezone.now() - dt.timedelta(minutes=5)
    Session.objects.filter(pk=saved[meeting[0]].pk).update(
        starts_at=started, ends_at=started + dt.timedelta(hours=2)
    )
    tomasz.reload()
    assert tomasz.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(tomasz)
    row = tomasz.get_by_role("group", name="Ben Owusu")
    expect(row.get_by_label("Present")).not_to_be_checked()
    row.get_by_text("Present", exact=True).click()
    tomasz.get_by_role("button", name="Save register").click()

    tomasz.wait_for_url(f"**/manage/sessions/{saved[meeting[0]].pk}/register/")
    expect(_message(tomasz, "Register saved: 1 present, 0 absent, 0 excused.")).to_be_visible()
    assert_accessible(tomasz)
    tomasz.reload()
    row = tomasz.get_by_role("group", name="Ben Owusu")
    expect(row.get_by_label("Present")).to_be_checked()
    expect(row.get_by_label("Absent")).not_to_be_checked()

    # --- What the database holds at the end ----------------------------------------------
    cohort.refresh_from_db()
    assert cohort.status == CohortStatus.OPEN
    assert cohort.capacity == 1
    assert cohort.reviews_applications is True
    assert list(cohort.trainers.all()) == [trainer]
    assert cohort.version == version
    amira_enrolment = Enrolment.objects.get(cohort=cohort, member=first)
    ben_enrolment = Enrolment.objects.get(cohort=cohort, member=second)
    assert amira_enrolment.status == EnrolmentStatus.WITHDRAWN
    assert ben_enrolment.status == EnrolmentStatus.ENROLLED
    assert list(ben_enrolment.events.order_by("at", "pk").values_list("to_status", flat=True)) == [
        EnrolmentStatus.APPLIED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.OFFERED,
        EnrolmentStatus.ENROLLED,
    ]
    attendance = Attendance.objects.get()
    assert attendance.session == saved[meeting[0]]
    assert attendance.enrolment == ben_enrolment
    assert attendance.status == AttendanceStatus.PRESENT
    assert attendance.source == AttendanceSource.REGISTER
    assert attendance.recorded_by == trainer
