"""Resolve: which records are the same person, and that person's golden record.

The engine is `dancu.resolve` (blocking, comparisons, a Fellegi-Sunter model estimated by EM,
decisions, clustering, stable ids); this module feeds it the accepted register records and the
people named in civil events, the previous run's person ids and the clerks' decisions, and
hands its tables on. A party of an event is linked to a person here, by the same model.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    PERSON_SOURCES,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCES,
)
from dancu.link import event_parties, party_records, previous_person_ids
from dancu.memory import spill_dir
from dancu.resolve import resolve
from dancu.resolve.records import by_source, person_records
from dancu.review import clerk_decisions
from dancu.warehouse import check_key
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths, staged

# The records' own columns that resolution hands on: their keys and lineage.
PUBLISHED = (SOURCE, RECORD_ID, FILE_NAME, ROW_NUMBER, EXTRACT_DATE)


@dg.multi_asset(
    group_name="resolve",
    ins={keys.std(name): dg.AssetIn(keys.std(name)) for name in SOURCES},
    outs={
        "person_source": staged(
            "Each accepted dan_cu, bhxh and y_te record with the person it belongs "
            "to, and the rule and weight that put it there.",
        ),
        "person_golden": staged(
            "One row per resolved person: the golden record before life events, "
            "each field with the source it came from.",
        ),
        "review_queue": staged(
            "Record pairs a clerk should decide: both records, each field's "
            "comparison and weight, and the total.",
        ),
        "person_id_history": staged(
            "Person ids that records moved between since the previous run: merges and splits.",
        ),
        "event_party": staged(
            "Each person named in a civil event, with the person it links to or why none.",
        ),
    },
)
@masked_errors
def resolve_persons(context: dg.AssetExecutionContext, paths: DancuPaths, **std_frames):
    """Resolve every accepted person record and every party of a civil event into persons
    with stable ids."""
    frames = {name: std_frames[keys.std(name)] for name in SOURCES}
    check_key(paths.warehouse, paths.secret_keys())
    decisions, rejected = clerk_decisions(paths.review_dir)
    for file_name, reason in rejected.items():
        context.log.warning(f"decision file {file_name} left out: {reason}")
    result = resolve(
        pl.concat([person_records(frames), party_records(frames)]),
        previous=previous_person_ids(paths.warehouse),
        clerk=decisions,
        run=context.run.run_id,
        secret=paths.person_id_secret(),
        spill_dir=spill_dir(Path(paths.data_dir)),
        # What person_source and event_party publish: the other columns (names, addresses)
        # would take 6 GB at ten million persons.
        columns=PUBLISHED,
    )
    result.model.save(paths.model_dir)
    is_register = pl.col(SOURCE).is_in(PERSON_SOURCES)
    records = by_source(result.records, PERSON_SOURCES).select(
        SOURCE, RECORD_ID, "person_id", "match_rule", "match_weight",
        FILE_NAME, ROW_NUMBER, EXTRACT_DATE,
    )  # fmt: skip
    parties = event_parties(result.records.filter(~is_register), result.review_queue)
    for row in result.blocking.iter_rows(named=True):
        context.log.info(f"blocking {row['pass']}: {row['pairs']:,} pairs")
    yield dg.Output(
        records,
        output_name="person_source",
        metadata={"records": records.height},
    )  # fmt: skip
    yield dg.Output(
        result.persons,
        output_name="person_golden",
        metadata={
            "persons": result.persons.height,
            "persons_from_births_alone": int(
                (~result.persons["primary_source"].is_in(PERSON_SOURCES)).sum()
            ),
            "records_per_person": round(records.height / max(result.persons.height, 1), 3),
            "blocking": dg.MetadataValue.json(result.blocking.to_dicts()),
            "pairs_compared": result.pairs.height,
            "largest_block": int(result.blocking["largest_blocks"].list.max().max() or 0),
            "blocks_split": int(result.blocking["blocks_split"].sum()),
            "decision_files_left_out": len(rejected),
        },
    )
    yield dg.Output(
        result.review_queue,
        output_name="review_queue",
        metadata={"pairs_to_review": result.review_queue.height},
    )
    yield dg.Output(
        parties,
        output_name="event_party",
        metadata={
            "parties": parties.height,
            "parties_linked": int(parties["person_id"].is_not_null().sum()),
            "parties_in_review": int(
                parties["unmatched_reason"].str.starts_with("uncertain").sum()
            ),
        },
    )
    history = result.person_id_history
    yield dg.Output(
        history,
        output_name="person_id_history",
        metadata={
            "merges": int((history["kind"] == "merge").sum()),
            "splits": int((history["kind"] == "split").sum()),
        },
    )
