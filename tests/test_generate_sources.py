"""The generator's education, justice and foreign-element data: files that follow the contract's
text, values at realistic rates, and a truth that lets benchmarks score every link.

Headers are checked against the labels parsed from docs/contract.md itself, not the generator's
own declaration of them; files are read back from their bytes.
"""

import re
import unicodedata
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from helpers import read_extract

from dancu.generate import DEFAULT_AS_OF, generate
from dancu.generate.elements import name_children
from dancu.generate.layouts import LAYOUTS
from dancu.text import fold_label

PERSONS = 6_000
SEED = 23
CONTRACT = Path(__file__).parents[1] / "docs" / "contract.md"
# Every spelling of a nationality the generator writes, as the contract lists them.
SPELLINGS = {
    "việt nam": "VNM", "vietnam": "VNM", "vnm": "VNM", "vn": "VNM",
    "hàn quốc": "KOR", "korea, republic of": "KOR", "kor": "KOR", "kr": "KOR",
    "trung quốc": "CHN", "china": "CHN", "chn": "CHN", "cn": "CHN",
    "đài loan (trung quốc)": "TWN", "đài loan": "TWN", "taiwan": "TWN", "twn": "TWN", "tw": "TWN",
    "nhật bản": "JPN", "japan": "JPN", "jpn": "JPN", "jp": "JPN",
    "hoa kỳ": "USA", "mỹ": "USA", "united states": "USA", "usa": "USA", "us": "USA",
    "pháp": "FRA", "france": "FRA", "fra": "FRA", "fr": "FRA",
    "đức": "DEU", "chlb đức": "DEU", "germany": "DEU", "deu": "DEU", "de": "DEU", "d": "DEU",
}  # fmt: skip
DOCUMENT_KINDS = {
    "cccd": "national_id", "can cuoc cong dan": "national_id", "cmnd": "cmnd",
    "chung minh nhan dan": "cmnd", "ho chieu": "passport",
    "giay chung nhan can cuoc": "identity_certificate",
}  # fmt: skip


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sources")
    generate(PERSONS, SEED, folder, DEFAULT_AS_OF)
    return folder


@pytest.fixture(scope="module")
def truth(out) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in (out / "truth").glob("*.parquet")}


def _delivered(out: Path, truth: dict, source: str) -> pl.DataFrame:
    """A source's rows under canonical names, with the truth of each row."""
    by_label = {fold_label(label): name for name, label in LAYOUTS[source].columns}
    parts = []
    for name in truth["files"].filter(pl.col("source") == source)["file_name"]:
        frame = read_extract(out / "landing" / name).drop("STT", strict=False)
        frame = frame.rename(
            {h: by_label[fold_label(unicodedata.normalize("NFC", h))] for h in frame.columns}
        )
        parts.append(
            frame.with_columns(file_name=pl.lit(name), row_number=pl.int_range(1, pl.len() + 1))
        )
    rows = pl.concat(parts, how="diagonal")
    return rows.join(
        truth["records"], on=["file_name", "row_number"], how="left", suffix="_truth"
    ).with_columns(pl.col(pl.String).str.normalize("NFC"))


def _contract_labels(source: str) -> list[str]:
    """The backticked labels of a source's paragraph in the contract, in order, up to the first
    line that is no longer the column list."""
    text = CONTRACT.read_text()
    paragraph = text.split(f"**{source}**", 1)[1].split("\n\n", 1)[0]
    listed = paragraph.split("\n", 1)[1].split(".\n", 1)[0]
    return [
        label for label in re.findall(r"`([^`]+)`", listed) if not re.fullmatch(r"[\d-]+", label)
    ]


