"""The sample set edited as offices edit their extracts (a title above the header, a workbook of
several sheets, two extracts joined into one file, two-digit years and midnight times, names and
places in the new tone placement, old mobile numbers, Excel's apostrophe before ids), through
`dancu run`: the edits change how values are written, never what they say, so the run publishes
what it publishes on the plain set."""

from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import run_dancu

from benchmarks.office_edits import Changes, changes, persons
from dancu.generate import generate
from dancu.generate.render import new_tone_placement
from dancu.generate.styles import OFFICE_DATE_FORMATS, OFFICE_EDIT_SHARES


@pytest.fixture(scope="module")
def edited_run(tmp_path_factory) -> Path:
    """The sample run's set (`conftest.sample_run`), edited, and its run: OUT/sample, OUT/data."""
    out = tmp_path_factory.mktemp("edited_run")
    generate(persons=2_000, seed=7, out=out / "sample", office_edits=True)
    run_dancu(out / "sample" / "landing", out)
    return out


@pytest.fixture(scope="module")
def found(sample_run: Path, edited_run: Path) -> Changes:
    return changes(sample_run / "data", edited_run / "data")


def edited_files(edited_run: Path) -> pl.DataFrame:
    return pl.read_parquet(edited_run / "sample" / "truth" / "files.parquet")


def test_the_edited_set_holds_every_edit(edited_run):
    files = edited_files(edited_run)
    assert set(files["office_edits"].explode().drop_nulls()) == set(OFFICE_EDIT_SHARES)
    assert set(OFFICE_DATE_FORMATS) <= set(files["date_format"])


def test_the_edits_change_no_person_no_link_and_no_correction(found):
    assert found.persons > 1_900
    assert (found.persons_changed, found.persons_added, found.links_changed) == (0, 0, 0)
    assert found.corrections > 0
    assert found.corrections_changed == 0


def test_only_the_headers_inside_joined_files_are_quarantined_besides(found, edited_run):
    assert "joined" in edited_files(edited_run)["office_edits"].explode().to_list()
    assert found.quarantined_only_edited["rule"].to_list() == ["row.repeats_header"]
    assert found.quarantined_only_plain.height == 0


def test_golden_values_differ_only_as_written_or_by_a_century_no_one_could_tell(
    found, sample_run, edited_run
):
    assert set(found.golden_differing) <= {"address", "birth_date"}
    plain, edited = persons(sample_run / "data"), persons(edited_run / "data")
    both = plain.join(edited, on="members", suffix="_edited")
    # Addresses are published as written: in the new tone placement where the record that gives
    # the address was typed so.
    addresses = both.filter(pl.col("address") != pl.col("address_edited"))
    assert addresses.height == found.golden_differing["address"] > 0
    assert [new_tone_placement(a) for a in addresses["address"]] == addresses[
        "address_edited"
    ].to_list()
    # A two-digit year takes the century of the personal id's birth year where that year ends in
    # the same digits, and otherwise the latest that fits: a year already mistyped (1904 for
    # 1994, beside an id of 1994) can land in another century than the four digits said.
    dates = both.filter(pl.col("birth_date") != pl.col("birth_date_edited"))
    assert dates.height <= 2
    years_apart = dates["birth_date_edited"].dt.year() - dates["birth_date"].dt.year()
    assert years_apart.abs().to_list() == [100] * dates.height
    assert (
        dates["birth_date"]
        .dt.strftime("%m%d")
        .equals(dates["birth_date_edited"].dt.strftime("%m%d"), check_names=False)
    )


def test_a_workbook_of_sheets_or_a_file_with_a_title_gives_every_row_and_says_where(edited_run):
    edits = pl.col("office_edits")
    files = edited_files(edited_run).filter(
        (edits.list.contains("sheets") | edits.list.contains("title_above_header"))
        & ~edits.list.contains("joined")  # whose second header is a row of its own
    )
    warehouse = edited_run / "data" / "warehouse" / "dancu.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        delivered = con.sql("select file_name, rows, error, title_rows, sheets from extract_file")
        delivered = delivered.pl()
    read = files.select("file_name", "rows", "office_edits").join(
        delivered, on="file_name", suffix="_read"
    )
    assert read.height == files.height > 0
    assert read["error"].null_count() == read.height
    assert (read["rows"].cast(pl.Int64) == read["rows_read"]).all()
    # Where each row came from, for an auditor looking for a quarantined one.
    title_rows = pl.when(edits.list.contains("title_above_header")).then(4).otherwise(0)
    assert read.select((pl.col("title_rows") == title_rows).all()).item()
    workbooks = read.filter(edits.list.contains("sheets"))
    assert workbooks.height > 0
    # (A file of one row split over two sheets leaves the first without rows.)
    first_sheets = r"^Hướng dẫn: no header; Phần 1: (rows 1-\d+|no rows); Phần 2: "
    assert workbooks["sheets"].str.contains(first_sheets).all()
