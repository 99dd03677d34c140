"""Asset checks on each standardised source, as data engineers see them in the Dagster UI.

Blocking ERROR checks stand between the data and the warehouse: nothing lost, the schema of
accepted rows, unique record ids. WARN checks are advisory: completeness and rule validity, with
numbers the UI plots over runs and masked examples of the rows behind them.
"""

from datetime import date

import dagster as dg
import pandera.polars as pa
import polars as pl

from checks.rules import FLAGS, REASONS, REQUIRED_FIELDS, REQUIRED_NAMES, SUBJECT, rule_id
from checks.schemas import standardized_schema
from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCES, Source
from dancu.ingest import FILE_ERROR
from dancu.mask import mask_id, mask_name

NOTHING_LOST = "nothing_lost"
SCHEMA = "schema"
RECORD_ID_UNIQUE = "record_id_unique"
COMPLETENESS = "completeness"
VALIDITY = "validity"
MIN_COMPLETENESS = 0.9  # below this share a required field is worth an engineer's look
MAX_QUARANTINED_SHARE = 0.01
EXAMPLES_PER_RULE = 3


def required_fields(source: Source) -> list[str]:
    subject_id = [SUBJECT[source.name][0]] if source.name in SUBJECT else []
    return [*REQUIRED_NAMES[source.name], *REQUIRED_FIELDS[source.name], *subject_id]


def completeness(frame: pl.DataFrame, fields: list[str]) -> dict[str, float]:
    """Share of rows where each field holds a value (a bare birth year counts as a birth date)."""
    if frame.is_empty():
        return dict.fromkeys(fields, 1.0)
    present = []
    for field in fields:
        if field.endswith("birth_date"):
            present.append(
                pl.col(field.replace("_date", "_year")).is_not_null().mean().alias(field)
            )
        else:
            present.append(pl.col(field).is_not_null().mean().alias(field))
    return {k: round(v, 4) for k, v in frame.select(present).row(0, named=True).items()}


def masked_example(source: Source) -> pl.Expr:
    """Where a row is, and who it is about, masked: "dan_cu/x.csv:12 N. V. A. 001*******45"."""
    name = REQUIRED_NAMES[source.name][0]
    parts = [pl.col(FILE_NAME) + ":" + pl.col(ROW_NUMBER).cast(pl.String), mask_name(pl.col(name))]
    if source.name in SUBJECT:
        parts.append(mask_id(pl.col(SUBJECT[source.name][0])))
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def top_rules_markdown(frame: pl.DataFrame, source: Source, limit: int = 10) -> str:
    # A few rows in a hundred break a rule: only they are masked.
    breaking = frame.filter(pl.col(REASONS).list.len() + pl.col(FLAGS).list.len() > 0)
    hits = (
        breaking.select(
            masked_example(source).alias("example"),
            pl.concat_list(REASONS, FLAGS).alias("rule"),
        )
        .explode("rule")
        .drop_nulls("rule")
        .with_columns(rule_id(pl.col("rule")).alias("rule"))
        .group_by("rule")
        .agg(pl.len().alias("rows"), pl.col("example").head(EXAMPLES_PER_RULE))
        .sort(["rows", "rule"], descending=[True, False])
        .head(limit)
    )
    lines = ["| rule | rows | examples (masked) |", "|---|---:|---|"]
    for rule, rows, examples in hits.iter_rows():
        lines.append(f"| `{rule}` | {rows} | {'<br>'.join(examples)} |")
    return "\n".join(lines) if hits.height else "No rule is broken."


