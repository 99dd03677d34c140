"""Stable person ids: a person keeps its `person_id` from run to run while its records stay
together; merges and splits between runs are written down, not hidden.

Each new cluster takes the previous id most of its records carried, unless another cluster has
a stronger claim on that id (more of its records, then more of the id's share of them); the
loser tries its next id. A cluster left
without an id gets a new one derived from its first record's source and record id, keyed by the
installation's secret: neither random nor a digest anyone could recompute from an insurance
code or a national id, and the same for the same records in every run.
"""

import duckdb
import polars as pl

from dancu.contract import RECORD_ID, SOURCE
from dancu.resolve.records import RECORD_KEY

ID_NAMESPACE = "dancu.person:"
HISTORY_SCHEMA = {
    "run": pl.String,
    "old_person_id": pl.String,
    "new_person_id": pl.String,
    "kind": pl.String,
    "records": pl.UInt32,
}


def id_order(person_id: pl.Expr) -> pl.Expr:
    """Person ids as numbers in the order of their text, which sort many times faster: an id is
    "P" and 15 hex digits (`_digests`)."""
    return person_id.str.slice(1).str.to_integer(base=16)


def _claims(records: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    """Per cluster and previous id its records carried: how many (`n`), and which share of the
    id's records still present they are (`share`)."""
    if previous is None or previous.height == 0:
        return pl.DataFrame(
            schema={"cluster": pl.UInt32, "old": pl.String, "n": pl.UInt32, "share": pl.Float64}
        )
    # A record that matched no one (a student, a request) carried no id: no claim, which
    # would never be settled.
    carried = records.join(
        previous.select(SOURCE, RECORD_ID, pl.col("person_id").alias("old")).drop_nulls("old"),
        on=[SOURCE, RECORD_ID],
    )
    claims = carried.group_by("cluster", "old").agg(pl.len().cast(pl.UInt32).alias("n"))
    return claims.with_columns((pl.col("n") / pl.col("n").sum().over("old")).alias("share"))


def _kept_ids(claims: pl.DataFrame) -> pl.DataFrame:
    """Which cluster keeps which previous id (`cluster`, `person_id`): rounds of mutual best
    claims (most records, then the larger share of the id's records, then the smaller id, then
    the smaller cluster) until none is left. The share settles a record that moved: the person
    it joined keeps its own id, all of whose records it holds, and the one it left keeps the id
    its other records carry, rather than the first taking the second's by the order of their
    texts. The first claim in that order is best on both sides, so every round settles one at
    least."""
    kept = [pl.DataFrame(schema={"cluster": pl.UInt32, "person_id": pl.String})]
    while claims.height:
        ranked = claims.sort("n", "share", "old", "cluster", descending=[True, True, False, False])
        best_old = ranked.group_by("cluster", maintain_order=True).first()
        best_cluster = ranked.group_by("old", maintain_order=True).first()
        mutual = best_old.join(best_cluster, on=["cluster", "old"]).select("cluster", "old")
        kept.append(mutual.rename({"old": "person_id"}))
        claims = claims.join(mutual, on="cluster", how="anti").join(
            mutual.select("old"), on="old", how="anti"
        )
    return pl.concat(kept)


def _digests(founders: pl.DataFrame, salt: int, secret: str) -> pl.DataFrame:
    """Per founding record: "P" and 15 hex digits of the SHA-256 of the secret and
    "dancu.person:<source>:<record id>" (and "#<salt>" when salted), computed by DuckDB over
    the whole column."""
    suffix = f"#{salt}" if salt else ""
    # A connection of its own: the process-wide default one may hold another caller's result.
    with duckdb.connect() as con:
        return con.sql(
            "select cluster, 'P' || upper(substr(sha256($secret || $namespace || source || ':' || "
            "source_record_id || $suffix), 1, 15)) as person_id from founders",
            params={"secret": secret, "namespace": ID_NAMESPACE, "suffix": suffix},
        ).pl()


def _fresh_ids(founders: pl.DataFrame, taken: pl.Series, secret: str) -> pl.DataFrame:
    """A new id per cluster without one (`cluster`, `person_id`), from its founding record
    (`source`, `source_record_id`); an id already `taken` is salted until it is free."""
    given = [pl.DataFrame(schema={"cluster": pl.UInt32, "person_id": pl.String})]
    pending, salt = founders.select("cluster", SOURCE, RECORD_ID), 0
    while pending.height:
        ids = _digests(pending, salt, secret).with_columns(pl.col("cluster").cast(pl.UInt32))
        free = ids.filter(~pl.col("person_id").is_in(taken.implode()))
        free = free.filter(pl.col("person_id").is_first_distinct())
        given.append(free)
        taken = pl.concat([taken, free["person_id"]])
        pending = pending.join(free, on="cluster", how="anti")
        salt += 1
    return pl.concat(given)


def assign_ids(
    records: pl.DataFrame, previous: pl.DataFrame | None, run: str, secret: str = ""
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Person ids for this run's clusters, and what changed since the previous run.

    `records`: `rk`, `source`, `source_record_id`, `cluster`. `previous`: the previous run's
    `source`, `source_record_id`, `person_id` (None on a first run).
    Returns each record's `rk` and `person_id`, and `person_id_history`: one row per previous
    id and current id that records moved between (`run`, `old_person_id`, `new_person_id`,
    `kind`, `records`). `kind` is "merge" when the old id names no person any more (its
    records joined another), "split" when it still does and some of its records left it.
    """
    claims = _claims(records, previous)
    kept = _kept_ids(claims)
    founders = (
        records.sort(RECORD_KEY)
        .group_by("cluster", maintain_order=True)
        .first()
        .join(kept, on="cluster", how="anti")
    )
    earlier = [] if previous is None else [previous["person_id"]]
    taken = pl.concat([kept["person_id"], *earlier])
    ids = pl.concat([kept, _fresh_ids(founders, taken, secret)])
    assigned = records.join(ids, on="cluster", how="left").select(RECORD_KEY, "person_id")
    moved = (
        claims.join(ids, on="cluster")
        .filter(pl.col("old") != pl.col("person_id"))
        .with_columns(pl.col("old").is_in(ids["person_id"].implode()).alias("old_lives"))
    )
    history = moved.select(
        pl.lit(run).alias("run"),
        pl.col("old").alias("old_person_id"),
        pl.col("person_id").alias("new_person_id"),
        pl.when("old_lives").then(pl.lit("split")).otherwise(pl.lit("merge")).alias("kind"),
        pl.col("n").alias("records"),
    ).sort("old_person_id", "new_person_id")
    return assigned.sort(RECORD_KEY), history.cast(HISTORY_SCHEMA)
