"""Event linkage, relationships, twice-registered events and consistency, on hand-made cases."""

from datetime import date

import polars as pl
import pytest

from dancu.contract import EVENT_SOURCES, SOURCES
from dancu.link import (
    apply_deaths,
    apply_marriages,
    consistency_issues,
    duplicate_events,
    event_parties,
    party_records,
    relationships,
)
from dancu.resolve import person_records, resolve
from dancu.resolve.records import COLUMNS
from dancu.text import fold

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


def std_rows(source: str, rows: list[dict]) -> pl.LazyFrame:
    """Accepted standardised rows of an event source, as the standardise stage leaves them."""
    columns = {
        "reasons": pl.List(pl.String),
        "source_record_id": pl.String,
        "file_name": pl.String,
        "row_number": pl.Int64,
        "extract_date": pl.Date,
    }
    for party in SOURCES[source].event.parties.values():
        columns |= {
            party.name: pl.String,
            party.national_id: pl.String,
            party.birth_date: pl.Date,
            party.birth_year: pl.Int32,
        }
    columns |= {
        "sex": pl.String,
        "father_name": pl.String,
        "mother_name": pl.String,
        "registration_date": pl.Date,
    }
    filled = [
        {
            "reasons": [],
            "file_name": f"{source}/hand_20251031.csv",
            "row_number": n,
            "extract_date": date(2025, 10, 31),
        }
        | row
        for n, row in enumerate(rows, start=1)
    ]
    frame = pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in filled], schema=columns, orient="row"
    )
    names = [p.name for p in SOURCES[source].event.parties.values()]
    return frame.with_columns(fold(pl.col(c)).alias(f"{c}_key") for c in names).with_columns(
        pl.coalesce(pl.col(p.birth_year), pl.col(p.birth_date).dt.year().cast(pl.Int32))
        for p in SOURCES[source].event.parties.values()
    ).lazy()  # fmt: skip


