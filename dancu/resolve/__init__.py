"""Resolution: which person records are the same person, and that person's golden record.

The steps are separate, small and pure, as in Splink: `records` (the input, keyed), `blocking`
(candidate pairs), `comparisons` (a level per field), `model` (Fellegi-Sunter weights learnt
from the data), `decisions` (match / review / no_match, clerks first), `clusters` (no chaining),
`ids` (stable person ids and their history), `golden` (one row per person) and `explain`.
`resolve` runs them in order.
"""

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE
from dancu.memory import mapped
from dancu.resolve.blocking import BY_CLERK, candidate_pairs
from dancu.resolve.clusters import cluster
from dancu.resolve.comparisons import compare, compare_to_disk
from dancu.resolve.decisions import (
    ONE_PERSON,
    TWO_PEOPLE,
    clerk_pairs,
    decide,
    pairs_to_review,
    review_queue,
)
from dancu.resolve.golden import golden_records
from dancu.resolve.ids import assign_ids
from dancu.resolve.model import Model, score, train
from dancu.resolve.records import (
    FOUNDS_PERSON,
    RECORD_KEY,
    features,
    keyed_to_disk,
    person_records,
)

__all__ = ["Model", "Resolution", "person_records", "resolve"]

# Record columns that neither features nor resolution read (lineage): they stay on disk until
# the end of the run.
LINEAGE = (FILE_NAME, ROW_NUMBER, EXTRACT_DATE, "marital_status")
# Record columns that only `features` reads of resolution, and the end of a run (golden records,
# the review queue): blocking and comparisons read their folded features instead. At ten
# million persons these and `LINEAGE` are half of the records' memory.
SET_ASIDE = (
    "address", "full_name", "father_name", "mother_name", "previous_national_id", "national_id",
    "birth_date", "ward_code", "foreign", "vietnamese",
)  # fmt: skip


@dataclass(frozen=True)
class Resolution:
    """What a resolution run produces.

    - `records`: every input record (its record key `rk` and the columns `resolve` was asked to
      keep), its `person_id` (null when no record of its cluster founds a person, see
      `records.FOUNDS_PERSON`), and `match_rule` / `match_weight`: the strongest link that holds
      it in its cluster (the blocking pass that found the pair, or "clerk"), or "single" and
      null when it stands alone;
    - `persons`: the golden records (see `golden.golden_records`);
    - `pairs`: every compared pair (`left`, `right`, `blocked_by`), its `match_weight`,
      `match_probability`, `decision` and `decided_by`;
    - `review_queue`: the pairs a clerk should decide (see `decisions.review_queue`);
    - `person_id_history`: merges and splits since the previous run (see `ids.assign_ids`);
    - `blocking`: per blocking pass, the pairs found and the blocks skipped;
    - `model`: the trained model, for `explain`.
    """

    records: pl.DataFrame
    persons: pl.DataFrame
    pairs: pl.DataFrame
    review_queue: pl.DataFrame
    person_id_history: pl.DataFrame
    blocking: pl.DataFrame
    model: Model


# What is kept of a decided pair: its levels are read again only for the few pairs that clusters
# and the review queue look at, and those are compared anew.
DECIDED = (
    "left", "right", "blocked_by", "match_weight", "match_probability", TWO_PEOPLE, ONE_PERSON,
    "decision", "decided_by",
)  # fmt: skip


def _with_clerk_pairs(pairs: pl.DataFrame, clerk: pl.DataFrame) -> pl.DataFrame:
    """Blocked pairs and the pairs a clerk decided that blocking did not find."""
    # Looked for among the blocked pairs of the clerk's records only: an anti-join with all of
    # them hashed the 63 million pairs of ten million persons (4.6 GB), clerk or no clerk.
    theirs = pairs.filter(pl.col("left").is_in(clerk["left"].unique().implode()))
    extra = clerk.join(theirs, on=["left", "right"], how="anti").select(
        "left", "right", pl.lit(BY_CLERK, dtype=pairs.schema["blocked_by"]).alias("blocked_by")
    )
    if extra.height == 0:  # blocked pairs come sorted
        return pairs
    return pl.concat([pairs, extra]).sort("left", "right")


def _match_rules(decided: pl.DataFrame, clusters: pl.Series) -> pl.DataFrame:
    """Per record in a person with others: the strongest match link inside its cluster
    (`rk`, `match_rule`, `match_weight`)."""
    links = decided.filter(
        (pl.col("decision") == "match")
        & (clusters.gather(decided["left"]) == clusters.gather(decided["right"]))
    ).select(
        "left",
        "right",
        "match_weight",
        pl.when(pl.col("decided_by") == "clerk")
        .then(pl.lit("clerk"))
        .otherwise(pl.col("blocked_by").cast(pl.String))
        .alias("match_rule"),
    )
    ends = pl.concat(
        [
            links.select(pl.col(end).alias(RECORD_KEY), "match_rule", "match_weight")
            for end in ("left", "right")
        ]
    )
    return (
        ends.sort(RECORD_KEY, "match_weight", "match_rule", descending=[False, True, False])
        .group_by(RECORD_KEY, maintain_order=True)
        .first()
    )


def _founded(prepared: pl.DataFrame, clusters: pl.Series) -> pl.DataFrame:
    """The records of clusters that hold a record able to found a person (all, when the
    records do not say): `rk`, `source`, `source_record_id`, `cluster`."""
    records = prepared.select(RECORD_KEY, SOURCE, RECORD_ID).with_columns(clusters.alias("cluster"))
    if FOUNDS_PERSON not in prepared.columns:
        return records
    founding = clusters.filter(prepared[FOUNDS_PERSON].fill_null(True))
    return records.filter(pl.col("cluster").is_in(founding.implode()))


