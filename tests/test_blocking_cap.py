"""Blocks over the cap: split into sub-blocks so that pairs grow linearly, losing no pair of one
person whose records agree on a sub-key, and changing nothing while every block fits."""

from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.resolve import blocking
from dancu.resolve.blocking import (
    PASSES,
    BlockingPass,
    FirstFinds,
    candidate_pairs,
    pass_pairs,
)
from dancu.resolve.records import COLUMNS, features, keyed
from dancu.text import fold

BIRTH_DATE_GIVEN = next(p for p in PASSES if p.name == "birth_date+given")
FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ"]
MIDDLES = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Công", "Ngọc"]


def records(rows: list[dict]) -> pl.DataFrame:
    """Prepared records (as `features(keyed(...))` leaves them) of input rows."""
    filled = pl.DataFrame([{c: row.get(c) for c in COLUMNS} for row in rows], schema=COLUMNS)
    filled = filled.with_columns(
        fold(pl.col("full_name")).alias("full_name_key"),
        pl.col("birth_date").dt.year().cast(pl.Int32).alias("birth_year"),
    )
    return features(keyed(filled))


def namesakes(people: int, wards: int) -> list[dict]:
    """`people` men called Hùng born on one day, each with a dan_cu and a bhxh record that agree
    (so the pair is one person): one birth date + given name block of 2·`people` records. Their
    family and middle names and wards spread them into sub-blocks of a few records."""
    rows = []
    for k in range(people):
        family, middle = FAMILIES[k % len(FAMILIES)], MIDDLES[k // len(FAMILIES) % len(MIDDLES)]
        person = {
            "full_name": f"{family} {middle} Hùng",
            "birth_date": date(1990, 1, 1),
            "sex": "nam",
            "ward_code": f"{k % wards:05d}",
        }
        rows.append({**person, "source": "dan_cu", "source_record_id": f"d{k:05d}"})
        rows.append({**person, "source": "bhxh", "source_record_id": f"b{k:05d}"})
    return rows


def one_person_pairs(prepared: pl.DataFrame) -> set[tuple[int, int]]:
    """The pairs of records of one person in `namesakes`: the same record id past its prefix."""
    number = prepared["source_record_id"].str.slice(1)
    by_person = prepared.select("rk", number.alias("n")).group_by("n").agg(pl.col("rk").sort())
    return {tuple(keys) for keys in by_person["rk"].to_list()}


def found(pairs: pl.DataFrame) -> set[tuple[int, int]]:
    return set(zip(pairs["left"].to_list(), pairs["right"].to_list(), strict=True))


def test_a_block_over_the_cap_is_split_and_keeps_the_pairs_of_one_person():
    prepared = records(namesakes(people=200, wards=40))
    pairs, counts = pass_pairs(prepared, BIRTH_DATE_GIVEN, max_block=25)
    assert counts["largest_blocks"][0] == 400
    assert counts["blocks_split"] == 1
    # Ten families of 40 records: the split on the family leaves sub-blocks over the cap
    # (skipped), the split on the ward (10 records each) pairs them.
    assert counts["blocks_skipped"] == len(FAMILIES)
    assert counts["records_in_skipped_blocks"] == 400
    assert one_person_pairs(prepared) <= found(pairs)
    # Every pair shares a family name or a ward besides the block's key.
    left, right = prepared[pairs["left"]], prepared[pairs["right"]]
    same_family = left["family_canon"] == right["family_canon"]
    same_ward = left["place"] == right["place"]
    assert (same_family | same_ward).all()


def test_without_a_split_the_block_over_the_cap_is_skipped():
    prepared = records(namesakes(people=200, wards=40))
    unsplit = BlockingPass("birth_date+given", BIRTH_DATE_GIVEN.keys)
    pairs, counts = pass_pairs(prepared, unsplit, max_block=25)
    assert pairs.height == 0
    assert (counts["blocks_skipped"], counts["records_in_skipped_blocks"]) == (1, 400)


@pytest.mark.parametrize("people", [100, 200, 400, 800])
def test_pairs_grow_linearly_with_the_block(people):
    prepared = records(namesakes(people, wards=people // 5))
    pairs, _ = pass_pairs(prepared, BIRTH_DATE_GIVEN, max_block=25)
    block = 2 * people
    # Each split pairs a record with fewer than `max_block` others: a bound linear in the block,
    # where the block's own pairs are quadratic (79,800 at 400 records).
    assert pairs.height <= len(BIRTH_DATE_GIVEN.split_by) * block * 24 / 2
    assert pairs.height < block * (block - 1) / 2 / 10
    assert one_person_pairs(prepared) <= found(pairs)


def test_a_sub_block_still_over_the_cap_is_skipped_and_a_missing_sub_key_is_no_sub_block():
    # One family and one ward: the split on the family leaves one sub-block as large as the
    # block (skipped), the split on the ward leaves the records without a ward out.
    rows = [
        {**row, "full_name": "Nguyễn Văn Hùng", "ward_code": None if k % 2 else "00001"}
        for k, row in enumerate(namesakes(people=20, wards=1))
    ]
    prepared = records(rows)
    pairs, counts = pass_pairs(prepared, BIRTH_DATE_GIVEN, max_block=25)
    assert counts["blocks_split"] == 1
    assert counts["blocks_skipped"] == 1
    assert counts["records_in_skipped_blocks"] == 40
    with_ward = set(np.flatnonzero(prepared["place"].is_not_null().to_numpy()).tolist())
    expected = {(a, b) for a in with_ward for b in with_ward if a < b}
    assert found(pairs) == expected


@pytest.mark.parametrize(("max_block", "split"), [(40, False), (39, True)])
def test_a_block_of_the_cap_exactly_is_paired_whole(max_block, split):
    prepared = records(namesakes(people=20, wards=20))
    pairs, counts = pass_pairs(prepared, BIRTH_DATE_GIVEN, max_block=max_block)
    assert counts["blocks_split"] == int(split)
    whole = 40 * 39 // 2
    assert (pairs.height == whole) is not split
    assert one_person_pairs(prepared) <= found(pairs)


def test_while_every_block_fits_the_cap_the_pairs_are_those_of_unbounded_blocks():
    prepared = records(namesakes(people=5, wards=5))
    capped, capped_counts = candidate_pairs(prepared)
    unbounded, _ = candidate_pairs(prepared, max_block=10**9)
    assert capped.equals(unbounded)
    assert capped_counts["blocks_split"].sum() == 0


def test_split_pairs_are_unbounded_pairs_and_keep_every_one_person_pair():
    prepared = records(namesakes(people=150, wards=30))
    split, counts = candidate_pairs(prepared, max_block=25)
    unbounded, _ = candidate_pairs(prepared, max_block=10**9)
    assert found(split) <= found(unbounded)
    assert one_person_pairs(prepared) <= found(split)
    assert split.height < unbounded.height / 5
    assert counts.filter(pl.col("pass") == "birth_date+given")["blocks_split"].item() == 1


def test_a_birth_date_and_given_name_block_is_split_past_its_own_smaller_cap():
    prepared = records(namesakes(people=6, wards=6))  # one block of 12 records
    pairs, own_cap = pass_pairs(prepared, BIRTH_DATE_GIVEN)
    _, run_cap = pass_pairs(prepared, BIRTH_DATE_GIVEN, max_block=25)
    assert (own_cap["blocks_split"], run_cap["blocks_split"]) == (1, 0)
    assert one_person_pairs(prepared) <= found(pairs)


def test_a_keep_filter_judging_pairs_a_chunk_at_a_time_keeps_the_same_pairs(monkeypatch):
    # Ten families of ten records: Đặng and Đỗ share their initials' block of 20 records (not
    # split at a cap of 25) but are not alike.
    prepared = records(namesakes(people=50, wards=10))
    alike = replace(
        next(p for p in PASSES if p.name == "birth_date+initials+alike_names"), max_block=25
    )
    unfiltered, _ = pass_pairs(prepared, replace(alike, keep=None))
    whole, _ = pass_pairs(prepared, alike)
    monkeypatch.setattr(blocking, "KEEP_CHUNK", 7)
    chunked, _ = pass_pairs(prepared, alike)
    assert 7 < whole.height < unfiltered.height
    assert chunked.equals(whole)


def test_the_pairs_of_a_split_are_judged_by_the_keep_filter_as_those_of_whole_blocks():
    # Ten families in seven wards: split on the ward, the initials' block of Đặng and Đỗ (20
    # records) leaves sub-blocks where both are, and they are not alike.
    prepared = records(namesakes(people=50, wards=7))
    initials = next(p for p in PASSES if p.name == "birth_date+initials+alike_names")
    alike = replace(initials, max_block=12, split_by=(("place",),))
    unfiltered, counts = pass_pairs(prepared, replace(alike, keep=None))
    kept, _ = pass_pairs(prepared, alike)
    assert counts["blocks_split"] > 0
    assert 0 < kept.height < unfiltered.height
    assert found(kept) == found(unfiltered.filter(alike.keep(prepared, unfiltered)))


@pytest.mark.parametrize("size", [3, 2**24 - 1, 2**24 + 1, 25_000_000, 2**28, 2**30])
def test_the_union_of_passes_keeps_each_pair_once_with_its_first_pass_at_any_size(size):
    """Pairs and passes packed into one integer and merged as they come (grouped past 2**28
    records) give each pair once, with the lowest pass that found it, whatever the record keys'
    width and however the passes' sizes make the merges fall."""
    rng = np.random.default_rng(size)
    left = rng.integers(0, size - 1, 5_000)
    right = np.minimum(left + rng.integers(1, 4, 5_000), size - 1)
    found = pl.DataFrame(
        {"left": left, "right": right, "pass_order": rng.integers(0, 12, 5_000)},
        schema={"left": pl.UInt32, "right": pl.UInt32, "pass_order": pl.UInt8},
    )
    union = FirstFinds(size, passes=12)
    for order in range(12):
        union.add(found.filter(pl.col("pass_order") == order).drop("pass_order"), order)
    grouped = found.group_by("left", "right").agg(pl.col("pass_order").min()).sort("left", "right")
    assert union.pairs().equals(grouped)


@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), max_size=60).map(
        lambda pairs: pairs + pairs[: len(pairs) // 2]
    )
)
def test_pairs_found_by_several_splits_are_kept_once(pairs):
    frame = pl.DataFrame(pairs, schema={"left": pl.UInt32, "right": pl.UInt32}, orient="row")
    assert blocking._each_once(frame).equals(frame.unique().sort("left", "right"))


@pytest.mark.parametrize("slice_size", [1, 3, 64, 10_000_000])
def test_the_union_keeps_the_first_of_each_pair_across_slices(monkeypatch, slice_size):
    monkeypatch.setattr(blocking, "DEDUPLICATE_SLICE", slice_size)
    packed = np.random.default_rng(slice_size).integers(0, 400, 2_000).astype(np.uint64)
    expected = (
        pl.DataFrame({"packed": packed})
        .group_by(pair=pl.col("packed") // 4)
        .agg(pl.col("packed").min())
        .sort("pair")["packed"]
        .to_numpy()
    )
    assert np.array_equal(blocking._firsts_sorted(packed, drop_bits=2), expected)