# The register side of the hand-made cases: persons the events below name.
REGISTER = [
    {"source_record_id": "HS_OLD", "full_name": "Trần Văn Đức", "national_id": "001030000003",
     "birth_date": date(1930, 5, 5), "sex": "M", "marital_status": "married"},
    {"source_record_id": "HS_WIDOW", "full_name": "Phạm Thị Lan", "national_id": "001150000004",
     "birth_date": date(1950, 2, 2), "sex": "F", "marital_status": "married"},
    {"source_record_id": "HS_MOTHER", "full_name": "Lê Thị Hoa", "national_id": "001190000001",
     "birth_date": date(1990, 1, 1), "sex": "F", "marital_status": "married"},
    {"source_record_id": "HS_DEAD_NO_ID", "full_name": "Đỗ Văn Khiêm",
     "national_id": "001045000009", "birth_date": date(1945, 9, 12), "sex": "M",
     "marital_status": "widowed"},
    {"source_record_id": "HS_SECOND", "full_name": "Vương Đình Quảng",
     "national_id": "001052000011", "birth_date": date(1952, 11, 3), "sex": "M",
     "marital_status": "single", "extract_date": date(2024, 6, 1)},
]  # fmt: skip
EVENTS = {
    "khai_tu": [
        # a death with the deceased's id, and one with a name typed without diacritics and no id
        {"source_record_id": "KT1", "full_name": "Trần Văn Đức", "national_id": "001030000003",
         "birth_date": date(1930, 5, 5), "sex": "M"},
        {"source_record_id": "KT2", "full_name": "Do Van Khiem", "birth_date": date(1945, 9, 12),
         "sex": "M"},
    ],
    "khai_sinh": [
        # twins of a mother in the register and a father who is not
        {"source_record_id": "KS1", "child_name": "Nguyễn Minh Khang",
         "birth_date": date(2025, 8, 2), "sex": "M", "mother_name": "Lê Thị Hoa",
         "mother_national_id": "001190000001", "mother_birth_date": date(1990, 1, 1),
         "father_name": "Nguyễn Quốc Toản", "father_birth_date": date(1987, 4, 9)},
        {"source_record_id": "KS2", "child_name": "Nguyễn Minh Khôi",
         "birth_date": date(2025, 8, 2), "sex": "M", "mother_name": "Lê Thị Hoa",
         "mother_national_id": "001190000001", "mother_birth_date": date(1990, 1, 1),
         "father_name": "Nguyễn Quốc Toản", "father_birth_date": date(1987, 4, 9)},
    ],
    "ket_hon": [
        # the widow married Đức long ago, and remarries after his death
        {"source_record_id": "KH1", "registration_date": date(1975, 1, 1),
         "husband_name": "Trần Văn Đức", "husband_national_id": "001030000003",
         "husband_birth_date": date(1930, 5, 5), "wife_name": "Phạm Thị Lan",
         "wife_national_id": "001150000004", "wife_birth_date": date(1950, 2, 2)},
        {"source_record_id": "KH2", "registration_date": date(2025, 3, 1),
         "husband_name": "Vương Đình Quảng", "husband_national_id": "001052000011",
         "husband_birth_date": date(1952, 11, 3), "wife_name": "Phạm Thị Lan",
         "wife_national_id": "001150000004", "wife_birth_date": date(1950, 2, 2)},
    ],
}  # fmt: skip
EVENT_DATES = {"khai_tu": date(2019, 1, 1), "khai_sinh": date(2025, 8, 2)}


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> pl.DataFrame:
    """The hand-made register and events as person records, among the records of a small
    generated population (so that the model is learnt from realistic data)."""
    from dancu.generate import generate
    from dancu.ingest import read_source
    from dancu.standardize import standardize

    out = tmp_path_factory.mktemp("link") / "sample"
    generate(persons=600, seed=5, out=out)
    std = {
        name: standardize(read_source(out / "landing", source)[0].lazy(), source)
        for name, source in SOURCES.items()
    }
    register = pl.DataFrame(
        [{c: row.get(c) for c in COLUMNS} | row for row in REGISTER],
        schema=COLUMNS, orient="row",
    ).with_columns(
        pl.lit("dan_cu").alias("source"), pl.lit("dan_cu/hand_20251031.csv").alias("file_name"),
        pl.lit(1, dtype=pl.Int64).alias("row_number"),
        pl.col("extract_date").fill_null(date(2025, 10, 31)),
        fold(pl.col("full_name")).alias("full_name_key"),
        pl.col("birth_date").dt.year().cast(pl.Int32).alias("birth_year"),
        pl.lit(True).alias("founds_person"),
    )  # fmt: skip
    hand = {source: std_rows(source, rows) for source, rows in EVENTS.items()}
    return pl.concat(
        [person_records(std).collect(), party_records(std).collect(), register,
         party_records(hand).collect()]
    )  # fmt: skip


@pytest.fixture(scope="module")
def linked(records):
    """The records resolved: parties, the register persons' ids, persons, events."""
    result = resolve(records, run="r1")
    parties = event_parties(
        result.records.filter(pl.col("source").is_in(EVENT_SOURCES)), result.review_queue
    ).filter(pl.col("event_id").str.contains(":K[STH]\\d$"))
    person_of = dict(
        result.records.filter(pl.col("source_record_id").str.starts_with("HS_"))
        .select("source_record_id", "person_id").iter_rows()
    )  # fmt: skip
    events = pl.concat(
        [std_rows(source, rows).collect().select(
            (pl.lit(f"{source}:") + pl.col("source_record_id")).alias("event_id"),
            pl.lit(SOURCES[source].event.type).alias("event_type"),
            (pl.col("registration_date") if source == "ket_hon"
             else pl.lit(EVENT_DATES.get(source))).alias("event_date"),
            pl.lit(None, dtype=pl.String).alias("duplicate_of"),
            pl.lit(None, dtype=pl.String).alias("subject_key"),
        ) for source, rows in EVENTS.items()]
    )  # fmt: skip
    return parties, person_of, result.persons, events


def party(parties: pl.DataFrame, event_id: str, role: str) -> dict:
    return parties.filter(event_id=event_id, role=role).row(0, named=True)


def test_a_death_links_by_id_and_without_one_by_the_model(linked):
    parties, person_of, _, _ = linked
    with_id = party(parties, "khai_tu:KT1", "deceased")
    assert with_id["person_id"] == person_of["HS_OLD"]
    without_id = party(parties, "khai_tu:KT2", "deceased")
    assert without_id["person_id"] == person_of["HS_DEAD_NO_ID"]
    assert without_id["match_weight"] > 0


