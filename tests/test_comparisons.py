"""Comparison levels: the level each hand-made pair of Vietnamese records gets, field by field,
and the scores behind them: each computed once, cut off at the loosest threshold read."""

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import OSA
from test_resolve import frame, person

from dancu.resolve import comparisons
from dancu.resolve.comparisons import COMPARISONS, compare, one_slip_apart, score_cutoffs
from dancu.resolve.records import features, keyed

BY_NAME = {c.name: c for c in COMPARISONS}

# (comparison, left record's values, right record's values, the level's label). A bare string
# is the full name; records named only by other values are both "Lê An".
CASES = [
    ("national_id", {"national_id": "001090012345"}, {"national_id": "001090012345"}, "same"),
    ("national_id", {"cmnd": "012345678"}, {"cmnd": "012345678"}, "same old id card or passport"),
    (
        "national_id",
        {"passport": "M12345678", "passport_country": "KOR"},
        {"passport": "M12345678"},
        "same old id card or passport",
    ),
    (
        "national_id",
        {"national_id": "001075010101", "cmnd": "087654321"},
        {"national_id": "001075020202", "cmnd": "087654321"},
        "same old id card or passport",
    ),
    (
        "national_id",
        {"national_id": "001080099999", "previous_national_id": "001080011111"},
        {"national_id": "001080011111"},
        "same",
    ),
    (
        "national_id",
        {"passport": "B7654321", "vietnamese": False},
        {"national_id": "001070012345"},
        "a non-citizen and a citizen's id",
    ),
    (
        "national_id",
        {"passport": "C1234567", "passport_country": "KOR"},
        {"passport": "C1234567", "passport_country": "JPN"},
        "other passports",
    ),
    (
        "national_id",
        {"passport": "78AB75330", "passport_country": "FRA"},
        {"passport": "47AU64000", "passport_country": "FRA"},
        "other passports",
    ),
    (
        "national_id",
        {"national_id": "001090012345", "passport": "C1234567"},
        {"national_id": "001085054321", "passport": "C7654321"},
        "different",
    ),
    ("national_id", {"passport": "C1234567"}, {}, "not comparable"),
    (
        "national_id",
        {"national_id": "001090012345"},
        {"national_id": "001090012346"},
        "one digit slip",
    ),
    (
        "national_id",
        {"national_id": "001090012345"},
        {"national_id": "001090012354"},
        "one digit slip",
    ),
    ("national_id", {"national_id": "001090012345"}, {"national_id": "001090021354"}, "different"),
    # A parent's id on a child's record: the id's birth year (1965) is a generation from the
    # record's (2015), so it tells nothing of the record's holder, same or not.
    (
        "national_id",
        {"national_id": "001065012345", "birth_date": date(2015, 3, 1)},
        {"national_id": "001065012345", "birth_date": date(1965, 7, 9)},
        "one is another generation's",
    ),
    (
        "national_id",
        {"national_id": "001065012345", "birth_date": date(2015, 3, 1)},
        {"national_id": "001215054321", "birth_date": date(2015, 3, 1)},
        "one is another generation's",
    ),
    # A birth year typed ten years off still fits the id.
    (
        "national_id",
        {"national_id": "001085012345", "birth_date": date(1975, 3, 1)},
        {"national_id": "001085012345", "birth_date": date(1985, 3, 1)},
        "same",
    ),
    ("national_id", {"national_id": "001090012345"}, {"national_id": "079185004321"}, "different"),
    ("national_id", {"national_id": "001090012345"}, {}, "not comparable"),
    ("bhxh_code", {"bhxh_code": "0123456789"}, {"bhxh_code": "0123456789"}, "same"),
    ("bhxh_code", {"bhxh_code": "0123456789"}, {"bhxh_code": "0123456798"}, "different"),
    ("bhxh_code", {}, {"bhxh_code": "0123456789"}, "not comparable"),
    ("given_name", "Nguyễn Thị Thu Hà", "Nguyễn Thị Thu Hà", "same"),
    ("given_name", "Nguyễn Thị Thu Hà", "Nguyễn Hà", "same"),
    ("given_name", "Nguyễn Thị Thu Hà", "NGUYEN THI THU HA", "same without diacritics"),
    ("given_name", "Nguyễn Thị Thu Hà", "Nguyễn Thị Thu Hạ", "same without diacritics"),
    ("given_name", "Trần Văn Hưởng", "Trần Văn Hường", "same without diacritics"),
    ("given_name", "Trần Văn Hưởng", "Trần Văn Hưogn", "one letter slip"),
    ("given_name", "Trần Văn Thắng", "Trần Văn Tahng", "one letter slip"),
    ("given_name", "Lê Thị Linh", "Lê Thị Minh", "one letter apart"),
    ("given_name", "Phạm Văn An", "Phạm Văn Anh", "one letter apart"),
    # Two slips in a name of five letters; in shorter ones two slips make another name.
    ("given_name", "Trần Văn Thắng", "Trần Văn Thnắ", "two letter slips"),
    ("given_name", "Lê Thị Phương", "Lê Thị Phưogm", "two letter slips"),
    ("given_name", "Lê Thị Hằng", "Lê Thị Lành", "different"),
    ("given_name", "Nguyễn Văn Dũng", "Nguyễn Văn Thắng", "different"),
    # Family and given name exchanged (a form filled in Western order), with or without a slip;
    # the middle name stays where it was.
    ("given_name", "Nguyễn Thị Thu Hà", "Hà Thị Thu Nguyễn", "swapped with the family name"),
    ("given_name", "Lê Văn Hưởng", "Hưogn Văn Lê", "swapped with the family name"),
    ("given_name", "Đặng Đình Khôi", "KHOI DINH DANG", "swapped with the family name"),
    # Another person's family name as a given name is no swap.
    ("given_name", "Lê Văn Hưởng", "Hưởng Văn Trần", "different"),
    # The given name first, the rest after: the same words in another order. The given name
    # weighs the whole name; the family name is not compared.
    ("given_name", "Nguyễn Văn Dũng", "Dũng Nguyễn Văn", "same words in another order"),
    ("family_name", "Nguyễn Văn Dũng", "Dũng Nguyễn Văn", "not comparable"),
    ("middle_name", "Nguyễn Văn Dũng", "Dũng Nguyễn Văn", "not comparable"),
    # The same letters spaced otherwise: the given name weighs the whole name.
    ("given_name", "Nguyễn Văn An", "Nguyễn VănAn", "same letters, spaced otherwise"),
    ("given_name", "Nguyễn Thị Thu Hà", "Nguyễn Thị Thu H à", "same letters, spaced otherwise"),
    ("given_name", "Trần Thị Dung", "Tr Ần Thị Dung", "same letters, spaced otherwise"),
    ("family_name", "Trần Thị Dung", "Tr Ần Thị Dung", "not comparable"),
    ("family_name", "Nguyễn Văn An", "Nguyễn VănAn", "not comparable"),
    ("middle_name", "Nguyễn Văn An", "Nguyễn VănAn", "not comparable"),
    # Other letters, or the same words reordered, are not a spacing slip.
    ("given_name", "Nguyễn Văn An", "Nguyễn VănAnh", "different"),
    ("given_name", "Nguyễn Minh Anh", "Nguyễn Anh Minh", "different"),
    ("family_name", "Hoàng Văn Nam", "Hoàng Văn Nam", "same"),
    ("family_name", "Đặng Thị Lan", "Dang Thi Lan", "same"),
    ("family_name", "Hoàng Văn Nam", "Huỳnh Văn Nam", "Hoàng/Huỳnh or Vũ/Võ"),
    ("family_name", "Vũ Thị Lan", "Võ Thị Lan", "Hoàng/Huỳnh or Vũ/Võ"),
    ("family_name", "Nguyễn Văn Nam", "Ngyễn Văn Nam", "similar"),
    ("family_name", "Phạm Minh Tuấn", "Tuấn Minh Phạm", "swapped with the given name"),
    ("family_name", "Đỗ Thị Mai", "Mai Thị Đỗ", "swapped with the given name"),
    ("family_name", "Nguyễn Văn Nam", "Trần Văn Nam", "different"),
    ("middle_name", "Nguyễn Thị Thu Hà", "Nguyễn Thị Thu Hà", "same"),
    ("middle_name", "Nguyễn Thị Thu Hà", "Nguyen Thi Thu Ha", "same"),
    ("middle_name", "Nguyễn Thị Thu Hà", "Nguyễn Hà", "dropped or added"),
    ("middle_name", "Nguyễn Thị Thu Hà", "Nguyễn Thu Hà", "dropped or added"),
    ("middle_name", "Nguyễn Thị Hà", "Nguyễn Thị Thu Hà", "dropped or added"),
    ("middle_name", "Nguyễn Thị Thu Hà", "Nguyễn Thị Thuỷ Hà", "similar"),
    ("middle_name", "Nguyễn Văn Hà", "Nguyễn Đức Hà", "different"),
    ("birth_date", {"birth_date": date(1990, 5, 12)}, {"birth_date": date(1990, 5, 12)}, "same"),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1990, 12, 5)},
        "day and month transposed",
    ),
    ("birth_date", {"birth_date": date(1948, 3, 1)}, {"birth_year": 1948}, "year only, same year"),
    ("birth_date", {"birth_year": 1948}, {"birth_year": 1948}, "year only, same year"),
    # 1 January written for a day nobody knew.
    (
        "birth_date",
        {"birth_date": date(1948, 1, 1)},
        {"birth_date": date(1948, 7, 15)},
        "1 January for the day, same year",
    ),
    (
        "birth_date",
        {"birth_date": date(1948, 1, 1)},
        {"birth_date": date(1949, 7, 15)},
        "different",
    ),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1990, 5, 20)},
        "same month",
    ),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1990, 8, 20)},
        "same year",
    ),
    # Typing slips: a wrong digit, two neighbours swapped, the decade misread.
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1991, 5, 12)},
        "one digit slip",
    ),
    (
        "birth_date",
        {"birth_date": date(1985, 5, 12)},
        {"birth_date": date(1958, 5, 12)},
        "one digit slip",
    ),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1990, 5, 13)},
        "one digit slip",
    ),
    (
        "birth_date",
        {"birth_date": date(1999, 5, 12)},
        {"birth_date": date(2009, 5, 12)},
        "ten years apart, same day",
    ),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1994, 2, 3)},
        "different",
    ),
    # A parent and a child.
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1962, 5, 12)},
        "a generation apart",
    ),
    ("birth_date", {"birth_year": 1990}, {"birth_year": 1962}, "a generation apart"),
    (
        "birth_date",
        {"birth_date": date(1990, 5, 12)},
        {"birth_date": date(1991, 12, 5)},
        "different",
    ),
    ("birth_date", {"birth_year": 1948}, {"birth_year": 1950}, "different"),
    ("birth_date", {"birth_date": date(1990, 5, 12)}, {}, "not comparable"),
    ("sex", {"sex": "F"}, {"sex": "F"}, "same"),
    ("sex", {"sex": "M"}, {"sex": "F"}, "different"),
    ("sex", {"sex": "M"}, {}, "not comparable"),
    ("phone", {"phone": "+84912345678"}, {"phone": "+84912345678"}, "same"),
    ("phone", {"phone": "+84912345678"}, {"phone": "+84912345687"}, "different"),
    (
        "address",
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Quận Long Biên, Hà Nội"},
        {"address": "số 12 Phố Ngọc Lâm, phường Ngọc Lâm, quận Long Biên, Hà Nội"},
        "same",
    ),
    # The same house before and after the 2025 reform: districts gone, wards renamed.
    (
        "address",
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Quận Long Biên, Hà Nội"},
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Long Biên, Hà Nội"},
        "nearly the same (ratio ≥ 90)",
    ),
    (
        "address",
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Quận Long Biên, Hà Nội"},
        {"address": "Số 12 phố Ngọc Lâm, Phường Bồ Đề, Hà Nội"},
        "similar, other ward (ratio ≥ 70)",
    ),
    # The ward counts with the address: one house is in one ward.
    (
        "address",
        {
            "address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Quận Long Biên, Hà Nội",
            "ward_code": "00004",
        },
        {"address": "Số 12 phố Ngọc Lâm, Phường Bồ Đề, Hà Nội", "ward_code": "00004"},
        "similar, same ward (ratio ≥ 70)",
    ),
    (
        "address",
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Hà Nội", "ward_code": "00004"},
        {"address": "Thôn 3, Xã Đông Anh, Hà Nội", "ward_code": "00004"},
        "same ward",
    ),
    ("address", {"ward_code": "00004"}, {"ward_code": "00004"}, "same ward"),
    ("address", {"ward_code": "00004"}, {"ward_code": "00007"}, "different"),
    # Where no ward was settled (an address abroad), its last two parts stand for it.
    (
        "address",
        {"address": "7, wallaby place, condell park, 5237, act"},
        {"address": "363, banks street, manresa, malvern east, 5237, act"},
        "same ward",
    ),
    (
        "address",
        {"address": "Số 12 phố Ngọc Lâm, Phường Ngọc Lâm, Quận Long Biên, Hà Nội"},
        {"address": "Thôn 3, Xã Đông Anh, Huyện Đông Anh, Hà Nội"},
        "different",
    ),
    ("address", {}, {"address": "Thôn 3, Xã Đông Anh, Huyện Đông Anh, Hà Nội"}, "not comparable"),
    ("address", {}, {}, "not comparable"),
    (
        "parents",
        {"father_name": "Lê Văn Bình", "mother_name": "Đỗ Thị Hoa"},
        {"father_name": "Le Van Binh", "mother_name": "Đỗ Thị Hoa"},
        "both same",
    ),
    (
        "parents",
        {"father_name": "Lê Văn Bình", "mother_name": "Đỗ Thị Hoa"},
        {"father_name": "Lê Văn Bihn", "mother_name": "Đỗ Thị Hoa"},
        "both same",
    ),
    (
        "parents",
        {"father_name": "Lê Văn Bình"},
        {"father_name": "Lê Văn Bình", "mother_name": "Đỗ Thị Hoa"},
        "one same, other unknown",
    ),
    # Read given name first, a typo in the short given name costs Jaro-Winkler most.
    (
        "parents",
        {"father_name": "Nguyễn Hoàng Lượng", "mother_name": "Trương Quỳnh Hằng"},
        {"father_name": "Nguyễn Hoàng Lượng", "mother_name": "Trương Quỳnh Hằkg"},
        "both same",
    ),
    ("parents", {"father_name": "Lê Văn Bình"}, {"father_name": "Trần Quốc Toản"}, "different"),
    ("parents", {"father_name": "Trần Đăng Mạnh"}, {"father_name": "Trần Anh Cảnh"}, "different"),
    (
        "parents",
        {"father_name": "Lê Văn Bình", "mother_name": "Đỗ Thị Hoa"},
        {"father_name": "Lê Văn Bình", "mother_name": "Nguyễn Thị Lan"},
        "different",
    ),
    ("parents", {"father_name": "Lê Văn Bình"}, {"mother_name": "Đỗ Thị Hoa"}, "not comparable"),
]


