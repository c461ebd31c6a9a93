"""Staff import members from CSV or XLSX: checked first, written whole or not at all."""

import datetime as dt
import io

import openpyxl
import pytest
from allauth.account.models import EmailAddress
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from imports.models import ImportedMember, MemberImport, MemberImportStatus
from imports.parsing import MAX_FILE_BYTES, MAX_ROWS
from imports.services import member_import_check, member_import_write, member_imports_expire
from members.models import Profile, User
from members.permissions import Role
from members.selectors import consent_text_current
from members.services import consent_give
from tests.factories import CohortFactory, UserFactory
from tests.imports.conftest import HEADINGS, checked, confirm, csv_bytes, member_row, upload
from tests.listing import listing_check
from training.models import Cohort, CohortStatus, Enrolment


def member_counts() -> tuple[int, int, int]:
    return User.objects.count(), Profile.objects.count(), ImportedMember.objects.count()


CHECK_QUERIES = 8
CHECK_QUERIES_COHORT = 9
WRITE_QUERIES_A_NEW_MEMBER = 10  # reporting is told of the new places once for all rows


def row_errors(member_import, n: int) -> list[list[str]]:
    return next(row for row in member_import.preview if row["n"] == n)["errors"]


# --- Preview ---------------------------------------------------------------------------------


def test_the_preview_shows_each_rows_errors_by_field_and_writes_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    """Bad email, missing names, unknown constituency, missing consent evidence and a duplicate
    row are each reported on their row and field; no member is written, and confirming is refused."""
    before = member_counts()
    data = csv_bytes(
        [
            member_row(1),
            member_row(2, email="not-an-email"),
            member_row(3, first="", last=""),
            member_row(4, seat="Atlantis"),
            member_row(5, date="", source=""),
            member_row(6, email="IMPORTED1@example.org", number=""),
        ]
    )
    member_import = checked(staff_client, data)

    assert (member_import.rows_total, member_import.rows_new, member_import.rows_invalid) == (6, 1, 5)
    assert row_errors(member_import, 1) == []
    assert row_errors(member_import, 2) == [["email", "Not a valid email address."]]
    assert {field for field, _message in row_errors(member_import, 3)} == {"first name", "last name"}
    assert row_errors(member_import, 4)[0][0] == "constituency"
    assert {field for field, _message in row_errors(member_import, 5)} == {"consent date", "consent source"}
    assert row_errors(member_import, 6) == [["email", "Same as row 1: each member once."]]
    page = staff_client.get(reverse("imports:import-detail", args=[member_import.pk])).content.decode()
    assert "Not a valid email address." in page
    assert "No constituency has this ONS code or name" in page
    assert "Confirm and import" not in page
    assert member_counts() == before

    member_import = confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    assert member_import.status == MemberImportStatus.PREVIEWED
    assert member_counts() == before
    assert mail.outbox == []


def test_a_formula_in_a_cell_is_refused_not_stored(staff_client):
    """A cell a spreadsheet would run (=HYPERLINK(...), +, -, @) is a row error saying so."""
    data = csv_bytes(
        [member_row(1, first='=HYPERLINK("http://evil.example","Click")'), member_row(2, source="@SUM(A1)")]
    )
    member_import = checked(staff_client, data)
    assert member_import.rows_invalid == 2
    [(field, message)] = row_errors(member_import, 1)  # one message: not also "Required"
    assert field == "first name"
    assert "spreadsheet formula" in message
    assert "refused" in message
    assert row_errors(member_import, 2)[0][0] == "consent source"


def test_query_count_of_the_preview_page_does_not_grow_with_the_rows(staff_client):
    """The preview reads the import's own row: the same queries for 3 rows as for 60."""
    counts = []
    for size in (3, 60):
        member_import = checked(staff_client, csv_bytes([member_row(n) for n in range(1, size + 1)]))
        url = reverse("imports:import-detail", args=[member_import.pk])
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_upload_page_lists_imports_with_the_same_queries_at_two_sizes(staff_client):
    """The list of past imports is paginated: 1 import or 25 cost the same queries."""
    url = reverse("imports:import-create")
    counts = []
    for size in (1, 25):
        while MemberImport.objects.count() < size:
            checked(staff_client, csv_bytes([member_row(1)]))
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Confirm --------------------------------------------------------------------------------