def test_a_birth_links_the_mother_and_makes_each_twin_a_person(linked):
    parties, person_of, persons, _ = linked
    assert party(parties, "khai_sinh:KS1", "mother")["person_id"] == person_of["HS_MOTHER"]
    twins = [party(parties, f"khai_sinh:KS{n}", "child") for n in (1, 2)]
    assert [t["match_rule"] for t in twins] == ["new_person", "new_person"]
    assert twins[0]["person_id"] != twins[1]["person_id"]
    born = persons.filter(pl.col("person_id").is_in([t["person_id"] for t in twins]))
    assert born.sort("full_name")["full_name"].to_list() == [
        "Nguyễn Minh Khang",
        "Nguyễn Minh Khôi",
    ]
    assert set(born["primary_source"]) == {"khai_sinh"}
    father = party(parties, "khai_sinh:KS1", "father")
    # The father is in nobody's register: both births name him, yet he founds no person.
    assert father["person_id"] is None
    assert father["unmatched_reason"] == "no person in the register matches with confidence"
    rel = relationships(parties)
    mother_children = rel.filter(person_id=person_of["HS_MOTHER"], relation="child")
    assert sorted(mother_children["related_person_id"]) == sorted(t["person_id"] for t in twins)


def test_a_child_known_from_its_birth_keeps_its_id_when_the_register_lists_it(records):
    day_1 = resolve(records, run="r1")
    previous = day_1.records.filter(pl.col("person_id").is_not_null()).select(
        "source", "source_record_id", "person_id"
    )
    born = day_1.records.filter(source_record_id="KS1:child")["person_id"][0]
    listed = records.filter(source_record_id="HS_MOTHER").with_columns(
        pl.lit("HS_KHANG").alias("source_record_id"),
        pl.lit("Nguyễn Minh Khang").alias("full_name"),
        pl.lit("nguyen minh khang").alias("full_name_key"),
        pl.lit(date(2025, 8, 2)).alias("birth_date"),
        pl.lit(2025, dtype=pl.Int32).alias("birth_year"),
        pl.lit("M").alias("sex"),
        pl.lit(None, dtype=pl.String).alias("national_id"),
        pl.lit("Nguyễn Quốc Toản").alias("father_name"),
        pl.lit("Lê Thị Hoa").alias("mother_name"),
        pl.lit("single").alias("marital_status"),
    )
    day_2 = resolve(pl.concat([records, listed]), previous=previous, run="r2")
    ids = dict(
        day_2.records.filter(pl.col("source_record_id").is_in(["KS1:child", "HS_KHANG"]))
        .select("source_record_id", "person_id").iter_rows()
    )  # fmt: skip
    assert ids == {"KS1:child": born, "HS_KHANG": born}


def test_deaths_and_a_remarriage_after_a_death_give_life_status(linked):
    parties, person_of, persons, events = linked
    persons = apply_marriages(apply_deaths(persons, events, parties), events, parties).collect()
    status = {
        key: persons.filter(person_id=person_of[key]).row(0, named=True)
        for key in ("HS_OLD", "HS_WIDOW", "HS_SECOND", "HS_DEAD_NO_ID")
    }
    assert status["HS_OLD"]["is_deceased"] and status["HS_OLD"]["death_date"] == date(2019, 1, 1)
    assert status["HS_DEAD_NO_ID"]["is_deceased"]
    assert not status["HS_WIDOW"]["is_deceased"]
    # Quảng's register record (2024) said single; his 2025 marriage is newer. The widow's
    # record (2025-10) is newer than her remarriage and already says married.
    said = {k: (v["marital_status"], v["marital_status_source"]) for k, v in status.items()}
    assert said["HS_SECOND"] == ("married", "ket_hon")
    assert said["HS_WIDOW"] == ("married", "dan_cu")
    issues = consistency_issues(events, parties, persons, pl.DataFrame(
        schema={"person_id": pl.String, "visit_date": pl.Date}))  # fmt: skip
    assert issues.filter(pl.col("person_id") == person_of["HS_WIDOW"]).height == 0


