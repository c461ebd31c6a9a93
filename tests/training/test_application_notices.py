"""Applications through the notice ledger: the applicant hears that theirs arrived and what
happens next; whoever may decide a cohort's applications gets one digest a day.

Services and pages are exercised directly (tasks inline, mail in Django's outbox), with the
clock frozen; one test runs the digest task twice through a real Celery worker (CI=true).
"""

import datetime as dt
import re
import threading
from collections import Counter
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiResource
from api.services import api_token_create
from config.celery import app as celery_app
from members.models import User
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, RegionFactory, SessionFactory, UserFactory
from tests.training.test_notices_worker import (  # noqa: F401 - celery_worker, mail_dir, worker_database_url are fixtures
    WAIT,
    celery_worker,
    delivered,
    mail_dir,
    message_id,
    wait_until,
    worker_database_url,
)
from training.models import EnrolmentStatus, Notice, NoticeKind, NoticeStatus
from training.notices_applications import DECIDED, NOTHING_WAITING, WITHDRAWN
from training.services.application_notices import applications_waiting_digest_write
from training.services.enrolment import enrolment_apply, enrolment_decide, enrolment_withdraw
from training.services.notices import notice_preferences_set, notices_send
from training.tasks import applications_waiting_digest_task, notices_sweep

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Monday 7 December 2026, 8 a.m. in London (GMT): when beat runs the digest.
MONDAY_8AM = dt.datetime(2026, 12, 7, 8, 0, tzinfo=LONDON)
PREFIX = "[Future Leaders] "


@pytest.fixture
def clock(time_machine):
    def move(when: dt.datetime) -> None:
        time_machine.move_to(when, tick=False)

    move(MONDAY_8AM)
    return move


def outbox_to(member) -> list:
    return [message for message in mail.outbox if message.to == [member.email]]


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def received(**filters) -> list[Notice]:
    return list(Notice.objects.filter(kind=NoticeKind.APPLICATION_RECEIVED, **filters))


def path_of(url: str) -> str:
    assert url.startswith(settings.SITE_URL + "/"), url  # absolute, on this site
    parts = urlsplit(url)
    return parts.path


# --- Application received ---------------------------------------------------------------------


def test_applying_on_the_page_twice_sends_one_acknowledgement(
    client, clock, django_capture_on_commit_callbacks
):
    """A double click: the second POST is refused at the form, and one notice, one email go."""
    trainee = UserFactory()
    cohort = CohortFactory(name="Leeds")
    client.force_login(trainee)
    url = reverse("training:cohort-apply", args=[cohort.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"motivation": "My street needs me."}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"motivation": "My street needs me."})
    assert again.status_code == 400
    assert "already have a place or an application" in again.content.decode()

    [notice] = received()
    assert (notice.recipient_id, notice.status) == (trainee.pk, NoticeStatus.SENT)
    [message] = mail.outbox
    assert message.to == [trainee.email]
    # Sending the same notice again (a retried task) sends nothing more.
    assert notices_send([notice.pk]).sent == []
    assert len(mail.outbox) == 1


