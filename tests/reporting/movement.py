"""A small movement for the dashboard's tests (test_dashboard.py builds it once per module),
the people and certificates they add to it, and readers of the dashboard's downloads."""

import csv
import datetime as dt
import io

import openpyxl
from django.urls import reverse
from django.utils import timezone

from certification.models import TargetScope
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.targets import target_create
from certification.signals import certificate_standing_changed_announce
from config.spreadsheets import csv_safe
from members.models import Constituency, Region
from members.permissions import Role
from members.signals import member_place_changed_announce
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    UserFactory,
    VersionFactory,
)
from training.models import (
    CohortStatus,
    EnrolmentStatus,
)

DASHBOARD = "reporting:dashboard"
PEOPLE = "reporting:dashboard-people"
COHORTS = "reporting:dashboard-cohorts"


def table_url(slug):
    return reverse("reporting:dashboard-table", args=[slug])


def member_in(region, *, constituency=None, role=Role.TRAINEE, **kwargs):
    user = UserFactory(role=role, staff_region=region, **kwargs)
    user.profile.region = region
    user.profile.constituency = constituency
    user.profile.save()
    member_place_changed_announce(user_ids=[user.pk])  # as profile_save does
    return user


def certify(member, *, cohort=None, version=None, actor=None, **cohort_kwargs):
    """A certificate for `member` from a finished cohort (made unless given)."""
    if cohort is None:
        cohort = CohortFactory(
            status=CohortStatus.FINISHED, version=version or VersionFactory(), **cohort_kwargs
        )
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    return certificate_issue_manually(enrolment=enrolment, actor=actor, reason="Evidence on paper.")


def in_training(member, *, cohort, stage="enrolled"):
    """An enrolment in an open or running cohort, at `stage` (milestones set directly)."""
    now = timezone.now()
    fields = {}
    if stage == "applied":
        fields = {"status": EnrolmentStatus.APPLIED, "first_enrolled_at": None}
    if stage in ("attending", "submitted"):
        fields["first_attended_at"] = now
    if stage == "submitted":
        fields["work_submitted_at"] = now
    return EnrolmentFactory(cohort=cohort, member=member, **fields)


def list_count(client, url_name, **params) -> int:
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200, (params, response.status_code)
    return response.context["page_obj"].paginator.count


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def same_cell(xlsx_cell, csv_text: str) -> bool:
    """A cell of the XLSX holds what the CSV's cell says: the same text (the CSV quotes
    formula-like text), the same number, or the same date (the CSV writes YYYY-MM-DD)."""
    value = xlsx_cell.value
    if value is None:
        return csv_text == ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() == csv_text
    if isinstance(value, int | float):
        return float(csv_text) == float(value)
    return csv_safe(value) == csv_text


def assert_xlsx_matches_csv(client, url, params):
    rows = csv_rows(client.get(url, {**params, "format": "csv"}))
    sheet = xlsx_sheet(client.get(url, {**params, "format": "xlsx"}))
    xlsx_rows = list(sheet.iter_rows())
    assert len(xlsx_rows) == len(rows), url
    for xlsx_row, csv_row in zip(xlsx_rows, rows, strict=True):
        assert len(xlsx_row) == len(csv_row), (url, csv_row)
        for xlsx_cell, csv_text in zip(xlsx_row, csv_row, strict=True):
            assert same_cell(xlsx_cell, csv_text), (url, xlsx_cell.value, csv_text)
    return sheet


# --- Building a small movement --------------------------------------------------------------


def places_marked() -> dict:
    """Three regions, and a North East seat made a target seat."""
    north_east = Region.objects.get(ons_code="E12000001")
    wales = Region.objects.get(ons_code="W92000004")
    london = Region.objects.get(ons_code="E12000007")
    seat = Constituency.objects.filter(region=north_east).order_by("name").first()
    Constituency.objects.filter(pk=seat.pk).update(is_target_seat=True)
    seat.refresh_from_db()
    return {"north_east": north_east, "wales": wales, "london": london, "seat": seat}