def test_a_registered_marriage_newer_than_the_register_sets_the_status():
    persons = pl.DataFrame(
        {
            "person_id": ["A", "B", "C"],
            "marital_status": ["single", "single", "married"],
            "marital_status_source": ["dan_cu"] * 3,
            "marital_status_as_of": [date(2024, 1, 1), date(2026, 1, 1), date(2020, 1, 1)],
            "death_date": [None, None, date(2023, 5, 1)],
        }
    )
    events = events_frame([("kh:1", "marriage", date(2021, 6, 1)),
                           ("kh:2", "marriage", date(2025, 6, 1))])  # fmt: skip
    parties = pl.DataFrame(
        {
            "event_id": ["kh:1", "kh:1", "kh:2", "kh:2"],
            "role": ["husband", "wife"] * 2,
            "person_id": ["A", "C", "A", "B"],
        }
    )
    after = apply_marriages(persons, events, parties).collect().sort("person_id")
    # A married B in 2025, after A's 2024 record; B's 2026 record is newer than the marriage
    # and wins; C married A in 2021, after her 2020 record.
    assert after.select("person_id", "marital_status", "marital_status_source").rows() == [
        ("A", "married", "ket_hon"),
        ("B", "single", "dan_cu"),
        ("C", "married", "ket_hon"),
    ]


def test_a_marriage_to_a_spouse_the_register_does_not_hold_sets_the_status():
    persons = pl.DataFrame(
        {
            "person_id": ["A"], "marital_status": ["single"], "marital_status_source": ["dan_cu"],
            "marital_status_as_of": [date(2024, 1, 1)], "death_date": [None],
        }
    )  # fmt: skip
    events = events_frame([("kh:1", "marriage", date(2025, 6, 1))])
    # A foreign wife: no person of the register.
    parties = pl.DataFrame(
        {"event_id": ["kh:1", "kh:1"], "role": ["husband", "wife"], "person_id": ["A", None]}
    )
    after = apply_marriages(persons, events, parties).collect()
    assert after.select("marital_status", "marital_status_source").row(0) == ("married", "ket_hon")


def test_the_spouse_of_the_latest_marriage_dying_makes_a_widow():
    persons = pl.DataFrame(
        {
            "person_id": ["H", "W"],
            "marital_status": ["married", "married"],
            "marital_status_source": ["dan_cu"] * 2,
            "marital_status_as_of": [date(2020, 1, 1)] * 2,
            "death_date": [date(2024, 2, 1), None],
        }
    )
    events = events_frame([("kh:1", "marriage", date(2000, 6, 1))])
    parties = pl.DataFrame(
        {"event_id": ["kh:1", "kh:1"], "role": ["husband", "wife"], "person_id": ["H", "W"]}
    )
    after = apply_marriages(persons, events, parties).collect().filter(person_id="W")
    assert after.select("marital_status", "marital_status_source").row(0) == ("widowed", "khai_tu")


def test_an_uncertain_party_says_it_waits_for_review():
    records = pl.DataFrame(
        {
            "source": ["khai_tu", "khai_tu"],
            "source_record_id": ["KT7:deceased", "KT8:deceased"],
            "person_id": [None, None],
            "match_rule": ["single", "single"],
            "match_weight": [None, None],
        },
        schema_overrides={"person_id": pl.String, "match_weight": pl.Float64},
    )
    queue = pl.DataFrame(
        {
            "source_l": ["dan_cu"],
            "source_record_id_l": ["HS1"],
            "source_r": ["khai_tu"],
            "source_record_id_r": ["KT7:deceased"],
        }
    )
    parties = event_parties(records, queue)
    assert parties.select("event_id", "role").rows() == [
        ("khai_tu:KT7", "deceased"), ("khai_tu:KT8", "deceased")]  # fmt: skip
    assert parties["unmatched_reason"].str.starts_with("uncertain").to_list() == [True, False]


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
    assert duplicate_events(events, party)["duplicate_of"].to_list() == [None, None]


