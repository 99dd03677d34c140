"""Issue 15, ingest: nothing one bad file can break. Each attack on a small generated landing
folder, and once through `dancu run`: the run succeeds, each bad file is one quarantine row
naming it, and every delivered file and row is accounted for."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dancu.contract import BHXH, DAN_CU, SOURCES
from dancu.generate import generate
from dancu.ingest import NO_SOURCE, read_source
from dancu.rules import REASONS
from dancu.standardize import standardize

ROOT = Path(__file__).resolve().parent.parent
ATTACK_DATE = "20251120"
# A Parquet file whose name column holds lists: rejected, the other files still load.
LISTS = f"bhxh/bhxh_lists_{ATTACK_DATE}.parquet"
# Codes as int64 (leading zero dropped) and an extra column of lists: loads, codes whole.
NUMBERS = f"bhxh/bhxh_numbers_{ATTACK_DATE}.parquet"
# Files outside the layout, and where they belong.
OUTSIDE = {
    f"dan_cu/2025-11/dan_cu_00001_{ATTACK_DATE}.csv": ("dan_cu", "in a sub-folder of dan_cu/"),
    f"Dan_Cu/dan_cu_00002_{ATTACK_DATE}.csv": ("dan_cu", "it looks like dan_cu/"),
    f"misc/notes_{ATTACK_DATE}.csv": (NO_SOURCE, "is no source folder"),
    f"x_{ATTACK_DATE}.csv": (NO_SOURCE, "at the landing root"),
}
# No delivery: ignored, as an editor's or Office's files.
IGNORED = [f"dan_cu/.dan_cu_00003_{ATTACK_DATE}.csv", f"dan_cu/~$dan_cu_00004_{ATTACK_DATE}.csv"]
# Cut inside the last row: outside quotes, and inside the quoted address.
CUT_OUTSIDE_QUOTES = f"dan_cu/dan_cu_99001_{ATTACK_DATE}.csv"
CUT_INSIDE_QUOTES = f"dan_cu/dan_cu_99002_{ATTACK_DATE}.csv"
CUT_ROWS = 3
BAD_FILES = {LISTS, *OUTSIDE}
# A register row delivered again with a space after its record id: the same record, superseded.
REDELIVERED = f"dan_cu/dan_cu_88001_{ATTACK_DATE}.csv"
# A separator typed into an unquoted value of one row: that row alone is quarantined.
RAGGED = f"bhxh/bhxh_ragged_{ATTACK_DATE}.csv"


def delivered_rows(landing: Path, source) -> pl.DataFrame:
    """The source's readable rows, under the contract's labels."""
    raw, _ = read_source(landing, source)
    readable = raw.filter(pl.col("file_error").is_null())
    return readable.select(pl.col(c.name).alias(c.label) for c in source.columns)


def cut_in_last_row(data: bytes, inside_quotes: bool) -> bytes:
    last_row = data.rindex(b"\n", 0, len(data) - 1) + 1
    if inside_quotes:
        return data[: data.index(b'"', last_row) + 6]
    second_field = data.index(b",", last_row) + 1
    return data[: second_field + 3]


def add_attacks(landing: Path) -> dict[str, str]:
    """The attack files, written beside the generated ones; the int64 codes as delivered."""
    codes = pl.col("Mã số BHXH")
    bhxh = (
        delivered_rows(landing, BHXH)
        .filter(codes.str.contains(r"^0\d{9}$"))
        .unique(codes, maintain_order=True)
    )
    bhxh.with_columns(pl.col("Họ và tên").str.split(" ")).write_parquet(landing / LISTS)
    history = pl.concat_list(pl.lit(2019), pl.lit(2020)).alias("Lịch sử đóng")
    numbers = bhxh.head(5).with_columns(pl.col("Mã số BHXH").cast(pl.Int64), history)
    numbers.write_parquet(landing / NUMBERS)

    dan_cu = delivered_rows(landing, DAN_CU)
    some_file = next((landing / "dan_cu").glob("*.csv")).read_bytes()
    for name in [*OUTSIDE, *IGNORED]:
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_bytes(some_file)

    # New record ids, so that the cut files supersede nothing; a personal id to cut inside.
    fresh = dan_cu.filter(
        pl.col("Nơi thường trú").str.contains(","),
        pl.col("Số định danh cá nhân").str.len_chars() > 3,
    ).head(CUT_ROWS)
    for i, (name, inside) in enumerate([(CUT_OUTSIDE_QUOTES, False), (CUT_INSIDE_QUOTES, True)]):
        record_ids = pl.format("HS-CUT{}-{}", pl.lit(i), pl.int_range(pl.len())).alias("Mã hồ sơ")
        whole = fresh.with_columns(record_ids).write_csv().encode()
        (landing / name).write_bytes(cut_in_last_row(whole, inside))
    again = dan_cu.head(1).with_columns(pl.col("Mã hồ sơ") + " ")
    again.write_csv(landing / REDELIVERED)
    lines = bhxh.slice(5, 3).write_csv().splitlines()
    lines[2] += ",Số 5, ngõ Chợ"
    (landing / RAGGED).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dict(zip(numbers["Mã số BHXH"].cast(pl.String), bhxh.head(5)["Mã số BHXH"], strict=True))


@pytest.fixture(scope="module", autouse=True)
def judged_on_the_attack_day():
    """The attacks are delivered after the generated extracts: they are read on their day."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DANCU_AS_OF", f"{ATTACK_DATE[:4]}-{ATTACK_DATE[4:6]}-{ATTACK_DATE[6:]}")
        yield


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("adversarial_ingest")
    generate(persons=300, seed=11, out=out / "sample")
    landing = out / "sample" / "landing"
    return landing, add_attacks(landing)


