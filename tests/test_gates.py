"""Each gate of sql/gates.sql fires when what it forbids reaches a publish, naming itself and no
other gate, and leaves the published warehouse as it was.

The frames are those of test_warehouse (one register record of P1, one quarantined row) with the
one thing each gate forbids added; `nothing_lost`, `one_place_per_row` and
`person_source_keys_unique` are tested there."""

import hashlib
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_warehouse import run_of, tables

import dancu.warehouse
from dancu.contract import MATCHED_SOURCES
from dancu.match_status import MATCH_STATUSES, status_table
from dancu.warehouse import WAREHOUSE_FILE, GateFailed, load_gates, publish, run_gates
from sql import SQL_DIR

DAY = date(2025, 9, 15)
# A record id of each source, as its extracts write them.
RECORD_IDS = {
    "dan_cu": "HS9", "bhxh": "0101234567", "y_te": "BV01-2025-000123", "giao_duc": "0199990001",
    "ly_lich_tu_phap": "LLTP-2025-0001", "khai_sinh": "KS-2025-0001",
}  # fmt: skip


def file_name(source: str) -> str:
    """The one file of `source` the frames below deliver (dan_cu's first is test_warehouse's)."""
    return f"{source}/{source}_00002_20250915.csv"


def delivered(frames: dict[str, pl.DataFrame], source: str) -> pl.DataFrame:
    """`frames`' extract_file and a file of `source` delivering one row."""
    one_row = pl.DataFrame(
        {"source": [source], "file_name": [file_name(source)], "extract_date": [DAY],
         "rows": [1], "rows_latest": [1], "rows_held": [0]}
    )  # fmt: skip
    return pl.concat([frames["extract_file"], one_row])


def with_record(
    source: str, person_id: str | None, match: tuple[str, str | None] | None = None
) -> dict[str, pl.DataFrame]:
    """test_warehouse's frames and one accepted record of `source` in a file of its own,
    resolved to `person_id` (None: it matched no one); `match`: the record's match status and
    person in `record_match`, which then holds it alone."""
    frames = tables()
    record = pl.DataFrame(
        {"source": [source], "source_record_id": [RECORD_IDS[source]], "person_id": [person_id],
         "match_rule": ["national_id" if person_id else "single"],
         "file_name": [file_name(source)], "row_number": [1], "extract_date": [DAY]},
        schema=frames["person_source"].schema,
    )  # fmt: skip
    frames["person_source"] = pl.concat([frames["person_source"], record])
    frames["extract_file"] = delivered(frames, source)
    if match:
        status, matched = match
        frames["match_status"] = status_table()
        frames["record_match"] = pl.DataFrame(
            {"source": [source], "source_record_id": [RECORD_IDS[source]], "person_id": [matched],
             "match_status": [status], "match_reason": [MATCH_STATUSES[status]],
             "candidates": [int(status == "uncertain")]},
            schema_overrides={"person_id": pl.String},
        )  # fmt: skip
    return frames


def party_of_a_refused_registration() -> dict[str, pl.DataFrame]:
    """A birth registration quarantined, whose child is published as a party all the same."""
    frames = tables()
    refused = pl.DataFrame(
        {"source": ["khai_sinh"], "file_name": [file_name("khai_sinh")], "row_number": [1],
         "reasons": [["event_date.invalid: not a date"]]}
    )  # fmt: skip
    frames["quarantine"] = pl.concat([frames["quarantine"], refused])
    frames["extract_file"] = delivered(frames, "khai_sinh")
    frames["event_party"] = pl.DataFrame(
        {"event_id": [f"khai_sinh:{RECORD_IDS['khai_sinh']}"], "role": ["child"],
         "person_id": ["P1"], "match_rule": ["national_id"]}
    )  # fmt: skip
    return frames


# P9: a person whose records this run does not publish.
SENSITIVE_OF_NO_ONE = pl.DataFrame(
    {"person_id": ["P9"], "ethnicity": ["Tày"], "religion": ["Không"],
     "source_record_id": [RECORD_IDS["dan_cu"]]}
)  # fmt: skip
HEALTH_OF_NO_ONE = pl.DataFrame(
    {"person_id": ["P9"], "health_card": ["DN4010123456789"], "last_visit_date": [date(2025, 8, 2)],
     "patient_records": [1]}
)  # fmt: skip
# A review pair handed to the clerks with the request's Án tích beside it.
QUEUE_WITH_A_CONVICTION = pl.DataFrame(
    {"source_l": ["ly_lich_tu_phap"], "source_record_id_l": [RECORD_IDS["ly_lich_tu_phap"]],
     "source_r": ["dan_cu"], "source_record_id_r": ["HS0"], "reason": ["uncertain"],
     "criminal_record": ["Năm 2012 bị xử phạt 30 tháng tù về tội lừa đảo"]}
)  # fmt: skip
# The previous version's run, handed to the build beside the one it records itself.
EARLIER_RUN = pl.DataFrame(
    {"run_id": ["run1"], "published_at": [datetime(2025, 9, 15, 2)],
     "key_fingerprint": ["0123456789abcdef"]}
)  # fmt: skip


