"""The whole loop for a brand-new trainee, and at each hand-off the email the next person gets.

Sign up, apply, be accepted (through the trainers' daily digest), check in, read and answer
the trainer's message, hand in, resubmit, pass, get the certificate, have the mark second-marked,
and finish the cohort. At each hand-off the person who must act next has one email, read from
the outbox: its recipient, subject, a line of its text, an HTML part, and a link that, opened in
that person's browser, shows the right page. Tasks run inline here, as they do in every test
without Redis, so the ledger's sends happen as each transaction commits.
"""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from certification.models import Certificate
from members.models import Constituency
from members.permissions import Role
from tests.e2e.conftest import assert_accessible, field
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    ModuleFactory,
    SessionFactory,
    UserFactory,
    VersionFactory,
    rubric_add,
)
from training.models import Cohort, CohortStatus, Enrolment, EnrolmentStatus, Session
from training.tasks import applications_waiting_digest_task, cohorts_move_by_dates_task, notices_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "rosa.jones@example.org"
PASSWORD = "a-long-and-unusual-passphrase"
PROGRAMME = "Community Organising Foundations"
COHORT = "Hand-offs cohort"
ASSIGNMENT = "Power map of a local issue"
CRITERION = "Who holds power"
MESSAGE_SUBJECT = "Tonight: bring your power map"
# Every email's subject begins so (ACCOUNT_EMAIL_SUBJECT_PREFIX, and the notices follow it).
PREFIX = "[Future Leaders] "


def _button(name: str) -> re.Pattern:
    """An allauth button, whatever case its label is written in ("Sign Up", "Sign up")."""
    return re.compile(rf"^\s*{re.escape(name)}\s*$", re.IGNORECASE)


def _status(page, text: str):
    return page.get_by_role("status").get_by_text(text, exact=True)


class Outbox:
    """Reads the emails sent since the last look, one hand-off at a time."""

    def __init__(self, site_url: str):
        self.site_url = site_url
        self.seen = len(mail.outbox)

    def new(self) -> list:
        fresh = mail.outbox[self.seen :]
        self.seen = len(mail.outbox)
        return fresh

    def one_to(self, fresh: list, person) -> mail.EmailMessage:
        """The one email among `fresh` addressed to `person` (there must be exactly one)."""
        address = person if isinstance(person, str) else person.email
        to_them = [message for message in fresh if message.to == [address]]
        assert len(to_them) == 1, f"{address} got {[m.subject for m in to_them]}"
        return to_them[0]

    def link(self, message, lead: str, *, html: bool = True) -> str:
        """The path of the absolute link on the line of the text part that contains `lead`;
        the HTML part, when asked, links to the same page."""
        line = next((line for line in message.body.splitlines() if lead in line), None)
        assert line is not None, f"No line with {lead!r} in:\n{message.body}"
        url = re.search(r"https?://\S+", line).group(0)
        assert url.startswith(self.site_url + "/"), f"{url} is not an absolute link to the site"
        path = url[len(self.site_url) :]
        if html:
            assert path.split("#")[0] in self.html(message), f"The HTML part does not link to {path}"
        return path

    @staticmethod
    def html(message) -> str:
        parts = [
            content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"
        ]
        assert parts, f"“{message.subject}” has no HTML part"
        return parts[0]


def _follow(page, path: str) -> None:
    """Open an email's link as a click from a mail app would: a fresh load of the page, even
    when the browser is on the same page already (a link differing only by its #fragment
    would otherwise just scroll)."""
    page.goto("about:blank")
    response = page.goto(path)
    assert response is not None, f"{path}: no response"
    assert response.ok, f"{path}: {response.status}"


def _check(message, *, to, subject: str, line: str, html: bool = True) -> None:
    assert message.to == [to.email if not isinstance(to, str) else to]
    assert message.subject == PREFIX + subject
    assert line in message.body, f"{line!r} not in:\n{message.body}"
    if html:
        Outbox.html(message)


def _received(outbox, *, to, subject: str, line: str, html: bool = True):
    """The one email sent to `to` since the last look, checked as _check does."""
    message = outbox.one_to(outbox.new(), to)
    _check(message, to=to, subject=subject, line=line, html=html)
    return message


def _not_revealed(message, address: str) -> None:
    """The other person's address is nowhere in the email: text, HTML or headers."""
    everything = [message.body, Outbox.html(message), message.from_email, *message.reply_to, *message.cc]
    everything += [str(value) for value in message.extra_headers.values()]
    assert not any(address in part for part in everything), f"{address} is revealed in “{message.subject}”"