@pytest.fixture(scope="module")
def run(attacked) -> tuple[int, Path, str]:
    """`dancu run` (`pipelines.cli.main`) on the attacked landing folder: its exit code, the data
    folder and what it wrote to stderr. In a process of its own, as in tests/conftest.py: the
    definitions read the folders from the environment when first imported."""
    landing, _ = attacked
    data = landing.parent.parent / "data"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
         "--data", str(data)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    return done.returncode, data, done.stderr


def published(data: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(data / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def test_the_run_succeeds_despite_every_attack(run):
    code, _, errors = run
    assert code == 0, errors[-3000:]


def test_each_bad_file_is_one_quarantine_row_naming_it_and_its_cause(run):
    _, data, _ = run
    rejected = published(
        data, "select source, file_name, reasons from quarantine where row_number is null"
    )
    assert set(rejected["file_name"]) >= BAD_FILES
    assert rejected["file_name"].is_unique().all()
    reason = {f: r[0] for f, r in rejected.select("file_name", REASONS).iter_rows()}
    assert reason[LISTS].startswith("file.rejected: ")
    assert "'Họ và tên'" in reason[LISTS] and "List(String)" in reason[LISTS]
    source = dict(rejected.select("file_name", "source").iter_rows())
    for name, (belongs_to, why) in OUTSIDE.items():
        assert reason[name].startswith("file.rejected: outside the layout: "), name
        assert why in reason[name], name
        assert source[name] == belongs_to, name


def landing_tree(landing: Path) -> set[str]:
    names = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    return names - set(IGNORED)


def test_every_delivered_file_is_listed_once_and_hidden_files_are_no_delivery(run, attacked):
    landing, _ = attacked
    _, data, _ = run
    files = published(data, "select file_name from extract_file")["file_name"]
    assert files.is_unique().all()
    assert set(files) == landing_tree(landing)
    assert not set(IGNORED) & set(published(data, "select file_name from quarantine")["file_name"])


def test_every_delivered_row_is_accounted_for_file_by_file(run):
    _, data, _ = run
    places = published(
        data,
        "select file_name, count(*) filter (where row_number is not null) as placed,"
        " count(*) filter (where row_number is null) as whole from ("
        " select file_name, row_number from person_source"
        " union all select file_name, row_number from civil_event"
        " union all select file_name, row_number from quarantine) group by file_name",
    )
    files = published(data, "select file_name, rows_latest, rows_held, error from extract_file")
    accounted = files.join(places, on="file_name", how="left").with_columns(
        pl.col("placed", "whole").fill_null(0)
    )
    read = accounted.filter(pl.col("error").is_null())
    rejected = accounted.filter(pl.col("error").is_not_null())
    assert (read["placed"] == read["rows_latest"] + read["rows_held"]).all()
    assert (read["whole"] == 0).all()
    assert (rejected["whole"] == 1).all() and (rejected["placed"] == 0).all()


def test_codes_a_number_type_shortened_are_published_whole(run, attacked):
    _, codes = attacked
    _, data, _ = run
    # Whole wherever a row lands: a generated row may carry an error that quarantines it.
    records = published(
        data,
        f"select source_record_id from person_source where file_name = '{NUMBERS}'"
        f" union all select source_record_id from quarantine where file_name = '{NUMBERS}'",
    )
    assert sorted(records["source_record_id"]) == sorted(codes.values())
    assert all(len(number) == 9 for number in codes)  # the attack did drop the zero


def test_the_half_row_of_a_cut_file_is_quarantined_and_the_rows_before_it_are_not(run):
    _, data, _ = run
    quarantined = published(
        data,
        "select file_name, row_number, reasons from quarantine"
        f" where file_name in ('{CUT_OUTSIDE_QUOTES}', '{CUT_INSIDE_QUOTES}')",
    )
    truncated = quarantined.filter(
        pl.col(REASONS).list.eval(pl.element().str.starts_with("file.truncated: ")).list.any()
    )
    assert sorted(truncated.select("file_name", "row_number").rows()) == [
        (CUT_OUTSIDE_QUOTES, CUT_ROWS),
        (CUT_INSIDE_QUOTES, CUT_ROWS),
    ]


def test_only_the_last_row_of_a_cut_file_breaks_the_truncation_rule(attacked):
    landing, _ = attacked
    raw, _ = read_source(landing, SOURCES["dan_cu"])
    cut = raw.filter(pl.col("file_name").is_in([CUT_OUTSIDE_QUOTES, CUT_INSIDE_QUOTES]))
    std = standardize(cut.lazy(), SOURCES["dan_cu"]).collect()
    truncated = std.filter(
        pl.col(REASONS).list.contains(
            "file.truncated: the file ends inside this row: it was cut short"
        )
    )
    assert truncated.select("file_name", "row_number").sort(pl.all()).rows() == [
        (CUT_OUTSIDE_QUOTES, CUT_ROWS),
        (CUT_INSIDE_QUOTES, CUT_ROWS),
    ]


def test_a_record_delivered_again_with_a_space_after_its_id_is_superseded(run, attacked):
    landing, _ = attacked
    _, data, _ = run
    record_id = pl.read_csv(landing / REDELIVERED, infer_schema=False)["Mã hồ sơ"][0].strip()
    with duckdb.connect(str(data / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        places = con.execute(
            "select file_name from person_source where source_record_id = $1"
            " union all select file_name from quarantine where trim(source_record_id) = $1",
            [record_id],
        ).fetchall()
    assert places == [(REDELIVERED,)]


def test_a_row_of_more_fields_than_the_header_alone_is_quarantined(run):
    _, data, _ = run
    rows = published(
        data,
        "select row_number, reasons from quarantine"
        f" where file_name = '{RAGGED}' and row_number is not null"
        f" union all select row_number, [] from person_source where file_name = '{RAGGED}'",
    ).sort("row_number")
    ragged = rows.filter(
        pl.col(REASONS).list.eval(pl.element().str.starts_with("row.ragged: ")).list.any()
    )
    assert rows["row_number"].to_list() == [1, 2, 3]
    assert ragged["row_number"].to_list() == [2]
