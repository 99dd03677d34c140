"""What the warehouse publishes of the education and justice sources and of foreign elements:
every document and nationality of a person, each student's and request's match status, the
justice view with its candidates, and `Án tích`, which only svc_justice and its file hold.

The tables are built from small hand-made extracts and a given resolution, so that they test
publishing and not matching; then one `dancu run` over a generated city, with a few hand-made
records added, checks the published views, the report and the logs."""

import csv
import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import run_dancu

from dancu.contract import SOURCES
from dancu.generate import generate
from dancu.ingest import read_source
from dancu.match_status import MATCH_STATUSES, RECORD_SHARES, joined_by_record, record_matches
from dancu.publish import person_documents, person_nationalities
from dancu.standardize import standardize
from dancu.warehouse import SERVICE_VIEWS, WAREHOUSE_FILE

EXTRACT = "20250915"
ADDRESS = "Số 12, phố Hàng Bài, Phường Hoàn Kiếm, Hà Nội"
REGISTER_LABELS = {c.name: c.label for c in SOURCES["dan_cu"].columns}
JUSTICE_LABELS = {c.name: c.label for c in SOURCES["ly_lich_tu_phap"].columns}
SCHOOL_LABELS = {c.name: c.label for c in SOURCES["giao_duc"].columns}

# Had a CMND, then a CCCD, then a CCCD re-issued after a correction of her birth year.
REISSUED = {
    "source_record_id": "HSX0001", "national_id": "001190044556", "cmnd": "012987654",
    "previous_national_id": "001189044556", "full_name": "Hà Thị Diệu Linh",
    "birth_date": "14/02/1990", "sex": "Nữ", "ethnicity": "Kinh", "religion": "Không",
    "nationality": "Việt Nam", "hometown": "Hà Nội", "address": ADDRESS, "ward_code": "00070",
    "marital_status": "Độc thân", "father_name": "Hà Văn Tùng", "mother_name": "Lê Thị Nga",
    "phone": "0912000111", "updated_date": "01/09/2025",
}  # fmt: skip
# Vietnamese and American: a CCCD in the register, a US passport on her judicial-record request.
DUAL = {
    **REISSUED, "source_record_id": "HSX0002", "national_id": "001195077889", "cmnd": "",
    "previous_national_id": "", "full_name": "Trịnh Anna Mai", "birth_date": "03/03/1995",
    "nationality": "Việt Nam; Hoa Kỳ", "father_name": "Trịnh Văn Hòa",
    "mother_name": "Đào Thị Sen",
}  # fmt: skip
CONVICTION = "Năm 2012 bị Tòa án nhân dân quận Hoàn Kiếm xử phạt 30 tháng tù về tội lừa đảo"
DUAL_REQUEST = {
    "source_record_id": "LLTP-X-0001", "received_date": "10/09/2025", "certificate_form": "1",
    "full_name": "Trịnh Anna Mai", "birth_date": "03/03/1995", "sex": "Nữ",
    "birth_place": "Hà Nội", "nationality": "Việt Nam, Hoa Kỳ", "document_type": "Hộ chiếu",
    "document_number": "567890123", "document_issued_by": "Hoa Kỳ", "address": ADDRESS,
    "father_name": "Trịnh Văn Hòa", "mother_name": "Đào Thị Sen", "criminal_record": "",
}  # fmt: skip
# A foreigner the register does not hold, with a conviction.
STRANGER_REQUEST = {
    "source_record_id": "LLTP-X-0002", "received_date": "11/09/2025", "certificate_form": "2",
    "full_name": "WALKER THOMAS HENRY", "birth_date": "21/07/1979", "sex": "Nam",
    "birth_place": "Sydney", "nationality": "Úc", "document_type": "Passport",
    "document_number": "PA1234567", "document_issued_by": "Australia", "address": ADDRESS,
    "criminal_record": CONVICTION,
}  # fmt: skip
# A child no register record nor birth registration knows, without a personal id.
UNREGISTERED_STUDENT = {
    "source_record_id": "0199990001", "national_id": "", "full_name": "Ông Tịnh Nhi Quyên",
    "birth_date": "09/09/2016", "sex": "Nữ", "ethnicity": "Kinh", "nationality": "Việt Nam",
    "school_code": "01100070", "class_name": "3A1", "school_year": "2025-2026",
    "address": ADDRESS, "ward_code": "00070", "father_name": "Ông Văn Quý",
    "mother_name": "Tạ Thị Hồng", "parent_phone": "",
}  # fmt: skip


