"""A trainer's messages to their cohort and the replies: sent once to those in the audience
then, kept in the cohort's history, read and answered in the platform, never showing either
side's email address, and part of members' data export and erasure. Pages through the HTTP
client; the ledger's letters through notices_send."""

import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.data_rights import data_sections
from members.erasure import account_erase
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import (
    CohortMessage,
    EnrolmentStatus,
    MessageAudience,
    MessageRecipient,
    MessageReply,
    Notice,
    NoticeKind,
    NoticeStatus,
)
from training.notices_messages import LEFT_COHORT
from training.services.enrolment import enrolment_withdraw
from training.services.messages import MESSAGES_PER_HOUR, cohort_message_send, message_reply_add
from training.services.notices import notices_send

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def cohort(seeded):
    """A cohort with a trainer, two enrolled, one waiting, one applicant, one who withdrew,
    and a trainee of another cohort."""
    trainer = UserFactory(
        role=Role.TRAINER, first_name="Tess", last_name="Trainer", email="tess@trainers.example"
    )
    cohort = CohortFactory(name="Leeds Spring", trainers=[trainer])
    people = {
        "ada": EnrolmentFactory(cohort=cohort, member__first_name="Ada", member__email="ada@home.example"),
        "bo": EnrolmentFactory(cohort=cohort, member__first_name="Bo"),
        "wendy": EnrolmentFactory(
            cohort=cohort, status=EnrolmentStatus.WAITLISTED, member__first_name="Wendy"
        ),
        "applicant": EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED),
        "gone": EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WITHDRAWN),
        "other": EnrolmentFactory(member__first_name="Otto"),
    }
    cohort.trainer = trainer
    cohort.enrolment = people
    cohort.people = {name: enrolment.member for name, enrolment in people.items()}
    return cohort


def _send(
    cohort, *, audience=MessageAudience.EVERYONE, subject="Week two", body="See you **Tuesday**.", author=None
):
    return cohort_message_send(
        cohort=cohort,
        author=author or cohort.trainer,
        audience=audience,
        subject=subject,
        body=body,
        send_key=uuid.uuid4(),
    )


def _post_data(**overrides):
    data = {
        "audience": "everyone",
        "subject": "Week two",
        "body": "Bring a pen.",
        "send_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def _notified(kind=NoticeKind.COHORT_MESSAGE) -> set[int]:
    return set(Notice.objects.filter(kind=kind).values_list("recipient_id", flat=True))


# --- Sending --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "names"),
    [
        (MessageAudience.EVERYONE, {"ada", "bo", "wendy"}),
        (MessageAudience.ENROLLED, {"ada", "bo"}),
        (MessageAudience.WAITLIST, {"wendy"}),
    ],
)
def test_sending_writes_one_notice_per_recipient_in_the_audience_and_none_to_others(cohort, audience, names):
    """Those in the audience get one notice each; applicants, those who withdrew, other
    cohorts and the trainer get none."""
    message = _send(cohort, audience=audience)
    wanted = {cohort.people[name].pk for name in names}
    assert _notified() == wanted
    assert Notice.objects.filter(kind=NoticeKind.COHORT_MESSAGE).count() == len(wanted)
    assert set(Notice.objects.values_list("subject", flat=True)) == {f"cohort-message:{message.pk}"}
    assert set(message.recipients.values_list("member_id", flat=True)) == wanted
    assert message.recipient_count == len(wanted)


