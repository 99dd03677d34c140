"""Event linkage, relationships, twice-registered events and consistency, on hand-made cases."""

from datetime import date

import polars as pl

from dancu.link import consistency_issues, duplicate_events, link_parties, relationships

PERSONS = pl.DataFrame(
    {
        "person_id": ["P_MOTHER", "P_FATHER", "P_OLD", "P_WIDOW", "P_NEW_WIFE",
                      "P_SAME_A", "P_SAME_B"],
        "national_id": ["001190000001", "001088000002", "001030000003", "001050000004",
                        "001160000005", None, None],
        "full_name_key": ["le thi hoa", "nguyen van an", "tran van duc", "pham thi lan",
                          "do thu trang", "nguyen van binh", "nguyen van binh"],
        "birth_date": [date(1990, 1, 1), date(1988, 3, 15), date(1930, 5, 5), date(1950, 2, 2),
                       date(1960, 6, 6), date(1970, 7, 7), date(1970, 7, 7)],
        "birth_year": [1990, 1988, 1930, 1950, 1960, 1970, 1970],
    }
)  # fmt: skip


def parties(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"event_id": pl.String, "role": pl.String, "national_id": pl.String,
                "name_key": pl.String, "birth_date": pl.Date},
        orient="row",
    ).with_columns(
        pl.coalesce(pl.col("birth_date").dt.year().cast(pl.Int32), pl.lit(1930)).alias("birth_year")
    )  # fmt: skip


def test_a_death_links_by_id_and_without_one_by_name_and_birth_date():
    linked = link_parties(
        parties(
            [
                ("khai_tu:1", "deceased", "001030000003", "tran van duc", date(1930, 5, 5)),
                ("khai_tu:2", "deceased", None, "tran van duc", date(1930, 5, 5)),
                ("khai_tu:3", "deceased", None, "tran van duc", None),
                ("khai_tu:4", "deceased", None, "tran van duc", date(1931, 5, 5)),
            ]
        ),
        PERSONS,
    )
    assert linked.select("person_id", "match_rule").rows() == [
        ("P_OLD", "national_id"),
        ("P_OLD", "name+birth_date"),
        ("P_OLD", "name+birth_year"),  # the registration knows only the year
        (None, None),
    ]
    assert linked["unmatched_reason"][3].startswith("no national id")


def test_two_people_with_one_name_and_birth_date_link_nobody():
    linked = link_parties(
        parties([("khai_tu:9", "deceased", None, "nguyen van binh", date(1970, 7, 7))]), PERSONS
    )
    assert linked["person_id"].to_list() == [None]


def test_a_birth_gives_mother_father_and_child_relations_and_twins_are_two_births():
    party = pl.DataFrame(
        {
            "event_id": ["ks:1", "ks:1", "ks:1", "ks:2", "ks:2"],
            "role": ["child", "mother", "father", "child", "mother"],
            "person_id": ["P_TWIN_A", "P_MOTHER", "P_FATHER", "P_TWIN_B", "P_MOTHER"],
        }
    )
    rel = relationships(party)
    assert ("P_TWIN_A", "P_MOTHER", "mother") in rel.select(
        "person_id", "related_person_id", "relation"
    ).rows()
    assert rel.filter(pl.col("person_id") == "P_MOTHER")["relation"].to_list() == ["child", "child"]

    events = pl.DataFrame(
        {
            "event_id": ["ks:1", "ks:2"],
            "event_type": ["birth", "birth"],
            "subject_key": ["nguyen minh khang", "nguyen minh khoi"],
            "second_key": ["le thi hoa", "le thi hoa"],
            "event_date": [date(2025, 8, 2)] * 2,
            "registration_date": [date(2025, 8, 20)] * 2,
        }
    )
    assert events.select(duplicate_events(events))["duplicate_of"].to_list() == [None, None]


def test_a_birth_registered_twice_points_to_the_first():
    events = pl.DataFrame(
        {
            "event_id": ["ks:1", "ks:7"],
            "event_type": ["birth", "birth"],
            "subject_key": ["nguyen minh khang"] * 2,
            "second_key": ["le thi hoa"] * 2,
            "event_date": [date(2025, 8, 2)] * 2,
            "registration_date": [date(2025, 8, 20), date(2025, 9, 1)],
        }
    )
    assert events.select(duplicate_events(events))["duplicate_of"].to_list() == [None, "ks:1"]


def events_frame(rows):
    return pl.DataFrame(
        rows, schema={"event_id": pl.String, "event_type": pl.String, "event_date": pl.Date},
        orient="row",
    ).with_columns(pl.lit(None, dtype=pl.String).alias("duplicate_of"))  # fmt: skip


def test_remarriage_after_a_death_is_consistent_and_while_married_is_not():
    events = events_frame(
        [
            ("kh:1", "marriage", date(1975, 1, 1)),  # P_OLD and P_WIDOW
            ("kh:2", "marriage", date(2020, 1, 1)),  # P_WIDOW remarries after P_OLD died
            ("kh:3", "marriage", date(2021, 1, 1)),  # P_FATHER, then again while married
            ("kh:4", "marriage", date(2022, 1, 1)),
        ]
    )
    party = pl.DataFrame(
        {
            "event_id": ["kh:1", "kh:1", "kh:2", "kh:2", "kh:3", "kh:3", "kh:4", "kh:4"],
            "role": ["husband", "wife"] * 4,
            "person_id": ["P_OLD", "P_WIDOW", "P_SAME_A", "P_WIDOW",
                          "P_FATHER", "P_MOTHER", "P_FATHER", "P_NEW_WIFE"],
        }
    )  # fmt: skip
    persons = PERSONS.with_columns(
        pl.when(pl.col("person_id") == "P_OLD").then(pl.lit(date(2019, 1, 1))).alias("death_date")
    )
    visits = pl.DataFrame(schema={"person_id": pl.String, "visit_date": pl.Date})
    issues = consistency_issues(events, party, persons, visits)
    flagged = issues.filter(pl.col("rule") == "marriage.without_divorce")
    assert flagged.select("person_id", "event_id").rows() == [("P_FATHER", "kh:4")]


def test_activity_after_death_and_implausible_mothers_are_found():
    persons = PERSONS.with_columns(
        pl.when(pl.col("person_id") == "P_OLD").then(pl.lit(date(2019, 1, 1))).alias("death_date")
    )
    visits = pl.DataFrame(
        {"person_id": ["P_OLD", "P_OLD"], "visit_date": [date(2018, 6, 1), date(2024, 6, 1)]}
    )
    events = events_frame([("ks:5", "birth", date(1998, 1, 1))])
    party = pl.DataFrame({"event_id": ["ks:5"], "role": ["mother"], "person_id": ["P_MOTHER"]})
    issues = consistency_issues(events, party, persons, visits)
    assert sorted(issues.select("rule", "person_id").rows()) == [
        ("birth.mother_age_implausible", "P_MOTHER"),  # aged 8 at the birth
        ("life.activity_after_death", "P_OLD"),
    ]
