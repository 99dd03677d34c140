"""The report's words: every rule labelled, causes and codes in the reader's language."""

from datetime import date

import polars as pl

from dancu import rules
from dancu.report import format as fmt
from dancu.report import headline
from dancu.report.html import consistency, corrections, review_reason, staleness
from dancu.report.labels import RULES, rule_text
from dancu.review import REASON_WORDS


def test_every_rule_has_a_vietnamese_and_an_english_label():
    for rule in rules.RULES:
        assert rule.id in RULES, rule.id
        assert rule_text("vi", rule.id, rule.message) == RULES[rule.id]
        assert rule_text("en", rule.id, rule.message) == rule.message


def test_a_rejected_files_cause_reads_in_vietnamese():
    message = "missing required column(s): 'Mã hồ sơ'"
    assert rule_text("vi", "file.rejected", message) == (
        "cả tệp bị từ chối: thiếu cột bắt buộc: 'Mã hồ sơ'"
    )
    assert "file name" not in rule_text(
        "vi", "file.rejected", "no extract date (YYYYMMDD) in the file name"
    )


def test_sex_reads_nam_and_nu_in_the_correction_examples():
    frame = pl.DataFrame(
        {
            "source": ["bhxh"],
            "field": ["sex"],
            "kind": ["other"],
            "records": [1],
            "mean_confidence": [0.99997],
            "examples": [[{"source_record_id": "0123456789", "delivered_value": "M",
                           "register_value": "F"}]],
        }
    )  # fmt: skip
    row = corrections(frame, "vi")["rows"][0]
    assert row["examples"][0].endswith(": Nam → Nữ")
    assert row["confidence"] == "99,99%"


def test_review_reasons_read_as_the_clerks_workbook_words():
    for reason, words in REASON_WORDS.items():
        assert review_reason(reason, "vi") == words


def test_a_source_without_flags_has_its_column_of_zeros():
    flags = pl.DataFrame(
        {"rule_id": ["id.missing"], "dimension": ["complete"], "message": ["no personal id"],
         "source": ["dan_cu"], "rows": [3]}
    )  # fmt: skip
    table = consistency(pl.DataFrame(), flags, ["dan_cu", "bhxh"], "vi")
    assert [s["key"] for s in table["flag_sources"]] == ["dan_cu", "bhxh"]
    assert table["flags"][0]["counts"] == ["3", "0"]


def test_a_source_that_delivered_nothing_is_overdue():
    extracts = pl.DataFrame(
        {"source": ["dan_cu"], "newest_extract": [date(2025, 10, 31)], "days_since_extract": [0]}
    )
    stale = staleness({"extracts": extracts}, "vi")
    assert stale["dan_cu"]["late"] is False
    assert stale["y_te"]["late"] and stale["y_te"]["text"] == "chưa nhận được trích xuất nào"
    assert stale["all"]["source"] != "dan_cu"


def test_no_headline_share_below_one_reads_one():
    assert fmt.floored_share(0.99997) == 0.9999
    figs = {
        "scorecard": pl.DataFrame(
            {"source": ["all"], "ward_code": ["all"], "metric": ["live_share"], "value": [0.99997]}
        ),
        "rows_received": pl.DataFrame(
            {
                "source": ["dan_cu"],
                "rows_in_files": [5],
                "rows_superseded": [1],
                "rows_in_rejected_files": [0],
                "files_rejected": [0],
            }
        ),
        "resolution": pl.DataFrame({"persons": [1]}),
        "corrections": pl.DataFrame({"records": [0]}),
        "correction_review": pl.DataFrame({"records": [0]}),
        "unmatched_students": pl.DataFrame({"records": [0]}),
    }
    assert headline(figs)["live_share"] == 0.9999
