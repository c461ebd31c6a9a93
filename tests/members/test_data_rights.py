"""Members' data rights (UK GDPR): a copy of everything held about a member, erasure that
keeps the counts right and makes the certificate say "withdrawn", and who may do either."""

import datetime as dt
import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from certification.models import Certificate, CertificateStatus, LocalAction, RegistryEntry
from certification.services.certificates import certificate_issue_manually
from members.data_rights import (
    DataSection,
    ExportPart,
    data_section_register,
    data_section_unregister,
)
from members.erasure import account_erase, erased_email
from members.export import data_export_request, data_exports_sweep
from members.models import ConsentRecord, DataExport, DataExportStatus, Profile, User
from members.permissions import Role
from members.services import consent_give, consent_text_publish
from tests.factories import (
    PASSWORD,
    PDF,
    AssignmentFactory,
    CohortFactory,
    ConstituencyFactory,
    EnrolmentFactory,
    SessionFactory,
    UserFactory,
    VersionFactory,
)
from tests.storage.privacy import assert_stored_privately
from training.models import (
    Apology,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    CalendarFeed,
    CohortStatus,
    EnrolmentStatus,
    Mark,
    MarkKind,
    Notice,
    NoticeKind,
    NoticeMute,
    NoticeStatus,
    Outcome,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from training.services.notices import notices_create

pytestmark = pytest.mark.django_db

DATA = "members:data-rights"
ERASE = "members:account-erase"


# --- A member with something of everything ---------------------------------------------------


def _file_add(submission, name: str, content: bytes = PDF) -> SubmissionFile:
    upload = SubmissionFile(
        submission=submission, original_name=name, content_type="application/pdf", size=len(content)
    )
    upload.file.save(name, ContentFile(content), save=False)
    upload.save()
    return upload


def member_with_everything(*, staff, first_name: str, last_name: str, phone: str = "+447700900123"):
    """A certified leader with a profile, attendance, an apology, work with a file and a mark,
    a registry entry with a local action, emails sent and waiting, and email settings."""
    member = UserFactory(role=Role.TRAINEE, first_name=first_name, last_name=last_name)
    seat = ConstituencyFactory(region=member.profile.region)
    Profile.objects.filter(user=member).update(constituency=seat, phone=phone)
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(
        status=CohortStatus.FINISHED,
        version=VersionFactory(),
        region=member.profile.region,
        starts_on=timezone.localdate() - dt.timedelta(days=120),
        ends_on=timezone.localdate() - dt.timedelta(days=30),
        enrolment_opens_on=timezone.localdate() - dt.timedelta(days=150),
        enrolment_closes_on=timezone.localdate() - dt.timedelta(days=125),
        trainers=[trainer],
    )
    enrolment = EnrolmentFactory(
        cohort=cohort,
        member=member,
        status=EnrolmentStatus.COMPLETED,
        motivation=f"{first_name} wants to fix the street lights.",
    )
    session = SessionFactory(cohort=cohort)
    Attendance.objects.create(
        session=session,
        enrolment=enrolment,
        status=AttendanceStatus.PRESENT,
        source=AttendanceSource.REGISTER,
        recorded_by=trainer,
        recorded_at=timezone.now(),
    )
    Apology.objects.create(
        session=SessionFactory(cohort=cohort),
        enrolment=enrolment,
        note=f"{first_name}'s hospital visit",
        created_at=timezone.now(),
    )
    assignment = AssignmentFactory(module__version=cohort.version)
    submission = Submission.objects.create(
        enrolment=enrolment,
        assignment=assignment,
        attempt=1,
        status=SubmissionStatus.SUBMITTED,
        text=f"{first_name} held ten one-to-ones on the estate.",
        submitted_at=timezone.now(),
        outcome=Outcome.PASS,
    )
    upload = _file_add(submission, f"{first_name}-power-map.pdf")
    Mark.objects.create(
        submission=submission,
        marker=trainer,
        kind=MarkKind.FIRST,
        outcome=Outcome.PASS,
        feedback=f"Well listened, {first_name}.",
    )
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")
    entry = RegistryEntry.objects.get(member=member)
    RegistryEntry.objects.filter(pk=entry.pk).update(bio=f"{first_name} organises in Gateshead.")
    LocalAction.objects.create(
        entry=entry,
        issue=f"{first_name}'s bus route",
        organised_with="Neighbours",
        what_happened="A public meeting.",
        started_on=timezone.localdate() - dt.timedelta(days=20),
    )
    sent = notices_create(
        kind=NoticeKind.SESSION_REMINDER,
        subject=f"session:{session.pk}",
        recipient_ids=[member.pk],
        scheduled_for=timezone.now() - dt.timedelta(days=60),
    )
    Notice.objects.filter(pk__in=sent).update(status=NoticeStatus.SENT, sent_at=timezone.now())
    CalendarFeed.objects.create(member=member, token=f"feed-{member.pk}", created_at=timezone.now())
    NoticeMute.objects.create(member=member, kind=NoticeKind.ASSIGNMENT_DUE, created_at=timezone.now())
    return {
        "member": member,
        "certificate": certificate,
        "upload": upload,
        "submission": submission,
        "cohort": cohort,
        "trainer": trainer,
    }


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")


@pytest.fixture
def ada(staff):
    return member_with_everything(staff=staff, first_name="Adaeze", last_name="Okonkwo")


@pytest.fixture
def ben(staff):
    return member_with_everything(
        staff=staff, first_name="Bartholomew", last_name="Quist", phone="+447700900999"
    )


def _zip_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _ask_and_download(client, member):
    """Ask through the page; the task runs when the request's transaction commits."""
    from django.test import TestCase

    client.force_login(member)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse(DATA)).status_code == 302
    response = client.get(reverse(DATA))
    assert response.status_code == 200
    export = DataExport.objects.get(user=member)
    assert export.status == DataExportStatus.READY
    download_url = response.context["download_url"]
    assert download_url
    return export, download_url