def record(record_id: str, values: str | dict) -> dict:
    if isinstance(values, str):
        return person(record_id, values)
    return person(record_id, "Lê An", **values)


def compared(cases: list[tuple]) -> pl.DataFrame:
    """Every case's two records, compared as the pairs (2k, 2k + 1) of one frame."""
    rows = [
        record(f"{k:03d}{side}", values)
        for k, (_, left, right, *_) in enumerate(cases)
        for side, values in (("a", left), ("b", right))
    ]
    records = features(keyed(frame(*rows)))  # in the order of their ids: this order
    left = np.arange(0, len(rows), 2)
    pairs = pl.DataFrame(
        {"left": left, "right": left + 1}, schema={"left": pl.UInt32, "right": pl.UInt32}
    )
    return compare(records, pairs)


def label(comparison: str, level: int | None) -> str:
    return "not comparable" if level is None else BY_NAME[comparison].levels[level].label


@pytest.mark.parametrize(("comparison", "left", "right", "expected"), CASES)
def test_level_of_a_pair(comparison, left, right, expected):
    level = compared([(comparison, left, right, expected)])[comparison][0]
    assert label(comparison, level) == expected


def test_pairs_compared_together_get_the_levels_they_get_alone():
    # Scores of repeated values are spread from one computation, middle names' levels from
    # one per distinct combination: neither may mix pairs up.
    levels = compared(CASES)
    found = [label(c, levels[c][k]) for k, (c, _, _, _) in enumerate(CASES)]
    assert found == [expected for *_, expected in CASES]


