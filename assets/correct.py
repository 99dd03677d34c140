"""Correct: what each source is told to fix, from the register after resolution.

The library (`dancu.corrections`) compares each resolved record's personal id, birth date, name
and sex with its person's golden record and decides what to send back; this module feeds it
and reports the numbers (never a value) to the UI. The per-source files are written from the
published warehouse (`assets/report.py`), so that a run whose gates fail sends nothing.
"""

import tempfile
from pathlib import Path

import dagster as dg
import polars as pl

from dancu.contract import EVENT_SOURCES, PERSON_SOURCES
from dancu.corrections import (
    GOLDEN_COLUMNS,
    LINK_COLUMNS,
    MIN_CONFIDENCE,
    MIN_IDENTITY,
    RECORD_BYTES,
    event_witnesses,
    find_corrections,
)
from dancu.memory import mapped, rows_within, spill_dir
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths, staged

LEFT_FOR_REVIEW = ["uncertain", "both_slipped", "in_review"]
# The person sources are compared; the civil-event sources witness the ids of their parties.
STANDARDISED = (*PERSON_SOURCES, *EVENT_SOURCES)


def _counts(frame: pl.DataFrame, *by: str) -> dict[str, int]:
    return {"/".join(key): n for *key, n in frame.group_by(*by).len().sort(*by).iter_rows()}


@dg.multi_asset(
    group_name="publish",
    ins={
        "person_source": dg.AssetIn(),
        "person": dg.AssetIn(),
        "review_queue": dg.AssetIn(),
        "event_party": dg.AssetIn(),
        **{keys.std(name): dg.AssetIn(keys.std(name)) for name in STANDARDISED},
    },
    outs={
        "source_correction": staged(
            "Delivered personal ids, birth dates, names and sexes that the register shows to be "
            "wrong or missing, per source record: the register's value, the kind of error, a "
            "confidence."
        ),
        "correction_held": staged(
            "The differences not reported as corrections, with why they were held back; the "
            "close ones go to clerks (correction_review)."
        ),
    },
)
@masked_errors
def source_correction(
    context: dg.AssetExecutionContext,
    paths: DancuPaths,
    person_source: pl.LazyFrame,
    person: pl.LazyFrame,
    review_queue: pl.LazyFrame,
    event_party: pl.LazyFrame,
    **std_frames: pl.LazyFrame,
) -> tuple[dg.Output[pl.DataFrame], dg.Output[pl.DataFrame]]:
    """Compare each resolved record with its person's golden record. The ids civil registration
    gave the persons its events name are witnesses, never told."""
    # The golden and resolved records are read throughout, a share of persons at a time: they
    # wait mapped from the spill folder (3 GB at ten million persons) rather than in memory.
    # What is still mapped when the folder goes stays readable until it is let go.
    with tempfile.TemporaryDirectory(
        prefix="corrections-", dir=spill_dir(Path(paths.data_dir))
    ) as folder:
        spill = Path(folder)
        golden = mapped(person.select(GOLDEN_COLUMNS), spill)
        linked = mapped(person_source.select(LINK_COLUMNS), spill)
        found = find_corrections(
            linked,
            golden,
            {name: std_frames[keys.std(name)] for name in PERSON_SOURCES},
            review_queue.select(
                "source_l", "source_record_id_l", "source_r", "source_record_id_r"
            ).collect(),
            event_witnesses(
                golden,
                event_party.select("event_id", "role", "person_id").collect(),
                {name: std_frames[keys.std(name)] for name in EVENT_SOURCES},
            ),
            shares=-(-linked.height // rows_within(RECORD_BYTES)),
            spill=spill,
        )
    held = found.held["held_because"].value_counts().iter_rows()
    context.log.info(f"{found.table.height:,} corrections; held back: {dict(held)}")
    rates = {
        f"error_rate/{source}/{field}": round(rate, 5)
        for source, field, rate, _ in found.error_rates.iter_rows()
    }
    reported = dg.Output(
        found.table,
        metadata={
            "corrections": found.table.height,
            # Left to the review queue: the evidence is close, or the record waits there already.
            "uncertain": int(found.held["held_because"].is_in(LEFT_FOR_REVIEW).sum()),
            "min_confidence": MIN_CONFIDENCE,
            "min_identity": MIN_IDENTITY,
            **{f"held/{k}": n for k, n in _counts(found.held, "held_because").items()},
            **{f"corrections/{k}": n for k, n in _counts(found.table, "source", "field").items()},
            **{f"kind/{k}": n for k, n in _counts(found.table, "field", "kind").items()},
            **rates,
        },
    )
    return reported, dg.Output(found.held)
