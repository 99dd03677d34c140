"""Judicial-record requests (ly_lich_tu_phap): one CSV per month of reception.

A small share of the adults of the register request a judicial-record certificate each year (for
a job, a visa, a business licence), a few twice; so do most foreigners living in Hà Nội (a work
permit needs one) and some stateless residents. A request names its person as the Law on Judicial
Records asks: full name, other name, birth date and place, nationality, a document of any type,
parents' and spouse's names. The document is the CCCD mostly; an old CMND for some older adults,
the id before a re-issue for some, a passport (with its issuing country in `Nơi cấp`), or the
identity certificate of a stateless person. A foreign name is written as `foreign.written_name`
draws it, a Chinese one's other name may be its Vietnamese reading. `Án tích` is empty for most;
for a few it summarises a conviction.

Each request depends only on its person and the persons named as parents and spouse, so a run
ward by ward writes the same rows.
"""

import numpy as np
import polars as pl

from dancu import admin_units
from dancu.contract import REFORM_DATE
from dancu.generate import foreign
from dancu.generate.population import Population
from dancu.generate.records import (
    Placement,
    is_superseded,
    monthly_files,
    person_rows,
    random_dates,
    record_ids,
)

REQUEST_SHARE = 0.015  # of register adults per year
REPEAT_SHARE = 0.03  # of requests: the person asked again later in the year
NON_REGISTER_REQUEST_SHARE = 0.7  # of resident foreigners and stateless residents
ADULT_AGE = 18
SECOND_TYPE_SHARE = 0.2  # certificates of type 2 (full history, for the person's own use)
CONVICTION_SHARE = 0.02
CMND_SHARE = 0.4  # of requests by holders of an old CMND born before CMND_BORN_BEFORE
CMND_BORN_BEFORE = 1985
PASSPORT_SHARE = 0.4  # of requests by Vietnamese passport holders (going abroad)
PREVIOUS_ID_SHARE = 0.4  # of requests by persons whose id was re-issued
OTHER_NAME_SHARE = 0.02  # Vietnamese requesters with another name (a former or a nickname)
READING_AS_OTHER_NAME = 0.6  # Chinese and Taiwanese requesters: the Vietnamese reading
NEW_UNITS_AFTER_REFORM = 0.9

DOCUMENT_LABELS = {
    "national_id": ("CCCD", "cccd", "Căn cước công dân"),
    "cmnd": ("CMND", "cmnd", "Chứng minh nhân dân"),
    "previous_national_id": ("CCCD", "cccd"),
    "passport": foreign.PASSPORT_LABELS,
    "identity_certificate": ("Giấy chứng nhận căn cước", "GIẤY CHỨNG NHẬN CĂN CƯỚC",
                             "Giay chung nhan can cuoc"),
}  # fmt: skip
ID_CARD_ISSUER = "Cục Cảnh sát QLHC về TTXH"
CERTIFICATE_ISSUER = "Bộ Công an"
OTHER_NAMES = ("Tí", "Tèo", "Bống", "Cu", "Hoa", "Út")
CRIMES = (
    ("Trộm cắp tài sản", "173"), ("Cố ý gây thương tích", "134"), ("Đánh bạc", "321"),
    ("Lừa đảo chiếm đoạt tài sản", "174"), ("Vi phạm quy định về tham gia giao thông", "260"),
    ("Tàng trữ trái phép chất ma túy", "249"),
)  # fmt: skip
COURTS = ("TAND quận Đống Đa", "TAND quận Hoàng Mai", "TAND huyện Sóc Sơn", "TAND TP Hà Nội")