def test_confirm_writes_every_row_and_records_counts_only_in_the_audit_trail(
    staff_client, staff, django_capture_on_commit_callbacks
):
    """New members get an account without a usable password, a profile in the constituency's
    region, their membership number, the consent evidence, and an invitation each."""
    data = csv_bytes([member_row(1), member_row(2), member_row(3)])
    member_import = confirm(staff_client, checked(staff_client, data), django_capture_on_commit_callbacks)

    assert member_import.status == MemberImportStatus.CONFIRMED
    assert member_import.rows == []
    assert member_import.preview == []
    one = User.objects.select_related("profile__region", "profile__constituency").get(
        email="imported1@example.org"
    )
    assert not one.has_usable_password()
    assert (one.first_name, one.last_name) == ("First1", "Last1")
    assert one.profile.constituency.ons_code == "E14001377"
    assert one.profile.region.name == "North East"
    assert one.profile.membership_number == "FL-0001"
    evidence = ImportedMember.objects.get(user=one)
    assert (evidence.consent_evidence_date, evidence.consent_evidence_source) == (
        dt.date(2025, 3, 31),
        "Membership form 2025",
    )
    assert User.objects.get(email="imported2@example.org").profile.constituency.name == "Hexham"
    assert sorted(m.to[0] for m in mail.outbox) == [f"imported{n}@example.org" for n in (1, 2, 3)]

    entry = AuditEntry.objects.get(action=AuditAction.MEMBERS_IMPORTED)
    assert entry.actor == staff
    assert entry.changes["new"] == 3
    assert entry.changes["rows"] == 3
    assert "imported1" not in str(entry.changes)
    assert "First1" not in str(entry.changes)


def test_reimporting_the_same_file_changes_nothing(staff_client, django_capture_on_commit_callbacks):
    """The second time, every row is unchanged: no account, profile or email more."""
    data = csv_bytes([member_row(1), member_row(2)])
    confirm(staff_client, checked(staff_client, data), django_capture_on_commit_callbacks)
    profiles = list(Profile.objects.order_by("pk").values_list("pk", "updated_at", "membership_number"))
    sent = len(mail.outbox)

    again = checked(staff_client, data)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged, again.rows_invalid) == (0, 0, 2, 0)
    again = confirm(staff_client, again, django_capture_on_commit_callbacks)
    assert again.status == MemberImportStatus.CONFIRMED
    assert (
        list(Profile.objects.order_by("pk").values_list("pk", "updated_at", "membership_number")) == profiles
    )
    assert len(mail.outbox) == sent


def test_an_existing_member_is_matched_by_membership_number_and_keeps_their_own_data(
    staff_client, django_capture_on_commit_callbacks
):
    """A row whose email differs but whose number is known updates that member: it fills only
    what is blank and never changes their email, names or consent."""
    member = UserFactory(email="own@example.org", first_name="Own", last_name="")
    member.profile.membership_number = "FL-0042"
    member.profile.save()
    consents = list(member.consents.values_list("pk", "given_at"))
    data = csv_bytes(
        [member_row(1, email="other@example.org", first="Imported", last="Surname", number="fl-0042")]
    )

    member_import = checked(staff_client, data)
    assert (member_import.rows_new, member_import.rows_updated) == (0, 1)
    confirm(staff_client, member_import, django_capture_on_commit_callbacks)

    member.refresh_from_db()
    assert (member.email, member.first_name, member.last_name) == ("own@example.org", "Own", "Surname")
    assert list(member.consents.values_list("pk", "given_at")) == consents
    assert not User.objects.filter(email="other@example.org").exists()
    assert mail.outbox == []


def test_a_member_matched_by_email_with_another_number_is_a_row_error(staff_client):
    member = UserFactory(email="imported1@example.org")
    member.profile.membership_number = "OTHER-1"
    member.profile.save()
    member_import = checked(staff_client, csv_bytes([member_row(1)]))
    assert row_errors(member_import, 1)[0][0] == "membership number"


