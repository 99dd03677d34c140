"""Resolution across schools, judicial requests and foreign elements: students without ids, a
parent's id on a child's record, names in either order, dual nationals, old and re-issued ids,
passports, and foreigners outside the register.

The made records are resolved among a generated population's records (every person source and
the parties of civil events) with the model learnt from that population, as a run learns it.
"""

from datetime import date

import polars as pl
import pytest
from test_resolve import frame, person

from dancu.contract import SOURCES
from dancu.link import party_records
from dancu.resolve import person_records
from dancu.resolve import resolve as resolve_alone
from dancu.resolve.blocking import candidate_pairs
from dancu.resolve.comparisons import compare
from dancu.resolve.model import train
from dancu.resolve.records import document_columns, features, keyed


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    """A generated population's records and the model learnt from them."""
    from dancu.generate import generate
    from dancu.ingest import read_source
    from dancu.standardize import standardize

    out = tmp_path_factory.mktemp("new_sources") / "sample"
    generate(persons=1_500, seed=13, out=out)
    std = {
        name: standardize(read_source(out / "landing", source)[0].lazy(), source)
        for name, source in SOURCES.items()
    }
    records = pl.concat([person_records(std), party_records(std)]).collect()
    prepared = features(keyed(records))
    pairs, _ = candidate_pairs(prepared)
    return records, train(prepared, compare(prepared, pairs))


@pytest.fixture
def resolve(population):
    """Resolution of made records among the population's."""
    records, model = population

    def among_population(made: pl.DataFrame):
        return resolve_alone(pl.concat([records, made.select(records.columns)]), model=model)

    return among_population


def persons_of(result) -> dict[str, str | None]:
    """`source:record id` -> person id."""
    records = result.records
    keys = records.select(pl.format("{}:{}", "source", "source_record_id")).to_series()
    return dict(zip(keys.to_list(), records["person_id"].to_list(), strict=True))


def household(**child_values) -> list[dict]:
    """A father and his daughter in the register (dan_cu and bhxh), each with an id of their
    own, and a sister born five years later: a family a school record must tell apart."""
    parents = {"father_name": "Phạm Văn Hùng", "mother_name": "Lê Thị Mai"}
    ward = {"ward_code": "00004", "address": "Số 12, phố Nghi Tàm, Phường Ba Đình"}
    return [
        person("F1", "Phạm Văn Hùng", national_id="001080012345", birth_date=date(1980, 2, 3),
               sex="M", **ward),
        person("C1", "Phạm Thu Hà", national_id="001314054321", birth_date=date(2014, 6, 9),
               sex="F", **parents, **ward),
        person("0000000001", "Phạm Thu Hà", "bhxh", national_id="001314054321",
               birth_date=date(2014, 6, 9), sex="F"),
        person("S1", "Phạm Thu Trang", national_id="001319098765", birth_date=date(2019, 1, 20),
               sex="F", **parents, **ward),
    ]  # fmt: skip


def student(record_id: str, full_name: str = "Phạm Thu Hà", **values) -> dict:
    defaults = {
        "birth_date": date(2014, 6, 9), "sex": "F", "father_name": "Phạm Văn Hùng",
        "mother_name": "Lê Thị Mai", "ward_code": "00004",
        "address": "Số 12, phố Nghi Tàm, Phường Ba Đình",
    }  # fmt: skip
    return person(record_id, full_name, "giao_duc", **(defaults | values))


def test_a_student_with_a_parents_id_joins_the_child_not_the_parent(resolve):
    result = resolve(frame(*household(), student("HS1", national_id="001080012345")))
    ids = persons_of(result)
    assert ids["giao_duc:HS1"] == ids["dan_cu:C1"]
    assert ids["giao_duc:HS1"] != ids["dan_cu:F1"]
    assert ids["giao_duc:HS1"] != ids["dan_cu:S1"]


def test_a_student_in_two_schools_is_one_person(resolve):
    result = resolve(
        frame(*household(), student("HS1"), student("HS2", "PHAM THU HA", ward_code="00008"))
    )
    ids = persons_of(result)
    assert ids["giao_duc:HS1"] == ids["giao_duc:HS2"] == ids["dan_cu:C1"]
    assert len({ids[f"dan_cu:{k}"] for k in ("F1", "C1", "S1")}) == 3


def test_twins_at_school_stay_apart(resolve):
    twins = [student("HS1"), student("HS2", "Phạm Thu Hằng"), student("HS3", "Phạm Hà Thu")]
    ids = persons_of(resolve(frame(*household(), *twins)))
    assert ids["giao_duc:HS1"] == ids["dan_cu:C1"]
    assert len({ids["giao_duc:HS1"], ids["giao_duc:HS2"], ids["giao_duc:HS3"]}) == 3