def resolve(
    records: pl.DataFrame | pl.LazyFrame,
    previous: pl.DataFrame | None = None,
    clerk: pl.DataFrame | None = None,
    run: str = "",
    model: Model | None = None,
    secret: str = "",
    spill_dir: Path | None = None,
    columns: Sequence[str] | None = None,
) -> Resolution:
    """Resolve person records (the frame of `person_records`) into persons.

    `previous`: the previous run's `source`, `source_record_id`, `person_id`, so that persons
    keep their ids. `clerk`: clerk decisions (see `decisions.clerk_pairs`), which always win.
    `run`: the run id written into `person_id_history`. `model`: a trained model to use
    instead of training one on these records. `secret`: the installation's key behind new
    person ids (see `ids.assign_ids`). `spill_dir`: where the records wait on disk while they are
    resolved (a temporary folder is made in it and removed; the system's temporary folder by
    default). `columns`: the records' own columns that the resolution's `records` keep (all by
    default); golden records and the review queue read the others from the spill folder."""
    records = records.lazy()
    schema = records.collect_schema()
    with tempfile.TemporaryDirectory(prefix="dancu-resolve-", dir=spill_dir) as spill:
        # Written out as they stream in, and read back a few columns at a time: each column
        # is held only while it is needed.
        stored = Path(spill) / "records.parquet"
        keyed_to_disk(records, stored, Path(spill))
        read = [RECORD_KEY, *(c for c in schema if c not in LINEAGE)]
        prepared = features(
            pl.scan_parquet(stored).select(read), leave_out=SET_ASIDE, spill=Path(spill)
        )
        result = _resolve_prepared(prepared, previous, clerk, run, model, secret, Path(spill))
        del prepared
        return result.finish(pl.scan_parquet(stored), columns or schema.names(), Path(spill))


@dataclass(frozen=True)
class _Resolved:
    """What resolution decides before the records' set-aside columns come back: everything
    of a `Resolution` but the records with their persons, which `finish` builds."""

    ids: pl.DataFrame
    match_rules: pl.DataFrame
    pairs: pl.DataFrame
    queued: pl.DataFrame
    person_id_history: pl.DataFrame
    blocking: pl.DataFrame
    model: Model

    def finish(self, records: pl.LazyFrame, columns: Sequence[str], spill: Path) -> Resolution:
        """The resolution of `records` (keyed, in record-key order, their own columns), whose
        `records` keep `columns` of them; its records and persons are mapped from `spill`."""
        # Looked up on the record keys alone and put beside the records: joining the records
        # themselves would copy all of them, twice. Everything of the records is mapped as soon
        # as it is made, a column at a time: at ten million persons neither the records nor
        # the golden records are held while the run goes on.
        looked_up = mapped(
            records.select(RECORD_KEY)
            .collect()
            .join(self.ids, on=RECORD_KEY, how="left", maintain_order="left")
            .join(self.match_rules, on=RECORD_KEY, how="left", maintain_order="left")
            .with_columns(pl.col("match_rule").fill_null("single"))
            .drop(RECORD_KEY),
            spill,
        )
        with_ids = pl.concat([records, looked_up.lazy()], how="horizontal")
        in_queue = pl.concat([self.queued["left"], self.queued["right"]]).unique()
        shown = records.filter(pl.col(RECORD_KEY).is_in(in_queue.implode())).collect()
        labels = self.model.parameters.select("comparison", "level", "label")
        resolved = pl.concat(
            [mapped(records.select(RECORD_KEY, *columns), spill), looked_up], how="horizontal"
        )
        return Resolution(
            records=resolved,
            persons=golden_records(with_ids, spill),
            pairs=self.pairs,
            review_queue=review_queue(shown, self.queued, labels),
            person_id_history=self.person_id_history,
            blocking=self.blocking,
            model=self.model,
        )


def _decided(
    prepared: pl.DataFrame, compared: list[Path], model: Model, clerk: pl.DataFrame
) -> pl.DataFrame:
    """The compared pairs (the files of `comparisons.compare_to_disk`) scored and decided a file
    at a time, of which only `DECIDED` is kept: until they are added up, a pair's field weights
    take eight bytes a field, 8 GB for the 63 million pairs of ten million persons."""
    return pl.concat(
        decide(score(prepared, pl.read_parquet(part), model, field_weights=False), clerk).select(
            DECIDED
        )
        for part in compared
    )


def _resolve_prepared(
    prepared: pl.DataFrame,
    previous: pl.DataFrame | None,
    clerk: pl.DataFrame | None,
    run: str,
    model: Model | None,
    secret: str,
    spill: Path,
) -> _Resolved:
    """Pairs, their decisions, clusters and person ids of keyed records with their features;
    the compared pairs wait in `spill` until they are decided."""
    blocked, blocking = candidate_pairs(prepared)
    decisions = clerk_pairs(prepared, clerk)
    compared = compare_to_disk(prepared, _with_clerk_pairs(blocked, decisions), spill)
    del blocked
    model = model or train(prepared, pl.scan_parquet(compared))
    decided = mapped(_decided(prepared, compared, model, decisions), spill)

    def score_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
        return score(prepared, compare(prepared, pairs), model)

    clusters, cut = cluster(prepared.height, decided, score_pairs)
    ids, history = assign_ids(_founded(prepared, clusters), previous, run, secret)
    return _Resolved(
        ids=mapped(ids, spill),
        match_rules=mapped(_match_rules(decided, clusters), spill),
        pairs=decided,
        queued=score_pairs(pairs_to_review(prepared, decided, cut, clusters)),
        person_id_history=history,
        blocking=blocking,
        model=model,
    )
