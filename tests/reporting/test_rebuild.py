"""The rebuild over every id is set-based SQL; the events' sync functions are Python over a few
ids. Both must say the same thing about the same rows: on a generated movement drifted behind
the services' back in every way a copy can drift, they count the same differences, and after
the rebuild's corrections the Python finds nothing left to correct."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from certification.models import Certificate, CertificateStatus
from members.models import Profile, User
from reporting.models import LeaderTally
from reporting.services.enrolment_copies import enrolment_certified_sync, enrolment_places_sync
from reporting.services.rebuild import read_model_rebuild
from reporting.services.tally import leader_tally_sync
from training.models import Enrolment
from training.services.milestones import MILESTONE_FIELDS, milestones_compute, milestones_rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def movement(seeded):
    call_command(
        "generate_scale", "--members", "300", "--cohorts", "24", "--certificates", "40", stdout=StringIO()
    )


def milestones_differing_in_python() -> int:
    """What the per-event code (`milestones_compute`) says of every enrolment."""
    enrolments = list(
        Enrolment.objects.select_related("cohort").only(
            "pk", "status", "status_changed_at", "cohort__version_id", *MILESTONE_FIELDS
        )
    )
    computed = milestones_compute(enrolments)
    return sum(
        tuple(getattr(enrolment, name) for name in MILESTONE_FIELDS) != computed[enrolment.pk]
        for enrolment in enrolments
    )


def differing_in_python() -> dict[str, int]:
    return {
        "milestones": milestones_differing_in_python(),
        "places": enrolment_places_sync(fix=False)[1],
        "certified": enrolment_certified_sync(fix=False)[1],
        "tally": leader_tally_sync(fix=False)[1],
    }


def differing_in_sql() -> dict[str, int]:
    report = read_model_rebuild(fix=False)
    return {
        "milestones": report.milestones_differing,
        "places": report.places_differing,
        "certified": report.certified_differing,
        "tally": report.tally_differing,
    }


def drift() -> None:
    """Change sources and copies with QuerySet.update() and delete(), which announce nothing."""
    hour = dt.timedelta(hours=1)
    attended = Enrolment.objects.filter(first_attended_at__isnull=False).order_by("pk")
    Enrolment.objects.filter(pk__in=attended.values("pk")[:3]).update(first_attended_at=None)
    worked = Enrolment.objects.filter(work_submitted_at__isnull=False).order_by("pk")
    Enrolment.objects.filter(pk__in=worked.values("pk")[:2]).update(
        work_submitted_at=F("work_submitted_at") + hour
    )
    enrolled = Enrolment.objects.filter(first_enrolled_at__isnull=False).order_by("-pk")
    Enrolment.objects.filter(pk__in=enrolled.values("pk")[:2]).update(first_enrolled_at=None)
    # A member moves, and another loses their profile: their enrolments' places and tally rows.
    leaders = list(LeaderTally.objects.order_by("user_id").values_list("user_id", flat=True))
    other_region = Profile.objects.exclude(user_id=leaders[0]).values_list("region_id", flat=True).first()
    Profile.objects.filter(user_id=leaders[0]).update(region_id=other_region, constituency=None)
    Profile.objects.filter(user_id=leaders[1]).delete()
    # A certificate revoked, another's date moved, a copy of a date made up.
    Certificate.objects.filter(holder_id=leaders[2]).update(
        status=CertificateStatus.REVOKED, revoked_at=F("issued_at") + hour
    )
    Certificate.objects.filter(holder_id=leaders[3]).update(issued_at=F("issued_at") - 40 * 24 * hour)
    uncertified = Enrolment.objects.filter(certified_at__isnull=True).order_by("pk")
    Enrolment.objects.filter(pk__in=uncertified.values("pk")[:2]).update(certified_at=dt.datetime.now(dt.UTC))
    # Tally rows missing, extra and wrong.
    LeaderTally.objects.filter(user_id=leaders[4]).delete()
    LeaderTally.objects.filter(user_id=leaders[5]).update(in_date_until=None)
    LeaderTally.objects.filter(user_id=leaders[6]).update(first_certified_month=dt.date(2000, 1, 1))
    newcomer = User.objects.exclude(pk__in=leaders).order_by("pk").first()
    extra = LeaderTally.objects.get(user_id=leaders[7])
    extra.pk = None
    extra.user = newcomer
    extra.save()


def test_the_sql_rebuild_and_the_event_code_agree_on_drifted_rows(movement):
    assert differing_in_sql() == differing_in_python() == dict.fromkeys(differing_in_python(), 0)
    drift()
    found = differing_in_python()
    assert all(found.values()), found  # every family drifted
    assert differing_in_sql() == found


def test_the_sql_rebuild_corrects_what_the_event_code_would(movement):
    drift()
    with pytest.raises(CommandError):
        call_command("dashboard_rebuild", "--check", stdout=StringIO())
    out = StringIO()
    call_command("dashboard_rebuild", stdout=out)
    assert "corrected" in out.getvalue()
    assert differing_in_python() == dict.fromkeys(["milestones", "places", "certified", "tally"], 0)
    call_command("dashboard_rebuild", "--check", stdout=StringIO())


def test_pipeline_rebuild_counts_every_enrolment(movement):
    assert milestones_rebuild(fix=False) == (Enrolment.objects.count(), 0)