def test_namesake_students_of_other_parents_join_their_own_child(resolve):
    """Two boys of one family name born the same day in two wards, one with a middle name, each
    with his own id in the register, at school without it. Their parents share the family name
    and are other people: a school record joins the boy its parents are the parents of."""
    born = {"birth_date": date(2019, 4, 21), "sex": "M"}
    families = {
        "A": {"father_name": "Trần Đăng Mạnh", "mother_name": "Trần Thanh Lan",
              "ward_code": "09552", "address": "Số 121, ngõ 180, phố Hàng Bông"},
        "B": {"father_name": "Trần Anh Cảnh", "mother_name": "Trần Thị Hằng",
              "ward_code": "10402", "address": "Xóm 1, thôn Tân Phú"},
    }  # fmt: skip
    records = frame(
        person("CA", "Trần Thông", national_id="001219649970", **born, **families["A"]),
        person("CB", "Trần Thành Thông", national_id="001219771537", **born, **families["B"]),
        person("HA", "Trần Thông", "giao_duc", **born, **families["A"]),
        person("HB", "TRAN THANH THONG", "giao_duc", **born, **families["B"]),
    )
    ids = persons_of(resolve(records))
    assert ids["giao_duc:HA"] == ids["dan_cu:CA"]
    assert ids["giao_duc:HB"] == ids["dan_cu:CB"]
    assert ids["dan_cu:CA"] != ids["dan_cu:CB"]


def request(record_id: str, full_name: str, **values) -> dict:
    return person(record_id, full_name, "ly_lich_tu_phap", **values)


def test_a_korean_name_in_both_orders_is_one_person(resolve):
    korean = {"birth_date": date(1988, 4, 2), "sex": "M", "foreign": True,
              "passport": "M12345678", "passport_country": "KOR"}  # fmt: skip
    records = frame(
        request("TP1", "KIM MIN JUN", **korean),
        request("TP2", "Min-jun Kim", birth_date=date(1988, 4, 2), sex="M", foreign=True),
        request("TP3", "Kim Min Ho", birth_date=date(1990, 7, 7), sex="M", foreign=True),
    )
    ids = persons_of(resolve(records))
    assert ids["ly_lich_tu_phap:TP1"] == ids["ly_lich_tu_phap:TP2"]
    assert ids["ly_lich_tu_phap:TP1"] != ids["ly_lich_tu_phap:TP3"]


def test_vietnamese_names_in_another_order_are_not_reordered(resolve):
    # Twins Nguyễn Minh Anh and Nguyễn Anh Minh: the same words, two people.
    same = {"birth_date": date(2012, 5, 5), "sex": "M", "father_name": "Nguyễn Văn Tâm",
            "mother_name": "Đỗ Thị Lan", "ward_code": "00004"}  # fmt: skip
    records = frame(person("A", "Nguyễn Minh Anh", **same), person("B", "Nguyễn Anh Minh", **same))
    ids = persons_of(resolve(records))
    assert ids["dan_cu:A"] != ids["dan_cu:B"]


def test_a_dual_national_is_one_person_across_documents(resolve):
    # Registered as Vietnamese with a CCCD; a request with a Japanese passport, the same person.
    dual = {"birth_date": date(2001, 8, 30), "sex": "F", "father_name": "Bùi Văn Nam",
            "mother_name": "Sato Yuki"}  # fmt: skip
    records = frame(
        person("D1", "Bùi Thảo Hoa", national_id="001301234567", ward_code="00004", **dual),
        request(
            "TP1",
            "Bùi Thảo Hoa",
            passport="TR1234567",
            passport_country="JPN",
            foreign=True,
            **dual,
        ),
        request("TP2", "BUI THAO HOA", national_id="001301234567", **dual),
    )
    ids = persons_of(resolve(records))
    assert ids["dan_cu:D1"] == ids["ly_lich_tu_phap:TP1"] == ids["ly_lich_tu_phap:TP2"]


