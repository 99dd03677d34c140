"""How well standardisation and validation did, scored against the generator's ground truth.

Repairable corruptions (legacy encodings, NFD, capitals and spacing, ids typed as numbers or with
separators, swapped day and month) must come back exactly. Lost information (dropped diacritics,
typos, a dropped middle name) cannot be repaired by standardisation: resolution copes with it,
so it is scored apart.
"""

from pathlib import Path

import duckdb
import polars as pl

from dancu.contract import REFORM_DATE, SOURCES
from dancu.paths import Paths
from dancu.rules import is_rejected

REPAIRABLE = {
    "name": {"tcvn3", "vni", "nfd", "all_caps", "double_space", "mojibake"},
    "national_id": {"as_number", "spaces", "dots"},
    # A swap of day and month that both stay <= 12 is a real day: only resolution can see it.
    "birth_date": {"as_serial", "format"},
}
FILE_CORRUPTIONS = {"file:tcvn3": "tcvn3", "file:vni": "vni"}
KEY = ["file_name", "row_number"]


def _field_corruptions(column: str) -> pl.Expr:
    """The kinds of corruption applied to one column of a row, file-wide ones included."""
    own = pl.col("corruptions").list.eval(
        pl.element().filter(pl.element().str.starts_with(f"{column}:")).str.split(":").list.last()
    )
    whole_file = pl.col("corruptions").list.eval(
        pl.element().filter(pl.element().is_in(list(FILE_CORRUPTIONS))).str.split(":").list.last()
    )
    return pl.concat_list(own, whole_file) if column.endswith("name") else own


def scored_rows(truth: pl.DataFrame, staging: Path) -> pl.DataFrame:
    """Each latest, valid truth row of a subject-bearing source beside its standardised values."""
    parts = []
    for source in SOURCES.values():
        std_path = staging / f"std_{source.name}.parquet"
        if source.subject is None or not std_path.exists():
            continue
        id_column, name_column = source.subject.national_id, source.required_names[0]
        std = pl.read_parquet(std_path).select(
            *KEY,
            pl.col(name_column).alias("name"),
            pl.col(id_column).alias("national_id"),
            "birth_date",
            "birth_year",
            is_rejected().alias("quarantined"),
        )
        rows = truth.filter(pl.col("source") == source.name).with_columns(
            _field_corruptions(name_column).alias("name_corruptions"),
            _field_corruptions(id_column).alias("national_id_corruptions"),
            _field_corruptions("birth_date").alias("birth_date_corruptions"),
        )
        parts.append(rows.join(std, on=KEY, how="inner"))
    return pl.concat(parts, how="diagonal_relaxed")


RESTORED = {
    "name": pl.col("name") == pl.col("true_full_name"),
    "national_id": pl.col("national_id") == pl.col("true_national_id"),
    "birth_date": pl.coalesce(
        pl.col("birth_date") == pl.col("true_birth_date"),
        pl.col("birth_year") == pl.col("true_birth_year"),
    ),
}


def _judged(rows: pl.DataFrame, field: str) -> pl.DataFrame:
    """One row per accepted value: its kind of corruption ("none", one kind, or "several"),
    whether every corruption it suffered is repairable, and whether it was restored."""
    kinds = pl.col(f"{field}_corruptions")
    repairable = list(REPAIRABLE[field])
    return rows.filter(~pl.col("quarantined")).select(
        pl.lit(field).alias("field"),
        pl.when(kinds.list.len() == 0)
        .then(pl.lit("none"))
        .when(kinds.list.len() == 1)
        .then(kinds.list.first())
        .otherwise(pl.lit("several"))
        .alias("kind"),
        ((kinds.list.len() > 0) & kinds.list.eval(pl.element().is_in(repairable)).list.all()).alias(
            "repairable"
        ),
        RESTORED[field].fill_null(False).alias("restored"),
    )


def repair_scores(rows: pl.DataFrame) -> dict[str, float | int]:
    """Per field: the share of clean values kept exactly and of repairable ones restored."""
    scores: dict[str, float | int] = {}
    for field in RESTORED:
        judged = _judged(rows, field)
        for label, selected in (
            ("clean_kept", judged.filter(pl.col("kind") == "none")),
            ("repairable_restored", judged.filter("repairable")),
        ):
            scores[f"{field}_{label}"] = round(selected["restored"].mean() or 1.0, 4)
            scores[f"{field}_{label}_n"] = selected.height
    return scores


def ward_scores(truth: pl.DataFrame, staging: Path) -> dict[str, float | int]:
    """Share of accepted dan_cu rows whose current ward is the true one, by extract period."""
    std = pl.read_parquet(staging / "std_dan_cu.parquet").filter(~is_rejected())
    rows = truth.filter(pl.col("source") == "dan_cu").join(
        std.select(*KEY, "ward_code"), on=KEY, how="inner"
    )
    right = pl.col("ward_code") == pl.col("true_ward_code")
    before = pl.col("extract_date") < REFORM_DATE
    return {
        "ward_current": round(rows.select(right.mean()).item() or 0.0, 4),
        "ward_current_n": rows.height,
        "ward_current_before_reform": round(
            rows.filter(before).select(right.mean()).item() or 0.0, 4
        ),
        "ward_current_before_reform_n": rows.filter(before).height,
    }


