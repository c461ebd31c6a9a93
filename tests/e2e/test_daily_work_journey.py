"""Daily work, faster: staff write a whole rubric in one grid, and a trainer marks everyone not
yet marked present with one button, then undoes it; at desktop width and on a phone."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from members.permissions import Role
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    ProgrammeFactory,
    SessionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import Attendance, AttendanceStatus, CohortStatus, VersionStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set to a folder to keep a screenshot of each page at each width.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def _looked_at(page, name: str) -> None:
    """The page fits the width (no sideways scrolling), passes axe, and is kept if asked."""
    # Bootstrap's buttons fade between states: axe must judge the colours they end with.
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], page.url
    assert_accessible(page)
    if SCREENSHOTS:
        width = page.viewport_size["width"]
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"), full_page=True)


def test_staff_write_a_rubric_in_one_grid(sign_in, seeded):
    version = VersionFactory(programme=ProgrammeFactory(), status=VersionStatus.DRAFT, published_at=None)
    assignment = AssignmentFactory(module=ModuleFactory(version=version), title="Power map")
    page = sign_in(UserFactory(role=Role.NATIONAL_STAFF))
    page.goto(f"/manage/assignments/{assignment.pk}/rubric/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rubric of “Power map”")

    # Row by row, each cell named by its row and column.
    page.get_by_label("Criterion 1 title", exact=True).fill("The map")
    page.get_by_label("Criterion 1 title", exact=True).press("Tab")
    expect(page.get_by_label("Criterion 1: what it looks for (optional)")).to_be_focused()
    for column, (title, outcome, text) in enumerate(
        [("Not yet", "resubmit", "Fewer than eight actors."), ("Secure", "pass", "Eight actors or more.")],
        start=1,
    ):
        page.get_by_label(f"Criterion 1, level {column} title").fill(title)
        page.get_by_label(f"Criterion 1, level {column} descriptor").fill(text)
        page.get_by_label(f"Criterion 1, level {column} outcome").select_option(outcome)
    # A cell half filled: refused at that cell, and nothing typed is lost.
    page.get_by_label("Criterion 2 title", exact=True).fill("Reflection")
    page.get_by_label("Criterion 2, level 1 title").fill("Thin")
    page.get_by_role("button", name="Add a criterion").click()
    expect(page.get_by_label("Criterion 3 title", exact=True)).to_be_visible()
    expect(page.get_by_label("Criterion 2, level 1 title")).to_have_value("Thin")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Save rubric").click()
    descriptor = page.get_by_label("Criterion 2, level 1 descriptor")
    expect(descriptor).to_have_attribute("aria-invalid", "true")
    expect(descriptor).to_have_accessible_description("Describe what work at this level shows.")
    _looked_at(page, "rubric-grid-errors")
    page.set_viewport_size(PHONE)
    _looked_at(page, "rubric-grid-errors")

    page.get_by_label("Remove criterion 2").check()
    page.get_by_role("button", name="Save rubric").click()
    page.wait_for_url(f"**/manage/assignments/{assignment.pk}/edit/#rubric")
    expect(page.get_by_role("status").get_by_text("The rubric of “Power map” is saved.")).to_be_visible()
    assert list(assignment.criteria.values_list("title", flat=True)) == ["The map"]

    page.get_by_role("link", name="Edit the whole rubric").click()
    expect(page.get_by_label("Criterion 1, level 2 title")).to_have_value("Secure")
    _looked_at(page, "rubric-grid")
    page.set_viewport_size(DESKTOP)
    _looked_at(page, "rubric-grid")


def test_a_trainer_marks_everyone_present_then_undoes_it(sign_in, seeded):
    trainer = UserFactory(role=Role.TRAINER)
    today = timezone.localdate()
    cohort = CohortFactory(
        status=CohortStatus.RUNNING,
        trainers=[trainer],
        enrolment_opens_on=today - dt.timedelta(days=40),
        enrolment_closes_on=today - dt.timedelta(days=30),
        starts_on=today - dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=60),
    )
    started = timezone.now() - dt.timedelta(minutes=5)
    session = SessionFactory(cohort=cohort, starts_at=started, ends_at=started + dt.timedelta(hours=2))
    names = ["Amira Khan", "Ben Owusu", "Cara Jones"]
    enrolments = [
        EnrolmentFactory(cohort=cohort, member__first_name=first, member__last_name=last)
        for first, last in (name.split() for name in names)
    ]
    page = sign_in(trainer)
    page.set_viewport_size(PHONE)
    page.goto(f"/manage/sessions/{session.pk}/register/")
    page.get_by_role("group", name="Amira Khan").get_by_text("Absent", exact=True).click()

    page.get_by_role("button", name="Mark everyone not yet marked present").click()
    expect(page.get_by_role("status").get_by_text("2 marked present, not saved yet.")).to_be_visible()
    expect(page.get_by_role("group", name="Amira Khan").get_by_label("Absent")).to_be_checked()
    for name in names[1:]:
        expect(page.get_by_role("group", name=name).get_by_label("Present")).to_be_checked()
    assert not Attendance.objects.exists()  # done in the page: nothing saved
    _looked_at(page, "register-filled")

    page.get_by_role("button", name="Undo").click()
    for name in names[1:]:
        expect(page.get_by_role("group", name=name).get_by_label("Present")).not_to_be_checked()
    expect(page.get_by_role("group", name="Amira Khan").get_by_label("Absent")).to_be_checked()
    expect(page.get_by_role("button", name="Mark everyone not yet marked present")).to_be_focused()

    page.get_by_role("button", name="Mark everyone not yet marked present").click()
    page.get_by_role("button", name="Save register").click()
    expect(page.get_by_text("Register saved: 2 present, 1 absent, 0 excused.")).to_be_visible()
    saved = dict(Attendance.objects.values_list("enrolment_id", "status"))
    assert [saved[enrolment.pk] for enrolment in enrolments] == [
        AttendanceStatus.ABSENT,
        AttendanceStatus.PRESENT,
        AttendanceStatus.PRESENT,
    ]
    _looked_at(page, "register")
    page.set_viewport_size(DESKTOP)
    _looked_at(page, "register")
