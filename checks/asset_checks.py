"""Asset checks on each standardised source, as data engineers see them in the Dagster UI.

Blocking ERROR checks stand between the data and the warehouse: nothing lost, the schema of
accepted rows, unique record ids. WARN checks are advisory: completeness and rule validity, with
numbers the UI plots over runs and masked examples of the rows behind them.
"""

import dagster as dg
import polars as pl

from dancu.contract import RECORD_ID, SOURCES, Source, as_of
from dancu.ingest import FILE_ERROR
from dancu.quality import (
    completeness,
    days_late,
    newest_extract,
    required_fields,
    schema_failures,
    top_rules,
)
from dancu.rules import FLAGS, is_held, is_rejected
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import peak_memory

NOTHING_LOST = "nothing_lost"
SCHEMA = "schema"
RECORD_ID_UNIQUE = "record_id_unique"
COMPLETENESS = "completeness"
VALIDITY = "validity"
MIN_COMPLETENESS = 0.9  # below this share a required field is worth an engineer's look
MAX_QUARANTINED_SHARE = 0.01


def top_rules_markdown(frame: pl.LazyFrame, source: Source) -> str:
    hits = top_rules(frame, source)
    lines = ["| rule | rows | examples (masked) |", "|---|---:|---|"]
    for rule, rows, examples in hits.iter_rows():
        lines.append(f"| `{rule}` | {rows} | {'<br>'.join(examples)} |")
    return "\n".join(lines) if hits.height else "No rule is broken."


def source_checks(source: Source) -> dg.AssetChecksDefinition:
    asset = keys.std(source.name)
    specs = [
        dg.AssetCheckSpec(
            NOTHING_LOST,
            asset=asset,
            blocking=True,
            additional_deps=[keys.raw(source.name)],
            description="Every latest input row is either accepted or to be quarantined; rows "
            "held for a record whose latest row is quarantined are accepted besides.",
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
        name=keys.std_checks(source.name),
        ins={"std": dg.AssetIn(asset), "raw": dg.AssetIn(keys.raw(source.name))},
    )
    @masked_errors
    def checks(std: pl.LazyFrame, raw: pl.LazyFrame):
        # Counted as the frame streams by, and validated a chunk at a time: the register's
        # standardised frame alone would take 10 GB in memory at ten million persons.
        delivered = raw.filter(pl.col(FILE_ERROR).is_null() & pl.col("is_latest")).select(pl.len())
        delivered_rows = delivered.collect().item()
        # Accepted and quarantined rows counted each on its own: a row that is neither is lost.
        # Held rows are accepted rows beyond the latest, each standing for a refused one.
        counts = std.select(
            pl.len().alias("rows"),
            (~is_rejected()).sum().alias("accepted"),
            is_rejected().sum().alias("quarantined"),
            (pl.col(FLAGS).list.len() > 0).sum().alias("flagged"),
            is_held().sum().alias("held"),
        )
        rows, accepted_rows, quarantined, flagged, held = counts.collect(engine="streaming").row(0)
        accepted = std.filter(~is_rejected())

        yield dg.AssetCheckResult(
            check_name=NOTHING_LOST,
            passed=delivered_rows + held == accepted_rows + quarantined,
            metadata={
                "input_rows": delivered_rows,
                "accepted": accepted_rows,
                "quarantined": quarantined,
                "held": held,
            },
        )

        failures = schema_failures(std, source)
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

        distinct_ids = accepted.select(pl.col(RECORD_ID).n_unique()).collect(engine="streaming")
        repeated = accepted_rows - distinct_ids.item()
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

        share = quarantined / rows if rows else 0.0
        yield dg.AssetCheckResult(
            check_name=VALIDITY,
            passed=share <= MAX_QUARANTINED_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "quarantined_share": round(share, 5),
                "flagged_share": round(flagged / rows, 5) if rows else 0.0,
                "top_rules": dg.MetadataValue.md(top_rules_markdown(std, source)),
                **peak_memory(),
            },
        )

    return checks


source_asset_checks = [source_checks(source) for source in SOURCES.values()]


def freshness_check(source: Source) -> dg.AssetChecksDefinition:
    cadence = source.cadence_days

    @dg.asset_check(
        asset=keys.files(source.name),
        name="delivered_on_time",
        description=f"{source.name} delivers at least every {cadence} days.",
    )
    def delivered_on_time(context: dg.AssetCheckExecutionContext, **files: pl.LazyFrame):
        (delivered,) = files.values()
        newest = newest_extract(delivered)
        today = as_of()
        late = days_late(newest, cadence, today)
        return dg.AssetCheckResult(
            passed=late == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "newest_extract": str(newest) if newest else "none delivered",
                "judged_on": str(today),
                "days_late": late if late is not None else -1,
            },
        )

    return delivered_on_time


freshness_checks = [freshness_check(source) for source in SOURCES.values()]