@pytest.mark.parametrize("source", ["giao_duc", "ly_lich_tu_phap"])
def test_new_sources_write_the_contract_headers(out, truth, source):
    labels = [fold_label(label) for label in _contract_labels(source)]
    assert len(labels) >= 15
    files = truth["files"].filter(pl.col("source") == source)
    assert files.height > 5
    for name in files["file_name"]:
        headers = read_extract(out / "landing" / name).columns
        headers = [fold_label(unicodedata.normalize("NFC", h)) for h in headers if h != "STT"]
        assert headers == labels, name
        assert re.fullmatch(rf"{source}/{source}_(?:\d{{8}}_)?\d{{8}}\.(csv|xlsx)", name)


# --- students ---------------------------------------------------------------------------------


def test_every_school_age_child_studies_most_without_an_id(out, truth):
    students = _delivered(out, truth, "giao_duc")
    persons = truth["persons"]
    age = DEFAULT_AS_OF.year - pl.col("birth_year")
    children = persons.filter(
        age.is_between(7, 15), ~pl.col("is_deceased"), pl.col("ward_code").is_not_null()
    )
    enrolled = children["person_key"].is_in(students["person_key"].implode()).mean()
    assert enrolled > 0.95
    twelve_digits = students["national_id"].str.contains(r"^\d{12}$").fill_null(False)
    assert 0.2 < twelve_digits.mean() < 0.5
    assert (students["school_year"] == "2025-2026").all()
    assert students["source_record_id"].str.contains(r"^\d{10}$").all()
    grade = students["class_name"].str.extract(r"^(\d+)A").cast(pl.Int32)
    expected = 2025 - 5 - students["true_birth_year"]
    assert ((expected - grade).is_in([0, 1])).all()
    assert (students["school_code"].str.slice(3) == students["ward_code"]).mean() > 0.3


def test_temporary_codes_are_never_a_personal_id(out, truth):
    students = _delivered(out, truth, "giao_duc")
    temporary = students.filter(pl.col("corruptions").list.contains("national_id:temporary_code"))
    assert temporary.height > 10
    assert temporary["national_id"].str.contains(r"^\d+$").all()
    assert not temporary["national_id"].str.contains(r"^\d{12}$").any()
    assert temporary["national_id"].is_in(temporary["source_record_id"].implode()).any()


def test_a_transferred_child_is_in_two_schools(out, truth):
    students = _delivered(out, truth, "giao_duc")
    twice = students.group_by("person_key").agg(
        pl.col("school_code").n_unique().alias("schools"),
        pl.col("source_record_id").n_unique().alias("codes"),
    )
    moved = twice.filter(pl.col("schools") == 2)
    assert moved.height >= 3
    assert (moved["codes"] == 2).all()


def test_children_outside_the_register_study_without_an_id(out, truth):
    students = _delivered(out, truth, "giao_duc")
    persons = truth["persons"]
    outside = persons.filter(pl.col("origin") == "unregistered_child")
    assert outside.height > 0
    assert outside["national_id"].is_null().all()
    in_school = students.filter(pl.col("person_key").is_in(outside["person_key"].implode()))
    assert in_school.height > 0
    assert not in_school["national_id"].str.contains(r"^\d{12}$").fill_null(False).any()
    registered = truth["records"].filter(pl.col("source").is_in(["dan_cu", "bhxh", "y_te"]))
    assert not registered["person_key"].is_in(outside["person_key"].implode()).any()
    assert students["father_name"].is_not_null().mean() > 0.85


# --- foreign elements -------------------------------------------------------------------------


def _nationalities(text: pl.Expr) -> pl.Expr:
    """A written nationality as sorted alpha-3 codes, through the contract's spellings."""
    return (
        text.str.replace_all(r"\s*[,;]\s*", "|")
        .str.split("|")
        .list.eval(pl.element().str.to_lowercase().replace_strict(SPELLINGS, default="?"))
        .list.sort()
    )