def test_cmnd_then_cccd_then_a_reissued_id_is_one_person(resolve):
    born = {"birth_date": date(1975, 1, 1), "sex": "M"}
    records = frame(
        # The register: the re-issued id, the one before it, and the old identity card.
        person("R1", "Trần Văn Bình", national_id="001075099999",
               previous_national_id="001075011111", cmnd="012345678", **born),
        # Insurance still holds the id before the re-issue; a clinic typed the name in capitals.
        person("0000000002", "Trần Văn Bình", "bhxh", national_id="001075011111", **born),
        person("BN1", "TRAN VAN BINH", "y_te", national_id="001075099999", **born),
        # Judicial requests made with the old card, and with the id before the re-issue.
        request("TP1", "Trần Văn Bình", cmnd="012345678", **born),
        request("TP2", "Trần Văn Bình", national_id="001075011111", **born),
        # Another man of the same name and year, with an id of his own.
        person("R2", "Trần Văn Bình", national_id="001075022222", birth_date=date(1975, 9, 9),
               sex="M"),
    )  # fmt: skip
    ids = persons_of(resolve(records))
    same = {ids[k] for k in ("dan_cu:R1", "bhxh:0000000002", "y_te:BN1",
                             "ly_lich_tu_phap:TP1", "ly_lich_tu_phap:TP2")}  # fmt: skip
    assert len(same) == 1
    assert ids["dan_cu:R2"] not in same


def test_a_request_of_a_foreigner_outside_the_register_is_nobody_in_it(resolve):
    register = frame(
        person("V1", "Lê Văn Minh", national_id="001085012345", birth_date=date(1985, 3, 3),
               sex="M", ward_code="00004"),
        person("V2", "Kim Thị Hoa", national_id="001190054321", birth_date=date(1990, 6, 6),
               sex="F", ward_code="00004", foreign=False, vietnamese=True),
    )  # fmt: skip
    foreigner = frame(
        request("TP1", "KIM HWA", birth_date=date(1990, 6, 6), sex="F", foreign=True,
                vietnamese=False,
                passport="M87654321", passport_country="KOR", ward_code="00004"),
    )  # fmt: skip
    ids = persons_of(resolve(pl.concat([register, foreigner])))
    assert ids["ly_lich_tu_phap:TP1"] not in {ids["dan_cu:V1"], ids["dan_cu:V2"]}


@pytest.mark.parametrize(
    ("document_type", "nationality", "vietnamese"),
    [
        ("identity_certificate", [], False),  # issued to those without nationality
        ("identity_certificate", ["VNM"], True),  # the nationality says otherwise: it is kept
        ("passport", [], None),  # a passport alone says no nationality
        ("passport", ["KOR"], False),
        ("passport", ["KOR", "VNM"], True),
    ],
)
def test_who_a_document_and_the_nationalities_say_is_vietnamese(
    document_type, nationality, vietnamese
):
    document = SOURCES["ly_lich_tu_phap"].documents[0]
    row = pl.DataFrame(
        {document.type: [document_type], document.number: ["001174119372"],
         document.nationality: [nationality], document.issuing_country: [None]},
        schema_overrides={document.nationality: pl.List(pl.String),
                          document.issuing_country: pl.String},
    )  # fmt: skip
    columns = document_columns(document, row.columns)
    assert row.select(columns["vietnamese"]).item() == vietnamese


def test_a_request_with_an_identity_certificate_is_not_a_citizen_of_its_name_and_birth_date(
    resolve,
):
    # The register's Phạm Thị Lan holds a personal id; the request's, of Vietnamese origin and
    # without nationality, an identity certificate: two women born the same day.
    born = {"birth_date": date(1974, 3, 3), "sex": "F"}
    records = frame(
        person("V1", "Phạm Thị Lan", national_id="008174792080", ward_code="09982",
               vietnamese=True, **born),
        request("TP1", "Phạm Thị Lan", vietnamese=False, ward_code="00256", **born),
    )  # fmt: skip
    ids = persons_of(resolve(records))
    assert ids["ly_lich_tu_phap:TP1"] != ids["dan_cu:V1"]


