"""Masking keeps what identifies a problem and hides what identifies a person."""

import pytest

from dancu.mask import mask_message, masked


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("001088012345", "id", "001*******45"),
        ("0123456789", "id", "012*****89"),
        ("12", "id", "***"),
        ("Nguyễn Thị Thu Hà", "name", "N. T. T. H."),
        (None, "id", ""),
    ],
)
def test_masked(value, kind, expected):
    assert masked(value, kind) == expected


def test_error_messages_lose_quoted_values_and_long_numbers():
    message = (
        "conversion from `str` to `date` failed in column 'birth_date' for 1 out of 3 values: "
        '["Nguyễn Văn An 001088012345"]'
    )
    shown = mask_message(message)
    assert "Nguyễn" not in shown and "001088012345" not in shown
    assert "conversion from `str` to `date` failed" in shown


@pytest.mark.parametrize(
    "value",
    [
        "001 088 012 345",  # an id as a card groups it
        "001.088.012.345",
        "0912 345 678",  # a phone
        "0912-345-678",
        "`Nguyễn Văn An`",  # a value as polars quotes it
        "`Tran Van Binh`",
    ],
)
def test_ids_and_phones_written_in_groups_and_values_in_backticks_are_hidden(value):
    shown = mask_message(f"could not parse {value} as dtype `i64` at column `national_id`")
    assert value.strip("`") not in shown
    assert "345" not in shown and "Văn" not in shown and "Van" not in shown
    assert "as dtype `i64` at column `national_id`" in shown


@pytest.mark.parametrize(
    "message",
    [
        "missing required column(s): 'ho_ten', 'ngay_sinh'",
        "the service group 'svc_health' does not exist on this machine",
        "no such rule 'id.non_digit'",
        "No such file or directory: '/srv/dancu/landing/bhxh/bhxh_badinh.parquet'",
        "DANCU_MEMORY_LIMIT='lots' is no memory amount",
    ],
)
def test_names_paths_and_settings_an_engineer_needs_stay_readable(message):
    assert mask_message(message) == message


@pytest.mark.parametrize(
    "value",
    ["'Nguyen'", "'nguyen van an'", "'Nguyễn/Văn'", "'/Nguyễn Văn An/x'", "HO_TEN='Nguyen'"],
)
def test_quoted_values_that_could_be_a_persons_stay_hidden(value):
    assert "guy" not in mask_message(f"could not parse {value} as a date")