def test_the_trainer_sends_from_the_page_and_each_recipient_gets_one_email(
    client, cohort, django_capture_on_commit_callbacks, settings
):
    """One email each, from the platform's address with no Reply-To, text and HTML, escaped,
    with an absolute link to read and reply; the history lists it."""
    client.force_login(cohort.trainer)
    url = reverse("training:message-create", args=[cohort.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _post_data(subject="Week <two>", body=f"Hello *all*. {HOSTILE}"))
    assert response.status_code == 302
    message = CohortMessage.objects.get()
    recipients = {cohort.people[name].email for name in ("ada", "bo", "wendy")}
    assert sorted(address for email in mail.outbox for address in email.to) == sorted(recipients)
    link = settings.SITE_URL + reverse("training:message-thread", args=[message.pk])
    for email in mail.outbox:
        html = email.alternatives[0][0]
        assert email.from_email == settings.DEFAULT_FROM_EMAIL
        assert not email.reply_to
        assert "Reply-To" not in email.extra_headers
        assert "Week <two>" in email.subject
        assert link in email.body
        assert link in html
        assert "<script>" not in html
        assert "onerror" not in html
        assert "<em>all</em>" in html
        assert cohort.trainer.email not in email.body + html + email.subject
    assert set(Notice.objects.values_list("status", flat=True)) == {NoticeStatus.SENT}

    page = client.get(reverse("training:cohort-manage", args=[cohort.pk])).content.decode()
    assert "Week &lt;two&gt;" in page
    assert "3 people" in page
    assert "Tess Trainer" in page


def test_the_same_form_sent_twice_sends_one_message(client, cohort, django_capture_on_commit_callbacks):
    """A double click (the same send key) finds the first message: no second message, notice or email."""
    client.force_login(cohort.trainer)
    url = reverse("training:message-create", args=[cohort.pk])
    data = _post_data()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
        assert client.post(url, data).status_code == 302
    assert CohortMessage.objects.count() == 1
    assert Notice.objects.count() == 3
    assert len(mail.outbox) == 3


def test_the_ledger_sends_a_message_once_however_often_asked(cohort):
    _send(cohort)
    ids = list(Notice.objects.values_list("pk", flat=True))
    assert len(notices_send(ids).sent) == 3
    assert notices_send(ids).sent == []
    assert len(mail.outbox) == 3


def test_recipients_are_fixed_when_it_is_sent(client, cohort):
    """Someone enrolled afterwards neither gets it nor can open it."""
    message = _send(cohort, audience=MessageAudience.ENROLLED)
    late = EnrolmentFactory(cohort=cohort).member
    assert late.pk not in _notified()
    client.force_login(late)
    assert client.get(reverse("training:message-thread", args=[message.pk])).status_code == 404
    assert message.subject not in client.get(reverse("training:message-inbox")).content.decode()


def test_a_notice_not_yet_sent_to_someone_who_withdrew_is_dropped(cohort):
    _send(cohort, audience=MessageAudience.ENROLLED)
    enrolment_withdraw(enrolment=cohort.enrolment["bo"], actor=cohort.people["bo"])
    report = notices_send(
        list(Notice.objects.filter(kind=NoticeKind.COHORT_MESSAGE).values_list("pk", flat=True))
    )
    bo_notice = Notice.objects.get(kind=NoticeKind.COHORT_MESSAGE, recipient=cohort.people["bo"])
    assert report.skipped == {bo_notice.pk: LEFT_COHORT}
    assert [email.to for email in mail.outbox] == [[cohort.people["ada"].email]]


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"subject": ""}, "subject", "Give the message a subject."),
        ({"body": "  "}, "body", "Write the message."),
        ({"subject": "x" * 151}, "subject", "Keep it to 150 characters (it has 151)."),
        ({"body": "x" * 5001}, "body", "Keep it to 5000 characters (it has 5001)."),
        ({"audience": ""}, "audience", "Choose who the message is for."),
        ({"audience": "everybody"}, "audience", "Select a valid choice."),
        ({"send_key": "not-a-key"}, "send_key", "valid UUID"),
    ],
)
def test_bad_messages_are_refused_at_the_field(client, cohort, overrides, field, text):
    client.force_login(cohort.trainer)
    response = client.post(reverse("training:message-create", args=[cohort.pk]), _post_data(**overrides))
    assert response.status_code == 400
    assert any(text in error for error in response.context["form"].errors[field])
    assert not CohortMessage.objects.exists()


def test_an_audience_with_nobody_in_it_is_refused_with_a_clear_message(client, cohort):
    cohort.enrolment["wendy"].delete()
    client.force_login(cohort.trainer)
    response = client.post(
        reverse("training:message-create", args=[cohort.pk]), _post_data(audience="waitlist")
    )
    assert response.status_code == 400
    (error,) = response.context["form"].errors["audience"]
    assert "Nobody is in this audience now" in error
    assert "The waiting list (0 people)" in response.content.decode()
    assert not Notice.objects.exists()