def person_keys(truth: pl.DataFrame, data_dir: Path) -> pl.DataFrame:
    """Each published person_id with the true person most of its records belong to."""
    with duckdb.connect(str(Paths.of(data_dir).warehouse), read_only=True) as con:
        records = con.sql("select source, source_record_id, person_id from person_source").pl()
    return (
        records.join(truth.select("source", "source_record_id", "person_key"),
                     on=["source", "source_record_id"])
        .group_by("person_id", "person_key").len()
        .sort("len", "person_key", descending=[True, False])
        .unique("person_id", keep="first")
        .select("person_id", "person_key")
    )  # fmt: skip


def death_links(sample: Path, data_dir: Path, keys: pl.DataFrame) -> pl.DataFrame:
    """Each published death registration's deceased party: the person it links to (`person_id`
    and that person's true `person_key`, by `keys` of `person_keys`) or why none
    (`unmatched_reason`), beside the person truly registered dead (`true_key`)."""
    warehouse = Paths.of(data_dir).warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        deaths = con.sql(
            "select e.source_record_id, p.person_id, p.unmatched_reason from civil_event e"
            " join event_party p using (event_id) where p.role = 'deceased'"
        ).pl()
    registered = pl.read_parquet(sample / "truth" / "event_parties.parquet").filter(
        pl.col("role") == "deceased"
    )
    return deaths.join(keys, on="person_id", how="left").join(
        registered.select("source_record_id", pl.col("person_key").alias("true_key")),
        on="source_record_id",
    )


def deceased_scores(
    sample: Path, data_dir: Path, keys: pl.DataFrame, registered: pl.Series
) -> dict[str, float | int]:
    """Precision of the register's deceased persons against the truth, and recall over the
    persons `registered` dead (true person_keys) that the register holds."""
    warehouse = Paths.of(data_dir).warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = con.sql("select person_id, is_deceased from person").pl()
    people = pl.read_parquet(sample / "truth" / "persons.parquet").select(
        "person_key", "is_deceased"
    )
    judged = published.join(keys, on="person_id").join(
        people.rename({"is_deceased": "truly_deceased"}), on="person_key"
    )
    found = judged.filter("is_deceased")
    true_deceased = (
        registered.unique()
        .to_frame("person_key")
        .join(keys.select("person_key").unique(), on="person_key")
    )
    return {
        "deceased_precision": round(found["truly_deceased"].mean() or 0.0, 4),
        "deceased_found": found.height,
        "deceased_recall": round(
            found.select("person_key").unique().join(true_deceased, on="person_key").height
            / max(true_deceased.height, 1),
            4,
        ),
    }


def life_scores(sample: Path, data_dir: Path) -> dict[str, float | int]:
    """Deceased persons in the register against the truth, and deaths linked to the right person."""
    truth = pl.read_parquet(sample / "truth" / "records.parquet")
    keys = person_keys(truth, data_dir)
    registered = pl.read_parquet(sample / "truth" / "event_parties.parquet").filter(
        pl.col("role") == "deceased"
    )
    linked = death_links(sample, data_dir, keys)
    return {
        **deceased_scores(sample, data_dir, keys, registered["person_key"]),
        "deaths_registered": linked.height,
        "deaths_linked_right": int((linked["person_key"] == linked["true_key"]).sum()),
        "deaths_unlinked": int(linked["person_id"].is_null().sum()),
    }


def validation_scores(truth: pl.DataFrame, quarantine: pl.DataFrame) -> dict[str, float | int]:
    """Invalid rows caught, and valid rows quarantined, among the latest rows."""
    latest = truth.filter("is_latest").with_columns(pl.col("row_number").cast(pl.Int64))
    quarantined = quarantine.select(*KEY).with_columns(pl.lit(True).alias("quarantined"))
    judged = latest.join(quarantined, on=KEY, how="left").with_columns(
        pl.col("quarantined").fill_null(False)
    )
    invalid = judged.filter(pl.col("invalid_reason").is_not_null())
    valid = judged.filter(pl.col("invalid_reason").is_null())
    return {
        "invalid_rows": invalid.height,
        "invalid_caught": int(invalid["quarantined"].sum()),
        "valid_rows": valid.height,
        "valid_quarantined": int(valid["quarantined"].sum()),
    }


def score(sample: Path, data_dir: Path) -> dict[str, float | int]:
    truth = pl.read_parquet(sample / "truth" / "records.parquet")
    staging = data_dir / "staging"
    quarantine = pl.read_parquet(staging / "quarantine.parquet")
    latest_valid = truth.filter("is_latest", pl.col("invalid_reason").is_null())
    return {
        **validation_scores(truth, quarantine),
        **repair_scores(scored_rows(latest_valid, staging)),
        **ward_scores(latest_valid, staging),
        **life_scores(sample, data_dir),
    }