def world_build(places: dict, staff) -> dict:
    """A finished cohort to learn rates from, leaders across places and programmes, a revoked
    and a lapsed certificate, people in training, an open cohort, and targets."""
    ne, wales, london, seat = places["north_east"], places["wales"], places["london"], places["seat"]
    version = VersionFactory()
    other_version = VersionFactory()
    trainer = member_in(wales, role=Role.TRAINER, first_name="Gareth", last_name="Price")
    finished = CohortFactory(
        status=CohortStatus.FINISHED, version=version, region=ne, capacity=8, trainers=[trainer]
    )
    # Finished: two certified (one in a target seat), one withdrawn after attending, one who never attended.
    seat_leader = member_in(ne, constituency=seat, first_name="Ada", last_name="Seat")
    ne_leader = member_in(ne, first_name="Ben", last_name="North")
    certify(seat_leader, cohort=finished, actor=staff)
    certify(ne_leader, cohort=finished, actor=staff)
    EnrolmentFactory(
        cohort=finished,
        member=member_in(ne),
        status=EnrolmentStatus.WITHDRAWN,
        first_enrolled_at=timezone.now(),
        first_attended_at=timezone.now(),
    )
    EnrolmentFactory(cohort=finished, member=member_in(ne), status=EnrolmentStatus.ENROLLED)
    # One leader certified by two programmes: one leader.
    twice = member_in(wales, first_name="Cai", last_name="Twice")
    certify(twice, version=version, actor=staff, region=wales, trainers=[trainer])
    certify(twice, version=other_version, actor=staff, region=wales)
    # Revoked: not a leader. Lapsed: still a leader, and shown as lapsed.
    revoked = certify(member_in(london, first_name="Dee", last_name="Revoked"), version=version, actor=staff)
    certificate_revoke(certificate=revoked, actor=staff, public_reason="Issued in error.")
    lapsed = certify(member_in(london, first_name="Eve", last_name="Lapsed"), version=version, actor=staff)
    lapsed.expires_on = timezone.localdate() - dt.timedelta(days=1)
    lapsed.save(update_fields=["expires_on"])
    certificate_standing_changed_announce(holder_ids=[lapsed.holder_id], enrolment_ids=[lapsed.enrolment_id])
    # In training: a running cohort in the North East ending soon, and an open one in Wales.
    running = CohortFactory(
        status=CohortStatus.RUNNING,
        version=version,
        region=ne,
        starts_on=timezone.localdate() - dt.timedelta(days=50),
        ends_on=timezone.localdate() + dt.timedelta(days=10),
        capacity=10,
    )
    for stage in ["enrolled", "attending", "attending", "submitted"]:
        in_training(member_in(ne), cohort=running, stage=stage)
    in_training(member_in(ne, constituency=seat), cohort=running, stage="submitted")
    open_cohort = CohortFactory(status=CohortStatus.OPEN, version=version, region=wales, capacity=10)
    in_training(member_in(wales), cohort=open_cohort, stage="applied")
    in_training(member_in(wales), cohort=open_cohort, stage="enrolled")
    deadline = timezone.localdate() + dt.timedelta(days=365)
    targets = {
        "national": target_create(scope=TargetScope.NATIONAL, leaders=100, deadline=deadline, actor=staff),
        "north_east": target_create(
            scope=TargetScope.REGION, region=ne, leaders=20, deadline=deadline, actor=staff
        ),
        "seats": target_create(scope=TargetScope.TARGET_SEATS, leaders=5, deadline=deadline, actor=staff),
        "wales_other": target_create(
            scope=TargetScope.REGION,
            region=wales,
            programme=other_version.programme,
            leaders=3,
            deadline=deadline,
            actor=staff,
        ),
    }
    return {
        **places,
        "version": version,
        "trainer": trainer,
        "finished": finished,
        "running": running,
        "open": open_cohort,
        "targets": targets,
    }