@pytest.mark.parametrize("race", ["number taken", "email taken"])
def test_a_row_that_fails_at_confirm_time_rolls_everything_back(
    staff_client, django_capture_on_commit_callbacks, race
):
    """Between the check and the confirm someone else takes row 3's membership number (or
    signs up with its address): nothing at all is written, and the import says which row."""
    data = csv_bytes([member_row(1), member_row(2), member_row(3)])
    member_import = checked(staff_client, data)
    assert member_import.can_confirm
    if race == "number taken":
        rival = UserFactory(email="rival@example.org")
        rival.profile.membership_number = "FL-0003"
        rival.profile.save()
    else:
        UserFactory(email="Imported3@example.org")
    before = member_counts()

    member_import = confirm(staff_client, member_import, django_capture_on_commit_callbacks)

    assert member_import.status == MemberImportStatus.REFUSED
    assert member_counts() == before
    assert not User.objects.filter(email__in=["imported1@example.org", "imported2@example.org"]).exists()
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action=AuditAction.MEMBERS_IMPORTED).exists()
    page = staff_client.get(reverse("imports:import-detail", args=[member_import.pk])).content.decode()
    assert "Nothing was imported" in page


# --- Files ----------------------------------------------------------------------------------


def test_windows_1252_and_utf8_bom_files_are_read_and_named(staff_client, django_capture_on_commit_callbacks):
    """Accented names survive from both; the preview says how the file was read."""
    cp1252 = checked(
        staff_client, csv_bytes([member_row(1, first="Zoë", last="Ó Súilleabháin")], encoding="cp1252")
    )
    assert cp1252.file_format == "CSV, Windows-1252"
    bom = checked(staff_client, csv_bytes([member_row(2, first="Siân")], encoding="utf-8-sig"))
    assert bom.file_format == "CSV, UTF-8 with BOM"
    assert bom.rows_invalid == 0  # the BOM is not glued to the "Email" heading
    plain = checked(staff_client, csv_bytes([member_row(3, first="Łukasz")]))
    assert plain.file_format == "CSV, UTF-8"

    for member_import in (cp1252, bom):
        confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    assert User.objects.get(email="imported1@example.org").get_full_name() == "Zoë Ó Súilleabháin"
    assert User.objects.get(email="imported2@example.org").first_name == "Siân"


def test_a_file_mixing_encodings_is_refused_with_a_clear_message(staff_client):
    data = csv_bytes(
        [member_row(1, first="Zoë")]
    ) + "imported2@example.org,Siân,Jones,Hexham,2025-01-01,Form,\r\n".encode("cp1252")
    response = upload(staff_client, data)
    assert response.status_code == 400
    assert "mixes text encodings" in response.content.decode()


