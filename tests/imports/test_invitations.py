"""Imported members are invited to set a password and consent; until both, no cohort place
and no reminders."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportedMember
from imports.services import imported_member_activate, member_invitations_send
from imports.tasks import member_imports_expire_task
from members.models import ConsentRecord, User
from members.selectors import consent_text_current
from members.services import consent_give
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.imports.conftest import checked, confirm, csv_bytes, member_row
from training.models import Enrolment, EnrolmentStatus, Notice, NoticeKind
from training.services.reminders import sweep

NEW_PASSWORD = "a-passphrase-of-my-own"


@pytest.fixture
def cohort(seeded):
    return CohortFactory(name="Tyneside, spring")


def imported(staff_client, capture, *, cohort=None, rows=None):
    data = csv_bytes(rows or [member_row(1)])
    return confirm(staff_client, checked(staff_client, data, cohort=cohort), capture)


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/key/\S+", message.body).group(0)


def set_password(client, link: str, capture) -> None:
    path = link[link.index("/accounts/") :]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    with capture(execute=True):
        response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:1500]


def consent(client, capture) -> None:
    with capture(execute=True):
        response = client.post(reverse("members:consent"), {"agree": "on"})
    assert response.status_code == 302


def test_the_invitation_has_text_and_html_parts_and_its_link_sets_a_password(
    staff_client, client, cohort, django_capture_on_commit_callbacks
):
    """The link (allauth's signed, expiring reset key) lets the member choose a password, which
    also proves their address; it works once."""
    imported(staff_client, django_capture_on_commit_callbacks, cohort=cohort)
    staff_client.logout()
    (message,) = mail.outbox
    assert message.to == ["imported1@example.org"]
    assert "First1" in message.body
    assert "consent" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Choose your password" in html
    assert "Tyneside, spring" in html
    link = link_in(message)
    assert link in html

    set_password(client, link, django_capture_on_commit_callbacks)

    member = User.objects.get(email="imported1@example.org")
    assert member.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=member).verified
    # Used once, the link no longer works.
    again = client.get(link[link.index("/accounts/") :], follow=True)
    assert "This link no longer works" in again.content.decode()


def test_the_member_is_placed_only_after_both_password_and_consent(
    client, staff_client, cohort, django_capture_on_commit_callbacks
):
    imported(staff_client, django_capture_on_commit_callbacks, cohort=cohort)
    staff_client.logout()
    member = User.objects.get(email="imported1@example.org")
    assert not Enrolment.objects.filter(member=member).exists()

    set_password(client, link_in(mail.outbox[0]), django_capture_on_commit_callbacks)
    assert not Enrolment.objects.filter(member=member).exists()  # no consent yet

    assert client.login(email="imported1@example.org", password=NEW_PASSWORD)
    assert client.get(reverse("members:home"), follow=True).redirect_chain[-1][0] == reverse(
        "members:consent"
    )
    consent(client, django_capture_on_commit_callbacks)

    enrolment = Enrolment.objects.get(member=member)
    assert (enrolment.cohort, enrolment.status) == (cohort, EnrolmentStatus.ENROLLED)
    record = ImportedMember.objects.get(user=member)
    assert record.activated_at is not None
    assert record.placement_outcome == "Enrolled"
    # Activation runs once, however often it is asked for.
    assert imported_member_activate(user=member) is None
    assert Enrolment.objects.filter(member=member).count() == 1


def test_imported_members_who_have_not_consented_get_no_reminders(
    staff_client, cohort, django_capture_on_commit_callbacks
):
    """A session of the cohort is due its reminder: the enrolled trainee gets one; the imported
    member, whose place is held until they consent, does not (they hold no enrolment)."""
    enrolled = EnrolmentFactory(cohort=cohort).member
    imported(staff_client, django_capture_on_commit_callbacks, cohort=cohort)
    member = User.objects.get(email="imported1@example.org")
    # Even with a password set some other way, no consent means no place.
    member.set_password(NEW_PASSWORD)
    member.save()
    imported_member_activate(user=member)
    start = timezone.now() + dt.timedelta(minutes=90)
    SessionFactory(cohort=cohort, starts_at=start, ends_at=start + dt.timedelta(hours=2))

    sweep()

    reminded = set(
        Notice.objects.filter(kind=NoticeKind.SESSION_REMINDER).values_list("recipient_id", flat=True)
    )
    assert enrolled.pk in reminded
    assert member.pk not in reminded


def test_an_existing_member_who_has_consented_is_placed_at_once(
    staff_client, cohort, django_capture_on_commit_callbacks
):
    """A member already in (password and consent) is applied for when the import is confirmed."""
    member = UserFactory(email="imported1@example.org", first_name="First1", last_name="Last1")
    member_import = checked(staff_client, csv_bytes([member_row(1, number="")]), cohort=cohort)
    assert (member_import.rows_updated, member_import.rows_invalid) == (1, 0)
    confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    assert Enrolment.objects.get(member=member).status == EnrolmentStatus.ENROLLED
    # No invitation (they have an account already): only the news of their place.
    [placed] = mail.outbox
    assert placed.to == [member.email]
    assert placed.subject.startswith("[Future Leaders] You have a place on ")
    again = checked(staff_client, csv_bytes([member_row(1, number="")]), cohort=cohort)
    assert again.rows_unchanged == 1


def test_sending_invitations_twice_sends_each_once(staff_client, django_capture_on_commit_callbacks):
    member_import = imported(
        staff_client, django_capture_on_commit_callbacks, rows=[member_row(1), member_row(2)]
    )
    assert len(mail.outbox) == 2
    assert member_invitations_send(member_import_id=member_import.pk) == 0
    assert len(mail.outbox) == 2
    assert ImportedMember.objects.filter(invited_at__isnull=True).count() == 0


def test_consent_given_before_a_password_waits_for_the_password(
    staff_client, cohort, django_capture_on_commit_callbacks
):
    imported(staff_client, django_capture_on_commit_callbacks, cohort=cohort)
    member = User.objects.get(email="imported1@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        consent_give(user=member, text=consent_text_current())
    assert ConsentRecord.objects.filter(user=member).exists()
    assert not Enrolment.objects.filter(member=member).exists()


def test_invitations_a_failed_send_left_behind_go_out_with_the_hourly_sweep(
    staff_client, django_capture_on_commit_callbacks, settings
):
    """The mail server refused every try: the invitation waits, and the sweep sends it later."""
    settings.EMAIL_BACKEND = "tests.imports.test_invitations.RefusingBackend"
    imported(staff_client, django_capture_on_commit_callbacks)  # the task's failure is logged, not raised
    waiting = ImportedMember.objects.get()
    assert waiting.invited_at is None
    assert mail.outbox == []

    assert waiting.invitation_claimed_at is None  # given back for the retry

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert member_imports_expire_task() == {"expired": 0, "invited": 1}
    assert [m.to for m in mail.outbox] == [["imported1@example.org"]]
    assert member_imports_expire_task() == {"expired": 0, "invited": 0}


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, messages):
        raise OSError("Connection refused")
