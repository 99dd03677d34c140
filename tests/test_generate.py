"""The synthetic-extract generator: determinism, the contract's formats and quirks, and a truth
that agrees with what was written.

Files are read back here independently of the generator: encodings are detected from the bytes,
headers matched by their folded labels, and a small validator applies the contract's rejection
rules to check that exactly the rows the truth calls invalid are caught.
"""

import codecs
import hashlib
import io
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from dancu.admin_units import id_province_codes
from dancu.contract import REFORM_DATE, SOURCES
from dancu.generate import DEFAULT_AS_OF, generate
from dancu.legacy_text import tcvn3_score
from dancu.text import fold_label

PERSONS = 2_000
SEED = 11
AS_OF = DEFAULT_AS_OF
ROW_NUMBER_LABEL = "STT"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("generated")
    return out, generate(PERSONS, SEED, out, AS_OF)


@pytest.fixture(scope="module")
def out(run) -> Path:
    return run[0]


@pytest.fixture(scope="module")
def truth(out) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted((out / "truth").glob("*.parquet"))}


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- reading the files back -------------------------------------------------------------------


def _detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _read_csv(path: Path) -> tuple[pl.DataFrame, str, str, str]:
    data = path.read_bytes()
    encoding = _detect_encoding(data)
    text = data.decode(encoding)
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    frame = pl.read_csv(io.BytesIO(text.encode()), separator=separator, infer_schema=False)
    return frame, encoding, separator, text


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return _read_csv(path)[0]
    if path.suffix == ".xlsx":
        return fastexcel.read_excel(path).load_sheet(0, dtypes="string").to_polars()
    return pl.read_parquet(path).select(pl.all().cast(pl.String))


def _canonical(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Headers mapped to canonical names by their folded labels (the leading STT is dropped)."""
    by_label = {fold_label(c.label): c.name for c in SOURCES[source].columns}
    frame = frame.drop(ROW_NUMBER_LABEL, strict=False)
    return frame.rename(
        {h: by_label[fold_label(unicodedata.normalize("NFC", h))] for h in frame.columns}
    )


@pytest.fixture(scope="module")
def delivered(out, truth) -> dict[str, pl.DataFrame]:
    """Every accepted file's rows, per source, with file name, row number and extract date."""
    frames: dict[str, list[pl.DataFrame]] = {s: [] for s in SOURCES}
    for row in truth["files"].iter_rows(named=True):
        frame = _canonical(_read(out / "landing" / row["file_name"]), row["source"])
        frames[row["source"]].append(
            frame.with_columns(
                file_name=pl.lit(row["file_name"]),
                row_number=pl.int_range(1, pl.len() + 1),
                extract_date=pl.lit(row["extract_date"]),
            )
        )
    return {source: pl.concat(parts, how="diagonal") for source, parts in frames.items()}


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes(out, tmp_path):
    again = tmp_path / "again"
    generate(PERSONS, SEED, again, AS_OF)
    first, second = _digest(out), _digest(again)
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)
    assert any(name.endswith(".parquet") and "landing" in name for name in first)


def test_another_seed_gives_other_files(out, tmp_path):
    other = tmp_path / "other"
    generate(PERSONS, SEED + 1, other, AS_OF)
    first, second = _digest(out), _digest(other)
    assert first["truth/persons.parquet"] != second["truth/persons.parquet"]
    common = set(first) & set(second)
    assert sum(first[n] == second[n] for n in common) < 0.05 * len(common)


# --- formats and quirks -----------------------------------------------------------------------


def test_summary_counts(run, truth):
    _, summary = run
    assert summary.persons == PERSONS == truth["persons"].height
    counts = dict(truth["records"].group_by("source").len().iter_rows())
    assert summary.rows == {s: counts[s] for s in SOURCES}
    assert summary.bad_files == truth["bad_files"].height == 3
    assert "persons" in summary.describe()