def test_foreign_parties_carry_a_passport_and_no_personal_id(out, truth):
    parties = truth["event_parties"].join(
        truth["persons"].select("person_key", "origin", "passport_number", "nationalities"),
        on="person_key",
    )
    foreign = parties.filter(pl.col("origin") == "foreign_party")
    assert set(foreign["role"]) >= {"father", "husband"}
    for source, roles in (("khai_sinh", ("mother", "father")), ("ket_hon", ("husband", "wife"))):
        rows = _delivered(out, truth, source).filter(pl.col("is_latest"))
        for role in roles:
            linked = rows.join(
                foreign.filter(pl.col("role") == role),
                on="source_record_id",
                suffix="_party",
            )
            if linked.height == 0:
                continue
            assert linked[f"{role}_national_id"].is_null().all()
            assert (linked[f"{role}_document_number"] == linked["passport_number"]).all()
            kinds = linked[f"{role}_document_type"].map_elements(fold_label, return_dtype=pl.String)
            assert (kinds == "hochieu").all()
            written = linked.select(_nationalities(pl.col(f"{role}_nationality"))).to_series()
            assert (written == linked["nationalities"].list.sort()).all()


def test_some_children_have_two_nationalities(out, truth):
    persons = truth["persons"]
    dual = persons.filter(pl.col("nationalities").list.len() == 2)
    assert dual.height > 0
    assert (dual["nationalities"].list.first() == "VNM").all()
    births = _delivered(out, truth, "khai_sinh").filter(pl.col("is_latest")).drop("person_key")
    written = births.join(
        truth["event_parties"].filter(pl.col("role") == "child"), on="source_record_id"
    ).join(persons.select("person_key", "nationalities"), on="person_key")
    codes = written.select(_nationalities(pl.col("nationality"))).to_series()
    assert (codes == written["nationalities"].list.sort()).all()
    assert (codes.list.len() == 2).any()


