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

from dancu.admin_units import id_province_codes, ward_conversion
from dancu.contract import REFORM_DATE
from dancu.generate import DEFAULT_AS_OF, generate, noise
from dancu.generate.extracts import DUPLICATE_NOISE_SCALE
from dancu.generate.layouts import LAYOUTS
from dancu.generate.records import DUPLICATE_ID_PREFIX, MINOR_AGE
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
    by_label = {fold_label(label): name for name, label in LAYOUTS[source].columns}
    frame = frame.drop(ROW_NUMBER_LABEL, strict=False)
    return frame.rename(
        {h: by_label[fold_label(unicodedata.normalize("NFC", h))] for h in frame.columns}
    )


@pytest.fixture(scope="module")
def delivered(out, truth) -> dict[str, pl.DataFrame]:
    """Every accepted file's rows, per source, with file name, row number and extract date."""
    frames: dict[str, list[pl.DataFrame]] = {s: [] for s in LAYOUTS}
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
    assert summary.persons == PERSONS == truth["persons"]["in_register"].sum()
    counts = dict(truth["records"].group_by("source").len().iter_rows())
    assert summary.rows == {s: counts[s] for s in LAYOUTS}
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
        assert row["format"] in LAYOUTS[source].formats
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
        layout = LAYOUTS[row["source"]]
        optional = () if row["optional_columns"] else layout.optional
        labels = [label for name, label in layout.columns if name not in optional]
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
    persons = truth["persons"].filter("in_register")
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
    fathers = persons.filter("in_register").select(
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
    "ket_hon": ("husband_name", "wife_name"), "giao_duc": ("full_name",),
    "ly_lich_tu_phap": ("full_name",),
}  # fmt: skip
ID_COLUMNS = (
    "national_id", "cmnd", "child_national_id", "mother_national_id", "father_national_id",
    "husband_national_id", "wife_national_id", "previous_national_id",
)  # fmt: skip
DATE_COLUMNS = (
    "birth_date", "updated_date", "visit_date", "registration_date", "mother_birth_date",
    "father_birth_date", "death_date", "husband_birth_date", "wife_birth_date", "received_date",
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
    assert days.height == len(LAYOUTS)
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
    # Files of older systems lack the optional columns.
    rows = pl.concat(
        (
            _canonical(_read(two_days / folder / name), "dan_cu")
            .with_columns(row_number=pl.int_range(1, pl.len() + 1), file_name=pl.lit(name))
            .join(group.select("file_name", "row_number", "day"), on=["file_name", "row_number"])
            for (name, day), group in resent.group_by("file_name", "day")
            for folder in ["landing" if day == 1 else "day2"]
        ),
        how="diagonal",
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
    assert set(sources) == set(LAYOUTS)
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


# --- errors as real extracts have them --------------------------------------------------------

PERSON_SOURCES = ("dan_cu", "bhxh", "y_te")
FILE_FORMS = {"file:tcvn3", "file:nfd"} | {f"{c}:as_number" for c in ID_COLUMNS}
ID_ERRORS = tuple(f"national_id:{kind}" for kind in noise.ID_ERROR_RATES)
NAME_ERRORS = ("full_name:family_variant", *(f"full_name:{k}" for k in noise.NAME_CONTENT_RATES))
DATE_ERRORS = tuple(f"birth_date:{kind}" for kind in noise.DATE_RATES)
PHONE_ERRORS = tuple(f"phone:{kind}" for kind in noise.PHONE_RATES)
SEX_OF = {"nam": "Nam", "m": "Nam", "nữ": "Nữ", "nu": "Nữ", "f": "Nữ"}


def _has(*tags: str) -> pl.Expr:
    return pl.any_horizontal(pl.col("corruptions").list.contains(t) for t in tags)


@pytest.fixture(scope="module")
def noisier(tmp_path_factory) -> dict[str, pl.DataFrame]:
    """The truth of the large set at noise level 2."""
    out = tmp_path_factory.mktemp("noise_2")
    generate(LARGE, SEED, out, AS_OF, noise=2.0)
    return {p.stem: pl.read_parquet(p) for p in (out / "truth").glob("*.parquet")}


def _rated_rows(truth: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The valid rows of the person sources, with what decides which errors they can get."""
    persons = truth["persons"]
    phones = persons.group_by("household_id").agg(holders=pl.col("phone").is_not_null().sum())
    about = persons.join(phones, on="household_id").select(
        "person_key",
        minor_with_parent=(pl.col("birth_year") > AS_OF.year - MINOR_AGE)
        & (pl.col("mother_key").is_not_null() | pl.col("father_key").is_not_null()),
        own_phone=pl.col("phone").is_not_null(),
        others_with_phone=pl.col("holders") - pl.col("phone").is_not_null().cast(pl.UInt32),
    )
    return (
        truth["records"]
        .filter(pl.col("source").is_in(PERSON_SOURCES), pl.col("invalid_reason").is_null())
        .join(about, on="person_key", how="left")
    )


def _expected_rates() -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Per error kind: its rate on a row at noise level 1, and the rows it can change."""
    holds_id = pl.col("true_national_id").is_not_null() & ~_has(
        "national_id:cmnd_instead", "national_id:missing"
    )
    registry = pl.when(pl.col("source") == "dan_cu").then(noise.REGISTRY_ID_ERROR_SCALE)
    id_scale = registry.otherwise(1.0)
    second = pl.col("source_record_id").str.starts_with(DUPLICATE_ID_PREFIX)
    name_scale = pl.when(second).then(DUPLICATE_NOISE_SCALE).otherwise(1.0)
    born = pl.col("true_birth_date")
    swappable = (born.dt.day() <= 12) & (born.dt.day() != born.dt.month())
    words = pl.col("true_full_name").str.count_matches(r"\S+")
    every = pl.col("source").is_not_null()
    rates = {
        f"national_id:{k}": (r * id_scale, holds_id)
        for k, r in noise.ID_ERROR_RATES.items()
        if k != "family_member"
    }
    rates["national_id:family_member"] = (
        pl.lit(noise.ID_ERROR_RATES["family_member"]),
        holds_id & pl.col("source").is_in(["bhxh", "y_te"]) & pl.col("minor_with_parent"),
    )
    rates |= {
        f"birth_date:{k}": (pl.lit(r), born.is_not_null()) for k, r in noise.DATE_RATES.items()
    }
    rates["birth_date:day_month_swap"] = (pl.lit(noise.DATE_RATES["day_month_swap"]), swappable)
    rates["sex:wrong"] = (pl.lit(noise.SEX_WRONG_RATE), every)
    rates |= {
        f"full_name:{k}": (r * name_scale, every) for k, r in noise.NAME_CONTENT_RATES.items()
    }
    rates["full_name:drop_middle"] = (
        noise.NAME_CONTENT_RATES["drop_middle"] * name_scale,
        words >= 3,
    )
    rates["phone:household_shared"] = (
        pl.lit(noise.PHONE_RATES["household_shared"]),
        pl.col("others_with_phone") > 0,
    )
    rates["phone:typo"] = (pl.lit(noise.PHONE_RATES["typo"]), pl.col("own_phone"))
    return rates


def _near(observed: float, expected: float) -> bool:
    """Within binomial scatter, and 10% for what the expectation leaves out (a row drawn for an
    error it cannot take, a rate cut at a row's later invalidity)."""
    return abs(observed - expected) <= 3 * expected**0.5 + 0.1 * expected


@pytest.mark.parametrize("level", [1, 2])
def test_each_error_kind_appears_at_its_rate(level, large_two_days, noisier):
    truth = large_two_days if level == 1 else noisier
    rows = _rated_rows(truth)
    report = {}
    for kind, (rate, eligible) in _expected_rates().items():
        scaled = pl.min_horizontal(rate * level, pl.lit(noise.RATE_CEILING))
        expected, observed = rows.select(
            (scaled * eligible.fill_null(False)).sum(), _has(kind).sum()
        ).row(0)
        assert expected > 20, kind  # enough rows to measure the rate
        report[kind] = (observed, round(expected, 1))
    far = {kind: counts for kind, counts in report.items() if not _near(*counts)}
    assert not far, far
    persons = truth["persons"].height
    twice = rows.filter(_has("dan_cu:duplicate_registration"))["source_record_id"].n_unique()
    assert _near(twice, noise.DUPLICATE_REGISTRATION_RATE * level * persons)


def _readable(delivered, truth, source: str) -> pl.DataFrame:
    """The valid rows of a person source from files in Unicode, with their truth; names in NFC."""
    files = truth["files"].filter(pl.col("text_form") != "tcvn3").select("file_name")
    return (
        delivered[source]
        .join(truth["records"], on=["file_name", "row_number"])
        .join(files, on="file_name")
        .filter(pl.col("invalid_reason").is_null())
        .with_columns(pl.col("full_name").str.normalize("NFC"))
    )


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"[ .]", "")


def test_every_error_changes_the_value_it_names(delivered, truth):
    """Names, ids, birth dates, sex and phones tagged with an error differ from the truth, and a
    family member's id is a parent's real id."""
    persons = truth["persons"]
    ids = persons.select("person_key", "national_id")
    parent_ids = persons.select(
        "person_key",
        "phone",
        mother_id=pl.col("mother_key").replace_strict(
            ids["person_key"], ids["national_id"], default=None
        ),
        father_id=pl.col("father_key").replace_strict(
            ids["person_key"], ids["national_id"], default=None
        ),
    )
    rows = pl.concat(
        [_readable(delivered, truth, s) for s in PERSON_SOURCES], how="diagonal_relaxed"
    ).join(parent_ids, on="person_key", suffix="_true")
    seen = set(rows["corruptions"].explode().drop_nulls())
    for kinds in (ID_ERRORS, NAME_ERRORS, DATE_ERRORS, PHONE_ERRORS, ("sex:wrong",)):
        assert set(kinds) & seen, kinds

    names = rows.filter(_has(*NAME_ERRORS))
    assert (names["full_name"] != names["true_full_name"]).all()

    typed = rows.filter(_has(*ID_ERRORS), ~_has("national_id:as_number"))
    assert typed.filter(_digits("national_id") == pl.col("true_national_id")).is_empty()
    family = typed.filter(_has("national_id:family_member"))
    assert family.height > 0
    parent = (_digits("national_id") == pl.col("mother_id")) | (
        _digits("national_id") == pl.col("father_id")
    )
    assert family.select(parent.all()).item()

    parsed, year_only, _ = _parsed("birth_date")
    dates = rows.filter(_has(*DATE_ERRORS)).with_columns(parsed=parsed, year_only=year_only)
    assert dates.filter(pl.col("parsed") == pl.col("true_birth_date")).is_empty()
    only_year = dates.filter(_has("birth_date:year_only"))
    assert only_year["parsed"].is_null().all()
    assert (only_year["year_only"] == only_year["true_birth_year"]).all()
    decade = dates.filter(_has("birth_date:year_10"))
    gap = (decade["parsed"].dt.year() - decade["true_birth_date"].dt.year()).abs()
    assert (gap == 10).all()

    sexes = rows.filter(_has("sex:wrong")).with_columns(
        written=pl.col("sex").str.normalize("NFC").str.to_lowercase().replace_strict(SEX_OF)
    )
    assert (sexes["written"] != sexes["true_sex"]).all()

    def last_nine(column: str) -> pl.Expr:
        return pl.col(column).str.replace_all(r"\D", "").str.slice(-9)

    phones = rows.filter(_has(*PHONE_ERRORS), pl.col("is_latest"))
    assert phones.filter(last_nine("phone") == last_nine("phone_true")).is_empty()
    members = persons.select("household_id", member_phone=last_nine("phone")).drop_nulls()
    shared = (
        phones.filter(_has("phone:household_shared"))
        .join(persons.select("person_key", "household_id"), on="person_key")
        .with_columns(written=last_nine("phone"))
    )
    in_household = shared.join(
        members,
        left_on=["household_id", "written"],
        right_on=["household_id", "member_phone"],
        how="semi",
    )
    assert shared.height > 0 and in_household.height == shared.height


def test_second_registrations_are_in_another_ward_without_an_id(delivered, truth):
    records = truth["records"].filter(pl.col("source") == "dan_cu")
    second = records.filter(_has("dan_cu:duplicate_registration"))
    assert second.height > 0
    assert second["source_record_id"].str.starts_with(DUPLICATE_ID_PREFIX).all()
    first = records.filter(~_has("dan_cu:duplicate_registration"))
    pairs = second.join(first, on="person_key", suffix="_first")
    assert pairs["person_key"].n_unique() == second["person_key"].n_unique()
    assert (pairs["file_name"] != pairs["file_name_first"]).all()
    assert (pairs["source_record_id"] != pairs["source_record_id_first"]).all()
    homes = truth["persons"].select("person_key", home="ward_code")
    current = dict(ward_conversion().select("old_ward_code", "ward_code").iter_rows())
    rows = (
        delivered["dan_cu"]
        .join(second, on=["file_name", "row_number"])
        .join(truth["files"].select("file_name", "scheme"), on="file_name")
        .join(homes, on="person_key")
    )
    written = pl.when(pl.col("scheme") == "old").then(
        pl.col("ward_code").replace_strict(current, default=None)
    )
    rows = rows.with_columns(written=written.otherwise("ward_code"))
    assert rows.height == second.height
    assert rows["national_id"].is_null().all() and rows["cmnd"].is_null().all()
    assert (rows["true_ward_code"] == rows["home"]).all()
    assert (rows["written"] != rows["home"]).all()


def test_twins_share_parents_birth_and_home_but_not_given_names(large_two_days):
    persons = large_two_days["persons"]
    twins = persons.filter(pl.col("twin_key").is_not_null())
    pairs = twins.join(persons, left_on="twin_key", right_on="person_key", suffix="_twin")
    assert pairs.height == twins.height
    assert (pairs["twin_key_twin"] == pairs["person_key"]).all()
    for column in ("mother_key", "father_key", "birth_date", "household_id", "family_name"):
        assert pairs[column].eq_missing(pairs[column + "_twin"]).all(), column
    assert (pairs["given_name"] != pairs["given_name_twin"]).all()
    one_sex = pairs.filter(pl.col("sex") == pl.col("sex_twin"))
    assert one_sex.height > 0.5 * pairs.height
    ids = one_sex["national_id"], one_sex["national_id_twin"]
    assert (ids[0].str.slice(0, 6) == ids[1].str.slice(0, 6)).all()
    assert (ids[0] != ids[1]).all()
    neighbours = (ids[0].cast(pl.Int64) - ids[1].cast(pl.Int64)).abs() == 1
    assert 0.3 < neighbours.mean() < 0.9
    children = persons.filter(pl.col("mother_key").is_not_null()).height
    assert 0.01 < twins.height / children < 0.035  # ~1% of births are twins: ~2% of children


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("noise_0")
    generate(PERSONS, SEED, out, AS_OF, noise=0.0)
    return out


def test_noise_zero_writes_the_register_values(clean, out):
    """No value errors, no invalid rows, no second registrations: only the formats the contract
    allows, and the same population as at any other noise level."""
    records = pl.read_parquet(clean / "truth" / "records.parquet")
    schools = pl.col("source") == "giao_duc"
    assert set(records.filter(~schools)["corruptions"].explode().drop_nulls()) <= FILE_FORMS
    # What schools write into the id column is their habit, not an error.
    habits = {"national_id:missing", "national_id:temporary_code"}
    assert set(records.filter(schools)["corruptions"].explode().drop_nulls()) <= FILE_FORMS | habits
    assert records["invalid_reason"].is_null().all()
    assert not records["source_record_id"].str.starts_with(DUPLICATE_ID_PREFIX).any()
    persons = "truth/persons.parquet"
    assert _digest(clean)[persons] == _digest(out)[persons]
    files = pl.read_parquet(clean / "truth" / "files.parquet").filter(
        pl.col("source") == "bhxh", pl.col("text_form") == "unicode"
    )
    rows = pl.concat(
        _canonical(_read(clean / "landing" / name), "bhxh").with_columns(
            file_name=pl.lit(name), row_number=pl.int_range(1, pl.len() + 1)
        )
        for name in files["file_name"]
    ).join(records, on=["file_name", "row_number"])
    assert rows.height > 100
    parsed, year_only, _ = _parsed("birth_date")
    assert (rows["full_name"].str.normalize("NFC") == rows["true_full_name"]).all()
    assert rows["national_id"].eq_missing(rows["true_national_id"]).all()
    assert (
        rows.select(
            pl.coalesce(parsed == pl.col("true_birth_date"), year_only == pl.col("true_birth_year"))
        )
        .to_series()
        .all()
    )


def test_same_seed_and_noise_give_the_same_bytes(out, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    generate(PERSONS, SEED, first, AS_OF, noise=2.0)
    generate(PERSONS, SEED, second, AS_OF, noise=2.0)
    assert _digest(first) == _digest(second)
    records = "truth/records.parquet"
    assert _digest(first)[records] != _digest(out)[records]