def test_files_use_the_contract_layout_and_formats(out, truth):
    files = truth["files"]
    for row in files.iter_rows(named=True):
        name = row["file_name"]
        source = row["source"]
        match = re.fullmatch(
            rf"{source}/{source}_(?:[a-z0-9]+_)?(\d{{8}})\.(csv|xlsx|parquet)", name
        )
        assert match and match[1] == row["extract_date"].strftime("%Y%m%d")
        assert row["format"] in SOURCES[source].formats
        assert (out / "landing" / name).is_file()
    assert set(files["format"]) == {"csv", "xlsx", "parquet"}
    assert set(files["encoding"].drop_nulls()) == {"utf-8", "utf-8-sig", "utf-16", "cp1258"}
    assert set(files["separator"].drop_nulls()) == {",", ";"}
    assert {"tcvn3", "nfd", "unicode"} <= set(files["text_form"])
    assert files.filter(pl.col("text_form") == "tcvn3")["extract_date"].max() < REFORM_DATE
    assert set(files.filter(pl.col("format") == "xlsx")["date_cells"]) == {
        "text",
        "serial",
        "serial_plain",
    }
    assert files["numbers_typed"].any()
    old = files.filter(pl.col("extract_date") < REFORM_DATE)
    assert (old["scheme"] == "old").all()
    last_month = files.filter(pl.col("extract_date") > AS_OF - timedelta(days=31))
    assert last_month.height > files.height / 2


def test_headers_match_the_contract_labels(out, truth):
    for row in truth["files"].iter_rows(named=True):
        headers = _read(out / "landing" / row["file_name"]).columns
        headers = [unicodedata.normalize("NFC", h) for h in headers if h != ROW_NUMBER_LABEL]
        labels = [c.label for c in SOURCES[row["source"]].columns]
        assert [fold_label(h) for h in headers] == [fold_label(label) for label in labels]
        if row["header_style"] == "exact":
            assert headers == labels


def test_csv_encodings_are_what_the_truth_says_and_decode(out, truth):
    csv = truth["files"].filter(pl.col("format") == "csv")
    for row in csv.iter_rows(named=True):
        _, encoding, separator, text = _read_csv(out / "landing" / row["file_name"])
        assert (encoding, separator) == (row["encoding"], row["separator"])
        if row["text_form"] == "nfd":
            assert text != unicodedata.normalize("NFC", text)
        if row["text_form"] == "tcvn3":
            assert tcvn3_score(text) > 0
        else:
            assert tcvn3_score(unicodedata.normalize("NFC", text)) == 0


def test_xlsx_ids_and_dates_are_numbers_where_typed(out, truth):
    """Ids typed into Excel lose their leading zeros; serial dates arrive as numbers or dates."""
    xlsx = truth["files"].filter(pl.col("format") == "xlsx", pl.col("source") == "dan_cu")
    typed = xlsx.filter(pl.col("numbers_typed"), pl.col("date_cells") == "serial_plain").row(
        0, named=True
    )
    sheet = fastexcel.read_excel(out / "landing" / typed["file_name"]).load_sheet(0).to_polars()
    sheet = _canonical(sheet, "dan_cu")
    assert sheet.schema["national_id"] == pl.Float64
    assert sheet["national_id"].drop_nulls().min() < 100_000_000_000  # 12 digits, zeros lost
    assert sheet["updated_date"].dtype == pl.Float64  # Excel serials in plain number cells


def test_row_counts_match_the_truth(delivered, truth):
    records = (
        truth["records"].group_by("file_name").agg(rows=pl.len(), last=pl.col("row_number").max())
    )
    read = pl.concat([f.group_by("file_name").len("read") for f in delivered.values()])
    joined = records.join(read, on="file_name", how="full", coalesce=True)
    assert joined.filter(
        (pl.col("rows") != pl.col("read"))
        | (pl.col("last") != pl.col("read"))
        | pl.col("read").is_null()
    ).is_empty()