def test_children_of_a_foreign_father_get_mixed_names():
    size = 400
    persons = pl.DataFrame(
        {
            "person_key": [f"C{n}" for n in range(size)],
            "sex": ["Nam", "Nữ"] * (size // 2),
            "family_name": "Nguyễn",
            "middle_name": "Minh",
            "given_name": "An",
            "full_name": "Nguyễn Minh An",
            "father_key": pl.Series([None] * size, dtype=pl.String),
            "father_name": "Nguyễn Văn Bình",
            "nationalities": [["VNM"]] * size,
            "nationality": "Việt Nam",
        }
    )
    children = pl.DataFrame(
        {
            "child_key": persons["person_key"],
            "father_key": [f"F{n}" for n in range(size)],
            "father_name": "Kim Min Jun",
            "father_family": "Kim",
            "father_country": "KOR",
        }
    )
    named = name_children(persons, children, np.random.default_rng(3))
    names = named["full_name"]
    assert (named["father_key"] == children["father_key"]).all()
    assert (named["father_name"] == "Kim Min Jun").all()
    assert (names == "Kim Minh An").any()  # the father's family name
    assert names.str.contains(
        r"^Nguyễn (Anna|Emma|Yuna|Mia|Sophie|Hana|Daniel|Leo|Ken|Jun|Louis)$"
    ).any()
    assert names.str.contains(r"^\w+ Nguyễn Minh$").any()  # "Anna Nguyễn Minh"
    assert (names == "Nguyễn Minh An").any()
    dual = named.filter(pl.col("nationalities").list.len() == 2)
    assert 0.2 < dual.height / size < 0.4
    assert (dual["nationality"] == "Việt Nam, Hàn Quốc").all()


def test_foreign_names_come_in_both_orders(truth):
    persons = truth["persons"].filter(
        pl.col("origin") != "register", pl.col("passport_country") != "VNM"
    )
    korean = persons.filter(pl.col("nationality_code") == "KOR")
    assert (korean["full_name"] == korean["family_name"] + " " + korean["given_name"]).all()
    western = persons.filter(pl.col("nationality_code").is_in(["USA", "FRA", "DEU"]))
    assert (western["full_name"] == western["given_name"] + " " + western["family_name"]).all()
    chinese = persons.filter(pl.col("nationality_code").is_in(["CHN", "TWN"]))
    assert chinese["vietnamese_reading"].is_not_null().all()


# --- documents and judicial records -----------------------------------------------------------


def test_reissued_ids_are_in_dan_cu_and_in_the_truth(out, truth):
    documents = truth["documents"]
    previous = documents.filter(pl.col("document_type") == "previous_national_id")
    assert previous.height > 5
    current = documents.filter(pl.col("document_type") == "national_id")
    both = previous.join(current, on="person_key", suffix="_now")
    assert both.height == previous.height
    assert (both["document_number"] != both["document_number_now"]).all()
    assert (
        both["document_number"].str.slice(0, 3) == both["document_number_now"].str.slice(0, 3)
    ).all()
    dan_cu = _delivered(out, truth, "dan_cu").filter(
        pl.col("person_key").is_in(previous["person_key"].implode()),
        pl.col("previous_national_id").is_not_null(),
    )
    assert dan_cu.height > 0
    held = dan_cu.join(previous, on="person_key")
    digits = held["previous_national_id"].str.replace_all(r"\D", "").str.zfill(12)
    assert (digits == held["document_number"]).all()
    cmnd = documents.filter(pl.col("document_type") == "cmnd")["document_number"]
    assert cmnd.str.contains(r"^\d{9}$").all()


def test_judicial_requests(out, truth):
    requests = _delivered(out, truth, "ly_lich_tu_phap")
    persons = truth["persons"]
    adults = persons.filter(pl.col("in_register"), DEFAULT_AS_OF.year - pl.col("birth_year") >= 18)
    share = (
        requests.filter(pl.col("person_key").is_in(adults["person_key"].implode()))[
            "person_key"
        ].n_unique()
        / adults.height
    )
    assert 0.008 < share < 0.025
    assert set(requests["certificate_type"]) == {"1", "2"}
    assert 0 < requests["convictions"].is_not_null().mean() < 0.06
    kinds = requests["document_type"].map_elements(fold_label, return_dtype=pl.String)
    folded = {fold_label(k): v for k, v in DOCUMENT_KINDS.items()}
    assert set(kinds.drop_nulls()) <= set(folded)
    assert {folded[k] for k in kinds.drop_nulls()} >= {"national_id", "cmnd", "passport"}
    outsiders = requests.join(
        persons.filter(~pl.col("in_register")).select("person_key", "passport_number"),
        on="person_key",
    )
    assert outsiders.height > 3
    with_passport = outsiders.filter(pl.col("passport_number").is_not_null())
    assert (with_passport["document_number"] == with_passport["passport_number"]).all()
    assert requests["birth_place"].is_not_null().mean() > 0.9


def test_the_truth_names_the_document_each_record_shows(out, truth):
    documents = truth["documents"]
    named = documents.filter(pl.col("source").is_not_null())
    assert set(named["source"]) == {"giao_duc", "ly_lich_tu_phap", "khai_sinh", "ket_hon"}
    requests = _delivered(out, truth, "ly_lich_tu_phap").filter(pl.col("is_latest"))
    shown = requests.join(
        named.filter(pl.col("source") == "ly_lich_tu_phap"),
        on=["source_record_id", "person_key"],
        how="left",
    )
    assert shown["document_type_right"].is_not_null().all()
    untouched = shown.filter(
        ~pl.col("corruptions").list.eval(pl.element().str.starts_with("document_number")).list.any()
    )
    digits = untouched["document_number"].str.replace_all(r"[ .]", "")
    assert (digits == untouched["document_number_right"]).all()
    passports = documents.filter(pl.col("document_type") == "passport").join(
        truth["persons"].select("person_key", "passport_country"), on="person_key"
    )
    assert (passports["issuing_country"] == passports["passport_country"]).all()
    assert set(passports["issuing_country"]) >= {"VNM", "KOR"}
    students = truth["records"].filter(pl.col("source") == "giao_duc")
    codes = named.filter(pl.col("document_type") == "student_code")
    assert codes.height == students.height
    assert set(truth["nationalities"]["nationality"]) >= {"VNM", "KOR", "CHN"}
