"""Civil events and the people they name: linkage, relationships, duplicates and consistency.

Pure functions over polars frames; `assets/link.py` wires them into the graph.
"""

import polars as pl

# A child's mother is plausibly this old at the birth (the same bounds as the birth rule).
MOTHER_AGE = (12, 60)


def link_parties(parties: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Each party with the person it names, the rule that found it, or why none was found.

    `parties`: event_id, role, national_id, name_key, birth_date, birth_year. `persons`:
    person_id, national_id, full_name_key, birth_date, birth_year. A valid national id decides;
    without one, a folded name with the birth date that exactly one person has, or with the
    birth year where either side knows only the year (common for the elderly); anything less
    certain stays unlinked.
    """
    by_id = persons.filter(pl.col("national_id").is_not_null()).unique("national_id", keep="none")
    by_name = (
        persons.filter(pl.col("birth_date").is_not_null())
        .select("person_id", pl.col("full_name_key").alias("name_key"), "birth_date")
        .unique(["name_key", "birth_date"], keep="none")
    )
    # A year stands in for a date only where one side knows no more than the year.
    by_year = (
        persons.filter(pl.col("birth_year").is_not_null())
        .select(
            pl.col("person_id").alias("year_match"),
            pl.col("full_name_key").alias("name_key"),
            "birth_year",
            pl.col("birth_date").alias("year_match_date"),
        )
        .unique(["name_key", "birth_year"], keep="none")
    )
    with_id = parties.join(
        by_id.select("national_id", pl.col("person_id").alias("id_match")),
        on="national_id",
        how="left",
    )
    both = (
        with_id.join(
            by_name.rename({"person_id": "name_match"}), on=["name_key", "birth_date"], how="left"
        )
        .join(by_year, on=["name_key", "birth_year"], how="left")
        .with_columns(
            pl.when(pl.col("birth_date").is_null() | pl.col("year_match_date").is_null())
            .then(pl.col("year_match"))
            .alias("year_match")
        )
    )
    return both.select(
        "event_id",
        "role",
        pl.coalesce("id_match", "name_match", "year_match").alias("person_id"),
        pl.when(pl.col("id_match").is_not_null())
        .then(pl.lit("national_id"))
        .when(pl.col("name_match").is_not_null())
        .then(pl.lit("name+birth_date"))
        .when(pl.col("year_match").is_not_null())
        .then(pl.lit("name+birth_year"))
        .alias("match_rule"),
        pl.when(pl.coalesce("id_match", "name_match", "year_match").is_not_null())
        .then(None)
        .when(pl.col("national_id").is_not_null())
        .then(
            pl.lit("national id not in the register; no single person has this name and birth date")
        )
        .otherwise(pl.lit("no national id; no single person has this name and birth date"))
        .alias("unmatched_reason"),
    ).sort("event_id", "role")


def relationships(parties: pl.DataFrame) -> pl.DataFrame:
    """Person to person: `relation` is what `related_person_id` is to `person_id` (mother,
    father, child, spouse), from births and marriages whose parties are both linked."""
    linked = parties.filter(pl.col("person_id").is_not_null())
    role = {r: linked.filter(pl.col("role") == r).select("event_id", "person_id") for r in
            ("child", "mother", "father", "husband", "wife")}  # fmt: skip

    def pairs(a: str, b: str, a_to_b: str, b_to_a: str) -> list[pl.DataFrame]:
        joined = role[a].join(role[b], on="event_id", suffix="_b")
        forward = joined.select(
            "person_id", pl.col("person_id_b").alias("related_person_id"),
            pl.lit(a_to_b).alias("relation"), "event_id",
        )  # fmt: skip
        backward = joined.select(
            pl.col("person_id_b").alias("person_id"),
            pl.col("person_id").alias("related_person_id"),
            pl.lit(b_to_a).alias("relation"), "event_id",
        )  # fmt: skip
        return [forward, backward]

    parts = [
        *pairs("child", "mother", "mother", "child"),
        *pairs("child", "father", "father", "child"),
        *pairs("husband", "wife", "spouse", "spouse"),
    ]
    return (
        pl.concat(parts)
        .unique(["person_id", "related_person_id", "relation"], keep="first", maintain_order=True)
        .sort("person_id", "relation", "related_person_id")
    )


def duplicate_events(events: pl.DataFrame) -> pl.Expr:
    """`duplicate_of`: the first registration (by registration date, then id) of the same
    event registered again: same type, same subject's folded name and the same event date (for
    a birth also the same mother's name; a marriage, the same two spouses)."""
    key = pl.concat_str(
        [pl.col("event_type"), pl.col("subject_key"), pl.col("event_date").cast(pl.String),
         pl.col("second_key")],
        separator="|", ignore_nulls=True,
    )  # fmt: skip
    first = pl.col("event_id").sort_by("registration_date", "event_id").first().over(key)
    has_key = pl.col("subject_key").is_not_null()
    return pl.when(has_key & (first != pl.col("event_id"))).then(first).alias("duplicate_of")


def remarried_while_married(in_events: pl.DataFrame, deaths: pl.DataFrame) -> pl.DataFrame:
    """A later marriage while the earlier spouse still lived (the sources record no divorce).

    `in_events`: linked parties with event_type and event_date.
    """
    marriages = in_events.filter(pl.col("event_type") == "marriage").select(
        "event_id", "person_id", "event_date"
    )
    spouses = marriages.join(marriages, on="event_id", suffix="_spouse").filter(
        pl.col("person_id") != pl.col("person_id_spouse")
    )
    ordered = spouses.sort("person_id", "event_date", "event_id").with_columns(
        pl.col("person_id_spouse").shift().over("person_id").alias("earlier_spouse")
    )
    still_married = ordered.join(
        deaths.rename({"person_id": "earlier_spouse", "death_date": "earlier_spouse_died"}),
        on="earlier_spouse",
        how="left",
    ).filter(
        pl.col("earlier_spouse").is_not_null()
        & (
            pl.col("earlier_spouse_died").is_null()
            | (pl.col("earlier_spouse_died") > pl.col("event_date"))
        )
    )
    return still_married.select(
        pl.lit("marriage.without_divorce").alias("rule"), "person_id", "event_id"
    )


def consistency_issues(
    events: pl.DataFrame, parties: pl.DataFrame, persons: pl.DataFrame, visits: pl.DataFrame
) -> pl.DataFrame:
    """Cross-source contradictions, one row each: `rule`, `person_id`, `event_id` (or null).

    `events` carry event_date and duplicate_of; `persons` person_id, birth_year, death_date;
    `visits` person_id and visit_date of health-facility records.
    """
    deaths = persons.filter(pl.col("death_date").is_not_null()).select("person_id", "death_date")
    unique_events = events.filter(pl.col("duplicate_of").is_null())
    in_events = parties.filter(pl.col("person_id").is_not_null()).join(
        unique_events.select("event_id", "event_type", "event_date"), on="event_id"
    )
    visit_after_death = visits.join(deaths, on="person_id").filter(
        pl.col("visit_date") > pl.col("death_date")
    ).select(pl.lit("life.activity_after_death").alias("rule"), "person_id",
             pl.lit(None, dtype=pl.String).alias("event_id"))  # fmt: skip
    married_after_death = (
        in_events.filter(pl.col("event_type") == "marriage")
        .join(deaths, on="person_id")
        .filter(pl.col("event_date") > pl.col("death_date"))
        .select(pl.lit("life.married_after_death").alias("rule"), "person_id", "event_id")
    )
    mothers = in_events.filter(pl.col("role") == "mother").join(
        persons.select("person_id", "birth_year"), on="person_id"
    )
    mother_age = pl.col("event_date").dt.year() - pl.col("birth_year")
    implausible_mother = mothers.filter(~mother_age.is_between(*MOTHER_AGE)).select(
        pl.lit("birth.mother_age_implausible").alias("rule"), "person_id", "event_id"
    )
    married_twice = remarried_while_married(in_events, deaths)
    return pl.concat(
        [visit_after_death, married_after_death, implausible_mother, married_twice]
    ).unique(maintain_order=True)
