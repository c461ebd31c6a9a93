"""A trainer writes to their cohort in a browser; a trainee reads it from the link in the
email and replies; the trainer opens the thread from their email. Each page is checked by
axe at desktop and phone width; MESSAGES_SCREENSHOTS=<folder> keeps screenshots of them."""

import os
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from members.permissions import Role
from tests.e2e.conftest import assert_accessible, assert_styled, field
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import EnrolmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}


def _check_at_both_widths(page, name: str) -> None:
    folder = os.environ.get("MESSAGES_SCREENSHOTS")
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert_styled(page)
        assert_accessible(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways at {width}px"
        if folder:
            page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _path_of(link_text: str, body: str, site_url: str) -> str:
    line = next(line for line in body.splitlines() if link_text in line)
    return line[line.index(site_url) + len(site_url) :].split()[0]


def test_a_message_to_the_cohort_and_a_reply(sign_in, live_server, settings):
    call_command("load_seeds", verbosity=0)
    settings.SITE_URL = live_server.url
    trainer = UserFactory(role=Role.TRAINER, first_name="Tess", last_name="Trainer")
    cohort = CohortFactory(name="Leeds Spring", trainers=[trainer])
    ada = EnrolmentFactory(cohort=cohort, member__first_name="Ada", member__last_name="Lovelace").member
    EnrolmentFactory(cohort=cohort, member__first_name="Bo")
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WAITLISTED)

    page = sign_in(trainer)
    page.goto(reverse("training:cohort-manage", args=[cohort.pk]))
    page.get_by_role("link", name="Write to the cohort").click()
    _check_at_both_widths(page, "compose")
    page.get_by_label("Those enrolled (2 people)").check()
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#error_1_id_subject, .invalid-feedback").first).to_be_visible()
    field(page, "Subject").fill("Week two: bring a pen")
    field(page, "Message").fill("Hello all,\n\nPlease read **chapter 2** before Tuesday.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("status").get_by_text("Your message is sent to 2 people.")).to_be_visible()
    expect(page.get_by_role("link", name="Week two: bring a pen")).to_be_visible()
    _check_at_both_widths(page, "manage-history")

    (to_ada,) = [email for email in mail.outbox if email.to == [ada.email]]
    thread_path = _path_of("Read it and reply", to_ada.body, live_server.url)
    trainee = sign_in(ada)
    trainee.goto(thread_path)
    expect(trainee.get_by_role("heading", name="Week two: bring a pen")).to_be_visible()
    field(trainee, "Your reply").fill("Can I come at 7 instead?")
    trainee.get_by_role("button", name="Send reply").click()
    expect(trainee.get_by_text("Can I come at 7 instead?")).to_be_visible()
    _check_at_both_widths(trainee, "thread-trainee")
    trainee.goto(reverse("training:my-training"))
    trainee.get_by_role("link", name="Messages from your trainers").click()
    _check_at_both_widths(trainee, "inbox")

    (reply_email,) = [email for email in mail.outbox if email.to == [trainer.email]]
    page.goto(_path_of("answer in the platform", reply_email.body, live_server.url))
    expect(page.get_by_text("Can I come at 7 instead?")).to_be_visible()
    field(page, "Your answer").fill("Yes, that is fine.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("Yes, that is fine.")).to_be_visible()
    _check_at_both_widths(page, "thread-trainer")
