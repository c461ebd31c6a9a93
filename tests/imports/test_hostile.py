"""Whatever the file holds, checking it gives a message or row errors, never a failure."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from imports.models import MemberImport
from imports.parsing import ImportFileError
from imports.services import member_import_check
from tests.imports.conftest import csv_bytes, member_row

pytestmark = pytest.mark.django_db

SETTINGS = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_a_message_or_a_checked_import(staff, data):
    try:
        member_import = member_import_check(actor=staff, name="x.csv", data=data, cohort=None)
    except ImportFileError as error:
        assert str(error)  # noqa: PT017 - either outcome is right; a message must say why
    else:
        assert member_import.rows_total == len(member_import.preview)


# Without NUL, which refuses the whole file (tested above and in test_import), and without lone
# surrogates, which no file can hold (the test's own UTF-8 encoding refuses them).
CELL_CHARACTERS = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))


@SETTINGS
@given(cells=st.lists(st.text(CELL_CHARACTERS, max_size=60), min_size=7, max_size=7))
def test_any_cells_give_row_errors_or_a_row(staff, cells):
    if all(not cell.strip() for cell in cells):
        with pytest.raises(ImportFileError, match="no members under it"):
            member_import_check(actor=staff, name="x.csv", data=csv_bytes([cells]), cohort=None)
        return
    member_import = member_import_check(actor=staff, name="x.csv", data=csv_bytes([cells]), cohort=None)
    assert member_import.rows_total == 1
    MemberImport.objects.filter(pk=member_import.pk).delete()


@pytest.mark.parametrize("name", ["\u202eecalevoL", "\u200b", "\ufeff", "a" * 151])
def test_names_that_are_invisible_or_too_long_are_row_errors(staff, name):
    member_import = member_import_check(
        actor=staff, name="x.csv", data=csv_bytes([member_row(1, first=name)]), cohort=None
    )
    assert member_import.preview[0]["errors"][0][0] == "first name"