def write_extract(path: Path, labels: dict[str, str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(labels.values())
    writer.writerows([row.get(name, "") for name in labels] for row in rows)
    path.write_text(text.getvalue(), encoding="utf-8")


def write_hand_made(landing: Path) -> None:
    write_extract(landing / "dan_cu" / f"phuong_x_{EXTRACT}.csv", REGISTER_LABELS, [REISSUED, DUAL])
    write_extract(
        landing / "ly_lich_tu_phap" / f"lltp_x_{EXTRACT}.csv",
        JUSTICE_LABELS,
        [DUAL_REQUEST, STRANGER_REQUEST],
    )
    write_extract(
        landing / "giao_duc" / f"truong_x_{EXTRACT}.csv", SCHOOL_LABELS, [UNREGISTERED_STUDENT]
    )


# ------------------------------------------------------------------ tables, from a resolution


@pytest.fixture(scope="module")
def std(tmp_path_factory) -> dict[str, pl.LazyFrame]:
    landing = tmp_path_factory.mktemp("hand_made") / "landing"
    write_hand_made(landing)
    frames = {}
    for name, source in SOURCES.items():
        if (landing / name).exists():
            raw, _ = read_source(landing, source)
            frames[name] = standardize(raw.lazy(), source)
        else:
            frames[name] = pl.LazyFrame(schema=standardize_schema(landing, name))
    return frames


def standardize_schema(landing: Path, name: str) -> pl.Schema:
    """The schema of an empty standardised frame of a source without files here."""
    folder = landing.parent / "empty" / name
    labels = {c.name: c.label for c in SOURCES[name].columns}
    write_extract(folder / f"{name}_{EXTRACT}.csv", labels, [])
    raw, _ = read_source(landing.parent / "empty", SOURCES[name])
    return standardize(raw.lazy(), SOURCES[name]).collect_schema()


def resolution(*records: tuple[str, str, str]) -> pl.DataFrame:
    """`person_source` for (source, record id, person id)."""
    return pl.DataFrame(
        records, schema=["source", "source_record_id", "person_id"], orient="row"
    ).with_columns(match_rule=pl.lit("national_id"), match_weight=pl.lit(20.0))


NO_PARTIES = pl.DataFrame(schema={"event_id": pl.String, "role": pl.String, "person_id": pl.String})


def test_a_person_with_cmnd_then_cccd_then_a_reissued_id_has_three_documents(std):
    person_source = resolution(("dan_cu", "HSX0001", "P1"))
    documents = person_documents(std, person_source, NO_PARTIES).filter(person_id="P1").collect()
    assert sorted(documents.select("document_type", "document_number").iter_rows()) == [
        ("cmnd", "012987654"),
        ("national_id", "001190044556"),
        ("previous_national_id", "001189044556"),
    ]
    assert set(documents["issuing_country"]) == {"VNM"}


def test_a_dual_national_has_two_nationalities_and_two_documents(std):
    person_source = resolution(
        ("dan_cu", "HSX0002", "P2"), ("ly_lich_tu_phap", "LLTP-X-0001", "P2")
    )
    documents = person_documents(std, person_source, NO_PARTIES).filter(person_id="P2").collect()
    nationalities = (
        person_nationalities(std, person_source, NO_PARTIES).filter(person_id="P2").collect()
    )
    assert sorted(nationalities["nationality"]) == ["USA", "VNM"]
    assert nationalities.filter(nationality="USA")["sources"].to_list() == [
        ["dan_cu", "ly_lich_tu_phap"]
    ]
    shown = documents.select("document_type", "document_number", "issuing_country")
    assert sorted(shown.rows()) == [
        ("national_id", "001195077889", "VNM"),
        ("passport", "567890123", "USA"),
    ]


def review_pair(left: tuple[str, str], right: tuple[str, str], weight: float) -> dict:
    return {
        "source_l": left[0], "source_record_id_l": left[1],
        "source_r": right[0], "source_record_id_r": right[1],
        "reason": "uncertain", "match_weight": weight,
    }  # fmt: skip


def test_an_unsure_request_shows_its_candidates_and_no_person(std, tmp_path):
    """The request may be either of two registered persons: no person, both candidates."""
    person_source = resolution(
        ("dan_cu", "HSX0001", "P1"),
        ("dan_cu", "HSX0002", "P2"),
        ("ly_lich_tu_phap", "LLTP-X-0001", "P9"),
        ("ly_lich_tu_phap", "LLTP-X-0002", "P8"),
        ("giao_duc", "0199990001", "P7"),
    )
    queue = pl.DataFrame(
        [
            review_pair(("ly_lich_tu_phap", "LLTP-X-0001"), ("dan_cu", "HSX0002"), 6.5),
            review_pair(("dan_cu", "HSX0001"), ("ly_lich_tu_phap", "LLTP-X-0001"), 4.0),
        ]
    )
    person = pl.DataFrame({"person_id": ["P1", "P2", "P7", "P8", "P9"], "sex": ["F"] * 5})
    matches, candidates = pl.collect_all(
        record_matches(std, person_source, NO_PARTIES, queue, person)
    )

    request = matches.filter(source_record_id="LLTP-X-0001").row(0, named=True)
    assert request["match_status"] == "several_candidates"
    assert request["person_id"] is None
    assert request["match_reason"] == MATCH_STATUSES["several_candidates"]
    shown = candidates.filter(source_record_id="LLTP-X-0001")
    assert shown["person_id"].to_list() == ["P2", "P1"]  # strongest first
    student = matches.filter(source_record_id="0199990001").row(0, named=True)
    assert (student["match_status"], student["person_id"]) == ("no_birth_registration", None)
    stranger = matches.filter(source_record_id="LLTP-X-0002").row(0, named=True)
    assert stranger["match_status"] == "not_in_register"


def test_one_candidate_of_the_other_sex_is_a_conflicting_sex(std):
    person_source = resolution(
        ("dan_cu", "HSX0001", "P1"), ("ly_lich_tu_phap", "LLTP-X-0001", "P9"),
        ("ly_lich_tu_phap", "LLTP-X-0002", "P8"), ("giao_duc", "0199990001", "P7"),
    )  # fmt: skip
    queue = pl.DataFrame([review_pair(("giao_duc", "0199990001"), ("dan_cu", "HSX0001"), 5.0)])
    person = pl.DataFrame({"person_id": ["P1", "P7", "P8", "P9"], "sex": ["M", "F", "M", "F"]})
    matches, _ = record_matches(std, person_source, NO_PARTIES, queue, person)
    assert matches.collect().filter(source_record_id="0199990001")["match_status"].to_list() == [
        "conflicting_sex"
    ]


# ------------------------------------------------------------------ one real run


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("publish_new_sources")
    generate(persons=1_000, seed=29, out=out / "sample")
    landing = out / "sample" / "landing"
    write_hand_made(landing)
    run_dancu(landing, out)
    return out


def query(path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def warehouse_of(run: Path) -> Path:
    return run / "data" / "warehouse" / WAREHOUSE_FILE


def convictions(run: Path) -> list[str]:
    """Every conviction delivered, as standardised (read from the justice sector's staging)."""
    std = pl.read_parquet(run / "data" / "staging" / "std_ly_lich_tu_phap.parquet")
    return std.filter("has_criminal_record")["criminal_record"].unique().to_list()


def test_a_conviction_is_published_in_svc_justice_alone(run):
    texts = convictions(run)
    assert CONVICTION in texts
    justice = query(warehouse_of(run), "select * from svc_justice")
    assert set(texts) <= set(justice["criminal_record"].drop_nulls())
    quoted = ", ".join("'" + t.replace("'", "''") + "'" for t in texts)
    with duckdb.connect(str(warehouse_of(run)), read_only=True) as con:
        text_columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'VARCHAR[]', 'JSON') "
            "and table_name not in ('justice_request', 'svc_justice')"
        ).fetchall()
        for table, column in text_columns:
            value = f'cast("{column}" as varchar)'
            (found,) = con.execute(
                f"""select count(*) from "{table}"
                    where list_has_any([{quoted}], [{value}]) or {value} like '%lừa đảo%'"""
            ).fetchone()
            assert found == 0, (table, column)


def test_a_conviction_is_in_no_other_service_file_report_or_log(run):
    data = run / "data"
    for view in SERVICE_VIEWS:
        columns = query(data / "warehouse" / "services" / f"{view}.duckdb", f"describe {view}")
        assert ("criminal_record" in columns["column_name"].to_list()) == (view == "svc_justice")
    # Everything written outside the staged frames and the justice data's own files; the
    # Dagster event log (data/dagster) included.
    justice_files = {"dancu.duckdb", "svc_justice.duckdb"}
    needles = [t.encode() for t in convictions(run)]
    for path in data.rglob("*"):
        parts = path.relative_to(data).parts
        if not path.is_file() or parts[0] == "staging":
            continue
        if path.name in justice_files or parts[:2] == ("warehouse", "versions"):
            continue
        content = path.read_bytes()
        assert not any(needle in content for needle in needles), path
    log = (run / "run.log").read_text(encoding="utf-8")
    assert not any(text in log for text in convictions(run))


def test_the_report_counts_convictions_and_shows_none(run):
    (report,) = (run / "data" / "reports").glob("dancu_report_*.html")
    html = report.read_text(encoding="utf-8")
    counted = query(
        warehouse_of(run), "select count(*) filter (where has_criminal_record) from justice_request"
    ).item()
    assert counted >= 1
    assert f'data-with-conviction data-value="{counted}"' in html
    assert not any(text in html for text in convictions(run))


def test_a_student_without_a_person_shows_its_status_and_reason(run):
    rows = query(warehouse_of(run), "select * from svc_education where student_code is not null")
    student = rows.filter(student_code=UNREGISTERED_STUDENT["source_record_id"]).row(0, named=True)
    assert student["person_id"] is None
    assert student["match_status"] == "no_birth_registration"
    assert student["match_reason"] == MATCH_STATUSES["no_birth_registration"]
    assert set(rows["match_status"]) <= set(MATCH_STATUSES)
    matched = pl.col("match_status") == "matched"
    assert rows.filter(matched)["person_id"].is_not_null().all()
    assert rows.filter(~matched)["person_id"].is_null().all()


def test_every_request_is_in_the_justice_view_with_its_person_or_candidates(run):
    justice = query(warehouse_of(run), "select * from svc_justice")
    requests = query(warehouse_of(run), "select source_record_id from justice_request")
    assert set(justice["request_id"]) == set(requests["source_record_id"])
    matched = justice.filter(pl.col("match_status") == "matched")
    assert matched["person_id"].is_not_null().all() and not matched["is_candidate"].any()
    unsure = justice.filter(pl.col("match_status").is_in(["uncertain", "several_candidates"]))
    assert unsure["is_candidate"].fill_null(False).all()
    stranger = justice.filter(request_id=STRANGER_REQUEST["source_record_id"]).row(0, named=True)
    assert (stranger["match_status"], stranger["person_id"]) == ("not_in_register", None)
    assert stranger["criminal_record"] == CONVICTION


@pytest.mark.parametrize("how", ["inner", "left"])
def test_records_are_joined_with_their_persons_share_by_share_as_in_one_join(how):
    ids = [f"{n:07d}" for n in range(40 * RECORD_SHARES)]
    records = pl.DataFrame(
        {"source": ["giao_duc", "ly_lich_tu_phap"] * (len(ids) // 2), "source_record_id": ids}
    ).vstack(
        pl.DataFrame(
            {"source": ["giao_duc"], "source_record_id": [None]},
            schema_overrides={"source_record_id": pl.String},
        )
    )
    persons = records.head(len(ids) // 2 + 3).with_columns(
        pl.format("P{}", pl.col("source_record_id")).alias("person_id")
    )
    persons = persons.vstack(
        pl.DataFrame({"source": ["bhxh"], "source_record_id": ["0000001"], "person_id": ["P-x"]})
    )
    keys = ["source", "source_record_id"]
    shared = joined_by_record(records, persons, how).collect().sort(keys, nulls_last=True)
    whole = records.join(persons, on=keys, how=how).sort(keys, nulls_last=True)
    assert shared.equals(whole)
    assert shared.height == (len(ids) + 1 if how == "left" else persons.height - 1)