def test_every_level_is_reached_by_a_case():
    reached = {(c, expected) for c, *_, expected in CASES}
    assert {(c.name, label) for c in COMPARISONS for label in c.labels} <= reached


def test_labels_and_term_frequency_levels_come_from_the_levels():
    given_name = BY_NAME["given_name"]
    assert given_name.labels == tuple(level.label for level in given_name.levels)
    assert given_name.tf_levels == (1, 2)
    assert BY_NAME["family_name"].tf_levels == (0, 1)
    assert all(c.tf_levels == () for c in COMPARISONS if c.tf_column is None)


def test_a_score_is_cut_off_at_the_loosest_threshold_its_levels_read():
    cutoffs = score_cutoffs(COMPARISONS)
    address = BY_NAME["address"].levels
    assert address[1].scores == address[2].scores
    assert cutoffs[address[1].scores[0]] == 70
    # One letter slip, one letter apart and two letter slips read one distance, up to 2.
    assert cutoffs[BY_NAME["given_name"].levels[4].score] == 2
    for swapped in BY_NAME["family_name"].levels[3].scores:
        assert cutoffs[swapped] == comparisons.SIMILAR


def test_each_score_is_computed_once_per_chunk(monkeypatch):
    # The given name's distance is read by two levels, the swapped names' scores by two
    # comparisons: each is computed once all the same.
    computed = []
    score_pairs = comparisons.pair_scores

    def counted(pairs, column, *args, **kwargs):
        computed.append((column, kwargs.get("right")))
        return score_pairs(pairs, column, *args, **kwargs)

    monkeypatch.setattr(comparisons, "pair_scores", counted)
    compared(CASES)
    assert len(computed) == len(set(computed)) == len(score_cutoffs(COMPARISONS))


