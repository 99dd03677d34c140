"""Explain a match: each field's comparison level, its weight and the running total, like
Splink's waterfall chart, as a table and as text. Names and ids are masked: initials only
("N. V. A."), ids with their middle hidden ("001*******45"), birth dates by year.
"""

import polars as pl

from dancu.contract import RECORD_ID, SOURCE
from dancu.mask import mask_id, mask_name
from dancu.resolve.comparisons import COMPARISONS, compare
from dancu.resolve.model import Model, log2_odds, score
from dancu.resolve.records import RECORD_KEY

# What each comparison shows of the two records, masked.
SHOWN = {
    "national_id": mask_id(pl.col("national_id")),
    "bhxh_code": mask_id(pl.col("bhxh_code")),
    "given_name": mask_name(pl.col("full_name")),
    "family_name": mask_name(pl.col("full_name")),
    "middle_name": mask_name(pl.col("full_name")),
    "birth_date": pl.coalesce(
        pl.col("birth_year").cast(pl.String)
        + pl.when(pl.col("birth_date").is_not_null()).then(pl.lit("-**-**")).otherwise(pl.lit("")),
    ),
    "sex": pl.col("sex"),
    "phone": mask_id(pl.col("phone"), keep_start=3, keep_end=2),
    "address": pl.concat_str(
        mask_name(pl.col("address")).fill_null("?"),
        pl.col("ward_code").fill_null("?"),
        separator=" / ",
    ),
    "parents": pl.concat_str(
        mask_name(pl.col("father_name")).fill_null("?"),
        mask_name(pl.col("mother_name")).fill_null("?"),
        separator=" / ",
    ),
}


def _record_key(records: pl.DataFrame, record: tuple[str, str]) -> int:
    found = records.filter((pl.col(SOURCE) == record[0]) & (pl.col(RECORD_ID) == record[1]))
    if found.height != 1:
        raise KeyError(f"no single record {record[0]}:{record[1]}")
    return int(found[RECORD_KEY][0])


def waterfall(
    records: pl.DataFrame, model: Model, left: tuple[str, str], right: tuple[str, str]
) -> pl.DataFrame:
    """For two records given as (source, source_record_id): one row for the prior, then one per
    comparison (`step`, `left_value`, `right_value` masked, `level`, `weight`, `total`, the
    running sum). The last `total` is the pair's match weight."""
    a, b = sorted((_record_key(records, left), _record_key(records, right)))
    pair = pl.DataFrame({"left": [a], "right": [b]}, schema={"left": pl.UInt32, "right": pl.UInt32})
    scored = score(records, compare(records, pair), model)
    shown = records.select(RECORD_KEY, **SHOWN)
    left_shown = shown.filter(pl.col(RECORD_KEY) == a).drop(RECORD_KEY).row(0, named=True)
    right_shown = shown.filter(pl.col(RECORD_KEY) == b).drop(RECORD_KEY).row(0, named=True)
    rows = [("prior", None, None, "two random records", log2_odds(model.prior))]
    for c in COMPARISONS:
        level = scored[c.name][0]
        label = "not comparable" if level is None else c.levels[level].label
        weight = scored[f"w:{c.name}"][0]
        rows.append((c.name, left_shown[c.name], right_shown[c.name], label, weight))
    table = pl.DataFrame(
        rows, schema=["step", "left_value", "right_value", "level", "weight"], orient="row"
    )
    return table.with_columns(pl.col("weight").cum_sum().alias("total"))


def explain(
    records: pl.DataFrame, model: Model, left: tuple[str, str], right: tuple[str, str]
) -> str:
    """The waterfall of two records as text, with the match probability at the end."""
    table = waterfall(records, model, left, right)
    lines = [f"{'step':<12} {'left':<18} {'right':<18} {'level':<26} {'weight':>7} {'total':>7}"]
    for step, lv, rv, level, weight, total in table.iter_rows():
        lines.append(
            f"{step:<12} {lv or '':<18} {rv or '':<18} {level:<26} {weight:>7.2f} {total:>7.2f}"
        )
    weight = table["total"][-1]
    lines.append(f"match weight {weight:.2f}, probability {1 / (1 + 2**-weight):.4f}")
    return "\n".join(lines)
