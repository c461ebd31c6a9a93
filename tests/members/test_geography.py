"""Regions and constituencies import from ONS-style CSV files, idempotently and all-or-nothing."""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from members.geography import (
    GeographyImportError,
    ImportResult,
    constituencies_import,
    regions_import,
)
from members.models import Constituency, Region

# These tests load the geography themselves, into tables emptied of the seeds.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unseeded")]

SEEDS = settings.BASE_DIR / "seeds" / "geography"
REGIONS_CSV = SEEDS / "regions.csv"
CONSTITUENCIES_CSV = SEEDS / "constituencies.csv"

# Seats per region on the July 2024 boundaries.
SEATS_PER_REGION = {
    "North East": 27,
    "North West": 73,
    "Yorkshire and The Humber": 54,
    "East Midlands": 47,
    "West Midlands": 57,
    "East of England": 61,
    "London": 75,
    "South East": 91,
    "South West": 58,
    "Scotland": 57,
    "Wales": 32,
    "Northern Ireland": 18,
}


def _csv(tmp_path, text: str, *, name: str = "lookup.csv", bom: bool = False):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    return path


def _snapshot():
    return sorted(Constituency.objects.values_list("pk", "ons_code", "name", "region_id", "is_target_seat"))


@pytest.fixture
def regions():
    regions_import(path=REGIONS_CSV)


def test_seeds_import_every_region_and_seat():
    """The seeds give 12 regions and all 650 seats, each region with its 2024 seat count."""
    assert regions_import(path=REGIONS_CSV) == ImportResult(created=12, updated=0, unchanged=0)
    assert constituencies_import(path=CONSTITUENCIES_CSV) == ImportResult(created=650, updated=0, unchanged=0)

    counts = {region.name: region.constituencies.count() for region in Region.objects.all()}
    assert counts == SEATS_PER_REGION
    assert Region.objects.get(ons_code="W92000004").nation == "wales"
    seat = Constituency.objects.get(ons_code="W07000081")
    assert (seat.name, seat.region.name) == ("Aberafan Maesteg", "Wales")
    assert not Constituency.objects.filter(is_target_seat=True).exists()


def test_a_second_import_changes_nothing(regions):
    """A second import changes nothing: every row is reported unchanged."""
    constituencies_import(path=CONSTITUENCIES_CSV)
    before = _snapshot()

    assert regions_import(path=REGIONS_CSV) == ImportResult(created=0, updated=0, unchanged=12)
    again = constituencies_import(path=CONSTITUENCIES_CSV)

    assert again == ImportResult(created=0, updated=0, unchanged=650)
    assert again.unchanged == again.total
    assert _snapshot() == before


def test_a_renamed_or_moved_seat_is_updated_and_stays_a_target(regions, tmp_path):
    """A renamed or moved seat is updated in place and keeps its target-seat flag."""
    constituencies_import(path=CONSTITUENCIES_CSV)
    Constituency.objects.filter(ons_code="E14001101").update(is_target_seat=True)
    pk = Constituency.objects.get(ons_code="E14001101").pk
    path = _csv(
        tmp_path,
        "PCON24CD,PCON24NM,RGN24CD,RGN24NM\n"
        "E14001101,Bishop Auckland and Weardale,E12000001,North East\n"
        "E14001106,Blaydon and Consett,E12000002,North West\n"
        "E14001107,Blyth and Ashington,E12000001,North East\n",
    )

    assert constituencies_import(path=path) == ImportResult(created=0, updated=2, unchanged=1)

    renamed = Constituency.objects.get(ons_code="E14001101")
    assert (renamed.pk, renamed.name, renamed.is_target_seat) == (pk, "Bishop Auckland and Weardale", True)
    assert Constituency.objects.get(ons_code="E14001106").region.ons_code == "E12000002"
    assert Constituency.objects.count() == 650


def test_bom_welsh_names_and_country_column_are_understood(regions, tmp_path):
    """An ONS file with a byte-order mark, Welsh names and only a country column imports."""
    path = _csv(
        tmp_path,
        "PCON24CD,PCON24NM,PCON24NMW,CTRY24CD,CTRY24NM\n"
        "W07000081,Aberafan Maesteg,Aberafan Maesteg,W92000004,Wales\n"
        "W07000112,Ynys Môn,Ynys Môn,W92000004,Wales\n"
        "S14000060,Aberdeen North,,S92000003,Scotland\n",
        bom=True,
    )

    assert constituencies_import(path=path) == ImportResult(created=3, updated=0, unchanged=0)

    seats = dict(Constituency.objects.values_list("ons_code", "name"))
    assert seats == {
        "W07000081": "Aberafan Maesteg",
        "W07000112": "Ynys Môn",
        "S14000060": "Aberdeen North",
    }
    assert Constituency.objects.get(ons_code="S14000060").region.name == "Scotland"