TWELVE_DIGITS = st.text("0123456789", min_size=12, max_size=12)


@st.composite
def id_and_another(draw) -> tuple[str, str]:
    """A 12-digit id and another: with a wrong digit, two digits swapped, or drawn anew."""
    first = draw(TWELVE_DIGITS)
    digits = list(first)
    at = draw(st.integers(0, 10))
    kind = draw(st.sampled_from(["wrong digit", "swapped", "two wrong digits", "any"]))
    if kind == "wrong digit":
        digits[at] = draw(st.sampled_from("0123456789"))
    elif kind == "swapped":
        digits[at], digits[at + 1] = digits[at + 1], digits[at]
    elif kind == "two wrong digits":
        digits[at] = draw(st.sampled_from("0123456789"))
        digits[draw(st.integers(0, 11))] = draw(st.sampled_from("0123456789"))
    else:
        return first, draw(TWELVE_DIGITS)
    return first, "".join(digits)


@given(st.lists(id_and_another(), min_size=1, max_size=50))
def test_one_slip_apart_is_osa_distance_one(pairs):
    left = np.array([int(a) for a, _ in pairs], dtype=np.uint64)
    right = np.array([int(b) for _, b in pairs], dtype=np.uint64)
    expected = [OSA.distance(a, b) == 1 for a, b in pairs]
    assert one_slip_apart(left, right, 12).tolist() == expected


@pytest.mark.parametrize(
    ("left", "right", "slip"),
    [
        (19850512, 19580512, True),  # two neighbouring digits swapped
        (19850512, 19850513, True),
        (19851231, 19860101, False),  # a day apart, four digits apart
        (100, 91, False),  # a difference of 9 by a carry, three digits apart
        (1090012345, 1090012355, True),
        (1090012345, 1090012345, False),
    ],
)
def test_one_slip_apart_tells_a_carry_from_a_slip(left, right, slip):
    pair = np.array([left], dtype=np.uint64), np.array([right], dtype=np.uint64)
    assert one_slip_apart(*pair, 12 if left > 10**9 else 8).tolist() == [slip]