def schema_failures(accepted: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Per column and check, how many accepted rows fail the schema (values are not shown)."""
    try:
        standardized_schema(source).validate(accepted, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases.group_by("column", "check").len().sort("len", descending=True)
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "len": pl.UInt32})


def source_checks(source: Source) -> dg.AssetChecksDefinition:
    asset = f"std_{source.name}"
    specs = [
        dg.AssetCheckSpec(
            NOTHING_LOST,
            asset=asset,
            blocking=True,
            additional_deps=[f"raw_{source.name}"],
            description="Every latest input row is either accepted or to be quarantined.",
        ),
        dg.AssetCheckSpec(
            SCHEMA, asset=asset, blocking=True, description="Accepted rows match the schema."
        ),
        dg.AssetCheckSpec(
            RECORD_ID_UNIQUE,
            asset=asset,
            blocking=True,
            description="No two accepted rows share a record id.",
        ),
        dg.AssetCheckSpec(
            COMPLETENESS, asset=asset, description="Share of rows holding each required field."
        ),
        dg.AssetCheckSpec(VALIDITY, asset=asset, description="Rows breaking each domain rule."),
    ]

    @dg.multi_asset_check(
        specs=specs,
        name=f"check_std_{source.name}",
        ins={"std": dg.AssetIn(asset), "raw": dg.AssetIn(f"raw_{source.name}")},
    )
    def checks(std: pl.LazyFrame, raw: pl.LazyFrame):
        frame = std.collect()
        delivered = raw.filter(pl.col(FILE_ERROR).is_null() & pl.col("is_latest")).select(pl.len())
        delivered_rows = delivered.collect().item()
        is_quarantined = pl.col(REASONS).list.len() > 0
        quarantined = frame.filter(is_quarantined).height
        accepted = frame.filter(~is_quarantined)

        yield dg.AssetCheckResult(
            check_name=NOTHING_LOST,
            passed=delivered_rows == accepted.height + quarantined,
            metadata={
                "input_rows": delivered_rows,
                "accepted": accepted.height,
                "quarantined": quarantined,
            },
        )

        failures = schema_failures(accepted, source)
        yield dg.AssetCheckResult(
            check_name=SCHEMA,
            passed=failures.is_empty(),
            metadata={
                "failing_values": int(failures["len"].sum()),
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- `{c}` {chk}: {n}" for c, chk, n in failures.iter_rows()) or "none"
                ),
            },
        )

        repeated = accepted.height - accepted[RECORD_ID].n_unique()
        yield dg.AssetCheckResult(
            check_name=RECORD_ID_UNIQUE, passed=repeated == 0, metadata={"repeated_ids": repeated}
        )

        shares = completeness(accepted, required_fields(source))
        yield dg.AssetCheckResult(
            check_name=COMPLETENESS,
            passed=min(shares.values(), default=1.0) >= MIN_COMPLETENESS,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={f"complete/{field}": share for field, share in shares.items()},
        )

        share = quarantined / frame.height if frame.height else 0.0
        flagged = int((frame[FLAGS].list.len() > 0).sum())
        yield dg.AssetCheckResult(
            check_name=VALIDITY,
            passed=share <= MAX_QUARANTINED_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "quarantined_share": round(share, 5),
                "flagged_share": round(flagged / frame.height, 5) if frame.height else 0.0,
                "top_rules": dg.MetadataValue.md(top_rules_markdown(frame, source)),
            },
        )

    return checks


source_asset_checks = [source_checks(source) for source in SOURCES.values()]


# How often each source delivers: a source whose newest extract is older is late.
DELIVERY_CADENCE_DAYS = {
    "dan_cu": 2, "bhxh": 35, "y_te": 35, "khai_sinh": 35, "khai_tu": 35, "ket_hon": 35,
}  # fmt: skip


def days_late(newest_extract: date | None, cadence_days: int, today: date) -> int | None:
    """Days past the expected next delivery (0 when on time), None when nothing was delivered."""
    if newest_extract is None:
        return None
    return max((today - newest_extract).days - cadence_days, 0)


def freshness_check(source: Source) -> dg.AssetChecksDefinition:
    cadence = DELIVERY_CADENCE_DAYS[source.name]

    @dg.asset_check(
        asset=f"files_{source.name}",
        name="delivered_on_time",
        description=f"{source.name} delivers at least every {cadence} days.",
    )
    def delivered_on_time(context: dg.AssetCheckExecutionContext, **files: pl.LazyFrame):
        (delivered,) = files.values()
        newest = delivered.select(pl.col(EXTRACT_DATE).max()).collect().item()
        late = days_late(newest, cadence, date.today())
        return dg.AssetCheckResult(
            passed=late == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "newest_extract": str(newest) if newest else "none delivered",
                "days_late": late if late is not None else -1,
            },
        )

    return delivered_on_time


freshness_checks = [freshness_check(source) for source in SOURCES.values()]
