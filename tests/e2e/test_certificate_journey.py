"""The final pass issues a certificate; the holder downloads it; anyone checks it; staff
revoke it; the leader lists themselves publicly in the registry."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from certification.models import Certificate, CertificateStatus
from members.permissions import Role
from tests.e2e.conftest import PHONE, assert_accessible, field
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    rubric_add,
)
from training.models import CohortStatus
from training.services.attendance import register_save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_certificate_from_final_pass_to_registry(sign_in, browser, live_server):
    call_command("load_seeds", verbosity=0)
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")
    trainer = UserFactory(role=Role.TRAINER, first_name="Tomasz", last_name="Trainer")
    trainee = UserFactory(role=Role.TRAINEE, first_name="Amira", last_name="Quarshie")
    cohort = CohortFactory(name="Leeds, certificate journey", trainers=[trainer], status=CohortStatus.RUNNING)
    enrolment = EnrolmentFactory(cohort=cohort, member=trainee)
    session = SessionFactory(cohort=cohort)
    register_save(session=session, marks={enrolment.pk: "present"}, actor=trainer, now=session.starts_at)
    assignment = AssignmentFactory(module__version=cohort.version, title="Evaluating your action")
    rubric_add(assignment, criteria=1)
    SubmissionFactory(enrolment=enrolment, assignment=assignment)

    # The trainer's pass completes the rule: the certificate is issued.
    marker = sign_in(trainer)
    marker.goto("/manage/marking/")
    marker.get_by_role("link", name=re.compile(r"^Mark\s*:")).first.click()
    marker.get_by_role("radio", name=re.compile(r"^Meets the standard")).check()
    field(marker, "Feedback to the trainee").fill("A clear evaluation. Well done.")
    marker.get_by_role("button", name="Save mark", exact=True).click()
    expect(marker.get_by_text(re.compile(r"Mark saved for Amira Quarshie.*Pass"))).to_be_visible()
    certificate = Certificate.objects.get(enrolment=enrolment)

    # The holder downloads the PDF.
    holder = sign_in(trainee)
    holder.get_by_role("navigation").get_by_role("link", name="Certificates").click()
    expect(holder.get_by_role("heading", level=1)).to_have_text("Your certificates")
    assert_accessible(holder)
    with holder.expect_download() as download:
        holder.get_by_role("link", name=re.compile("Download the certificate")).click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")

    # Anyone checks it, signed out, on a phone.
    anyone = browser.new_context(base_url=live_server.url, viewport=PHONE).new_page()
    anyone.goto(f"/c/{certificate.code}/")
    expect(anyone.get_by_text("Valid", exact=True)).to_be_visible()
    expect(anyone.get_by_text("Amira Quarshie")).to_be_visible()
    assert_accessible(anyone)

    # The leader lists themselves publicly, and appears in the registry.
    holder.goto("/registry/me/")
    assert_accessible(holder)
    holder.get_by_label("Anyone (public)").check()
    holder.get_by_role("button", name="Save").click()
    expect(holder.get_by_text("Your registry entry is saved.")).to_be_visible()
    anyone.goto("/registry/")
    expect(anyone.get_by_role("link", name="Amira Quarshie")).to_be_visible()
    assert_accessible(anyone)

    # Staff revoke it; the same page says so at once.
    office = sign_in(staff)
    office.goto("/manage/certificates/")
    office.get_by_role("link", name="Amira Quarshie").click()
    assert_accessible(office)
    field(office, "Reason shown publicly").fill("Issued in error.")
    office.get_by_role("button", name="Revoke the certificate").click()
    expect(office.get_by_text(re.compile("Certificate revoked"))).to_be_visible()
    anyone.goto(f"/c/{certificate.code}/")
    expect(anyone.get_by_text("Revoked", exact=True)).to_be_visible()
    expect(anyone.get_by_text(re.compile("Issued in error"))).to_be_visible()
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.REVOKED

    # A revocation takes the leader out of the registry at once, and off their own entry.
    anyone.goto("/registry/")
    expect(anyone.get_by_role("link", name="Amira Quarshie")).to_have_count(0)
    assert holder.goto("/registry/me/").status == 404
    anyone.context.close()