def test_an_event_registered_twice_points_to_the_first():
    events = pl.DataFrame(
        {
            "event_id": ["ks:1", "ks:7", "kt:1", "kt:2", "kh:1", "kh:2", "kh:3"],
            "event_type": ["birth", "birth", "death", "death", "marriage", "marriage", "marriage"],
            # the second birth is typed with a slip; resolution knows it is the same child
            "subject_key": ["nguyen minh khang", "nguyen minh khanh", "tran van duc",
                            "tran van duc", "do van an", "do van an", "do van an"],
            "second_key": ["le thi hoa", "le thi hoa", None, None, "vu thi mai", "vu thi mai",
                           "ngo thi binh"],
            "event_date": [date(2025, 8, 2), date(2025, 8, 2), date(2019, 1, 1),
                           date(2019, 1, 1), date(2020, 5, 5), date(2020, 5, 5),
                           date(2020, 5, 5)],
            "registration_date": [date(2025, 8, 20), date(2025, 9, 1), date(2019, 1, 3),
                                  date(2019, 1, 9), date(2020, 5, 5), date(2020, 5, 6),
                                  date(2020, 5, 7)],
        }
    )  # fmt: skip
    party = pl.DataFrame(
        {
            "event_id": ["ks:1", "ks:7", "kt:1", "kt:2", "kh:1", "kh:1", "kh:2", "kh:2",
                         "kh:3", "kh:3"],
            "role": ["child", "child", "deceased", "deceased", "husband", "wife", "husband",
                     "wife", "husband", "wife"],
            # the deaths' deceased are in no register: their names and dates decide
            "person_id": ["P_KHANG", "P_KHANG", None, None, "P_AN", "P_MAI", "P_AN", "P_MAI",
                          "P_AN", "P_BINH"],
        }
    )  # fmt: skip
    assert duplicate_events(events, party)["duplicate_of"].to_list() == [
        None, "ks:1", None, "kt:1", None, "kh:1", None]  # fmt: skip


def events_frame(rows):
    return pl.DataFrame(
        rows,
        schema={"event_id": pl.String, "event_type": pl.String, "event_date": pl.Date},
        orient="row",
    ).with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in ("duplicate_of", "subject_key"))


def test_remarriage_after_a_death_is_consistent_and_while_married_is_not():
    events = events_frame(
        [
            ("kh:1", "marriage", date(1975, 1, 1)),  # P_OLD and P_WIDOW
            ("kh:2", "marriage", date(2020, 1, 1)),  # P_WIDOW remarries after P_OLD died
            ("kh:3", "marriage", date(2021, 1, 1)),  # P_FATHER, then again while married
            ("kh:4", "marriage", date(2022, 1, 1)),
            ("kh:5", "marriage", date(2001, 1, 1)),  # P_SAME_B, then again while married to
            ("kh:6", "marriage", date(2023, 1, 1)),  # a wife the register does not hold
        ]
    )
    party = pl.DataFrame(
        {
            "event_id": ["kh:1", "kh:1", "kh:2", "kh:2", "kh:3", "kh:3", "kh:4", "kh:4",
                         "kh:5", "kh:5", "kh:6", "kh:6"],
            "role": ["husband", "wife"] * 6,
            "person_id": ["P_OLD", "P_WIDOW", "P_SAME_A", "P_WIDOW",
                          "P_FATHER", "P_MOTHER", "P_FATHER", "P_NEW_WIFE",
                          "P_SAME_B", "P_OLD_MOTHER", "P_SAME_B", None],
        }
    )  # fmt: skip
    persons = PERSONS.with_columns(
        pl.when(pl.col("person_id") == "P_OLD").then(pl.lit(date(2019, 1, 1))).alias("death_date")
    )
    visits = pl.DataFrame(schema={"person_id": pl.String, "visit_date": pl.Date})
    issues = consistency_issues(events, party, persons, visits)
    flagged = issues.filter(pl.col("rule") == "marriage.without_divorce")
    assert sorted(flagged.select("person_id", "event_id").rows()) == [
        ("P_FATHER", "kh:4"), ("P_SAME_B", "kh:6")
    ]  # fmt: skip


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