def marriage_and_birth() -> dict[str, pl.LazyFrame]:
    """A Korean husband with a passport and no personal id, married to a Vietnamese woman in
    the register, and their child's birth naming him by the same passport."""
    korean = {"nationality": ["KOR"], "document_type": "passport",
              "document_number": "M11112222", "issuing_country": "KOR"}  # fmt: skip
    lineage = {"file_name": "f.csv", "row_number": 1, "extract_date": date(2025, 1, 1),
               "reasons": [], "flags": []}  # fmt: skip
    marriage = pl.DataFrame([{
        "source_record_id": "KH1", "registration_date": date(2020, 5, 1),
        "husband_name": "Park Ji Hoon", "husband_name_key": "park ji hoon",
        "husband_birth_date": date(1985, 2, 2), "husband_birth_year": 1985,
        "husband_national_id": None,
        "wife_name": "Lê Thị Hồng", "wife_name_key": "le thi hong",
        "wife_birth_date": date(1990, 1, 1), "wife_birth_year": 1990,
        "wife_national_id": "001190011111",
        **{f"husband_{k}": v for k, v in korean.items()}, **lineage,
    }])  # fmt: skip
    birth = pl.DataFrame([{
        "source_record_id": "KS1", "registration_date": date(2022, 3, 9),
        "child_name": "Park Min Seo", "child_name_key": "park min seo",
        "birth_date": date(2022, 3, 1), "birth_year": 2022, "sex": "F",
        "nationality": ["VNM", "KOR"], "child_national_id": "001322033333",
        "mother_name": "Lê Thị Hồng", "mother_name_key": "le thi hong",
        "mother_birth_date": date(1990, 1, 1), "mother_birth_year": 1990,
        "mother_national_id": "001190011111",
        "father_name": "JI HOON PARK", "father_name_key": "ji hoon park",
        "father_birth_date": date(1985, 2, 2), "father_birth_year": 1985,
        "father_national_id": None,
        **{f"father_{k}": v for k, v in korean.items()}, **lineage,
    }])  # fmt: skip
    return {"ket_hon": marriage.lazy(), "khai_sinh": birth.lazy()}


def test_a_foreign_parent_links_to_his_marriage_and_never_to_a_vietnamese_person(resolve):
    register = frame(
        person("W1", "Lê Thị Hồng", national_id="001190011111", birth_date=date(1990, 1, 1),
               sex="F"),
        person("M1", "Phạm Gia Huy", national_id="001085044444", birth_date=date(1985, 2, 2),
               sex="M"),
    )  # fmt: skip
    parties = party_records(marriage_and_birth()).collect()
    records = pl.concat([register, parties.select(register.columns)])
    ids = persons_of(resolve(records))
    husband, father = ids["ket_hon:KH1:husband"], ids["khai_sinh:KS1:father"]
    assert husband is not None and husband == father
    assert husband not in {ids["dan_cu:W1"], ids["dan_cu:M1"]}
    assert ids["ket_hon:KH1:wife"] == ids["khai_sinh:KS1:mother"] == ids["dan_cu:W1"]
    assert ids["khai_sinh:KS1:child"] is not None


def marriage(record_id: str, husband: dict, wife: dict) -> pl.DataFrame:
    """A marriage of a French husband known by his passport alone and a Vietnamese wife."""
    french = {"nationality": ["FRA"], "document_type": "passport", "issuing_country": "FRA",
              "national_id": None}  # fmt: skip
    lineage = {"file_name": "f.csv", "row_number": 1, "extract_date": date(2025, 1, 1),
               "reasons": [], "flags": []}  # fmt: skip
    sides = {"husband": {**french, **husband}, "wife": wife}
    return pl.DataFrame([{
        "source_record_id": record_id, "registration_date": date(2021, 6, 1), **lineage,
        **{f"{role}_{field}": value for role, side in sides.items() for field, value in
           side.items()},
    }])  # fmt: skip


def test_two_foreigners_of_one_name_with_other_passports_and_birth_dates_stay_apart(resolve):
    """Two Frenchmen called Louis Leroy, born months apart in one year, each married here: their
    passports differ and so do their birth dates, so they are two people, as two citizens whose
    ids and birth dates differ are."""
    louis = {"name": "Louis Leroy", "name_key": "louis leroy", "birth_year": 1994}
    wives = [
        {"name": "Lê Thị Hồng", "name_key": "le thi hong", "birth_date": date(1995, 3, 3),
         "birth_year": 1995, "national_id": "001195011111"},
        {"name": "Trần Thị Mai", "name_key": "tran thi mai", "birth_date": date(1996, 4, 4),
         "birth_year": 1996, "national_id": "001196022222"},
    ]  # fmt: skip
    marriages = pl.concat([
        marriage("KH1", {**louis, "birth_date": date(1994, 1, 30), "document_number": "78AB75330"},
                 wives[0]),
        marriage("KH2", {**louis, "birth_date": date(1994, 5, 8), "document_number": "47AU64000"},
                 wives[1]),
    ], how="diagonal_relaxed")  # fmt: skip
    register = frame(person("W0", "Phạm Thị Lan", national_id="001190099999"))
    parties = party_records({"ket_hon": marriages.lazy()}).collect()
    ids = persons_of(resolve(pl.concat([register, parties.select(register.columns)])))
    first, second = ids["ket_hon:KH1:husband"], ids["ket_hon:KH2:husband"]
    assert first is not None and second is not None
    assert first != second