# --- Consent -------------------------------------------------------------------------------


def test_a_new_consent_version_asks_again_and_records_the_version_agreed(client, seeded):
    """Publishing a new text sends a member who agreed to the old one back to the consent page,
    showing the new version; agreeing records that version, and the old record stays."""
    member = UserFactory()
    old = ConsentRecord.objects.get(user=member)
    client.force_login(member)
    assert client.get(reverse("training:my-training")).status_code == 200
    new_text = consent_text_publish(version="2027-01", body="We now also send you a newsletter.")
    response = client.get(reverse("training:my-training"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("members:consent")
    assert "2027-01" in response.content.decode()
    assert "newsletter" in response.content.decode()
    client.post(reverse("members:consent"), {"agree": "on"})
    assert set(ConsentRecord.objects.filter(user=member).values_list("text__version", flat=True)) == {
        old.text.version,
        "2027-01",
    }
    assert ConsentRecord.objects.get(user=member, text=new_text).given_at is not None
    assert client.get(reverse("training:my-training")).status_code == 200


def test_a_member_who_has_not_agreed_to_a_new_text_can_still_take_their_data_or_go(client, seeded):
    member = UserFactory()
    consent_text_publish(version="2027-02", body="New purposes.")
    client.force_login(member)
    assert client.get(reverse("training:my-training")).status_code == 302
    assert client.get(reverse(DATA)).status_code == 200
    assert client.get(reverse(ERASE)).status_code == 200


# --- Access: the export ----------------------------------------------------------------------


def test_the_export_holds_everything_about_the_member_and_nothing_about_another(client, ada, ben):
    export, url = _ask_and_download(client, ada["member"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    archive = _zip_of(response)
    data = json.loads(archive.read("data.json"))
    membership, training, certification = data["membership"], data["training"], data["certification"]
    member = ada["member"]
    assert membership["account"]["email"] == member.email
    assert membership["account"]["first_name"] == "Adaeze"
    assert membership["profile"]["phone"] == "+447700900123"
    assert membership["profile"]["constituency"]
    assert [record["version"] for record in membership["consent_records"]] == [
        ConsentRecord.objects.get(user=member).text.version
    ]
    assert membership["email_addresses"][0]["email"] == member.email
    [enrolment] = training["enrolments"]
    assert enrolment["why_you_wanted_to_take_part"] == "Adaeze wants to fix the street lights."
    assert enrolment["status"] == "completed"
    assert [row["status"] for row in training["attendance"]] == ["present"]
    assert training["apologies"][0]["note"] == "Adaeze's hospital visit"
    [submission] = training["submissions"]
    assert submission["text"] == "Adaeze held ten one-to-ones on the estate."
    assert submission["marks"][0]["feedback"] == "Well listened, Adaeze."
    [file_row] = submission["files"]
    assert archive.read(file_row["path_in_this_zip"]) == PDF
    assert {row["kind"] for row in training["emails_to_you"]} >= {"session_reminder", "certificate_issued"}
    assert training["emails_turned_off"] == ["assignment_due"]
    assert training["calendar_feed_created_at"]
    [certificate] = certification["certificates"]
    assert certificate["code"] == ada["certificate"].code
    assert certificate["name_on_certificate"] == "Adaeze Okonkwo"
    assert certification["registry_entry"]["bio"] == "Adaeze organises in Gateshead."
    assert certification["local_actions"][0]["issue"] == "Adaeze's bus route"
    assert "audit_entries_about_you" in membership
    # Nothing of Ben's: not his name, address, phone, work, file or certificate.
    everything = archive.read("data.json").decode() + " ".join(archive.namelist())
    for trace in ["Bartholomew", "Quist", ben["member"].email, "900999", ben["certificate"].code]:
        assert trace not in everything, trace
    assert set(archive.namelist()) == {"data.json", file_row["path_in_this_zip"]}
    assert export.size == len(b"".join(client.get(url).streaming_content))


def test_the_zip_is_stored_privately_not_under_static(client, ada, settings):
    export, _url = _ask_and_download(client, ada["member"])
    assert_stored_privately(export.file.name)
    # The random folder makes the stored name unguessable; it is not served by any URL pattern.
    assert len(export.file.name.split("/")[1]) == 32


def test_asking_twice_while_preparing_starts_one(client, ada, settings):
    """The second request finds the first still being prepared and starts nothing."""
    member = ada["member"]
    first = data_export_request(user=member)
    # Run outside on_commit: tests do not commit, so the task has not run and it is preparing.
    second = data_export_request(user=member)
    assert first.created
    assert not second.created
    assert first.export.pk == second.export.pk
    assert DataExport.objects.filter(user=member).count() == 1
    client.force_login(member)
    response = client.post(reverse(DATA), follow=True)
    assert "already being prepared" in response.content.decode()
    assert DataExport.objects.filter(user=member).count() == 1
    page = client.get(reverse(DATA)).content.decode()
    assert "Being prepared" in page
    assert 'action="/account/data/"' not in page  # no second button while preparing


def test_the_build_runs_once_when_the_task_is_delivered_twice(ada):
    from members.tasks import data_export_build_task

    asked = data_export_request(user=ada["member"])
    data_export_build_task(asked.export.pk)
    asked.export.refresh_from_db()
    name = asked.export.file.name
    assert data_export_build_task(asked.export.pk) == "nothing to do"
    asked.export.refresh_from_db()
    assert asked.export.file.name == name
    assert len(default_storage.listdir("data-exports")[0]) == 1


def test_another_member_cannot_download_the_link(client, ada, ben):
    _export, url = _ask_and_download(client, ada["member"])
    client.force_login(ben["member"])
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    assert client.get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_tampered_or_made_up_link_is_a_404(client, ada):
    _export, url = _ask_and_download(client, ada["member"])
    token = url.rstrip("/").rsplit("/", 1)[-1]
    for bad in [token[:-2] + "xx", "not-a-token", "a" * 300, "..%2F..%2Fsettings.py"]:
        response = client.get(reverse("members:data-export-download", args=[bad]))
        assert response.status_code == 404, bad


def test_an_expired_link_says_so_and_the_file_is_deleted_by_the_sweep(
    client, ada, settings, django_capture_on_commit_callbacks
):
    export, url = _ask_and_download(client, ada["member"])
    stored = export.file.name
    later = timezone.now() + dt.timedelta(days=settings.DATA_EXPORT_LINK_DAYS, minutes=1)
    # The signature's own age limit: the link alone stops working after the period.
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        report = data_exports_sweep(now=later)
    assert report.expired == 1
    export.refresh_from_db()
    assert export.status == DataExportStatus.EXPIRED
    assert not export.file
    assert not default_storage.exists(stored)
    assert data_exports_sweep(now=later).expired == 0  # twice is harmless
    assert client.get(url).status_code == 410
    assert "has expired" in client.get(reverse(DATA)).content.decode()


def test_the_signed_link_itself_expires_after_the_period(client, ada, settings, time_machine):
    _export, url = _ask_and_download(client, ada["member"])
    settings.DATA_EXPORT_LINK_DAYS = 0  # max_age 0: the signature is already too old
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=2), tick=False)
    assert client.get(url).status_code == 410


def test_a_stuck_build_is_asked_again_then_given_up(ada):
    asked = data_export_request(user=ada["member"])
    report = data_exports_sweep(now=timezone.now() + dt.timedelta(minutes=11))
    assert report.reenqueued == 1
    asked.export.refresh_from_db()
    assert asked.export.status == DataExportStatus.READY  # tasks run inline here
    stuck = data_export_request(user=ada["member"])
    report = data_exports_sweep(now=timezone.now() + dt.timedelta(hours=7))
    assert report.given_up == 1
    stuck.export.refresh_from_db()
    assert stuck.export.status == DataExportStatus.FAILED


def test_data_pages_need_sign_in_and_get_is_safe(client, ada):
    for name in [DATA, ERASE]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    client.force_login(ada["member"])
    client.get(reverse(DATA))
    assert not DataExport.objects.exists()  # GET asks for nothing


# --- Erasure -----------------------------------------------------------------------------------


def _dashboard_counts(client, staff) -> tuple[int, int]:
    """The dashboard's headline leaders and the places table's total of leaders."""
    client.force_login(staff)
    headline = client.get(reverse("reporting:dashboard")).context["leaders_total"]
    response = client.get(reverse("reporting:dashboard-table", args=["places"]))
    assert response.status_code == 200
    table = response.context["table"]
    total = sum(row["leaders"] for row in table.rows)
    return headline, total


def test_erasure_removes_each_kind_of_personal_data(
    client, ada, ben, staff, django_capture_on_commit_callbacks
):
    member, upload = ada["member"], ada["upload"]
    stored = upload.file.name
    assert default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        data_export_request(user=member)  # a ready export: its ZIP goes too
    export_name = DataExport.objects.get(user=member).file.name
    pending = notices_create(kind=NoticeKind.SESSION_CHANGED, subject="session:1", recipient_ids=[member.pk])
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(ERASE), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:account-erased")
    member.refresh_from_db()
    # The account: no name, an address that cannot receive mail, no password, no login.
    assert member.erased_at is not None
    assert (member.first_name, member.last_name) == ("", "")
    assert member.email == erased_email(member.pk)
    assert not member.has_usable_password()
    assert not member.is_active
    assert not Profile.objects.filter(user=member).exists()
    assert not ConsentRecord.objects.filter(user=member).exists()
    assert not EmailAddress.objects.filter(user=member).exists()
    assert not DataExport.objects.filter(user=member).exists()
    assert not default_storage.exists(export_name)
    # Training: answers, files, feedback, notes and settings gone; the rows that count stay.
    upload.refresh_from_db()
    assert upload.is_removed
    assert not upload.file
    assert upload.original_name == ""
    assert not default_storage.exists(stored)
    submission = Submission.objects.get(pk=ada["submission"].pk)
    assert submission.text == ""
    assert submission.outcome == Outcome.PASS
    assert Mark.objects.get(submission=submission).feedback == ""
    enrolment = submission.enrolment
    assert enrolment.motivation == ""
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert Apology.objects.get(enrolment=enrolment).note == ""
    assert Attendance.objects.filter(enrolment=enrolment).count() == 1
    assert not CalendarFeed.objects.filter(member=member).exists()
    assert not NoticeMute.objects.filter(member=member).exists()
    assert set(Notice.objects.filter(pk__in=pending).values_list("status", flat=True)) == {
        NoticeStatus.SKIPPED
    }
    assert not Notice.objects.filter(recipient=member, status=NoticeStatus.PENDING).exists()
    # Certification: the registry entry and local actions gone; the certificate kept, nameless.
    assert not RegistryEntry.objects.filter(member=member).exists()
    assert not LocalAction.objects.filter(issue__startswith="Adaeze").exists()
    certificate = Certificate.objects.get(pk=ada["certificate"].pk)
    assert certificate.status == CertificateStatus.VALID
    assert certificate.holder_name == ""
    # Nothing says "Adaeze" anywhere now, in any table this feature touches.
    assert not User.objects.filter(first_name="Adaeze").exists()
    # Ben is untouched.
    ben_member = User.objects.get(pk=ben["member"].pk)
    assert ben_member.first_name == "Bartholomew"
    assert ben_member.is_active
    assert default_storage.exists(ben["upload"].file.name)
    assert RegistryEntry.objects.filter(member=ben_member).exists()


def test_the_erased_member_is_signed_out_everywhere_and_cannot_sign_in(client, ada):
    from django.test import Client

    member = ada["member"]
    email = member.email
    elsewhere = Client()
    elsewhere.force_login(member)
    assert elsewhere.get(reverse(DATA)).status_code == 200
    account_erase(user=member, actor=member)
    assert elsewhere.get(reverse(DATA)).status_code == 302  # the other session is over
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_erasure_asks_for_the_password_and_the_confirmation(client, ada):
    member = ada["member"]
    client.force_login(member)
    page = client.get(reverse(ERASE)).content.decode()
    assert "cannot be undone" in page
    assert 'autocomplete="current-password"' in page
    response = client.post(reverse(ERASE), {"password": "wrong-password", "understood": "on"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    response = client.post(reverse(ERASE), {"password": PASSWORD})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    member.refresh_from_db()
    assert member.erased_at is None


def test_wrong_passwords_are_limited(client, ada):
    client.force_login(ada["member"])
    for _attempt in range(5):
        assert client.post(reverse(ERASE), {"password": "nope", "understood": "on"}).status_code == 400
    response = client.post(reverse(ERASE), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    ada["member"].refresh_from_db()
    assert ada["member"].erased_at is None


def test_a_failure_part_way_loses_nothing(ada):
    """A section that fails after others have run rolls everything back; no file is deleted."""

    def boom(user, now):
        raise RuntimeError("storage went away")

    member, upload = ada["member"], ada["upload"]
    data_section_register(
        DataSection(name="zz-failing", export=lambda user: ExportPart(data=None), erase=boom)
    )
    try:
        with pytest.raises(RuntimeError):
            account_erase(user=member, actor=member)
    finally:
        data_section_unregister("zz-failing")
    member.refresh_from_db()
    assert member.erased_at is None
    assert member.first_name == "Adaeze"
    assert member.is_active
    assert Profile.objects.filter(user=member).exists()
    assert RegistryEntry.objects.filter(member=member).exists()
    upload.refresh_from_db()
    assert not upload.is_removed
    assert default_storage.exists(upload.file.name)
    assert Submission.objects.get(pk=ada["submission"].pk).text


def test_erasing_twice_is_refused(ada):
    from django.core.exceptions import ValidationError

    account_erase(user=ada["member"], actor=ada["member"])
    with pytest.raises(ValidationError):
        account_erase(user=ada["member"], actor=ada["member"])


def test_counts_national_staff_report_are_unchanged_by_erasure(client, ada, ben, staff):
    """The erased leader still counts, as an anonymous one whose place is not recorded."""
    before = _dashboard_counts(client, staff)
    assert before == (2, 2)
    account_erase(user=ada["member"], actor=ada["member"])
    after = _dashboard_counts(client, staff)
    assert after == before


def test_the_verification_page_says_withdrawn_and_downloads_stop(
    client, ada, staff, django_capture_on_commit_callbacks
):
    certificate = ada["certificate"]
    verify = reverse("certification:verify", args=[certificate.code])
    assert "Valid" in client.get(verify).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the page's kept copy is forgotten on commit
        account_erase(user=ada["member"], actor=ada["member"])
    response = client.get(verify)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Withdrawn" in page
    assert ">Valid<" not in page
    assert "Adaeze" not in page
    assert "A. O." not in page
    # The holder can no longer sign in; staff can no longer download it either.
    client.force_login(staff)
    assert client.get(reverse("certification:certificate-pdf", args=[certificate.pk])).status_code == 404
    assert (
        client.get(reverse("certification:certificate-credential", args=[certificate.pk])).status_code == 404
    )
    # Wallets reading the status list see its bit set, as for a revocation (nothing names it).
    from certification import status_list

    listed = client.get(reverse("certification:status-list")).json()
    bits = status_list.decode_list(listed["credentialSubject"]["encodedList"])
    assert status_list.bit_is_set(bits, certificate.status_list_index)


def test_the_credential_check_reports_a_withdrawn_credential_as_revoked(client, ada):
    from certification import openbadges

    certificate = Certificate.objects.select_related("holder").get(pk=ada["certificate"].pk)
    token = openbadges.credential_jwt(certificate)
    assert openbadges.credential_verify(token).valid
    account_erase(user=ada["member"], actor=ada["member"])
    check = openbadges.credential_verify(token)
    assert check.revoked
    assert not check.valid


# --- Staff erasure ---------------------------------------------------------------------------


def test_national_staff_erase_a_member_on_request_with_a_reason(client, ada, staff):
    member = ada["member"]
    client.force_login(staff)
    found = client.get(reverse("members:staff-member-find"), {"email": member.email.upper()})
    assert found.status_code == 200
    assert found.context["member"] == member
    url = reverse("members:staff-member-erase", args=[member.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "", "requested_by_member": "on"})
    assert response.status_code == 400
    response = client.post(url, {"reason": "Asked by email, ref DSR-7", "requested_by_member": ""})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.erased_at is None
    response = client.post(url, {"reason": "Asked by email, ref DSR-7", "requested_by_member": "on"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.erased_at is not None
    assert client.get(url).status_code == 404  # already erased
    assert client.get(reverse("members:staff-member-find"), {"email": member.email}).context["member"] is None


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER, Role.REGIONAL_STAFF])
def test_only_staff_with_the_permission_may_erase_another_member(client, ada, role):
    member = ada["member"]
    client.force_login(UserFactory(role=role))
    url = reverse("members:staff-member-erase", args=[member.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x", "requested_by_member": "on"}).status_code == 403
    assert client.get(reverse("members:staff-member-find"), {"email": member.email}).status_code == 403
    member.refresh_from_db()
    assert member.erased_at is None


def test_staff_cannot_erase_operators_or_unknown_accounts(client, staff):
    operator = User.objects.create_superuser(email="ops@example.org", password=PASSWORD)
    client.force_login(staff)
    assert client.get(reverse("members:staff-member-erase", args=[operator.pk])).status_code == 404
    assert client.get(reverse("members:staff-member-erase", args=[999999])).status_code == 404
    response = client.get(reverse("members:staff-member-find"), {"email": "not an address"})
    assert response.status_code == 400


def test_erasure_needs_post_with_csrf(ada):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ada["member"])
    response = strict.post(reverse(ERASE), {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 403
    ada["member"].refresh_from_db()
    assert ada["member"].erased_at is None


# --- Query counts ----------------------------------------------------------------------------

DATA_PAGE_QUERIES = 5
STAFF_FIND_QUERIES = 3
STAFF_ERASE_QUERIES = 3


def test_the_data_page_runs_a_fixed_number_of_queries(client, staff, django_assert_num_queries):
    """The same count with one consent record and one export as with several of each."""
    small = member_with_everything(staff=staff, first_name="Small", last_name="One")
    data_export_request(user=small["member"])
    client.force_login(small["member"])
    with django_assert_num_queries(DATA_PAGE_QUERIES):
        assert client.get(reverse(DATA)).status_code == 200
    big = member_with_everything(staff=staff, first_name="Big", last_name="Two")
    for extra in range(3):
        text = consent_text_publish(version=f"extra-{extra}", body=f"Text {extra}")
        consent_give(user=big["member"], text=text)
        data_export_request(user=big["member"])
    client.force_login(big["member"])
    with django_assert_num_queries(DATA_PAGE_QUERIES):
        assert client.get(reverse(DATA)).status_code == 200


def test_staff_pages_run_a_fixed_number_of_queries(client, staff, ada, ben, django_assert_num_queries):
    client.force_login(staff)
    find = reverse("members:staff-member-find")
    for member in [ada["member"], ben["member"], UserFactory()]:
        with django_assert_num_queries(STAFF_FIND_QUERIES):
            assert client.get(find, {"email": member.email}).status_code == 200
        with django_assert_num_queries(STAFF_ERASE_QUERIES):
            assert client.get(reverse("members:staff-member-erase", args=[member.pk])).status_code == 200


# --- The audit trail ---------------------------------------------------------------------------


def test_the_export_lists_the_audit_entries_about_the_member_and_the_download_is_recorded(client, ada):
    from audit.models import AuditAction, AuditEntry

    _export, url = _ask_and_download(client, ada["member"])
    data = json.loads(_zip_of(client.get(url)).read("data.json"))
    actions = [entry["action"] for entry in data["membership"]["audit_entries_about_you"]]
    assert AuditAction.CERTIFICATE_ISSUED in actions
    downloaded = AuditEntry.objects.filter(action=AuditAction.DATA_EXPORTED, subject_id=ada["member"].pk)
    assert downloaded.count() == 1


def test_erasure_is_audited_with_the_reason_and_the_trail_no_longer_names_the_member(client, ada, staff):
    from audit.models import AuditAction, AuditEntry

    member = ada["member"]
    email = member.email
    assert AuditEntry.objects.filter(subject_id=member.pk, subject_label=email).exists()
    client.force_login(staff)
    client.post(
        reverse("members:staff-member-erase", args=[member.pk]),
        {"reason": "Asked by letter, ref DSR-9", "requested_by_member": "on"},
    )
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_ERASED)
    assert (entry.actor_id, entry.subject_id) == (staff.pk, member.pk)
    assert entry.changes["by"] == "staff"
    assert entry.changes["reason"] == "Asked by letter, ref DSR-9"
    assert entry.changes["counts"]["certification"]["registry_entry"] == 1
    assert not AuditEntry.objects.filter(subject_label=email).exists()
    assert not AuditEntry.objects.filter(actor_label=email).exists()


def test_an_erased_member_is_named_as_such_wherever_they_are_listed(ada):
    member = ada["member"]
    account_erase(user=member, actor=member)
    assert str(member) == "Erased member"
    assert str(ada["trainer"]) != "Erased member"