def test_staff_applying_through_the_api_tells_the_member_once(clock, django_capture_on_commit_callbacks):
    """The API's enrolment (enrolment_apply, on the member's behalf) tells the member, not staff."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    _token, raw = api_token_create(
        user=staff, name="Test", access="read_write", resources=list(ApiResource.values), expires_in_days=30
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    cohort = CohortFactory(reviews_applications=True)
    member = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/enrolments/", {"cohort": cohort.pk, "member": member.pk}, format="json")
        repeat = api.post("/api/v1/enrolments/", {"cohort": cohort.pk, "member": member.pk}, format="json")
    assert response.status_code == 201, response.content
    assert repeat.status_code == 400
    [message] = mail.outbox
    assert message.to == [member.email]
    assert message.subject == f"{PREFIX}We have your application to {cohort.version.programme.title}"
    assert f"Our staff applied on your behalf for a place in {cohort.name}" in message.body
    assert "Thank you for applying" not in message.body
    assert len(received()) == 1


def test_enrolled_at_once_names_the_first_session_and_links_my_training(
    client, clock, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(name="Leeds")
    SessionFactory(cohort=cohort, title="Power mapping")  # 18:30 on the first day
    member = UserFactory(first_name="Rosa")
    with django_capture_on_commit_callbacks(execute=True):
        enrolment = enrolment_apply(cohort=cohort, member=member)
    assert enrolment.status == EnrolmentStatus.ENROLLED

    [message] = outbox_to(member)
    programme = cohort.version.programme.title
    assert message.subject == f"{PREFIX}You have a place on {programme}"
    first_day = cohort.starts_on.strftime("%A %-d %B %Y")
    for body in (message.body, html_of(message)):
        assert "Thank you for applying to" in body
        assert "you are enrolled, and nobody needs to review your application" in body
        assert f"your first session, Power mapping, is on {first_day} at 18:30" in body
        assert settings.SITE_URL + reverse("training:my-training") in body
        assert "waiting list" not in body
    assert "List-Unsubscribe" not in message.extra_headers  # always sent: no unsubscribe

    client.force_login(member)
    assert client.get(path_of(settings.SITE_URL + reverse("training:my-training"))).status_code == 200


def test_enrolled_at_once_before_any_session_says_when_the_cohort_starts(
    clock, django_capture_on_commit_callbacks
):
    cohort = CohortFactory()
    member = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_apply(cohort=cohort, member=member)
    [message] = outbox_to(member)
    assert f"the cohort starts on {cohort.starts_on.strftime('%A %-d %B %Y')}" in message.body


def test_waitlisted_applicants_learn_their_place_in_the_queue_and_the_offer_to_come(
    clock, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(capacity=1)
    EnrolmentFactory(cohort=cohort)  # the one place is taken
    first, second = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_apply(cohort=cohort, member=first)
        enrolment_apply(cohort=cohort, member=second)

    [to_first] = outbox_to(first)
    [to_second] = outbox_to(second)
    assert to_second.subject == f"{PREFIX}You are on the waiting list for {cohort.version.programme.title}"
    assert "you are number 1 in the queue" in to_first.body
    for body in (to_second.body, html_of(to_second)):
        assert "you are number 2 in the queue" in body
        assert "it is offered to the first person on the waiting list" in body
        # The same words as the offer's own notice (enrolment_decision).
        assert "We will write as soon as a place is free for you" in body
        assert "accept or decline it on your training page" in body


def test_an_application_to_review_says_who_decides_by_when_and_that_the_decision_is_emailed(
    clock, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(reviews_applications=True)
    member = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment = enrolment_apply(cohort=cohort, member=member)
    assert enrolment.status == EnrolmentStatus.APPLIED

    [message] = outbox_to(member)
    closes = cohort.enrolment_closes_on.strftime("%A %-d %B %Y")
    for body in (message.body, html_of(message)):
        assert "the cohort's trainers review each application" in body.replace("&#x27;", "'")
        assert f"You should hear before applications close on {closes}" in body
        assert "we will email you the decision" in body
        assert "withdraw your application on your training page" in body


def test_an_application_on_the_closing_day_is_promised_a_decision_before_the_start(
    clock, django_capture_on_commit_callbacks
):
    today = MONDAY_8AM.date()
    cohort = CohortFactory(reviews_applications=True, enrolment_closes_on=today)
    member = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_apply(cohort=cohort, member=member)
    [message] = outbox_to(member)
    assert f"before the cohort starts on {cohort.starts_on.strftime('%A %-d %B %Y')}" in message.body


def test_an_acknowledgement_not_yet_sent_is_dropped_when_the_application_is_withdrawn(clock):
    """The broker was down when they applied; they withdrew before the sweep sent it."""
    cohort = CohortFactory(reviews_applications=True)
    member = UserFactory()
    enrolment = enrolment_apply(cohort=cohort, member=member)  # its on-commit send never runs
    enrolment_withdraw(enrolment=enrolment, actor=member)

    notices_sweep()

    assert mail.outbox == []
    [notice] = received()
    assert (notice.status, notice.outcome) == (NoticeStatus.SKIPPED, WITHDRAWN)


def test_an_acknowledgement_overtaken_by_the_decision_is_dropped_and_only_the_decision_goes(clock):
    """A trainer decided before the acknowledgement went: "awaiting review" is no longer true."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(reviews_applications=True, trainers=[trainer])
    member = UserFactory()
    enrolment = enrolment_apply(cohort=cohort, member=member)
    enrolment_decide(enrolment=enrolment, accept=True, actor=trainer)

    notices_sweep()

    [message] = outbox_to(member)
    assert message.subject == f"{PREFIX}You have a place on {cohort.version.programme.title}"
    [notice] = received()
    assert (notice.status, notice.outcome) == (NoticeStatus.SKIPPED, DECIDED)