def test_sending_is_limited_per_hour(client, cohort):
    for _ in range(MESSAGES_PER_HOUR):
        _send(cohort)
    client.force_login(cohort.trainer)
    response = client.post(reverse("training:message-create", args=[cohort.pk]), _post_data())
    assert response.status_code == 400
    assert "Please wait before sending more" in str(response.context["form"].non_field_errors())
    assert CohortMessage.objects.count() == MESSAGES_PER_HOUR


# --- Reading and replying ---------------------------------------------------------------------------


def test_the_trainee_reads_and_replies_the_trainer_is_told_and_answers(
    client, cohort, django_capture_on_commit_callbacks, settings
):
    message = _send(cohort, body="Read *chapter 2*.")
    ada, trainer = cohort.people["ada"], cohort.trainer
    client.force_login(ada)
    assert reverse("training:message-inbox") in client.get(reverse("training:my-training")).content.decode()
    inbox = client.get(reverse("training:message-inbox")).content.decode()
    assert reverse("training:message-thread", args=[message.pk]) in inbox
    url = reverse("training:message-thread", args=[message.pk])
    page = client.get(url).content.decode()
    assert "<em>chapter 2</em>" in page
    assert "Tess Trainer" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"body": f"Can I come late? {HOSTILE}"})
    assert response.status_code == 302
    reply = MessageReply.objects.get()
    assert reply.from_trainee
    assert reply.author == ada
    assert _notified(NoticeKind.MESSAGE_REPLY) == {trainer.pk}
    (email,) = mail.outbox
    thread_link = settings.SITE_URL + reverse("training:message-thread-manage", args=[reply.thread_id])
    html = email.alternatives[0][0]
    assert email.to == [trainer.email]
    assert not email.reply_to
    assert thread_link in email.body
    assert thread_link in html
    assert "Can I come late?" in email.body
    assert "<script>" not in html
    assert ada.email not in email.body + html + email.subject

    mail.outbox.clear()
    client.force_login(trainer)
    thread_page = client.get(thread_link.removeprefix(settings.SITE_URL)).content.decode()
    assert "Can I come late?" in thread_page
    assert "&lt;script&gt;" in thread_page
    assert ada.email not in thread_page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(thread_link.removeprefix(settings.SITE_URL), {"body": "Yes, of course."})
    assert response.status_code == 302
    (answer_email,) = mail.outbox
    assert answer_email.to == [ada.email]
    assert "Yes, of course." in answer_email.body
    assert trainer.email not in answer_email.body + answer_email.alternatives[0][0]
    client.force_login(ada)
    assert "Yes, of course." in client.get(url).content.decode()


def test_an_empty_reply_is_refused_at_the_field(client, cohort):
    message = _send(cohort)
    client.force_login(cohort.people["ada"])
    response = client.post(reverse("training:message-thread", args=[message.pk]), {"body": " "})
    assert response.status_code == 400
    assert response.context["form"].errors["body"] == ["Write your reply."]
    assert not MessageReply.objects.exists()


def test_another_trainee_cannot_see_a_message_or_thread_not_theirs(client, cohort):
    """Someone it was not sent to (the waiting list's message, another cohort) gets a 404,
    and a recipient sees only their own thread."""
    message = _send(cohort, audience=MessageAudience.WAITLIST)
    message_reply_add(thread=message.recipients.get(), author=cohort.people["wendy"], body="Wendy's secret")
    for name in ("ada", "other", "applicant"):
        client.force_login(cohort.people[name])
        url = reverse("training:message-thread", args=[message.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "Hi"}).status_code == 404
    everyone = _send(cohort)
    client.force_login(cohort.people["ada"])
    assert (
        "Wendy's secret"
        not in client.get(reverse("training:message-thread", args=[everyone.pk])).content.decode()
    )
    assert MessageReply.objects.count() == 1