def test_other_boundary_years_are_accepted(regions, tmp_path):
    """Columns of another boundary year (PCON25CD, RGN25CD) are read the same way."""
    path = _csv(tmp_path, "RGN25CD,PCON25NM,PCON25CD\nE12000001,Hexham,E14001285\n")

    assert constituencies_import(path=path) == ImportResult(created=1, updated=0, unchanged=0)
    assert Constituency.objects.get(ons_code="E14001285").region.name == "North East"


def test_bad_rows_are_named_by_line_and_nothing_is_written(regions, tmp_path):
    """A malformed code or unknown region fails with its line number and writes nothing."""
    constituencies_import(path=CONSTITUENCIES_CSV)
    before = _snapshot()
    path = _csv(
        tmp_path,
        "PCON24CD,PCON24NM,RGN24CD,RGN24NM\n"
        "E14001285,Hexham Renamed,E12000001,North East\n"
        "E1400128,Too Short,E12000001,North East\n"
        "E14001440,Redcar,E12000099,Nowhere\n"
        "X14001557,Tynemouth,E12000001,North East\n",
    )

    with pytest.raises(GeographyImportError) as raised:
        constituencies_import(path=path)

    message = str(raised.value)
    assert "nothing imported" in message
    assert "line 3: malformed constituency code 'E1400128'" in message
    assert "line 4: unknown region code 'E12000099'" in message
    assert "line 5: malformed constituency code 'X14001557'" in message
    assert "line 2" not in message
    assert _snapshot() == before


def test_a_new_file_with_a_bad_row_creates_nothing(regions, tmp_path):
    """One bad row stops the whole file: the good rows before it are not created either."""
    path = _csv(
        tmp_path,
        "PCON24CD,PCON24NM,RGN24CD\nE14001285,Hexham,E12000001\nE14001440,Redcar,E12000001\nE14001440,Redcar,E12000001\n",
    )

    with pytest.raises(GeographyImportError, match="line 4: constituency code E14001440 repeats line 3"):
        constituencies_import(path=path)

    assert not Constituency.objects.exists()


def test_a_file_without_the_ons_columns_is_refused(regions, tmp_path):
    """A file without a code, name and region or country column is refused by name."""
    path = _csv(tmp_path, "code,name\nE14001285,Hexham\n")

    with pytest.raises(GeographyImportError, match="missing column.*PCONyyCD, PCONyyNM, RGNyyCD or CTRYyyCD"):
        constituencies_import(path=path)


def test_a_region_with_an_unknown_nation_is_refused(tmp_path):
    """A region row with an unknown nation fails with its line number and writes nothing."""
    path = _csv(
        tmp_path,
        "ons_code,name,nation\nE12000001,North East,england\nE12000002,North West,Mercia\n",
        name="regions.csv",
    )

    with pytest.raises(GeographyImportError, match="line 3: unknown nation 'Mercia'"):
        regions_import(path=path)

    assert not Region.objects.exists()


def test_command_imports_regions_and_seats_and_prints_counts():
    """The command imports regions and seats and prints what it created, then that nothing changed."""
    out = StringIO()
    call_command("import_constituencies", str(CONSTITUENCIES_CSV), "--regions", str(REGIONS_CSV), stdout=out)
    assert "Regions: 12 created, 0 updated, 0 unchanged." in out.getvalue()
    assert "Constituencies: 650 created, 0 updated, 0 unchanged." in out.getvalue()

    out = StringIO()
    call_command("import_constituencies", str(CONSTITUENCIES_CSV), stdout=out)
    assert out.getvalue().strip() == "Constituencies: 0 created, 0 updated, 650 unchanged."


def test_command_reports_a_missing_file(tmp_path):
    """A missing file is a CommandError naming the file, and nothing is imported."""
    missing = tmp_path / "nowhere.csv"

    with pytest.raises(CommandError, match=re.escape(f"File not found: {missing}")):
        call_command("import_constituencies", str(missing), "--regions", str(REGIONS_CSV))

    assert not Region.objects.exists()


def test_command_reports_bad_rows_and_keeps_regions_out(tmp_path):
    """A bad lookup is a CommandError with its line numbers, and the regions are not kept either."""
    path = _csv(tmp_path, "PCON24CD,PCON24NM,RGN24CD\nE14001285,Hexham,E12000099\n")

    with pytest.raises(CommandError, match="line 2: unknown region code 'E12000099'"):
        call_command("import_constituencies", str(path), "--regions", str(REGIONS_CSV))

    assert not Region.objects.exists()