# --- Applications waiting: the daily digest ----------------------------------------------------


def national_staff(region=None):
    user = UserFactory(role=Role.NATIONAL_STAFF)
    if region is not None:
        User.objects.filter(pk=user.pk).update(staff_region=region)
        user.staff_region = region
    return user


def applied(cohort, *, count: int = 1, at=None):
    for _ in range(count):
        EnrolmentFactory(
            cohort=cohort,
            member__onboarding=False,
            status=EnrolmentStatus.APPLIED,
            applied_at=at or MONDAY_8AM,
            status_changed_at=at or MONDAY_8AM,
        )


@pytest.fixture
def deciders(clock):
    """Two regions. North: Leeds (2 waiting, oldest 5 days) and Hull (none). South: Bristol
    (1 waiting, since yesterday). Each cohort has its own trainer."""
    north, south, east = RegionFactory(name="North"), RegionFactory(name="South"), RegionFactory(name="East")
    people = {
        "leeds_trainer": UserFactory(role=Role.TRAINER),
        "hull_trainer": UserFactory(role=Role.TRAINER),
        "bristol_trainer": UserFactory(role=Role.TRAINER),
        "staff_everywhere": national_staff(),
        "staff_north": national_staff(north),
        "staff_east": national_staff(east),
        "regional_north": UserFactory(role=Role.REGIONAL_STAFF, staff_region=north),  # reads, never decides
    }
    leeds = CohortFactory(
        name="Leeds", region=north, reviews_applications=True, trainers=[people["leeds_trainer"]]
    )
    hull = CohortFactory(
        name="Hull", region=north, reviews_applications=True, trainers=[people["hull_trainer"]]
    )
    bristol = CohortFactory(
        name="Bristol", region=south, reviews_applications=True, trainers=[people["bristol_trainer"]]
    )
    applied(leeds, at=MONDAY_8AM - dt.timedelta(days=5))
    applied(leeds)
    applied(bristol, at=MONDAY_8AM - dt.timedelta(days=1))
    EnrolmentFactory(cohort=hull)  # enrolled, not waiting
    EnrolmentFactory(cohort=leeds, status=EnrolmentStatus.WAITLISTED)  # not waiting for a decision
    return people, {"leeds": leeds, "hull": hull, "bristol": bristol}


def digest_urls(message) -> list[str]:
    return re.findall(r"Decide: (\S+)", message.body)