def test_an_xlsx_file_is_read_with_its_dates_and_numbers(staff_client, django_capture_on_commit_callbacks):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    spreadsheet_date = dt.datetime(2025, 2, 1)  # noqa: DTZ001 - a spreadsheet's date has no zone
    sheet.append(["xlsx1@example.org", "Ada", "Lovelace", "Hexham", spreadsheet_date, "Event", 1234])
    sheet.append(["xlsx2@example.org", "Mary", "Seacole", "E14001377", "01/02/2025", "Event", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    member_import = checked(staff_client, buffer.getvalue(), name="members.xlsx")
    assert member_import.file_format == "XLSX"
    assert (member_import.rows_new, member_import.rows_invalid) == (2, 0)
    confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    ada = User.objects.select_related("profile").get(email="xlsx1@example.org")
    assert ada.profile.membership_number == "1234"
    assert ImportedMember.objects.get(user=ada).consent_evidence_date == dt.date(2025, 2, 1)


def test_a_formula_in_an_xlsx_cell_is_seen_as_a_formula(staff_client):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    sheet.append(
        ["x@example.org", '=HYPERLINK("http://evil.example","Ada")', "L", "Hexham", "2025-01-01", "Event", ""]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    member_import = checked(staff_client, buffer.getvalue(), name="members.xlsx")
    assert "spreadsheet formula" in row_errors(member_import, 1)[0][1]


def test_an_oversized_file_or_too_many_rows_is_refused_with_a_clear_message(staff_client):
    too_big = upload(staff_client, b"x" * (MAX_FILE_BYTES + 1))
    assert too_big.status_code == 400
    assert "larger than 2 MB" in too_big.content.decode()

    too_many = upload(staff_client, csv_bytes([member_row(n) for n in range(1, MAX_ROWS + 2)]))
    assert too_many.status_code == 400
    assert f"more than {MAX_ROWS} rows" in too_many.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,phone\r\nA,1\r\n", "Missing: email"),
        (csv_bytes([]), "no members under it"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX"),
        ("\ufeffemail".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files_get_a_400_that_says_why(staff_client, data, message):
    response = upload(staff_client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportedMember.objects.exists()


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trainee", "trainer", "regional_staff"])
def test_only_national_staff_may_import(client, seeded, role):
    """Trainees, trainers and regional staff get a 403 on every import page; anonymous
    visitors are sent to sign in."""
    other_staff = UserFactory(role=Role.NATIONAL_STAFF)
    client.force_login(other_staff)
    member_import = checked(client, csv_bytes([member_row(1)]))
    client.logout()
    urls = [
        ("get", reverse("imports:import-create")),
        ("post", reverse("imports:import-create")),
        ("get", reverse("imports:import-detail", args=[member_import.pk])),
        ("post", reverse("imports:import-confirm", args=[member_import.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response.url
    client.force_login(UserFactory(role=Role(role)))
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.PREVIEWED


def test_an_expired_check_cannot_be_confirmed_and_loses_its_rows(
    staff_client, django_capture_on_commit_callbacks
):
    member_import = checked(staff_client, csv_bytes([member_row(1)]))
    member_import.expires_at = timezone.now() - dt.timedelta(seconds=1)
    member_import.save(update_fields=["expires_at"])
    confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    assert not User.objects.filter(email="imported1@example.org").exists()
    assert member_imports_expire() == 1
    member_import.refresh_from_db()
    assert (member_import.status, member_import.rows, member_import.preview) == (
        MemberImportStatus.EXPIRED,
        [],
        [],
    )


def test_the_staff_menu_links_to_the_import_for_national_staff(staff_client):
    assert (
        reverse("imports:import-create") in staff_client.get(reverse("members:staff-home")).content.decode()
    )


def test_email_addresses_of_new_members_wait_for_proof(staff_client, django_capture_on_commit_callbacks):
    confirm(
        staff_client, checked(staff_client, csv_bytes([member_row(1)])), django_capture_on_commit_callbacks
    )
    address = EmailAddress.objects.get(email="imported1@example.org")
    assert address.primary
    assert not address.verified


def test_the_write_runs_once_when_its_task_is_delivered_twice(
    staff_client, django_capture_on_commit_callbacks
):
    """Confirming marks the import as being written; a second delivery of the task finds it
    written and does nothing."""
    member_import = confirm(
        staff_client, checked(staff_client, csv_bytes([member_row(1)])), django_capture_on_commit_callbacks
    )
    assert member_import.status == MemberImportStatus.CONFIRMED
    assert member_import.confirmed_by is not None
    assert member_import_write(member_import_id=member_import.pk) is None
    assert User.objects.filter(email="imported1@example.org").count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.MEMBERS_IMPORTED).count() == 1


def test_a_confirmed_import_waiting_for_its_worker_says_so(staff_client):
    """Without the commit's callbacks (the worker has not run yet) the page says it is being written."""
    member_import = checked(staff_client, csv_bytes([member_row(1)]))
    staff_client.post(reverse("imports:import-confirm", args=[member_import.pk]))
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMING
    page = staff_client.get(reverse("imports:import-detail", args=[member_import.pk])).content.decode()
    assert "being written" in page
    assert 'http-equiv="refresh"' in page
    assert not User.objects.filter(email="imported1@example.org").exists()


# --- Query counts ------------------------------------------------------------------------------


def _check_queries(staff, rows: int, cohort=None) -> int:
    data = csv_bytes([member_row(n) for n in range(1, rows + 1)])
    with CaptureQueriesContext(connection) as queries:
        member_import_check(actor=staff, name="members.csv", data=data, cohort=cohort)
    return len(queries)


@pytest.mark.parametrize("with_cohort", [False, True])
def test_the_check_costs_the_same_queries_whatever_the_files_length(staff, with_cohort):
    """Everything a row is checked against is read once per file: 3 rows or 300, new members
    or existing ones, the same fixed number of queries."""
    cohort = CohortFactory() if with_cohort else None
    for n in range(1, 4):
        UserFactory(email=f"imported{n}@example.org")  # existing members are matched too
    expected = CHECK_QUERIES_COHORT if with_cohort else CHECK_QUERIES
    assert _check_queries(staff, 3, cohort) == _check_queries(staff, 300, cohort) == expected


def _write_queries(staff_client, rows: int, capture) -> int:
    member_import = checked(staff_client, csv_bytes([member_row(n) for n in range(rows * 10, rows * 11)]))
    staff_client.post(reverse("imports:import-confirm", args=[member_import.pk]))
    # Each count starts with the process's content types unread: whether an earlier test in the
    # same process read one decided a query, and the test failed when run alone.
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries, capture():
        member_import_write(member_import_id=member_import.pk)
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMED
    return len(queries)


def test_writing_costs_a_fixed_number_of_queries_a_new_member(
    staff_client, django_capture_on_commit_callbacks
):
    small = _write_queries(staff_client, 2, django_capture_on_commit_callbacks)
    large = _write_queries(staff_client, 12, django_capture_on_commit_callbacks)
    assert large - small == 10 * WRITE_QUERIES_A_NEW_MEMBER


def test_a_row_that_cannot_be_written_refuses_the_whole_import_with_its_message(
    staff_client, django_capture_on_commit_callbacks
):
    """Row 2 applies an existing member for the cohort; the cohort stops taking applications
    between the check and the confirm. Nothing is written, not even row 1's new member, and
    row 2 says why."""
    cohort = CohortFactory()
    member = UserFactory(email="imported2@example.org")
    consent_give(user=member, text=consent_text_current())
    member_import = checked(staff_client, csv_bytes([member_row(1), member_row(2)]), cohort=cohort)
    assert "enrol" in member_import.preview[1]["changes"]
    Cohort.objects.filter(pk=cohort.pk).update(status=CohortStatus.RUNNING)
    before = member_counts()

    member_import = confirm(staff_client, member_import, django_capture_on_commit_callbacks)

    assert member_import.status == MemberImportStatus.REFUSED
    assert member_counts() == before
    assert not Enrolment.objects.filter(member=member).exists()
    assert row_errors(member_import, 1) == []
    assert row_errors(member_import, 2) == [["", "This cohort is not taking applications."]]
    assert (member_import.rows_new, member_import.rows_updated, member_import.rows_invalid) == (1, 0, 1)


# --- The one table component ------------------------------------------------------------------


def test_the_imports_list_sorts_and_pages_on_the_one_table_component(staff_client, staff):
    """Newest first, 20 a page; sortable by file name; unknown keys and bad pages change nothing."""
    start = timezone.now() - dt.timedelta(days=30)
    for n in range(23):
        MemberImport.objects.create(
            created_by=staff,
            created_at=start + dt.timedelta(hours=n),
            expires_at=start + dt.timedelta(days=1, hours=n),
            file_name=f"members-{n:02d}.csv",
            file_sha256=f"{n:064d}",
            file_format="utf-8",
        )
    listing_check(
        staff_client,
        reverse("imports:import-create"),
        table="table-memberimporttable",
        caption="23 imports",
        sort="file_name",
        per_page=20,
        total=23,
    )


def test_an_imports_rows_sort_and_page_on_the_one_table_component(staff_client):
    """An import's rows, 100 a page, in the file's order; sortable by row number."""
    member_import = checked(staff_client, csv_bytes([member_row(n) for n in range(1, 106)]))
    url = reverse("imports:import-detail", args=[member_import.pk])
    listing_check(
        staff_client,
        url,
        table="table-importrowtable",
        caption="105 rows",
        sort="-n",
        per_page=100,
        total=105,
    )


def test_the_rows_with_errors_stay_filtered_across_pages_and_sorts(staff_client):
    """?show=errors is kept by the sort and page links, and the caption counts those rows."""
    rows = [member_row(n, first="=SUM(A1)" if n % 2 else f"First{n}") for n in range(1, 6)]
    member_import = checked(staff_client, csv_bytes(rows))
    url = reverse("imports:import-detail", args=[member_import.pk])
    page = staff_client.get(url, {"show": "errors"}).content.decode()
    assert "3 rows with errors" in page
    assert "?show=errors&amp;sort=n" in page
    assert page.count('class="table-danger') == 3
