"""The rebuild: every kept summary the dashboard reads, checked (or corrected) against the
source rows over every id at once. `manage.py dashboard_rebuild` and the seeds call it; after a
bulk load or an UPDATE by SQL (which announce nothing) it is what brings the copies back in step.

The events' sync functions (reporting/services/enrolment_copies.py, tally.py) read the source
rows for the few ids an event names, in Python. Over every id that took minutes at a million
members, so here each family's rule is said once more in SQL, one statement per family: the
rows the sources call for, compared with the rows kept (`IS DISTINCT FROM`, a FULL JOIN for the
tally), the differences counted or written. tests/reporting/test_rebuild.py holds the two to
the same answers on drifted data (decision 0024). That SQL is PostgreSQL's; on the SQLite file
of `make run` (a few hundred enrolments) the events' functions run over everyone instead.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from certification.models import Certificate, CertificateStatus
from members.models import Profile
from reporting.models import LeaderTally
from reporting.services.enrolment_copies import enrolment_certified_sync, enrolment_places_sync
from reporting.services.figures import dashboard_figures_changed
from reporting.services.tally import leader_tally_sync
from training.models import Enrolment
from training.services.milestones import milestones_rebuild


@dataclass(frozen=True)
class RebuildReport:
    enrolments: int
    milestones_differing: int
    places_differing: int
    certified_differing: int
    leaders: int
    tally_differing: int

    @property
    def differing(self) -> int:
        return (
            self.milestones_differing
            + self.places_differing
            + self.certified_differing
            + self.tally_differing
        )


@transaction.atomic
def read_model_rebuild(*, fix: bool) -> RebuildReport:
    """Compare every kept summary with its source rows; with `fix`, correct what differs.
    The kept figures are thrown away either way: corrections are bulk writes, and a check
    may follow an UPDATE by SQL that nothing announced."""
    # The milestones are training's own columns, kept by training's services in the same
    # transaction as the change; checked here because the dashboard's funnels read them.
    enrolments, milestones_differing = milestones_rebuild(fix=fix)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            places_differing = _places_rebuild(cursor, fix=fix)
            certified_differing = _certified_rebuild(cursor, fix=fix)
            leaders, tally_differing = _tally_rebuild(cursor, fix=fix)
    else:
        # The SQLite file of `make run`: the events' own functions, over everyone.
        _checked, places_differing = enrolment_places_sync(fix=fix)
        _checked, certified_differing = enrolment_certified_sync(fix=fix)
        leaders, tally_differing = leader_tally_sync(fix=fix)
    dashboard_figures_changed()
    return RebuildReport(
        enrolments=enrolments,
        milestones_differing=milestones_differing,
        places_differing=places_differing,
        certified_differing=certified_differing,
        leaders=leaders,
        tally_differing=tally_differing,
    )


ENROLMENT = Enrolment._meta.db_table
PROFILE = Profile._meta.db_table
CERTIFICATE = Certificate._meta.db_table
TALLY = LeaderTally._meta.db_table


def _count_or_update(cursor, *, fix: bool, count_sql: str, update_sql: str, params=None) -> int:
    if fix:
        cursor.execute(update_sql, params)
        return cursor.rowcount
    cursor.execute(count_sql, params)
    return cursor.fetchone()[0]


def _places_rebuild(cursor, *, fix: bool) -> int:
    """Each enrolment's copy of its member's place: their profile's, none without one
    (`enrolment_places_sync`)."""
    differs = (
        "(e.member_region_id, e.member_constituency_id) IS DISTINCT FROM (p.region_id, p.constituency_id)"
    )
    return _count_or_update(
        cursor,
        fix=fix,
        count_sql=f"SELECT count(*) FROM {ENROLMENT} e LEFT JOIN {PROFILE} p ON p.user_id = e.member_id "  # noqa: S608
        f"WHERE {differs}",
        update_sql=f"UPDATE {ENROLMENT} e SET member_region_id = p.region_id, "  # noqa: S608
        f"member_constituency_id = p.constituency_id "
        f"FROM {ENROLMENT} x LEFT JOIN {PROFILE} p ON p.user_id = x.member_id "
        f"WHERE x.id = e.id AND {differs}",
    )


def _certified_rebuild(cursor, *, fix: bool) -> int:
    """Each enrolment's copy of its valid certificate's issue time, none without one
    (`enrolment_certified_sync`)."""
    valid = {"valid": CertificateStatus.VALID}
    joined = f"FROM {ENROLMENT} x LEFT JOIN {CERTIFICATE} c ON c.enrolment_id = x.id AND c.status = %(valid)s"
    return _count_or_update(
        cursor,
        fix=fix,
        count_sql=f"SELECT count(*) {joined} WHERE x.certified_at IS DISTINCT FROM c.issued_at",  # noqa: S608
        update_sql=f"UPDATE {ENROLMENT} e SET certified_at = c.issued_at {joined} "  # noqa: S608
        f"WHERE x.id = e.id AND e.certified_at IS DISTINCT FROM c.issued_at",
        params=valid,
    )


def _tally_rebuild(cursor, *, fix: bool) -> tuple[int, int]:
    """The leader tally: a row per member with a valid certificate, with their profile's place,
    their first certificate's time and month (in the site's zone), and the last day one is in
    date, none if one never lapses (`leader_tally_compute`). Returns (leaders, rows wrong,
    missing or extra)."""
    params = {"valid": CertificateStatus.VALID, "zone": timezone.get_current_timezone_name()}
    expected = f"""
        SELECT c.holder_id AS user_id, p.id IS NOT NULL AS has_profile, p.region_id, p.constituency_id,
            min(c.issued_at) AS first_certified_at,
            date_trunc('month', min(c.issued_at) AT TIME ZONE %(zone)s)::date AS first_certified_month,
            CASE WHEN bool_or(c.expires_on IS NULL) THEN NULL ELSE max(c.expires_on) END AS in_date_until
        FROM {CERTIFICATE} c LEFT JOIN {PROFILE} p ON p.user_id = c.holder_id
        WHERE c.status = %(valid)s
        GROUP BY c.holder_id, p.id, p.region_id, p.constituency_id
    """  # noqa: S608 - table names from the models; values are parameters
    columns = (
        "has_profile, region_id, constituency_id, first_certified_at, first_certified_month, in_date_until"
    )
    cursor.execute(f"CREATE TEMPORARY TABLE expected_tally ON COMMIT DROP AS {expected}", params)
    cursor.execute("SELECT count(*) FROM expected_tally")
    (leaders,) = cursor.fetchone()
    # Rows in one and not the other, either way round: wrong, missing or extra.
    cursor.execute(
        f"SELECT count(DISTINCT user_id) FROM ("  # noqa: S608
        f"(SELECT user_id, {columns} FROM expected_tally EXCEPT SELECT user_id, {columns} FROM {TALLY}) "
        f"UNION ALL "
        f"(SELECT user_id, {columns} FROM {TALLY} EXCEPT SELECT user_id, {columns} FROM expected_tally)"
        f") differing"
    )
    (differing,) = cursor.fetchone()
    if fix and differing:
        cursor.execute(
            f"DELETE FROM {TALLY} t "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM expected_tally x WHERE x.user_id = t.user_id)"
        )
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns.split(", "))
        cursor.execute(
            f"INSERT INTO {TALLY} (user_id, {columns}) "  # noqa: S608
            f"SELECT user_id, {columns} FROM expected_tally x "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TALLY} t WHERE t.user_id = x.user_id AND "
            f"(t.{columns.replace(', ', ', t.')}) IS NOT DISTINCT FROM (x.{columns.replace(', ', ', x.')})) "
            f"ON CONFLICT (user_id) DO UPDATE SET {updates}"
        )
    cursor.execute("DROP TABLE expected_tally")
    return leaders, differing