def test_a_death_registered_before_the_birth_the_register_knows_is_a_contradiction():
    # The registration gave no birth date (its own would have quarantined it): the register's.
    deaths = {"P_OLD": date(1930, 5, 1), "P_MOTHER": date(2024, 5, 1)}
    persons = PERSONS.with_columns(
        pl.col("person_id").replace_strict(deaths, default=None, return_dtype=pl.Date)
        .alias("death_date")
    )  # fmt: skip
    events = events_frame(
        [("kt:1", "death", deaths["P_OLD"]), ("kt:2", "death", deaths["P_MOTHER"])]
    )
    party = pl.DataFrame(
        {"event_id": ["kt:1", "kt:2"], "role": ["deceased"] * 2, "person_id": list(deaths)}
    )
    visits = pl.DataFrame(schema={"person_id": pl.String, "visit_date": pl.Date})
    issues = consistency_issues(events, party, persons, visits)
    born = dict(PERSONS.select("person_id", "birth_date").iter_rows())
    assert born["P_OLD"] > deaths["P_OLD"] and born["P_MOTHER"] < deaths["P_MOTHER"]
    assert issues.filter(pl.col("rule") == "life.death_before_birth").select(
        "person_id", "event_id"
    ).rows() == [("P_OLD", "kt:1")]


def test_one_death_registered_again_with_another_date_is_a_contradiction():
    # Two offices registered P_OLD's death; the first registration's date holds.
    events = events_frame(
        [("kt:1", "death", date(2019, 1, 1)), ("kt:2", "death", date(2018, 12, 20)),
         ("kt:3", "death", date(2019, 1, 1)), ("kt:4", "death", date(2024, 3, 3))]
    )  # fmt: skip
    events = events.with_columns(duplicate_of=pl.Series(values=[None, "kt:1", "kt:1", None]))
    party = pl.DataFrame(
        {"event_id": ["kt:1", "kt:2", "kt:3", "kt:4"], "role": ["deceased"] * 4,
         "person_id": ["P_OLD", "P_OLD", "P_OLD", "P_WIDOW"]}
    )  # fmt: skip
    persons = PERSONS.with_columns(pl.lit(None, dtype=pl.Date).alias("death_date"))
    visits = pl.DataFrame(schema={"person_id": pl.String, "visit_date": pl.Date})
    issues = consistency_issues(events, party, persons, visits)
    assert issues.filter(pl.col("rule") == "death.dates_disagree").select(
        "person_id", "event_id"
    ).rows() == [("P_OLD", "kt:2")]


def test_a_childs_id_that_is_a_parents_is_not_the_childs():
    # Copied from the mother's box: kept, the child would be a second person of her id.
    mother_id, child_id = "001195012345", "001225012345"
    births = std_rows("khai_sinh", [
        {"source_record_id": "KS1", "child_name": "Lê Minh An", "child_national_id": mother_id,
         "mother_name": "Lê Thị Hoa", "mother_national_id": mother_id},
        {"source_record_id": "KS2", "child_name": "Lê Minh Bảo", "child_national_id": child_id,
         "mother_name": "Lê Thị Hoa", "mother_national_id": mother_id},
    ])  # fmt: skip
    ids = party_records({"khai_sinh": births}).collect().select("source_record_id", "national_id")
    assert ids.sort("source_record_id").rows() == [
        ("KS1:child", None), ("KS1:mother", mother_id),
        ("KS2:child", child_id), ("KS2:mother", mother_id),
    ]  # fmt: skip


def test_a_birth_taken_for_one_child_registered_again_under_another_name_is_shown():
    # Twins given one id (or a child renamed) are one person to resolution: a clerk decides.
    # A slip in the name is the same child.
    events = events_frame(
        [("ks:1", "birth", date(2025, 10, 2)), ("ks:2", "birth", date(2025, 10, 2)),
         ("ks:3", "birth", date(2025, 10, 2)), ("ks:4", "birth", date(2025, 10, 2))]
    )  # fmt: skip
    events = events.with_columns(
        duplicate_of=pl.Series(values=[None, "ks:1", "ks:1", None]),
        subject_key=pl.Series(values=["do minh anh", "do minh khoa", "do minh ahn", "le van an"]),
    )
    party = pl.DataFrame(
        {"event_id": ["ks:1", "ks:2", "ks:3", "ks:4"], "role": ["child"] * 4,
         "person_id": ["P_ANH", "P_ANH", "P_ANH", "P_AN"]}
    )  # fmt: skip
    visits = pl.DataFrame(schema={"person_id": pl.String, "visit_date": pl.Date})
    persons = PERSONS.with_columns(pl.lit(None, dtype=pl.Date).alias("death_date"))
    issues = consistency_issues(events, party, persons, visits)
    assert issues.filter(pl.col("rule") == "birth.registered_again_renamed").select(
        "person_id", "event_id"
    ).rows() == [("P_ANH", "ks:2")]