def test_clean_rows_carry_the_true_values(delivered, truth):
    """Rows without noise, in files without legacy text, say exactly what the truth says."""
    records = truth["records"].filter(
        pl.col("invalid_reason").is_null(), pl.col("corruptions").list.len() == 0
    )
    for source in ("dan_cu", "bhxh", "y_te"):
        rows = delivered[source].join(records, on=["file_name", "row_number"], how="inner")
        rows = rows.join(truth["files"].select("file_name", "encoding"), on="file_name")
        plain = rows.filter(pl.col("encoding") != "cp1258")
        assert plain.height > 20, source
        assert (plain["full_name"] == plain["true_full_name"]).all()
        assert (plain["national_id"] == plain["true_national_id"]).all()
        assert (rows["source_record_id"] == rows["source_record_id_right"]).all()


def test_year_only_birth_dates_are_written_as_years(delivered, truth):
    years = delivered["dan_cu"]["birth_date"].drop_nulls()
    assert years.str.contains(r"^00/00/\d{4}$").any()
    assert years.str.contains(r"^\d{4}$").any()
    assert truth["persons"].filter(pl.col("birth_date").is_null())["birth_year"].max() < 1976


# --- the population ---------------------------------------------------------------------------


def test_national_ids_follow_the_contract(truth):
    persons = truth["persons"]
    ids = persons["national_id"]
    assert ids.is_unique().all() and ids.str.contains(r"^\d{12}$").all()
    assert set(ids.str.slice(0, 3)) <= set(id_province_codes())
    assert (ids.str.slice(0, 3) == "001").mean() > 0.6
    digit = ids.str.slice(3, 1).cast(pl.Int32)
    year = persons["birth_year"]
    assert ((digit % 2 == 1) == (persons["sex"] == "Nữ")).all()
    assert (1900 + 100 * (digit // 2) + ids.str.slice(4, 2).cast(pl.Int32) == year).all()


def test_names_and_families(truth):
    persons = truth["persons"]
    assert 0.34 <= (persons["family_name"] == "Nguyễn").mean() <= 0.42
    children = persons.filter(pl.col("father_key").is_not_null())
    fathers = persons.select(
        father_key="person_key", father_family="family_name", father_year="birth_year"
    )
    joined = children.join(fathers, on="father_key")
    assert (joined["family_name"] == joined["father_family"]).all()
    mothers = persons.select(mother_key="person_key", mother_year="birth_year")
    with_mother = persons.join(mothers, on="mother_key")
    gap = with_mother["birth_year"] - with_mother["mother_year"]
    assert gap.min() >= 18 and gap.max() <= 46
    bhxh = persons["bhxh_code"].drop_nulls()
    assert bhxh.is_unique().all() and bhxh.str.contains(r"^\d{10}$").all()
    cards = persons.filter(pl.col("health_card").is_not_null())
    assert (cards["health_card"].str.slice(5) == cards["bhxh_code"]).all()
    assert (cards["health_card"].str.len_chars() == 15).all()


def test_civil_events(truth):
    persons = truth["persons"]
    parties = truth["event_parties"]
    assert set(parties["role"]) == {"child", "mother", "father", "deceased", "husband", "wife"}
    assert parties["person_key"].is_in(persons["person_key"].implode()).all()
    deceased = persons.filter(pl.col("is_deceased"))
    assert 0.003 < deceased.height / persons.height < 0.01
    assert (deceased["death_date"] > AS_OF - timedelta(days=365)).all()
    married = persons.filter(pl.col("marriage_date").is_not_null())
    assert (married["marital_status"] == "Đã kết hôn").all()
    husbands = married.filter(pl.col("sex") == "Nam")
    assert (husbands["marriage_date"].dt.year() - husbands["birth_year"] >= 20).all()


# --- duplicates, supersession, invalid rows, bad files ----------------------------------------


def test_duplicates_and_overlaps(truth):
    records = truth["records"].filter(pl.col("is_latest"), pl.col("person_key").is_not_null())
    dan_cu = records.filter(pl.col("source") == "dan_cu")
    twice = dan_cu.group_by("person_key").agg(pl.col("source_record_id").n_unique().alias("ids"))
    assert (twice["ids"] >= 2).sum() >= 5
    sources = records.group_by("person_key").agg(pl.col("source").n_unique().alias("n"))
    assert (sources["n"] == 3).sum() > 0.1 * PERSONS
    y_te = records.filter(pl.col("source") == "y_te")
    assert y_te.group_by("person_key").len()["len"].max() >= 2  # patient of two facilities


def test_latest_extract_wins(truth):
    records = truth["records"]
    superseded = records.filter(~pl.col("is_latest"))
    assert set(superseded["source"]) >= {"dan_cu", "bhxh", "y_te", "khai_sinh"}
    winners = records.filter(pl.col("is_latest"))
    assert winners.select("source", "source_record_id").is_unique().all()
    later = superseded.join(winners, on=["source", "source_record_id"], suffix="_new")
    assert later.height == superseded.height
    assert (later["extract_date_new"] > later["extract_date"]).all()


DATE_PATTERNS = ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S")
# Names a record cannot be without (a dan_cu parent's name may be missing, a mother's in a birth
# registration may not).
REQUIRED_NAMES = {
    "dan_cu": ("full_name",), "bhxh": ("full_name",), "y_te": ("full_name",),
    "khai_sinh": ("child_name", "mother_name"), "khai_tu": ("full_name",),
    "ket_hon": ("husband_name", "wife_name"),
}  # fmt: skip
ID_COLUMNS = (
    "national_id", "cmnd", "child_national_id", "mother_national_id", "father_national_id",
    "husband_national_id", "wife_national_id",
)  # fmt: skip
DATE_COLUMNS = (
    "birth_date", "updated_date", "visit_date", "registration_date", "mother_birth_date",
    "father_birth_date", "death_date", "husband_birth_date", "wife_birth_date",
)  # fmt: skip


def _parsed(column: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(date, year where only a year is known, is impossible) of a date column as delivered."""
    text = pl.col(column).str.strip_chars()
    year_only = text.str.extract(r"^(?:00/00/)?(\d{4})$", 1).cast(pl.Int32)
    serial = pl.when(text.str.contains(r"^\d{5}(\.0)?$")).then(
        pl.lit(date(1899, 12, 30))
        + pl.duration(days=text.str.extract(r"^(\d{5})", 1).cast(pl.Int64))
    )
    parsed = pl.coalesce(
        [text.str.strptime(pl.Date, p, strict=False) for p in DATE_PATTERNS] + [serial]
    )
    impossible = text.is_not_null() & (text != "") & parsed.is_null() & year_only.is_null()
    return parsed, year_only, impossible


def _violations(rows: pl.DataFrame, source: str) -> pl.DataFrame:
    """The contract's rejection rules, as a validator would apply them to raw rows."""
    checks = {}
    for column in REQUIRED_NAMES[source]:
        checks[f"name:{column}"] = pl.col(column).fill_null("").str.strip_chars() == ""
    for column in ID_COLUMNS:
        if column in rows.columns:
            checks[f"id:{column}"] = pl.col(column).str.contains(r"[^0-9 .]").fill_null(False)
    for column in DATE_COLUMNS:
        if column in rows.columns:
            parsed, year_only, impossible = _parsed(column)
            future = (parsed > pl.col("extract_date")) | (
                year_only > pl.col("extract_date").dt.year()
            )
            checks[f"impossible:{column}"] = impossible
            checks[f"future:{column}"] = future.fill_null(False)
    if "death_date" in rows.columns:
        died, _, _ = _parsed("death_date")
        born, born_year, _ = _parsed("birth_date")
        before = (died < born) | (died.dt.year() < born_year)
        checks["death_before_birth"] = before.fill_null(False)
    return rows.with_columns(
        violations=pl.concat_list(
            [pl.when(c).then(pl.lit(n)) for n, c in checks.items()]
        ).list.drop_nulls()
    )


def test_exactly_the_invalid_rows_break_a_rejection_rule(delivered, truth):
    records = truth["records"].filter(pl.col("is_latest"))
    assert records["invalid_reason"].is_not_null().sum() >= 6
    kinds = {"name.empty": "name:", "id.non_digit": "id:", "date.impossible": "impossible:",
             "date.future": "future:", "date.death_before_birth": "death_before_birth"}  # fmt: skip
    for source, rows in delivered.items():
        checked = _violations(rows, source).join(
            records, on=["file_name", "row_number"], how="inner"
        )
        valid = checked.filter(pl.col("invalid_reason").is_null())
        assert valid.filter(pl.col("violations").list.len() > 0).is_empty(), source
        for row in checked.filter(pl.col("invalid_reason").is_not_null()).iter_rows(named=True):
            assert any(v.startswith(kinds[row["invalid_reason"]]) for v in row["violations"]), row


def test_invalid_rows_are_rare_and_explained(truth):
    records = truth["records"]
    invalid = records.filter(pl.col("invalid_reason").is_not_null())
    assert invalid.height / records.height < 0.01
    assert invalid["is_latest"].all()
    assert set(invalid["invalid_reason"]) <= {
        "name.empty",
        "date.impossible",
        "date.future",
        "id.non_digit",
        "date.death_before_birth",
    }


def test_noise_is_recorded(delivered, truth):
    tags = set(truth["records"]["corruptions"].explode().drop_nulls())
    expected = {
        "full_name:no_diacritics", "full_name:all_caps", "full_name:double_space",
        "full_name:typo_substitution", "full_name:typo_transposition", "full_name:drop_middle",
        "national_id:spaces", "national_id:dots", "national_id:missing", "national_id:as_number",
        "birth_date:day_month_swap", "file:tcvn3", "file:nfd",
    }  # fmt: skip
    assert expected <= tags
    swapped = truth["records"].filter(
        pl.col("corruptions").list.contains("birth_date:day_month_swap"), pl.col("source") == "bhxh"
    )
    rows = delivered["bhxh"].join(swapped, on=["file_name", "row_number"])
    parsed = rows.select(_parsed("birth_date")[0]).to_series()
    assert (parsed != rows["true_birth_date"]).all()


def test_bad_files_are_written_and_listed(out, truth):
    bad = truth["bad_files"]
    assert set(bad["source"]) == {"dan_cu", "bhxh", "y_te"}
    for row in bad.iter_rows(named=True):
        path = out / "landing" / row["file_name"]
        assert path.is_file()
        headers = [fold_label(h) for h in _read(path).columns]
        if "missing_column" in row["reason"]:
            assert fold_label(row["reason"].split(": ", 1)[1]) not in headers
        else:
            assert not re.search(r"\d{8}", path.name)
    assert not truth["records"]["file_name"].is_in(bad["file_name"].implode()).any()


# --- two days ---------------------------------------------------------------------------------

LARGE = 20_000  # enough persons that the last month has births, deaths and marriages


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("two_days")
    generate(PERSONS, SEED, out, AS_OF, two_days=True)
    return out


@pytest.fixture(scope="module")
def large_two_days(tmp_path_factory) -> dict[str, pl.DataFrame]:
    """The truth of a large two-day set, its records with the day their file arrives."""
    out = tmp_path_factory.mktemp("large_two_days")
    summary = generate(LARGE, SEED, out, AS_OF, two_days=True)
    assert "arrive on day 2" in summary.describe()
    truth = {p.stem: pl.read_parquet(p) for p in (out / "truth").glob("*.parquet")}
    truth["records"] = truth["records"].join(
        truth["files"].select("file_name", "day"), on="file_name"
    )
    return truth


def test_two_days_are_the_one_day_files_cut_in_two(out, two_days):
    """Day 1 and day 2 together are exactly the one-day delivery; the truth is the same."""
    one_day = _digest(out / "landing")
    day_1, day_2 = _digest(two_days / "landing"), _digest(two_days / "day2")
    assert not set(day_1) & set(day_2)
    assert day_1 | day_2 == one_day
    assert len(day_2) > 0.05 * len(one_day)
    files = pl.read_parquet(two_days / "truth" / "files.parquet")
    assert files.drop("day").equals(pl.read_parquet(out / "truth" / "files.parquet"))
    assert sorted(files.filter(pl.col("day") == 2)["file_name"]) == sorted(day_2)
    dates = files.group_by("source", "day").agg(
        first=pl.col("extract_date").min(), last=pl.col("extract_date").max()
    )
    days = dates.filter(day=1).join(dates.filter(day=2), on="source", suffix="_2")
    assert days.height == len(SOURCES)
    assert (days["last"] < days["first_2"]).all()
    others = {n: d for n, d in _digest(out / "truth").items() if n != "files.parquet"}
    assert others.items() <= _digest(two_days / "truth").items()
    bad = pl.read_parquet(out / "truth" / "bad_files.parquet")["file_name"]
    assert set(bad) <= set(day_1)


def test_day_two_sends_dan_cu_records_again_with_changed_values(two_days):
    files = pl.read_parquet(two_days / "truth" / "files.parquet")
    records = (
        pl.read_parquet(two_days / "truth" / "records.parquet")
        .filter(pl.col("source") == "dan_cu")
        .join(files.select("file_name", "day"), on="file_name")
    )
    resent = records.filter(pl.col("day").n_unique().over("source_record_id") == 2)
    assert resent.filter(pl.col("day") == 2).height >= 20
    rows = pl.concat(
        _canonical(_read(two_days / folder / name), "dan_cu")
        .with_columns(row_number=pl.int_range(1, pl.len() + 1), file_name=pl.lit(name))
        .join(group.select("file_name", "row_number", "day"), on=["file_name", "row_number"])
        for (name, day), group in resent.group_by("file_name", "day")
        for folder in ["landing" if day == 1 else "day2"]
    )
    pairs = rows.filter(pl.col("day") == 1).join(
        rows.filter(pl.col("day") == 2), on="source_record_id", suffix="_2"
    )

    def number(column: str) -> pl.Expr:
        return pl.col(column).str.replace_all(r"\D", "").str.slice(-9)

    assert (pairs["updated_date"] != pairs["updated_date_2"]).all()
    assert pairs.filter(number("phone") != number("phone_2")).height > 0
    assert (pairs["marital_status"] != pairs["marital_status_2"]).sum() > 0


def test_day_two_brings_new_persons_registrations_and_registers(large_two_days):
    records = large_two_days["records"]
    day_2 = records.filter(pl.col("day") == 2)
    sources = dict(day_2.group_by("source").len().iter_rows())
    assert set(sources) == set(SOURCES)
    assert all(sources[s] >= 5 for s in ("khai_sinh", "khai_tu", "ket_hon"))
    first_day = records.group_by("person_key").agg(pl.col("day").min())
    new = first_day.filter(pl.col("day") == 2).join(large_two_days["persons"], on="person_key")
    assert new.height > 0.01 * LARGE
    assert (new["birth_date"] > AS_OF - timedelta(days=60)).sum() > 0  # newborns
    corrected = day_2.filter(
        pl.col("source") == "khai_sinh",
        pl.col("source_record_id").is_in(
            records.filter(pl.col("day") == 1)["source_record_id"].implode()
        ),
    )
    assert corrected.height > 0
