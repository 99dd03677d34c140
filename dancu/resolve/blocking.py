"""Blocking: which pairs of records are worth comparing at all.

Each pass pairs the records that share a key (polars self-joins, no loop over rows); the passes are
unioned and a pair remembers the first pass that found it. No pass keys on the family name alone:
about 38% of people are Nguyễn.
"""

from dataclasses import dataclass

import polars as pl

from dancu.resolve.records import RECORD_KEY

# A key shared by more records than this names a group, not a person (a shared household or
# office phone, a placeholder date): the pass skips that block and reports it. 25 is far above
# the records one person has (a handful) and keeps a block's pairs under 300.
MAX_BLOCK = 25


@dataclass(frozen=True)
class BlockingPass:
    """Records whose `keys` are all present and equal form a block."""

    name: str
    keys: tuple[str, ...]


PASSES = (
    BlockingPass("national_id", ("national_id",)),
    BlockingPass("bhxh_code", ("bhxh_code",)),
    # The day and month in either order, so a transposed date still blocks.
    BlockingPass("birth_date+given", ("birth_key", "given")),
    BlockingPass("birth_year+full_name", ("birth_year", "full_name_key")),
    BlockingPass("birth_date+family", ("birth_key", "family_canon")),
    BlockingPass("phone", ("phone",)),
    BlockingPass("full_name+ward", ("full_name_key", "ward_code")),
    # Names garbled past recognition, or a wrong birth date: the rest of the person.
    BlockingPass("birth_date+ward", ("birth_key", "ward_code")),
    BlockingPass("full_name", ("full_name_key",)),
    # A dropped middle name, or a typo in the given name, with a birth date known only by year.
    BlockingPass("birth_year+family+given", ("birth_year", "family_canon", "given")),
    BlockingPass(
        "birth_year+family+middle+initial", ("birth_year", "family_canon", "middle", "initial")
    ),
)


def _keyed(records: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """Each record with a complete key, its block id, and the size of its block."""
    present = records.select(RECORD_KEY, *keys).drop_nulls(list(keys))
    # Empty text is no key ("" middle names are a real value only together with other keys).
    if len(keys) == 1 and present.schema[keys[0]] == pl.String:
        present = present.filter(pl.col(keys[0]) != "")
    return present.with_columns(
        pl.struct(keys).rank("dense").alias("block"),
    ).with_columns(pl.len().over("block").alias("size"))


def pass_pairs(records: pl.DataFrame, blocking: BlockingPass) -> tuple[pl.DataFrame, dict]:
    """The pairs (`left` < `right`, record keys) one pass finds, and its counts: pairs, blocks
    and the records of the blocks skipped for being larger than `MAX_BLOCK`."""
    keyed = _keyed(records, blocking.keys)
    kept = keyed.filter(pl.col("size").is_between(2, MAX_BLOCK)).select(RECORD_KEY, "block")
    pairs = (
        kept.join(kept, on="block", suffix="_r")
        .filter(pl.col(RECORD_KEY) < pl.col(f"{RECORD_KEY}_r"))
        .select(pl.col(RECORD_KEY).alias("left"), pl.col(f"{RECORD_KEY}_r").alias("right"))
    )
    too_big = keyed.filter(pl.col("size") > MAX_BLOCK)
    counts = {
        "pass": blocking.name,
        "pairs": pairs.height,
        "blocks_skipped": too_big["block"].n_unique(),
        "records_in_skipped_blocks": too_big.height,
    }
    return pairs, counts


def candidate_pairs(
    records: pl.DataFrame, passes: tuple[BlockingPass, ...] = PASSES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every pair some pass found, once, and a table of per-pass counts.

    Pairs: `left`, `right` (record keys, `left` < `right`) and `blocked_by` (the first pass that
    found the pair). Counts: `pass`, `pairs` (found by the pass), `new_pairs` (not found by an
    earlier pass), `blocks_skipped`, `records_in_skipped_blocks`.
    """
    found, counts = [], []
    for order, blocking in enumerate(passes):
        pairs, count = pass_pairs(records, blocking)
        found.append(pairs.with_columns(pl.lit(order, dtype=pl.UInt8).alias("pass_order")))
        counts.append(count)
    union = (
        pl.concat(found)
        .group_by("left", "right")
        .agg(pl.col("pass_order").min())
        .sort("left", "right")
    )
    names = pl.Series([p.name for p in passes])
    new = union.group_by("pass_order").len()
    table = (
        pl.DataFrame(counts)
        .with_row_index("pass_order")
        .with_columns(pl.col("pass_order").cast(pl.UInt8))
    )
    table = (
        table.join(new.rename({"len": "new_pairs"}), on="pass_order", how="left")
        .with_columns(pl.col("new_pairs").fill_null(0).cast(pl.Int64))
        .select("pass", "pairs", "new_pairs", "blocks_skipped", "records_in_skipped_blocks")
    )
    pairs = union.with_columns(
        pl.col("pass_order").replace_strict(list(range(len(passes))), names).alias("blocked_by")
    ).drop("pass_order")
    return pairs, table