def test_a_trainer_of_another_cohort_and_regional_staff_cannot_reach_the_messages(client, cohort):
    message = _send(cohort)
    thread = message.recipients.first()
    outsider = UserFactory(role=Role.TRAINER)
    CohortFactory(trainers=[outsider])
    client.force_login(outsider)
    for url in (
        reverse("training:message-create", args=[cohort.pk]),
        reverse("training:message-detail-manage", args=[message.pk]),
        reverse("training:message-thread-manage", args=[thread.pk]),
    ):
        assert client.get(url).status_code == 404
    client.force_login(cohort.people["ada"])
    assert client.get(reverse("training:message-thread-manage", args=[thread.pk])).status_code == 403
    regional = UserFactory(role=Role.REGIONAL_STAFF, staff_region=cohort.region)
    client.force_login(regional)
    assert client.get(reverse("training:message-create", args=[cohort.pk])).status_code == 403
    manage = client.get(reverse("training:cohort-manage", args=[cohort.pk]))
    assert manage.status_code == 200
    assert message.subject not in manage.content.decode()


def test_staff_who_manage_cohorts_write_and_are_told_of_replies(
    client, cohort, django_capture_on_commit_callbacks
):
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Sam", last_name="Staff")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("training:message-create", args=[cohort.pk]), _post_data(audience="enrolled"))
    message = CohortMessage.objects.get(author=staff)
    message_reply_add(
        thread=message.recipients.first(), author=message.recipients.first().member, body="Thanks"
    )
    assert _notified(NoticeKind.MESSAGE_REPLY) == {staff.pk, cohort.trainer.pk}


def test_no_email_address_of_the_other_side_appears_when_names_are_missing(client, cohort):
    """Members without a name are "A trainee" / "Your trainer", never their address."""
    trainer, ada = cohort.trainer, cohort.people["ada"]
    for member in (trainer, ada):
        member.first_name = member.last_name = ""
        member.save(update_fields=["first_name", "last_name"])
    message = _send(cohort)
    reply = message_reply_add(thread=message.recipients.get(member=ada), author=ada, body="Hello")
    message_reply_add(thread=reply.thread, author=trainer, body="Hello back")
    notices_send(list(Notice.objects.values_list("pk", flat=True)))
    for email in mail.outbox:
        text = email.subject + email.body + email.alternatives[0][0]
        assert trainer.email not in text
        if email.to != [ada.email]:
            assert ada.email not in text
    client.force_login(trainer)
    for url in (
        reverse("training:cohort-manage", args=[cohort.pk]),
        reverse("training:message-detail-manage", args=[message.pk]),
        reverse("training:message-thread-manage", args=[reply.thread_id]),
    ):
        page = client.get(url).content.decode()
        assert ada.email not in page.split('id="people-heading"')[0]  # the People list is not ours
    client.force_login(ada)
    for url in (reverse("training:message-inbox"), reverse("training:message-thread", args=[message.pk])):
        page = client.get(url).content.decode()
        assert trainer.email not in page
        assert "Your trainer" in page


# --- Query counts ----------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_history_thread_and_inbox_pages_run_a_fixed_number_of_queries(client, cohort, monkeypatch):
    """The same count with 1 and with 12 messages, threads and replies."""
    monkeypatch.setattr("training.services.messages.MESSAGES_PER_HOUR", 100)
    monkeypatch.setattr("training.services.messages.REPLIES_PER_HOUR", 100)
    ada = cohort.people["ada"]

    def grow(times):
        for index in range(times):
            message = _send(cohort, subject=f"Message {index}")
            for recipient in message.recipients.all():
                message_reply_add(thread=recipient, author=recipient.member, body="Reply")
        thread = MessageRecipient.objects.filter(member=ada).order_by("-pk").first()
        for _ in range(times):
            message_reply_add(thread=thread, author=ada, body="More")
            message_reply_add(thread=thread, author=cohort.trainer, body="Answer")
        return thread

    def counts(thread):
        client.force_login(cohort.trainer)
        trainer_side = [
            _count(client, reverse("training:cohort-manage", args=[cohort.pk])),
            _count(client, reverse("training:message-detail-manage", args=[thread.message_id])),
            _count(client, reverse("training:message-thread-manage", args=[thread.pk])),
        ]
        client.force_login(ada)
        return trainer_side + [
            _count(client, reverse("training:message-inbox")),
            _count(client, reverse("training:message-thread", args=[thread.message_id])),
        ]

    thread = grow(1)
    counts(thread)  # once first: per-process caches (content types) are filled
    small = counts(thread)
    large = counts(grow(11))
    assert small == large, f"queries with 1 message: {small}, with 12: {large}"
    print("queries (manage page, message, trainer's thread, inbox, trainee's thread):", small)