def ly_lich_tu_phap(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    rng = population.chunk.stream("place.ly_lich_tu_phap")
    as_of = population.as_of
    requests = _requesters(rng, people, population)
    requests = requests.with_columns(
        received_date=random_dates(
            rng,
            np.maximum(
                np.datetime64(population.window_start, "D"),
                requests["known_from"].to_numpy().astype("datetime64[D]"),
            ),
            requests["death_date"].fill_null(as_of).to_numpy().astype("datetime64[D]"),
            requests.height,
        )
    )
    requests = _named(rng, requests, people)
    requests = _documented(rng, requests)
    size = requests.height
    new_units = pl.lit(pl.Series(rng.random(size) < NEW_UNITS_AFTER_REFORM))
    rows = requests.with_columns(
        source_record_id=record_ids(rng, "TP", size, 8, population.chunk.share),
        extract_date=pl.min_horizontal(pl.col("received_date").dt.month_end(), pl.lit(as_of)),
        scheme=pl.when((pl.col("received_date") >= REFORM_DATE) & new_units)
        .then(pl.lit("new"))
        .otherwise(pl.lit("old")),
        certificate_type=pl.Series(np.where(rng.random(size) < SECOND_TYPE_SHARE, "2", "1")),
        convictions=_convictions(rng, size),
        superseded=pl.lit(False),
        family_national_id=pl.lit(None, dtype=pl.String),
    ).with_columns(file_key=pl.col("extract_date").dt.strftime("%Y%m%d"))
    rows = rows.with_columns(superseded=is_superseded())
    extra = ["received_date", "certificate_type", "other_name", "birth_place", "nationality",
             "document_type", "document_number", "document_kind", "true_document_number",
             "family_document_number",
             "issued_by", "father_name", "mother_name", "spouse_name", "convictions"]  # fmt: skip
    return Placement(monthly_files(as_of), person_rows(rows, extra))


def _requesters(rng: np.random.Generator, people: pl.DataFrame, population: Population):
    """One row per request: register adults at `REQUEST_SHARE` (a few twice), and most
    residents outside the register."""
    adult = (population.as_of.year - pl.col("birth_year")) >= ADULT_AGE
    alive_then = pl.col("death_date").is_null() | (pl.col("death_date") > population.window_start)
    register = people.filter(pl.col("in_register"), adult, alive_then)
    register = register.filter(pl.Series(rng.random(register.height) < REQUEST_SHARE))
    again = register.filter(pl.Series(rng.random(register.height) < REPEAT_SHARE))
    outside = people.filter(pl.col("origin").is_in(["resident_foreigner", "stateless"]), adult)
    outside = outside.filter(pl.Series(rng.random(outside.height) < NON_REGISTER_REQUEST_SHARE))
    return pl.concat([register, again, outside])


def _named(rng: np.random.Generator, requests: pl.DataFrame, people: pl.DataFrame):
    """The names a request carries: the person's (a foreigner's as written), another name for a
    few, the birth place, the spouse's name."""
    size = requests.height
    is_foreign = pl.col("passport_country").is_not_null() & (pl.col("nationality_code") != "VNM")
    written = foreign.written_name("", pl.Series(rng.random(size)))
    nickname = pl.lit(pl.Series(np.asarray(OTHER_NAMES)[rng.integers(0, len(OTHER_NAMES), size)]))
    other = (
        pl.when(is_foreign & pl.lit(pl.Series(rng.random(size) < READING_AS_OTHER_NAME)))
        .then("vietnamese_reading")
        .when(~is_foreign & pl.lit(pl.Series(rng.random(size) < OTHER_NAME_SHARE)))
        .then(nickname)
    )
    provinces = (
        admin_units.old_wards()
        .select(code=pl.col("old_province_code").cast(pl.Int64), name="old_province_name")
        .unique("code")
    )
    province = pl.col("national_id").str.slice(0, 3).cast(pl.Int64, strict=False)
    birth_place = province.replace_strict(provinces["code"], provinces["name"], default=None)
    country_name = foreign.vietnamese_names(requests["nationalities"])
    spouses = people.select(spouse_key="person_key", spouse_name="full_name")
    return requests.join(spouses, on="spouse_key", how="left", maintain_order="left").with_columns(
        full_name=pl.when(is_foreign).then(written).otherwise("full_name"),
        other_name=other,
        birth_place=pl.when(is_foreign).then(pl.lit(country_name)).otherwise(birth_place),
        nationality=foreign.nationality_text(rng, requests["nationalities"]),
    )


def _documented(rng: np.random.Generator, requests: pl.DataFrame) -> pl.DataFrame:
    """The document each request shows (`document_kind` in the contract's document types) and
    how it is written: type label, number, issuer."""
    size = requests.height
    u = [pl.lit(pl.Series(rng.random(size))) for _ in range(4)]
    label_pick = rng.integers(0, 3, size)
    is_foreign = pl.col("nationality_code") != "VNM"
    kind = (
        pl.when(pl.col("identity_certificate").is_not_null())
        .then(pl.lit("identity_certificate"))
        .when(is_foreign & pl.col("passport_number").is_not_null())
        .then(pl.lit("passport"))
        .when(
            pl.col("cmnd").is_not_null()
            & (pl.col("birth_year") < CMND_BORN_BEFORE)
            & (u[0] < CMND_SHARE)
        )
        .then(pl.lit("cmnd"))
        .when(pl.col("passport_number").is_not_null() & (u[1] < PASSPORT_SHARE))
        .then(pl.lit("passport"))
        .when(pl.col("previous_national_id").is_not_null() & (u[2] < PREVIOUS_ID_SHARE))
        .then(pl.lit("previous_national_id"))
        .otherwise(pl.lit("national_id"))
    )
    requests = requests.with_columns(document_kind=kind)
    label = pl.lit(None, dtype=pl.String)
    value = pl.lit(None, dtype=pl.String)
    source_column = {
        "national_id": "national_id", "cmnd": "cmnd", "previous_national_id":
        "previous_national_id", "passport": "passport_number",
        "identity_certificate": "identity_certificate",
    }  # fmt: skip
    for document, labels in DOCUMENT_LABELS.items():
        chosen = np.asarray(labels)[label_pick % len(labels)]
        is_it = pl.col("document_kind") == document
        label = pl.when(is_it).then(pl.lit(pl.Series(chosen))).otherwise(label)
        value = pl.when(is_it).then(pl.col(source_column[document])).otherwise(value)
    issuing = foreign.nationality_text(
        rng, requests.select(pl.concat_list(pl.col("passport_country"))).to_series()
    )
    cmnd_issuer = "Công an " + pl.col("birth_place_issuer")
    issuer = (
        pl.when(pl.col("document_kind") == "passport")
        .then(pl.lit(issuing))
        .when(pl.col("document_kind") == "cmnd")
        .then(cmnd_issuer)
        .when(pl.col("document_kind") == "identity_certificate")
        .then(pl.lit(CERTIFICATE_ISSUER))
        .otherwise(pl.lit(ID_CARD_ISSUER))
    )
    return (
        requests.with_columns(
            document_type=label,
            document_number=value,
            birth_place_issuer=pl.coalesce("birth_place", pl.lit("Hà Nội")),
        )
        .with_columns(
            issued_by=issuer,
            true_document_number=pl.col("document_number"),
            family_document_number=pl.lit(None, dtype=pl.String),
        )
        .drop("birth_place_issuer")
    )


def _convictions(rng: np.random.Generator, size: int) -> pl.Series:
    """A short summary of a conviction for a few requests, empty for the others."""
    crime = rng.integers(0, len(CRIMES), size)
    names_, articles = (np.asarray(x) for x in zip(*CRIMES, strict=True))
    text = pl.format(
        "{}/{}/HS-ST {}: {} tháng tù về tội {} (Điều {} BLHS)",
        pl.lit(pl.Series(rng.integers(1, 400, size))),
        pl.lit(pl.Series(rng.integers(2008, 2024, size))),
        pl.lit(pl.Series(np.asarray(COURTS)[rng.integers(0, len(COURTS), size)])),
        pl.lit(pl.Series(rng.integers(6, 37, size))),
        pl.lit(pl.Series(names_[crime])),
        pl.lit(pl.Series(articles[crime])),
    )
    convicted = pl.lit(pl.Series(rng.random(size) < CONVICTION_SHARE))
    return pl.select(pl.when(convicted).then(text)).to_series().alias("convictions")
