"""The rules of one row of a member import (MemberImportRowForm), each with the words the
preview shows, and the rules across rows (member_import_rows_check)."""

import datetime as dt

import pytest

from imports.forms import MemberImportRowForm
from imports.selectors import member_import_lookups
from imports.services import member_import_rows_check
from members.models import Constituency, Region
from tests.factories import UserFactory
from tests.imports.conftest import member_row

COLUMNS = [
    "email",
    "first_name",
    "last_name",
    "constituency",
    "consent_date",
    "consent_source",
    "membership_number",
]
FORMULA = (
    "Looks like a spreadsheet formula (it starts with “%s”), so it is refused, not stored. "
    "Type the value itself."
)


def row(n: int = 1, **changes) -> dict[str, str]:
    return dict(zip(COLUMNS, member_row(n, **changes), strict=True))


def row_form(data: dict, member=None) -> MemberImportRowForm:
    rows = [data]
    return MemberImportRowForm(data, lookups=member_import_lookups(rows=rows, cohort=None), member=member)


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"email": ""}, "email", "Required."),
        ({"email": "not-an-email"}, "email", "Not a valid email address."),
        ({"first": ""}, "first_name", "Required."),
        ({"first": "A" * 151}, "first_name", "Longer than 150 characters."),
        ({"first": "\u200b"}, "first_name", "Enter a name with letters in it."),
        (
            {"last": "Ada\u202emoc.live"},
            "last_name",
            "Remove the hidden text-direction characters from the name.",
        ),
        ({"seat": ""}, "constituency", "Required: an ONS code or the constituency's name."),
        (
            {"seat": "Atlantis"},
            "constituency",
            "No constituency has this ONS code or name (July 2024 boundaries).",
        ),
        ({"date": ""}, "consent_date", "Required: when the member agreed to be contacted."),
        ({"date": "31 March"}, "consent_date", "Not a date: write it as 2025-03-31 or 31/03/2025."),
        ({"date": "2999-01-01"}, "consent_date", "In the future."),
        (
            {"source": ""},
            "consent_source",
            "Required: where the consent is recorded (a form, an event, the membership database).",
        ),
        ({"source": "S" * 201}, "consent_source", "Longer than 200 characters."),
        ({"number": "N" * 41}, "membership_number", "Longer than 40 characters."),
        ({"first": "=1+1"}, "first_name", FORMULA % "="),
        ({"source": "  @SUM(A1)"}, "consent_source", FORMULA % "@"),
        ({"last": "-"}, "last_name", FORMULA % "-"),
    ],
)
def test_each_rule_of_a_row_has_its_own_message(seeded, changes, column, message):
    form = row_form(row(**changes))
    assert not form.is_valid()
    assert form.errors == {column: [message]}
    assert form.plan is None


def test_a_name_two_constituencies_share_needs_the_ons_code(seeded):
    Constituency.objects.create(ons_code="X99999999", name="Hexham", region=Region.objects.first())
    form = row_form(row(2))  # row 2 names its seat "hexham"
    assert form.errors == {"constituency": ["Two constituencies have this name: give the ONS code."]}
    assert row_form(row(1)).is_valid()  # row 1 gives an ONS code


@pytest.mark.parametrize(
    "written", ["31/03/2025", "31-03-2025", "31.03.2025", "2025-03-31T09:30", "2025-03-31 09:30:00"]
)
def test_a_consent_date_is_read_in_the_usual_ways(seeded, written):
    form = row_form(row(date=written))
    assert form.is_valid(), form.errors
    assert form.plan.consent_date == dt.date(2025, 3, 31)


def test_a_valid_row_is_planned_nul_characters_dropped_and_cells_stripped(seeded):
    form = row_form(row(email=" Imported1@EXAMPLE.org ", first="Ad\x00a ", number=""))
    assert form.is_valid(), form.errors
    plan = form.plan
    assert (plan.email, plan.first_name, plan.membership_number) == ("Imported1@example.org", "Ada", "")
    assert plan.is_new
    assert plan.changes == ["account"]
    assert plan.constituency.ons_code == "E14001377"


def test_a_member_who_has_another_number_is_refused_only_once_the_cells_pass(seeded):
    member = UserFactory(email="imported1@example.org")
    member.profile.membership_number = "OTHER-1"
    member.profile.save()
    form = row_form(row(), member=member)
    assert form.errors == {"membership_number": ["This member already has another membership number."]}
    assert form.plan is None
    assert row_form(row(first=""), member=member).errors == {"first_name": ["Required."]}


def test_rules_across_rows_duplicates_and_a_number_and_address_of_two_members(seeded):
    """A repeated email or number is an error on the later row, before its own cells' errors;
    a number and an address naming two members is the row's only error."""
    someone = UserFactory(email="someone@example.org")
    numbered = UserFactory(email="numbered@example.org")
    numbered.profile.membership_number = "FL-0900"
    numbered.profile.save()
    rows = [
        row(1),
        row(2, number="fl-0001", first="=2"),
        row(3, email="IMPORTED1@example.org", number=""),
        row(4, email=someone.email, number="FL-0900", seat="Atlantis"),
    ]
    checked = member_import_rows_check(rows=rows, cohort=None)
    errors = [entry["errors"] for entry in checked.preview]
    assert errors[0] == []
    assert errors[1] == [
        ["membership number", "Same as row 1: each member once."],
        ["first name", FORMULA % "="],
    ]
    assert errors[2] == [["email", "Same as row 1: each member once."]]
    assert errors[3] == [
        ["membership number", "This number belongs to another member than this email address."]
    ]
    assert checked.counts == {"new": 1, "updated": 0, "unchanged": 0, "invalid": 3}
    assert list(checked.plans) == [1]