def test_the_digest_goes_once_a_day_to_each_decider_with_their_cohorts_only(
    deciders, clock, django_capture_on_commit_callbacks
):
    people, cohorts = deciders
    with django_capture_on_commit_callbacks(execute=True):
        result = applications_waiting_digest_task.delay().get()
    assert result == {"waiting_to_send": 4}

    told = {person: outbox_to(user) for person, user in people.items()}
    assert {person for person, messages in told.items() if messages} == {
        "leeds_trainer",
        "bristol_trainer",
        "staff_everywhere",
        "staff_north",
    }
    [to_leeds] = told["leeds_trainer"]
    assert to_leeds.subject == f"{PREFIX}2 applications waiting for your decision"
    assert "Leeds" in to_leeds.body
    assert "Bristol" not in to_leeds.body
    assert "2 waiting, the oldest from 2 December (5 days ago)" in to_leeds.body
    assert "List-Unsubscribe" in to_leeds.extra_headers  # a digest may be turned off
    [to_everywhere] = told["staff_everywhere"]
    assert to_everywhere.subject == f"{PREFIX}3 applications waiting for your decision"
    # Oldest first, each with its link.
    assert digest_urls(to_everywhere) == [
        settings.SITE_URL + reverse("training:cohort-manage", args=[cohort.pk]) + "#people-heading"
        for cohort in (cohorts["leeds"], cohorts["bristol"])
    ]
    assert "1 waiting, the oldest from 6 December (yesterday)" in to_everywhere.body
    html = html_of(to_everywhere)
    for url in digest_urls(to_everywhere):
        assert f'href="{url}"' in html
    [to_north] = told["staff_north"]
    assert "Bristol" not in to_north.body
    assert {n.subject for n in Notice.objects.filter(kind=NoticeKind.APPLICATIONS_WAITING)} == {
        "applications-waiting:2026-12-07"
    }

    # Run again the same day (a second beat, a retry): nothing more is written or sent.
    clock(MONDAY_8AM + dt.timedelta(hours=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert applications_waiting_digest_task.delay().get() == {"waiting_to_send": 0}
    assert len(mail.outbox) == 4
    assert Notice.objects.filter(kind=NoticeKind.APPLICATIONS_WAITING).count() == 4

    # The next day, those still waiting are summed up again.
    clock(MONDAY_8AM + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        applications_waiting_digest_task.delay().get()
    assert len(mail.outbox) == 8


def test_each_link_in_the_digest_opens_the_applications_for_its_recipient(
    client, deciders, django_capture_on_commit_callbacks
):
    people, _cohorts = deciders
    with django_capture_on_commit_callbacks(execute=True):
        applications_waiting_digest_write()
    opened = 0
    for user in people.values():
        for message in outbox_to(user):
            client.force_login(user)
            for url in digest_urls(message):
                page = client.get(path_of(url))
                assert page.status_code == 200, (user, url)
                assert "Applications awaiting a decision" in page.content.decode()
                opened += 1
    assert opened == 5  # Leeds trainer 1, Bristol trainer 1, staff everywhere 2, staff North 1


def test_members_who_turned_the_digest_off_get_none(deciders, django_capture_on_commit_callbacks):
    people, _cohorts = deciders
    notice_preferences_set(member=people["staff_everywhere"], muted_kinds=[NoticeKind.APPLICATIONS_WAITING])
    with django_capture_on_commit_callbacks(execute=True):
        applications_waiting_digest_write()
    assert outbox_to(people["staff_everywhere"]) == []
    assert len(mail.outbox) == 3


def test_a_digest_written_but_not_sent_counts_afresh_and_is_dropped_once_all_are_decided(deciders):
    people, cohorts = deciders
    applications_waiting_digest_write()  # on-commit sends never run: all four wait
    leeds = cohorts["leeds"].enrolments.filter(status=EnrolmentStatus.APPLIED)
    enrolment_decide(enrolment=leeds.first(), accept=True, actor=people["leeds_trainer"])
    enrolment_decide(enrolment=leeds.first(), accept=False, message="Full", actor=people["leeds_trainer"])

    notices_sweep()

    digests = Notice.objects.filter(kind=NoticeKind.APPLICATIONS_WAITING)
    skipped = digests.get(recipient=people["leeds_trainer"])
    assert (skipped.status, skipped.outcome) == (NoticeStatus.SKIPPED, NOTHING_WAITING)
    [to_everywhere] = outbox_to(people["staff_everywhere"])
    assert to_everywhere.subject == f"{PREFIX}1 application waiting for your decision"
    assert "Leeds" not in to_everywhere.body


def test_a_disabled_decider_gets_no_digest(deciders, django_capture_on_commit_callbacks):
    people, _cohorts = deciders
    User.objects.filter(pk=people["staff_north"].pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        applications_waiting_digest_write()
    assert outbox_to(people["staff_north"]) == []


def test_nothing_waiting_writes_nothing(clock):
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(reviews_applications=True, trainers=[trainer])
    EnrolmentFactory(cohort=cohort)
    national_staff()
    assert applications_waiting_digest_write() == []
    assert not Notice.objects.exists()


def _measure(*, cohorts: int, per_cohort: int) -> tuple[int, int, int]:
    """(queries to write the digests, digests written, queries to send them less one per
    message recorded sent), then undo."""
    with transaction.atomic():
        national_staff()
        national_staff(RegionFactory())
        for _ in range(cohorts):
            cohort = CohortFactory(reviews_applications=True, trainers=[UserFactory(role=Role.TRAINER)])
            applied(cohort, count=per_cohort)
        with CaptureQueriesContext(connection) as writing:
            ids = applications_waiting_digest_write()
        with CaptureQueriesContext(connection) as sending:
            report = notices_send(ids)
        assert len(report.sent) == len(ids)
        transaction.set_rollback(True)
    return len(writing), len(ids), len(sending) - len(report.sent)


def test_writing_and_sending_the_digest_take_the_same_queries_for_2_or_12_cohorts(clock):
    small = _measure(cohorts=2, per_cohort=1)
    large = _measure(cohorts=12, per_cohort=5)
    assert (small[1], large[1]) == (3, 13)  # a trainer per cohort, and the staff without a region
    assert small[0] == large[0]
    assert small[2] == large[2]
    # Measured (SQLite and PostgreSQL): 6 to write (waiting, trainers, staff, mutes, insert,
    # ids), 7 to send a batch besides the one UPDATE per message recorded sent.
    assert (small[0], small[2]) == (6, 7)


def _measure_acknowledgements(applicants: int) -> int:
    """Queries to send a batch of acknowledgements (the three kinds, across two cohorts), less
    one per message recorded sent; then undo."""
    with transaction.atomic():
        open_cohort, full_cohort = CohortFactory(), CohortFactory(capacity=1)
        SessionFactory(cohort=open_cohort)
        EnrolmentFactory(cohort=full_cohort)
        reviewed = CohortFactory(reviews_applications=True)
        for cohort in (open_cohort, full_cohort, reviewed):
            for _ in range(applicants):
                enrolment_apply(cohort=cohort, member=UserFactory(onboarding=False))
        ids = [notice.pk for notice in received()]
        with CaptureQueriesContext(connection) as sending:
            report = notices_send(ids)
        assert len(report.sent) == len(ids) == 3 * applicants
        transaction.set_rollback(True)
    return len(sending) - len(report.sent)


def test_sending_acknowledgements_takes_the_same_queries_for_3_or_30(clock):
    assert _measure_acknowledgements(1) == _measure_acknowledgements(10)


def test_the_digest_runs_daily_from_beat_on_the_sweeps_queue():
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "training.applications_waiting_digest"
    ]
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({8}, {0})
    assert settings.CELERY_TASK_ROUTES["training.applications_waiting_digest"] == {
        "queue": settings.SWEEPS_QUEUE
    }


# --- Real PostgreSQL and a real worker ---------------------------------------------------------


def _committed_deciders() -> set[int]:
    """Leeds (trainer, 2 waiting) and Bristol (trainer, 1 waiting), and national staff: the
    four people who should hear, by id."""
    leeds_trainer, bristol_trainer = UserFactory(role=Role.TRAINER), UserFactory(role=Role.TRAINER)
    leeds = CohortFactory(name="Leeds", reviews_applications=True, trainers=[leeds_trainer])
    bristol = CohortFactory(name="Bristol", reviews_applications=True, trainers=[bristol_trainer])
    for cohort, count in ((leeds, 2), (bristol, 1)):
        for _ in range(count):
            EnrolmentFactory(cohort=cohort, member__onboarding=False, status=EnrolmentStatus.APPLIED)
    staff = [national_staff(), national_staff(leeds.region)]
    UserFactory(role=Role.TRAINER)  # trains nothing with applications waiting
    return {leeds_trainer.pk, bristol_trainer.pk, *(user.pk for user in staff)}


@pytest.mark.django_db(transaction=True)
def test_two_digests_written_at_once_write_one_per_person(worker_database_url):  # noqa: F811
    """Two beats fire together: the unique constraint keeps one digest per person, and each is
    sent once."""
    people = _committed_deciders()
    start = threading.Barrier(2)
    errors = []

    def write():
        try:
            start.wait(timeout=WAIT)
            applications_waiting_digest_write()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert errors == []
    digests = Notice.objects.filter(kind=NoticeKind.APPLICATIONS_WAITING)
    assert sorted(digests.values_list("recipient_id", flat=True)) == sorted(people)
    assert Counter(message.to[0] for message in mail.outbox) == Counter(
        User.objects.filter(pk__in=people).values_list("email", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_the_digest_task_run_twice_through_a_worker_sends_each_person_one(celery_worker, mail_dir):  # noqa: F811
    people = _committed_deciders()
    assert not celery_app.conf.task_always_eager
    celery_worker.start()

    assert applications_waiting_digest_task.delay().get(timeout=WAIT) == {"waiting_to_send": 4}
    digests = Notice.objects.filter(kind=NoticeKind.APPLICATIONS_WAITING).select_related("recipient")
    wait_until(
        lambda: digests.count() == 4 and not digests.exclude(status=NoticeStatus.SENT).exists(),
        what="every digest is sent",
        worker=celery_worker,
    )
    assert applications_waiting_digest_task.delay().get(timeout=WAIT) == {"waiting_to_send": 0}
    celery_worker.drain()

    messages = delivered(mail_dir)
    assert len(messages) == 4
    assert Counter(mid for _to, mid in messages) == Counter(message_id(notice.pk) for notice in digests)
    assert {to for to, _mid in messages} == {notice.recipient.email for notice in digests}
    assert {notice.recipient_id for notice in digests} == people