# --- Data rights -------------------------------------------------------------------------------------


def _export(user) -> dict:
    return {section.name: section.export(user).data for section in data_sections()}["training_messages"]


def test_the_data_export_holds_the_messages_and_replies(cohort):
    ada, trainer = cohort.people["ada"], cohort.trainer
    message = _send(cohort, subject="Week two", body="Bring a pen.")
    thread = message.recipients.get(member=ada)
    message_reply_add(thread=thread, author=ada, body="Which pen?")
    message_reply_add(thread=thread, author=trainer, body="Any pen.")
    exported = _export(ada)
    (received,) = exported["messages_to_you"]
    assert received["subject"] == "Week two"
    assert received["message"] == "Bring a pen."
    assert [(row["from"], row["text"]) for row in received["thread"]] == [
        ("you", "Which pen?"),
        ("trainer", "Any pen."),
    ]
    assert trainer.email not in str(exported)
    written = _export(trainer)
    assert written["messages_you_sent_to_cohorts"][0]["sent_to_people"] == 3
    assert written["your_answers_to_trainees"][0]["text"] == "Any pen."
    assert "Which pen?" not in str(_export(cohort.people["bo"]))


def test_erasure_removes_the_members_messages_and_replies(cohort):
    ada, bo, trainer = cohort.people["ada"], cohort.people["bo"], cohort.trainer
    message = _send(cohort, body="Ada, please bring the flip chart.")
    thread = message.recipients.get(member=ada)
    message_reply_add(thread=thread, author=ada, body="I will.")
    message_reply_add(thread=thread, author=trainer, body="Thanks Ada.")
    message_reply_add(thread=message.recipients.get(member=bo), author=bo, body="Me too.")
    full_name = ada.get_full_name()
    message.body = f"{full_name}, please bring the flip chart."
    message.save(update_fields=["body"])

    account_erase(user=ada, actor=ada)

    assert not MessageRecipient.objects.filter(member=ada).exists()
    assert list(MessageReply.objects.values_list("body", flat=True)) == ["Me too."]
    message.refresh_from_db()
    assert full_name not in message.body
    assert message.recipient_count == 3
    assert _export(ada)["messages_to_you"] == []


def test_the_letter_writers_read_a_batch_in_a_fixed_number_of_queries(cohort):
    """One message's letters and six messages' letters cost the same queries."""
    from training.notices_messages import cohort_messages_write_letters, message_replies_write_letters

    def queries(messages: int) -> tuple[int, int]:
        Notice.objects.all().delete()
        for _ in range(messages):
            message = _send(cohort)
            thread = message.recipients.get(member=cohort.people["ada"])
            message_reply_add(thread=thread, author=cohort.people["ada"], body="Question")
            message_reply_add(thread=thread, author=cohort.trainer, body="Answer")
        counts = []
        for kind, writer in (
            (NoticeKind.COHORT_MESSAGE, cohort_messages_write_letters),
            (NoticeKind.MESSAGE_REPLY, message_replies_write_letters),
        ):
            notices = list(Notice.objects.filter(kind=kind))
            with CaptureQueriesContext(connection) as captured:
                letters = writer(notices)
            assert all(not isinstance(letter, str) for letter in letters.values())
            counts.append(len(captured))
        return tuple(counts)

    assert queries(1) == queries(6)


def test_the_replies_list_is_recorded_in_the_audit_trail(client, cohort):
    from audit.models import AuditAction, AuditEntry

    message = _send(cohort)
    client.force_login(cohort.trainer)
    client.get(reverse("training:message-detail-manage", args=[message.pk]))
    entry = AuditEntry.objects.get(action=AuditAction.MEMBER_LIST_VIEWED)
    assert entry.actor == cohort.trainer
    assert entry.object_label == message.subject