def _mark(page, *, level: str, feedback: str) -> None:
    page.get_by_role("group", name=CRITERION).get_by_role("radio", name=re.compile(rf"^{level}\b")).check()
    field(page, "Feedback to the trainee").fill(feedback)


def _mark_first_in_queue(page, *, level: str, feedback: str, outcome: str) -> None:
    """The trainer opens the first work in their marking queue, marks it and sees it saved."""
    page.goto("/manage/marking/")
    page.get_by_role("link", name=re.compile(r"^Mark\s*:")).first.click()
    _mark(page, level=level, feedback=feedback)
    page.get_by_role("button", name="Save mark", exact=True).click()
    expect(page.get_by_text(re.compile(rf"Mark saved for Rosa Jones.*{outcome}"))).to_be_visible()


def test_a_new_trainee_is_carried_from_sign_up_to_certificate(page, sign_in, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_seeds", verbosity=0)
    seat = Constituency.objects.select_related("region").order_by("pk").first()
    trainer = UserFactory(role=Role.TRAINER, first_name="Tomasz", last_name="Trainer")
    second_marker = UserFactory(role=Role.TRAINER, first_name="Sade", last_name="Second")
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Staff")

    # An open cohort in the trainee's region, reviewing applications: a week long, its first
    # session under way (started five minutes ago), its second tomorrow evening. Half the
    # sessions and the one assignment complete it.
    today = timezone.localdate()
    version = VersionFactory(programme__title=PROGRAMME, min_attendance_percent=50)
    cohort = CohortFactory(
        name=COHORT,
        version=version,
        region=seat.region,
        trainers=[trainer],
        reviews_applications=True,
        enrolment_opens_on=today - dt.timedelta(days=7),
        enrolment_closes_on=today + dt.timedelta(days=3),
        starts_on=today,
        ends_on=today + dt.timedelta(days=6),
    )
    started = timezone.now() - dt.timedelta(minutes=5)
    under_way = SessionFactory(
        cohort=cohort, title="Listening campaign", starts_at=started, ends_at=started + dt.timedelta(hours=2)
    )
    tomorrow = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(18, 30)))
    later = SessionFactory(
        cohort=cohort, title="Power analysis", starts_at=tomorrow, ends_at=tomorrow + dt.timedelta(hours=2)
    )
    module = ModuleFactory(version=version, title="Power")
    assignment = AssignmentFactory(module=module, title=ASSIGNMENT, due_offset_days=5, max_attempts=3)
    (criterion,) = rubric_add(assignment, criteria=1)
    criterion.title = CRITERION
    criterion.save()
    outbox = Outbox(live_server.url)

    # --- 1. Sign up: the confirmation email's link confirms the address ----------------------
    page.goto("/")
    page.get_by_role("main").get_by_role("link", name=_button("Sign up")).click()
    page.wait_for_url("**/accounts/signup/")
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD)
    page.get_by_role("button", name=_button("Sign up")).click()
    page.wait_for_url("**/accounts/confirm-email/")
    # allauth's email in the house's layout and voice, text and HTML.
    confirmation = _received(
        outbox,
        to=EMAIL,
        subject="Confirm your email address",
        line="To finish, confirm that this address is yours by opening this link:",
    )
    assert "Hello from" not in confirmation.body
    _follow(page, outbox.link(confirmation, "/accounts/confirm-email/"))
    page.get_by_role("button", name=_button("Confirm")).click()
    page.wait_for_url("**/welcome/consent/")
    page.get_by_label(re.compile(r"I agree to Future Leaders processing my data")).check()
    page.get_by_role("button", name="I agree and continue").click()
    page.wait_for_url("**/profile/")
    field(page, "First name").fill("Rosa")
    field(page, "Last name").fill("Jones")
    field(page, "Region or nation").select_option(label=seat.region.name)
    field(page, "Constituency").select_option(label=seat.name)
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url("**/my-training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rosa")
    assert outbox.new() == []  # consent and profile send nothing

    # --- 2. Find the cohort and apply: the applicant hears it arrived ------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a cohort").click()
    page.wait_for_url("**/cohorts/")
    page.get_by_role("link", name=COHORT).click()
    page.wait_for_url(f"**/cohorts/{cohort.pk}/")
    page.get_by_role("main").get_by_role("link", name="Apply", exact=True).click()
    page.wait_for_url(f"**/cohorts/{cohort.pk}/apply/")
    field(page, "Why you want to take part (optional)").fill("I run the tenants’ association.")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/my-training/")
    expect(_status(page, f"Your application to {COHORT} is sent. A trainer will review it.")).to_be_visible()
    received = _received(
        outbox,
        to=EMAIL,
        subject=f"We have your application to {PROGRAMME}",
        line="the cohort's trainers review each application and decide whether to offer a place",
    )
    _follow(page, outbox.link(received, "Your training page:"))
    expect(page.get_by_role("region", name="Your applications")).to_contain_text(
        "Your application is waiting for a trainer’s decision."
    )

    # --- 3. The daily digest reaches the trainer, who accepts; the trainee hears -------------
    applications_waiting_digest_task()
    digests = outbox.new()
    digest = outbox.one_to(digests, trainer)
    _check(
        digest,
        to=trainer,
        subject="1 application waiting for your decision",
        line=f"- {COHORT} ({PROGRAMME}): 1 waiting, the oldest from",
    )
    outbox.one_to(digests, staff)  # national staff decide too
    tomasz = sign_in(trainer)
    _follow(tomasz, outbox.link(digest, "Decide:"))
    cohort_manage_path = f"/manage/cohorts/{cohort.pk}/"
    assert tomasz.url.split("#")[0] == live_server.url + cohort_manage_path
    expect(tomasz.get_by_role("heading", level=1)).to_have_text(COHORT)
    tomasz.get_by_role("link", name=re.compile(r"^Decide\s*: Rosa Jones$")).click()
    tomasz.wait_for_url(re.compile(r"/manage/enrolments/\d+/decide/$"))
    tomasz.get_by_label("Accept", exact=True).check()
    tomasz.get_by_role("button", name="Save decision").click()
    tomasz.wait_for_url(f"**{cohort_manage_path}")
    expect(_status(tomasz, "Rosa Jones is enrolled.")).to_be_visible()
    decision = _received(
        outbox,
        to=EMAIL,
        subject=f"You have a place on {PROGRAMME}",
        line=f"You have a place in {COHORT} ({PROGRAMME})",
    )
    _follow(page, outbox.link(decision, "Your training page:"))
    expect(page.get_by_role("heading", level=2, name=COHORT)).to_be_visible()

    # --- 4. Check in to the session under way ------------------------------------------------
    next_session = page.locator(f"#next-session-{cohort.pk}")
    expect(page.get_by_text(under_way.title, exact=True)).to_be_visible()
    expect(next_session.get_by_role("button", name="I’ll be there")).to_have_count(0)
    next_session.get_by_role("link", name=re.compile(r"^Check in")).click()
    page.wait_for_url("**/check-in/")
    field(page, "Check-in code").fill(under_way.checkin_code)
    page.get_by_role("button", name="Check in").click()
    page.wait_for_url("**/my-training/")
    expect(_status(page, f"You’re checked in to {under_way.title} ({COHORT}).")).to_be_visible()
    expect(next_session.get_by_text("You’re checked in")).to_be_visible()
    expect(next_session.get_by_role("link", name=re.compile(r"^Check in"))).to_have_count(0)
    expect(next_session.get_by_role("button", name="I’ll be there")).to_have_count(0)
    expect(next_session.get_by_role("link", name="Send apologies")).to_have_count(0)
    assert outbox.new() == []

    # The sweep (every few minutes) reminds her of tomorrow's session, 48 hours ahead at the
    # latest; the one under way has started, so it asks nothing of her.
    notices_sweep()
    reminders = outbox.new()
    reminder = outbox.one_to(reminders, EMAIL)
    _check(
        reminder,
        to=EMAIL,
        subject=f"Reminder: {later.title} on {tomorrow:%a} {tomorrow.day} {tomorrow:%b} at 18:30",
        line=f"{later.title} ({COHORT})",
    )
    outbox.one_to(reminders, trainer)  # with a link to the register
    assert len(reminders) == 2
    _follow(page, outbox.link(reminder, "/emails/reply/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Can you come?")
    page.get_by_role("button", name="Yes, I’ll be there").click()
    expect(page.get_by_text("Your trainer knows you are coming. See you there.")).to_be_visible()
    assert outbox.new() == []

    # --- 5. The trainer writes to the cohort; the trainee replies -----------------------------
    tomasz.goto(cohort_manage_path)
    tomasz.get_by_role("link", name="Write to the cohort").click()
    tomasz.get_by_label("Those enrolled (1 person)").check()
    field(tomasz, "Subject").fill(MESSAGE_SUBJECT)
    field(tomasz, "Message").fill("Hello all,\n\nPlease bring your power map tonight.")
    tomasz.get_by_role("button", name="Send message").click()
    expect(_status(tomasz, "Your message is sent to 1 person.")).to_be_visible()
    to_trainee = _received(
        outbox,
        to=EMAIL,
        subject=f"{MESSAGE_SUBJECT} ({COHORT})",
        line="Please bring your power map tonight.",
    )
    _not_revealed(to_trainee, trainer.email)
    _follow(page, outbox.link(to_trainee, "Read it and reply in the platform"))
    expect(page.get_by_role("heading", name=MESSAGE_SUBJECT)).to_be_visible()
    field(page, "Your reply").fill("I will bring it, and a friend.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("I will bring it, and a friend.")).to_be_visible()
    reply = _received(
        outbox,
        to=trainer,
        subject=f"Reply from Rosa Jones: {MESSAGE_SUBJECT}",
        line="I will bring it, and a friend.",
    )
    _not_revealed(reply, EMAIL)
    _follow(tomasz, outbox.link(reply, "Read the thread and answer in the platform"))
    expect(tomasz.get_by_text("I will bring it, and a friend.")).to_be_visible()
    expect(field(tomasz, "Your answer")).to_be_visible()

    # --- 6. Hand in, resubmit, pass: the trainee hears each mark; the certificate follows -----
    page.goto("/my-training/")
    page.locator(f"#work-due-{cohort.pk}").get_by_role("link", name=ASSIGNMENT).click()
    page.wait_for_url(f"**/assignments/{assignment.pk}/")
    field(page, "Your answer").fill("The council's transport committee decides.")
    page.get_by_role("button", name="Hand in").click()
    expect(page.get_by_text("Waiting for your trainer to mark it.")).to_be_visible()
    assert outbox.new() == []  # the trainer finds it in the marking queue

    _mark_first_in_queue(
        tomasz,
        level="Not yet",
        feedback="A sharp map. Now say what you will do, and with whom.",
        outcome="Resubmit",
    )
    # The resubmission's own due date: by default RESUBMIT_DAYS from today (the cohort's date
    # for the assignment, five days away, being sooner).
    due_on = today + dt.timedelta(days=settings.RESUBMIT_DAYS)
    resubmit = _received(
        outbox,
        to=EMAIL,
        subject=f"Your work is marked: {ASSIGNMENT}, Resubmit",
        line=f"Read the feedback, then hand in attempt 2 on the assignment page (2 attempts left). "
        f"It is due by {due_on:%A} {due_on.day} {due_on:%B %Y}.",
    )
    _follow(page, outbox.link(resubmit, "Your feedback:"))
    expect(page.get_by_text("Now say what you will do, and with whom.")).to_be_visible()
    expect(page.get_by_role("heading", name="Attempt 2")).to_be_visible()
    field(page, "Your answer").fill("We will ask the chair to meet twenty tenants before the vote.")
    page.get_by_role("button", name="Hand in").click()
    expect(page.get_by_text("Waiting for your trainer to mark it.")).to_be_visible()

    _mark_first_in_queue(
        tomasz,
        level="Meets the standard",
        feedback="Clear and specific: a real plan. Well done.",
        outcome="Pass",
    )
    fresh = outbox.new()
    to_rosa = [message for message in fresh if message.to == [EMAIL]]
    # Both go as the mark commits: first the pass, then the certificate it completes.
    assert [message.subject for message in to_rosa] == [
        PREFIX + f"Your work is marked: {ASSIGNMENT}, Pass",
        PREFIX + f"Your certificate: {PROGRAMME}",
    ]
    passed, certified = to_rosa
    _check(
        passed,
        to=EMAIL,
        subject=f"Your work is marked: {ASSIGNMENT}, Pass",
        line="You have passed this assignment, so there is nothing more to hand in for it.",
    )
    _follow(page, outbox.link(passed, "Your feedback:"))
    expect(page.get_by_text("Clear and specific: a real plan. Well done.")).to_be_visible()
    certificate = Certificate.objects.get(enrolment__member__email=EMAIL)
    _check(
        certified,
        to=EMAIL,
        subject=f"Your certificate: {PROGRAMME}",
        line=f"Your certificate code is {certificate.code}.",
    )
    _follow(page, outbox.link(certified, "/certificates/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your certificates")
    anyone = page.context.browser.new_context(base_url=live_server.url).new_page()
    _follow(anyone, outbox.link(certified, f"/c/{certificate.code}/"))
    expect(anyone.get_by_text("Valid", exact=True)).to_be_visible()
    expect(anyone.get_by_text("Rosa Jones")).to_be_visible()
    anyone.context.close()

    # --- 7. Staff ask for second marking; the second marker agrees; the first marker hears ----
    nadia = sign_in(staff)
    nadia.goto("/manage/moderation/")
    field(nadia, "Trainer whose marks to check").select_option(label=f"Tomasz Trainer ({trainer.email})")
    field(nadia, "Second marker").select_option(label=f"Sade Second ({second_marker.email})")
    field(nadia, "How many marks").fill("2")  # both of the trainer's marks: no chance in the sample
    nadia.get_by_role("button", name="Send for moderation").click()
    expect(_status(nadia, "2 marks sent to Sade Second for second marking.")).to_be_visible()
    waiting = _received(
        outbox,
        to=second_marker,
        subject="2 pieces of work waiting for your second mark",
        line=f"- {ASSIGNMENT} ({COHORT}, attempt 2): ",
    )
    sade = sign_in(second_marker)
    _follow(sade, outbox.link(waiting, "attempt 2):"))
    expect(sade.get_by_role("heading", level=1)).to_have_text(ASSIGNMENT)
    _mark(sade, level="Meets the standard", feedback="A plan with names and a date: a pass.")
    sade.get_by_role("button", name="Save second mark").click()
    expect(
        _status(sade, "Second mark saved. Thank you. The first mark is now shown beside yours.")
    ).to_be_visible()
    agreed = _received(
        outbox,
        to=trainer,
        subject=f"Second marking agreed with your mark: {ASSIGNMENT}",
        line="The second marker reached the same outcome as you: Pass. Nothing changes.",
    )
    _follow(tomasz, outbox.link(agreed, "The marks on this work:"))
    history = tomasz.get_by_role("region", name="Marks so far")
    expect(history).to_contain_text("Clear and specific: a real plan. Well done.")
    # Second marks stay with those who moderate (selectors.marking.mark_list_for_marker).
    expect(history).not_to_contain_text("A plan with names and a date: a pass.")

    # --- 8. The week passes and the cohort ends: the enrolment is completed ------------------
    week = dt.timedelta(days=7)
    Cohort.objects.filter(pk=cohort.pk).update(
        enrolment_opens_on=cohort.enrolment_opens_on - week,
        enrolment_closes_on=cohort.enrolment_closes_on - week,
        starts_on=cohort.starts_on - week,
        ends_on=cohort.ends_on - week,
    )
    for session in (under_way, later):
        Session.objects.filter(pk=session.pk).update(
            starts_at=session.starts_at - week, ends_at=session.ends_at - week
        )
    report = cohorts_move_by_dates_task()
    assert report == {"started": 0, "finished": 1, "completed": 1, "incomplete": 0}
    assert Cohort.objects.get(pk=cohort.pk).status == CohortStatus.FINISHED
    assert Enrolment.objects.get(cohort=cohort, member__email=EMAIL).status == EnrolmentStatus.COMPLETED
    page.goto("/my-training/")
    finished = page.get_by_role("region", name="Finished cohorts")
    expect(finished).to_contain_text("Completed: your certificate")
    finished.get_by_role("link", name=re.compile(r"^your certificate")).click()
    page.wait_for_url("**/certificates/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your certificates")
    assert_accessible(page)
    assert outbox.new() == []

    # --- What a trainee receives from sign-up to certificate, in order ------------------------
    received_by_trainee = [message.subject for message in mail.outbox if message.to == [EMAIL]]
    assert all(subject.startswith(PREFIX) for subject in received_by_trainee)
    assert [subject.removeprefix(PREFIX) for subject in received_by_trainee] == [
        "Confirm your email address",
        f"We have your application to {PROGRAMME}",
        f"You have a place on {PROGRAMME}",
        f"Reminder: {later.title} on {tomorrow:%a} {tomorrow.day} {tomorrow:%b} at 18:30",
        f"{MESSAGE_SUBJECT} ({COHORT})",
        f"Your work is marked: {ASSIGNMENT}, Resubmit",
        f"Your work is marked: {ASSIGNMENT}, Pass",
        f"Your certificate: {PROGRAMME}",
    ]