def contents(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a digest of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def refusing_gates(
    warehouse: Path, frames: dict[str, pl.DataFrame], optional: dict | None = None
) -> set[str]:
    """The gates that refuse publishing `frames` as run2 over `warehouse`, which must be left
    exactly as it was (run1's)."""
    before = contents(warehouse)
    with pytest.raises(GateFailed) as failed:
        publish(warehouse, "run2", frames, optional)
    assert contents(warehouse) == before
    assert run_of(warehouse / WAREHOUSE_FILE) == "run1"
    return set(re.findall(r"(?:^|; )(\w+): ", str(failed.value)))


def failing_gates(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {result.name for result in run_gates(con, load_gates()) if result.violations}


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A warehouse run1 published test_warehouse's frames to: every gate passed."""
    publish(tmp_path / "warehouse", "run1", tables())
    return tmp_path / "warehouse"


@pytest.mark.parametrize(
    "frames, optional, gate",
    [
        pytest.param(
            with_record("bhxh", "P9"), None, "records_reference_persons",
            id="a record of a person not published",
        ),
        pytest.param(
            with_record("giao_duc", "P9", match=("matched", "P9")), None,
            "records_reference_persons", id="a student matched to a person not published",
        ),
        pytest.param(
            party_of_a_refused_registration(), None, "parties_reference_events",
            id="a party of a registration not published",
        ),
        pytest.param(
            tables() | {"person_sensitive": SENSITIVE_OF_NO_ONE}, None,
            "sensitive_data_references_persons", id="ethnicity of a person not published",
        ),
        pytest.param(
            tables() | {"person_health": HEALTH_OF_NO_ONE}, None,
            "sensitive_data_references_persons", id="health data of a person not published",
        ),
        pytest.param(
            tables(), {"review_queue": QUEUE_WITH_A_CONVICTION},
            "criminal_data_only_for_justice", id="a conviction in the review queue",
        ),
        pytest.param(
            with_record("giao_duc", None), None, "student_and_request_records_have_a_status",
            id="a student without a match status",
        ),
        pytest.param(
            with_record("ly_lich_tu_phap", "P1"), None,
            "student_and_request_records_have_a_status",
            id="a request without a match status",
        ),
        pytest.param(
            with_record("giao_duc", None, match=("matched", None)), None,
            "student_and_request_records_have_a_status", id="matched without a person",
        ),
        pytest.param(
            with_record("ly_lich_tu_phap", None, match=("uncertain", "P1")), None,
            "student_and_request_records_have_a_status", id="uncertain with a person",
        ),
        pytest.param(
            tables() | {"publish_run": EARLIER_RUN}, None, "one_run_per_version",
            id="two runs in one version",
        ),
    ],
)  # fmt: skip
def test_what_a_gate_forbids_fails_that_gate_alone(warehouse, frames, optional, gate):
    assert refusing_gates(warehouse, frames, optional) == {gate}


@pytest.mark.parametrize("source", ["giao_duc", "ly_lich_tu_phap", "dan_cu", "bhxh", "y_te"])
def test_only_a_student_or_request_may_match_no_one(warehouse, source):
    match = ("not_in_register", None) if source in MATCHED_SOURCES else None
    frames = with_record(source, None, match)
    if source in MATCHED_SOURCES:
        published = publish(warehouse, "run2", frames)
        assert [r.name for r in published.gates if r.violations] == []
        with duckdb.connect(str(published.path), read_only=True) as con:
            unmatched = con.execute(
                "select source_record_id from person_source where person_id is null"
            ).fetchall()
        assert unmatched == [(RECORD_IDS[source],)]
    else:
        assert refusing_gates(warehouse, frames) == {"records_reference_persons"}


@pytest.mark.parametrize("share", [1.25, -0.25])
def test_a_share_outside_0_to_1_in_the_history_fails_dq_metric_recorded(warehouse, share):
    # An earlier run's share gone wrong (written into the published version here, as a version
    # published before the gate was would hold it): the next build carries it into its history.
    with duckdb.connect(str(warehouse / WAREHOUSE_FILE)) as con:
        changed = con.execute(
            "update dq_metric set value = ? "
            "where metric = 'correct_share' and source = 'all' and ward_code = 'all'",
            [share],
        ).fetchall()
    assert changed == [(1,)]
    assert refusing_gates(warehouse, tables()) == {"dq_metric_recorded"}


def test_criminal_data_in_a_view_other_than_justices_fails_its_gate(
    warehouse, tmp_path, monkeypatch
):
    # The mistake the gate guards against: views.sql edited so that another service sees Án
    # tích. The build reads a copy of sql/ with that view added; the gates are sql/gates.sql.
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    with (sql / "views.sql").open("a", encoding="utf-8") as views:
        views.write(
            "\ncreate view svc_education_checks as\n"
            "select m.source_record_id, r.criminal_record\n"
            "from record_match m join justice_request r using (source_record_id);\n"
        )
    monkeypatch.setattr(dancu.warehouse, "SQL_DIR", sql)
    assert refusing_gates(warehouse, tables()) == {"criminal_data_only_for_justice"}


@pytest.mark.parametrize(
    "removed, gates",
    [
        (
            "delete from dq_metric where run_id = (select run_id from publish_run)",
            {"dq_metric_recorded"},
        ),
        ("delete from publish_run", {"one_run_per_version", "dq_metric_recorded"}),
    ],
)
def test_what_the_build_cannot_lose_fails_its_gate(warehouse, tmp_path, removed, gates):
    # Not reachable through publish: the build always records its run in publish_run, one row,
    # and dq_metric.sql always records the run's overall counts (its grand total has a row over
    # no rows). So the gates run on a copy of a published version, run2 carrying run1's
    # metrics, with this run's rows removed.
    publish(warehouse, "run2", tables())
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse / WAREHOUSE_FILE, copy)
    with duckdb.connect(str(copy)) as con:
        assert failing_gates(con) == set()
        con.execute(removed).fetchall()
        assert con.execute("select count(*) from dq_metric").fetchall() != [(0,)]
        assert failing_gates(con) == gates
