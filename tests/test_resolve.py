"""Resolution: blocking, the model, clusters, clerk decisions, stable ids, determinism and
masked explanations (comparison levels: test_comparisons.py)."""

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.resolve import resolve
from dancu.resolve.blocking import BY_CLERK, PASSES, candidate_pairs, pairs_in_runs
from dancu.resolve.clusters import cluster, components
from dancu.resolve.comparisons import COMPARISONS, compare
from dancu.resolve.decisions import MATCH, REVIEW, clerk_pairs, clusters_told_apart, decide
from dancu.resolve.explain import explain
from dancu.resolve.golden import GOLDEN_FIELDS, golden_records
from dancu.resolve.ids import assign_ids
from dancu.resolve.model import anchored_m, score, train_m
from dancu.resolve.records import COLUMNS, by_source, features, keyed, keyed_to_disk
from dancu.text import fold

BY_NAME = {c.name: c for c in COMPARISONS}


def person(record_id: str, full_name: str, source: str = "dan_cu", **values) -> dict:
    return {"source": source, "source_record_id": record_id, "full_name": full_name, **values}


def frame(*rows: dict) -> pl.DataFrame:
    """Person records in the input shape, missing columns null."""
    filled = [{c: row.get(c) for c in COLUMNS} for row in rows]
    records = pl.DataFrame(filled, schema=COLUMNS, orient="row")
    return records.with_columns(fold(pl.col("full_name")).alias("full_name_key")).with_columns(
        pl.coalesce(pl.col("birth_year"), pl.col("birth_date").dt.year().cast(pl.Int32))
    )


def test_blocking_never_pairs_on_family_name_alone():
    assert all(p.keys not in (("family",), ("family_canon",)) for p in PASSES)
    nguyens = frame(
        *(
            person(f"r{k}", f"Nguyễn Văn {given}", birth_date=date(1950 + k, 1 + k % 12, 1))
            for k, given in enumerate(["An", "Bình", "Cường", "Dũng", "Hùng", "Minh"])
        )
    )
    pairs, counts = candidate_pairs(features(keyed(nguyens)))
    assert pairs.height == 0
    assert set(counts["pass"]) == {p.name for p in PASSES}


def test_blocking_caps_pathological_blocks():
    shared = frame(
        *(person(f"r{k}", f"Trần Văn A{k:03d}", phone="+84900000000") for k in range(60))
    )
    _, counts = candidate_pairs(features(keyed(shared)))
    phone = counts.filter(pl.col("pass") == "phone").row(0, named=True)
    assert phone["pairs"] == 0
    assert phone["blocks_skipped"] == 1
    assert phone["records_in_skipped_blocks"] == 60


@given(st.lists(st.integers(0, 6), max_size=40), st.integers(2, 5))
def test_pairs_in_runs_are_every_pair_sharing_a_label_in_small_runs(labels, max_size):
    labels = np.sort(np.array(labels, dtype=np.uint64))
    nodes = np.arange(len(labels), dtype=np.uint32)
    left, right, runs = pairs_in_runs(labels, nodes, max_size)
    sizes = np.bincount(labels.astype(np.int64)) if len(labels) else np.array([])
    expected = {
        (i, j)
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if labels[i] == labels[j] and sizes[labels[i]] <= max_size
    }
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == sorted(expected)
    assert sorted(runs.tolist()) == sorted(n for n in sizes.tolist() if n)


def test_blocking_wants_records_in_key_order():
    records = features(keyed(frame(person("r1", "Lê Văn An"), person("r2", "Lê Văn An"))))
    with pytest.raises(ValueError, match="record-key order"):
        candidate_pairs(records.reverse())


HOUSE = "Số 12, ngõ 34, phố Huế, Phường Hai Bà Trưng, Thành phố Hà Nội"


@pytest.mark.parametrize(
    ("left", "right", "found_by"),
    [
        # A wrong birth year and a slip in the given name, in another source without a ward:
        # only the house is left to find the pair.
        (
            person("a", "Nguyễn Văn Hưởng", birth_date=date(1985, 3, 14), address=HOUSE,
                   ward_code="00001"),
            person("b", "Nguyễn Văn Hưogn", source="bhxh", birth_date=date(1958, 3, 14),
                   address=HOUSE.replace("Phường Hai Bà Trưng", "Quận Hai Bà Trưng")),
            "house+alike_given",
        ),
        # Family and given name swapped, with a slip, at two addresses.
        (
            person("a", "Trần Thị Thu Hà", birth_date=date(1990, 5, 12), address=HOUSE),
            person("b", "Hà Thị Thu Trầm", source="y_te", birth_date=date(1990, 5, 12),
                   address="Thôn Đình, Xã Kim An, Thành phố Hà Nội"),
            "birth_date+initials+alike_names",
        ),
        # Housemates with other given names are no candidates, nor are two people born the
        # same day with the same initials and other names.
        (
            person("a", "Nguyễn Văn Nam", birth_date=date(1960, 1, 2), address=HOUSE),
            person("b", "Nguyễn Thị Lan", birth_date=date(1962, 7, 9), address=HOUSE),
            None,
        ),
        (
            person("a", "Lê Văn Hùng", birth_date=date(1971, 4, 4)),
            person("b", "Hà Minh Lực", birth_date=date(1971, 4, 4)),
            None,
        ),
        # A wrong birth date: the same name in the same ward finds it while an id is unknown,
        # not between namesakes whose national ids differ.
        (
            person("a", "Phạm Thị Huyền", birth_date=date(1979, 8, 21), ward_code="00004",
                   national_id="001179012345"),
            person("b", "Phạm Thị Huyền", source="y_te", birth_date=date(1997, 2, 8),
                   ward_code="00004"),
            "full_name+ward",
        ),
        (
            person("a", "Phạm Thị Huyền", birth_date=date(1979, 8, 21), ward_code="00004",
                   national_id="001179012345"),
            person("b", "Phạm Thị Huyền", birth_date=date(1997, 2, 8), ward_code="00004",
                   national_id="001197054321"),
            None,
        ),
        # Ids that differ by a slip, or of which one is another generation's (a parent's id on
        # a child's record), do not tell the records apart: the pair is kept.
        (
            person("a", "Phạm Thị Huyền", birth_date=date(1979, 8, 21), ward_code="00004",
                   national_id="001179012345"),
            person("b", "Phạm Thị Huyền", source="bhxh", birth_date=date(1997, 2, 8),
                   ward_code="00004", national_id="001179012354"),
            "full_name+ward",
        ),
        (
            person("a", "Lê Văn An", birth_date=date(2015, 3, 1), ward_code="00004",
                   national_id="001215054321"),
            person("b", "Lê Văn An", source="y_te", birth_date=date(2016, 3, 1),
                   ward_code="00004", national_id="001065012345"),
            "full_name+ward",
        ),
        # Two ids that differ, with one birth date: an id typed twice wrong, or a re-issued one.
        (
            person("a", "Phạm Thị Huyền", birth_date=date(1979, 8, 21), ward_code="00004",
                   national_id="001179012345"),
            person("b", "Phạm Thị Huyền", source="y_te", birth_date=date(1979, 8, 21),
                   ward_code="00004", national_id="001179099999"),
            "birth_date+given",
        ),
        # A record without a birth date, in another ward: a name few people have finds it,
        # in either order; not a namesake born another day.
        (
            person("a", "Trịnh Khắc Diệp", birth_date=date(1968, 1, 19), ward_code="00001"),
            person("b", "Diệp Trịnh Khắc", source="y_te", ward_code="00002"),
            "rare_name+unknown_birth",
        ),
        (
            person("a", "Trịnh Khắc Diệp", birth_date=date(1968, 1, 19), ward_code="00001"),
            person("b", "Trịnh Khắc Diệp", birth_date=date(1946, 7, 12), ward_code="00002"),
            None,
        ),
        (
            person("a", "Trịnh Khắc Diệp", birth_date=date(1968, 1, 19), ward_code="00001",
                   national_id="001068012345"),
            person("b", "Trịnh Khắc Diệp", source="y_te", ward_code="00002",
                   national_id="001046054321"),
            None,
        ),
        # No birth date and a slip in the given name: the family name in the ward.
        (
            person("a", "Lê Văn Hưởng", birth_date=date(1985, 3, 14), ward_code="00004"),
            person("b", "Lê Văn Hưogn", source="bhxh", ward_code="00004"),
            "family+ward+alike_given",
        ),
        # Names replaced and the ward mistyped: the birth date in the house.
        (
            person("a", "Nguyễn Văn Nam", birth_date=date(1960, 1, 2), address=HOUSE,
                   ward_code="00001"),
            person("b", "Trần Quốc Bảo", source="y_te", birth_date=date(1960, 1, 2),
                   address=HOUSE, ward_code="00002"),
            "birth_date+house",
        ),
    ],
)  # fmt: skip
def test_blocking_finds_a_person_through_a_typo_a_wrong_date_or_swapped_names(
    left, right, found_by
):
    pairs, _ = candidate_pairs(features(keyed(frame(left, right))))
    assert pairs["blocked_by"].to_list() == ([found_by] if found_by else [])


def level(comparison: str, label: str) -> int:
    return BY_NAME[comparison].labels.index(label)


def test_em_on_duplicates_only_takes_them_for_matches():
    # Every blocked pair is one person (a deduplicated list's duplicates, as in FEBRL): the
    # non-match class has nothing to learn and must not split the matches in two.
    by_name = {c: BY_NAME[c] for c in ("given_name", "family_name", "birth_date")}
    rng = np.random.default_rng(0)
    n = 2000
    shown = {
        "given_name": (["same", "one letter slip", "different"], [0.7, 0.1, 0.2]),
        "family_name": (["same", "similar", "different"], [0.7, 0.15, 0.15]),
        "birth_date": (["same", "different"], [0.9, 0.1]),
    }
    levels = pl.DataFrame(
        {
            name: rng.choice([level(name, label) for label in labels], n, p=shares)
            for name, (labels, shares) in shown.items()
        },
        schema={name: pl.Int8 for name in by_name},
    )

    def random_pairs_show(comparison: str, agree: float) -> np.ndarray:
        """u: random pairs mostly at "different", the rest spread over the other levels."""
        size = len(BY_NAME[comparison].labels)
        u = np.full(size, agree / (size - 1))
        u[level(comparison, "different")] = 1 - agree
        return u

    u = {name: random_pairs_show(name, 0.01) for name in by_name}
    m, share = train_m(levels, u, list(by_name.values()))
    assert share > 0.99
    assert m["given_name"][level("given_name", "different")] == pytest.approx(0.2, abs=0.03)


@pytest.fixture(scope="module")
def generated_records(tmp_path_factory) -> pl.DataFrame:
    """Person records of a small generated population, standardised as the pipeline does."""
    from dancu.contract import SOURCES
    from dancu.generate import generate
    from dancu.ingest import read_source
    from dancu.resolve import person_records
    from dancu.standardize import standardize

    out = tmp_path_factory.mktemp("resolve") / "sample"
    generate(persons=600, seed=3, out=out)
    std = {
        name: standardize(read_source(out / "landing", SOURCES[name])[0].lazy(), SOURCES[name])
        for name in ("dan_cu", "bhxh", "y_te")
    }
    return person_records(std).collect()


@pytest.fixture(scope="module")
def generated(generated_records):
    return resolve(generated_records, run="r1")


def test_records_sorted_on_disk_are_keyed_as_in_memory(generated_records, tmp_path):
    shuffled = generated_records.sample(fraction=1.0, shuffle=True, seed=5)
    keyed_to_disk(shuffled.lazy(), tmp_path / "records.parquet", tmp_path)
    on_disk = pl.read_parquet(tmp_path / "records.parquet")
    assert on_disk.equals(keyed(generated_records))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.parquet"]


@pytest.mark.parametrize("on_disk", [False, True])
def test_features_computed_in_chunks_are_those_computed_at_once(
    generated_records, tmp_path, on_disk
):
    records = keyed(generated_records)
    whole = features(records)
    # a prime: the last chunk is a short one
    chunked = features(records, rows=97, spill=tmp_path if on_disk else None)
    value_ids = ["address_key_id", "father_key_id", "mother_key_id"]
    assert chunked.drop(value_ids).equals(whole.drop(value_ids))
    assert set(chunked.n_chunks("all")) == {1}  # gathered from as fast as the whole
    # On disk: a file per column, mapped; the chunks' own files are gone.
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".arrow"] * whole.width * on_disk
    # Numbered in no particular order, but one number a value, across chunks too.
    for value_id in value_ids:
        value = value_id.removesuffix("_id")
        ids = chunked.select(value_id, value).unique()
        assert ids[value_id].is_unique().all()
        assert chunked[value_id].n_unique() == whole[value_id].n_unique()


def test_within_a_tiny_memory_limit_pairs_wait_on_disk_in_chunks_and_resolve_as_in_one(
    generated, generated_records, monkeypatch, limit
):
    import dancu.resolve
    import dancu.resolve.records
    from dancu.memory import CHUNK_SHARE
    from dancu.resolve.comparisons import PAIR_BYTES, compare_to_disk

    chunk, pairs_chunk = 97, 499  # primes: the last chunk is a short one
    assert generated.pairs.height > 2 * pairs_chunk
    limit(str(int(pairs_chunk * PAIR_BYTES / CHUNK_SHARE)))
    written = []

    def counted(*args):
        written.extend(compare_to_disk(*args))
        return written

    monkeypatch.setattr(dancu.resolve, "compare_to_disk", counted)
    monkeypatch.setattr(dancu.resolve.records, "FEATURE_ROWS", chunk)
    chunked = resolve(generated_records, run="r1")

    assert len(written) == -(-generated.pairs.height // pairs_chunk)
    assert not any(path.exists() for path in written)  # gone with the run's spill folder
    assert chunked.pairs.equals(generated.pairs)
    assert chunked.records.equals(generated.records)
    assert chunked.persons.equals(generated.persons)
    assert chunked.review_queue.equals(generated.review_queue)


def test_a_memory_limit_sizes_the_records_and_pairs_that_resolution_holds_at_once(limit):
    from dancu.resolve.comparisons import CHUNK, pairs_at_once
    from dancu.resolve.records import FEATURE_ROWS, records_at_once

    limit("64GB")  # room for the largest chunks, the fastest
    assert (records_at_once(), pairs_at_once()) == (FEATURE_ROWS, CHUNK)
    limit("2GB")  # a quarter of it each: some 800 bytes a record, 2,000 a pair
    assert (records_at_once(), pairs_at_once()) == (625_000, 250_000)


def test_records_keep_the_columns_asked_for_and_the_rest_of_the_resolution_is_unchanged(
    generated_records,
):
    # Registered again without id or phone, a year off, and their ids lost everywhere: some
    # pairs wait for a clerk (clusters that hold ids that cannot meet would not).
    first = generated_records.filter(pl.col("source") == "dan_cu").sort("source_record_id").head(40)
    without_id = pl.lit(None, pl.String).alias("national_id")
    again = first.with_columns(
        pl.col("source_record_id") + "X",
        without_id,
        pl.lit(None, pl.String).alias("phone"),
        pl.col("birth_date").dt.offset_by("1y"),
        pl.col("birth_year") + 1,
    )
    lost = pl.col("national_id").is_in(first["national_id"].drop_nulls().implode())
    records = pl.concat(
        [generated_records.with_columns(pl.when(lost).then(without_id).otherwise("national_id")),
         again]
    )  # fmt: skip
    whole = resolve(records, run="r1")
    lean = resolve(records, run="r1", columns=["source", "source_record_id"])
    resolved = ["person_id", "match_rule", "match_weight"]
    assert lean.records.columns == ["rk", "source", "source_record_id", *resolved]
    assert lean.records.equals(whole.records.select(lean.records.columns))
    assert lean.persons.equals(whole.persons)
    assert whole.review_queue.height > 0
    assert lean.review_queue.equals(whole.review_queue)


@pytest.mark.parametrize("sources", [["y_te", "dan_cu"], ["bhxh"], ["giao_duc", "dan_cu"], []])
def test_records_by_source_are_those_filtered_and_sorted(generated, sources):
    records = generated.records
    expected = records.filter(pl.col("source").is_in(sources)).sort("source", "source_record_id")
    assert by_source(records, sources).equals(expected)


def test_model_learns_sensible_m_and_u(generated):
    params = generated.model.parameters

    def weight(comparison: str, label: str) -> float:
        row = params.filter((pl.col("comparison") == comparison) & (pl.col("label") == label))
        return row["weight"][0]

    assert weight("national_id", "same") > 8
    assert weight("national_id", "different") < -5
    assert weight("birth_date", "same") > weight("birth_date", "year only, same year") > 0
    assert weight("birth_date", "different") < -5
    # A shared given name says more than a shared family name.
    assert weight("given_name", "same") > weight("family_name", "same") > 0
    assert 0 < generated.model.prior < 0.01


def test_rare_given_name_weighs_more_than_common(generated):
    tf = generated.model.tf["given_name"]
    common = tf.sort("tf", descending=True)["value"][0]
    rare = tf.sort("tf")["value"][0]
    records = frame(
        person("a", f"Lê Văn {common}"), person("b", f"Lê Văn {common}"),
        person("c", f"Lê Văn {rare}"), person("d", f"Lê Văn {rare}"),
    )  # fmt: skip
    prepared = features(keyed(records))
    pairs = pl.DataFrame(
        {"left": [0, 2], "right": [1, 3]}, schema={"left": pl.UInt32, "right": pl.UInt32}
    )
    scored = score(prepared, compare(prepared, pairs), generated.model)
    assert scored["w:given_name"][1] > scored["w:given_name"][0]


def test_every_record_gets_one_person_with_a_golden_record(generated, generated_records):
    truth = generated.records.join(
        generated_records.select("source", "source_record_id"), on=["source", "source_record_id"]
    )
    assert truth.height == generated_records.height
    persons = generated.persons
    assert persons.height == generated.records["person_id"].n_unique()
    assert set(persons["full_name_source"].drop_nulls()) <= {"dan_cu", "bhxh", "y_te"}


def test_golden_records_mapped_from_a_folder_are_those_made_in_memory(
    generated, generated_records, tmp_path
):
    with_persons = keyed(generated_records).join(
        generated.records.select("rk", "person_id"), on="rk", maintain_order="left"
    )
    in_memory = golden_records(with_persons)
    assert golden_records(with_persons, spill=tmp_path).equals(in_memory)
    assert in_memory.equals(generated.persons)
    # A file per field gathered, and one for its source (person ids and the marital status's
    # date besides)
    assert len(list(tmp_path.glob("*.arrow"))) == 2 * (len(GOLDEN_FIELDS) + 1) + 2


def golden(*records: dict) -> pl.DataFrame:
    """`golden_records` of records given as (person_id, source, extract_date, and fields), their
    `rk` their position."""
    schema = {"person_id": pl.String, "source": pl.String, "extract_date": pl.Date,
              "birth_year": pl.Int32, "birth_date": pl.Date}  # fmt: skip
    schema |= {f: pl.String for f in GOLDEN_FIELDS if f not in schema}
    rows = [{c: r.get(c) for c in schema} for r in records]
    frame = pl.DataFrame(rows, schema=schema, orient="row").with_row_index("rk")
    return golden_records(frame.with_columns(pl.col("rk").cast(pl.UInt32)))


DAY_1, DAY_2 = date(2026, 1, 5), date(2026, 2, 5)


@pytest.mark.parametrize(
    ("records", "field", "value", "source"),
    [
        # The register outranks insurance, even with an older extract.
        ([{"source": "bhxh", "extract_date": DAY_2, "full_name": "Lê Văn An"},
          {"source": "dan_cu", "extract_date": DAY_1, "full_name": "Lê Văn Ân"}],
         "full_name", "Lê Văn Ân", "dan_cu"),
        # A field the best record lacks comes from the next record that has it.
        ([{"source": "dan_cu", "extract_date": DAY_1, "full_name": "Lê Văn Ân"},
          {"source": "y_te", "extract_date": DAY_1, "phone": "0912345678"}],
         "phone", "0912345678", "y_te"),
        # Within a source, the later extract.
        ([{"source": "dan_cu", "extract_date": DAY_1, "address": "Số 1 Hàng Bài"},
          {"source": "dan_cu", "extract_date": DAY_2, "address": "Số 9 Kim Mã"}],
         "address", "Số 9 Kim Mã", "dan_cu"),
        # A record without an extract date comes after one with.
        ([{"source": "dan_cu", "address": "Số 1 Hàng Bài"},
          {"source": "dan_cu", "extract_date": DAY_1, "address": "Số 9 Kim Mã"}],
         "address", "Số 9 Kim Mã", "dan_cu"),
        # Same extract: the more complete record.
        ([{"source": "bhxh", "extract_date": DAY_1, "sex": "Nam"},
          {"source": "bhxh", "extract_date": DAY_1, "sex": "Nữ", "phone": "0912345678"}],
         "sex", "Nữ", "bhxh"),
        # Ties everywhere else: the first record in canonical order.
        ([{"source": "bhxh", "extract_date": DAY_1, "sex": "Nam"},
          {"source": "bhxh", "extract_date": DAY_1, "sex": "Nữ"}],
         "sex", "Nam", "bhxh"),
    ],
)  # fmt: skip
def test_golden_field_follows_the_stated_rule(records, field, value, source):
    person = golden(*({"person_id": "P00000000000000A"} | r for r in records))
    assert person.select(field, f"{field}_source").row(0) == (value, source)
    assert person["record_count"].to_list() == [len(records)]


def test_golden_records_one_per_person_in_id_order():
    persons = golden(
        {"person_id": "P00000000000000F", "source": "dan_cu", "extract_date": DAY_1},
        {"person_id": "P00000000000000B", "source": "y_te", "extract_date": DAY_1,
         "marital_status": "Đã kết hôn", "birth_year": 1990},
        {"person_id": "P00000000000000F", "source": "bhxh", "extract_date": DAY_2,
         "birth_date": date(1985, 3, 1), "birth_year": 1985},
    )  # fmt: skip
    assert persons.select("person_id", "record_count", "primary_source", "birth_year").rows() == [
        ("P00000000000000B", 1, "y_te", 1990),
        ("P00000000000000F", 2, "dan_cu", 1985),
    ]
    assert persons["marital_status_as_of"].to_list() == [DAY_1, None]


Pair = tuple[int, int]


def scored(links: dict[Pair, tuple[float, dict[str, str]]]) -> pl.DataFrame:
    """Pairs as `score` gives them: each pair's `match_weight`, the levels named by label (the
    others null) and the field weights (the given name's weighs `match_weight`, the others 0)."""
    rows = [
        {
            "left": left,
            "right": right,
            "match_weight": weight,
            "w:given_name": weight,
            **{c.name: level(c.name, labels[c.name]) if c.name in labels else None
               for c in COMPARISONS},
        }
        for (left, right), (weight, labels) in links.items()
    ]  # fmt: skip
    schema = {"left": pl.UInt32, "right": pl.UInt32, "match_weight": pl.Float64,
              "w:given_name": pl.Float64} | {c.name: pl.Int8 for c in COMPARISONS}  # fmt: skip
    weights = [pl.lit(0.0).alias(f"w:{c.name}") for c in COMPARISONS if c.name != "given_name"]
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(weights)


def decided_pairs(links: dict[Pair, tuple[float, dict[str, str]]], clerk=None) -> pl.DataFrame:
    clerk = clerk if clerk is not None else pl.DataFrame(
        schema={"left": pl.UInt32, "right": pl.UInt32, "clerk": pl.String}
    )  # fmt: skip
    return decide(scored(links), clerk)


def scorer(links: dict[Pair, tuple[float, dict[str, str]]]):
    """`score_pairs` for `cluster`: the pairs asked for, scored as `links` says (weight 0 and
    no level for a pair it does not name)."""

    def score_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
        asked = {pair: links.get(pair, (0.0, {})) for pair in pairs.select("left", "right").rows()}
        return scored(asked)

    return score_pairs


def test_components_follow_links():
    labels = components(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert labels.tolist() == [0, 0, 0, 3, 4, 4]


def test_clusters_do_not_chain_through_a_weak_link():
    # A~B strong, B~C just above the match threshold, A and C clearly different persons.
    links = {(0, 1): (20.0, {}), (1, 2): (MATCH + 0.5, {}), (0, 2): (REVIEW - 10, {})}
    labels, cut = cluster(3, decided_pairs(links), scorer(links))
    assert labels.to_list() == [0, 0, 2]
    assert cut.select("left", "right", "reason").rows() == [
        (1, 2, "clear non-match inside the cluster")
    ]


def test_a_record_unlike_one_of_its_person_stays_with_the_rest():
    # D is clearly unlike B (two corruptions), but like A and C: on balance it is their person.
    links = {
        (0, 1): (20.0, {}), (0, 2): (20.0, {}), (1, 2): (20.0, {}),
        (0, 3): (12.0, {}), (2, 3): (12.0, {}), (1, 3): (REVIEW - 2, {}),
    }  # fmt: skip
    labels, cut = cluster(4, decided_pairs(links), scorer(links))
    assert labels.to_list() == [0, 0, 0, 0]
    assert cut.height == 0


TWO_PEOPLE_LEVELS = {"national_id": "different", "given_name": "different"}


def test_a_cluster_holding_two_people_is_split():
    links = {(0, 1): (15.0, {}), (1, 2): (8.0, {}), (0, 2): (2.0, TWO_PEOPLE_LEVELS)}
    labels, cut = cluster(3, decided_pairs({k: links[k] for k in [(0, 1), (1, 2)]}),
                          scorer(links))  # fmt: skip
    assert labels[0] != labels[2]
    assert cut.select("left", "right", "reason").rows() == [(1, 2, "two people")]


def test_the_link_cut_is_the_one_to_the_twin_whose_name_differs():
    # Twins A (records 0, 1) and B (2) share a household; record 3 bears B's given name (its
    # given-name weight 9) and matches A's records on more household fields (weight 25 each,
    # its given name a letter off: weight 2). It goes with B, and its links to A are cut.
    twins = {"national_id": "different", "given_name": "different"}
    links = {
        (0, 1): (40.0, {}), (0, 2): (-2.0, twins), (1, 2): (-2.0, twins),
        (0, 3): (25.0, {}), (1, 3): (25.0, {}), (2, 3): (20.0, {}),
    }  # fmt: skip
    weights = {pair: (weight, labels) for pair, (weight, labels) in links.items()}
    personal = scorer({**weights, (0, 3): (2.0, {}), (1, 3): (2.0, {}), (2, 3): (9.0, {})})

    def score_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
        return personal(pairs).with_columns(scorer(weights)(pairs)["match_weight"])

    labels, cut = cluster(4, decided_pairs(links), score_pairs)
    assert labels.to_list() == [0, 0, 2, 2]
    assert sorted(cut.select("left", "right").rows()) == [(0, 3), (1, 3)]


def test_of_links_as_strong_in_personal_fields_the_one_of_the_larger_weight_holds():
    # Twins B (record 0) and A (2); record 1, A's without a national id, is as like each in the
    # personal fields (weight 9) but like A in everything else (weight 30 against 12).
    twins = {"national_id": "different", "given_name": "different"}
    links = {(0, 1): (12.0, {}), (1, 2): (30.0, {}), (0, 2): (-2.0, twins)}
    personal = scorer({**links, (0, 1): (9.0, {}), (1, 2): (9.0, {})})

    def score_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
        return personal(pairs).with_columns(scorer(links)(pairs)["match_weight"])

    labels, cut = cluster(3, decided_pairs(links), score_pairs)
    assert labels.to_list() == [0, 1, 1]
    assert cut.select("left", "right").rows() == [(0, 1)]


def test_records_one_person_beyond_doubt_are_never_parted():
    # 0 and 1 agree on national id, name and birth date, weakly linked; 1 and 2 strongly; 0 and
    # 2 are two people. The strong link goes, not the sure one.
    sure = {"national_id": "same", "given_name": "same", "family_name": "same",
            "birth_date": "same"}  # fmt: skip
    links = {(0, 1): (6.0, sure), (1, 2): (30.0, {}), (0, 2): (0.0, TWO_PEOPLE_LEVELS)}
    decided = decided_pairs({k: links[k] for k in [(0, 1), (1, 2)]})
    labels, cut = cluster(3, decided, scorer(links))
    assert labels.to_list() == [0, 0, 2]
    assert cut.select("left", "right").rows() == [(1, 2)]


def test_evidence_of_two_people_outweighs_the_model():
    # Twins: one household, one birth date, ids a slip apart; the model adds it up to a match.
    twins = {"national_id": "one digit slip", "given_name": "different", "birth_date": "same"}
    decided = decided_pairs({(0, 1): (40.0, twins)})
    assert decided.select("two_people", "decision").row(0) == (True, "no_match")


def test_the_queue_leaves_out_pairs_whose_clusters_hold_ids_that_cannot_meet():
    own_ids = {  # record: (cluster, national id, whether it can be its holder's)
        0: (0, 1190000001, True), 1: (0, None, False), 2: (1, 1190000777, True),
        3: (2, 1190000010, True), 4: (3, None, False), 5: (4, 79185000123, False),
        6: (5, 1190999999, True), 7: (5, 1190000001, True),
    }  # fmt: skip
    clusters, numbers, own = (pl.Series(column) for column in zip(*own_ids.values(), strict=True))
    records = pl.DataFrame({"national_number": numbers.cast(pl.UInt64), "id_is_own": own})
    pairs = pl.DataFrame({"left": [1] * 5, "right": [2, 3, 4, 5, 6]}).cast(pl.UInt32)

    apart = clusters_told_apart(records, pairs, clusters.cast(pl.UInt32))

    # ids far apart; a slip (two digits swapped); no id; another's id; one id in common
    assert apart.to_list() == [True, False, False, False, False]


def test_clerk_decisions_win():
    records = features(keyed(frame(
        person("a", "Lê Văn Nam", birth_date=date(1980, 1, 2), national_id="001080000001"),
        person("b", "Lê Văn Nam", source="bhxh", birth_date=date(1980, 1, 2),
               national_id="001080000001"),
        person("c", "Phạm Thu", source="y_te", birth_date=date(2001, 7, 7)),
    )))  # fmt: skip
    clerk = pl.DataFrame({
        "source_l": ["dan_cu", "dan_cu"], "source_record_id_l": ["a", "a"],
        "source_r": ["bhxh", "y_te"], "source_record_id_r": ["b", "c"],
        "decision": ["no_match", "match"],
    })  # fmt: skip
    keyed_clerk = clerk_pairs(records, clerk)
    links = {(0, 1): (30.0, {}), (0, 2): (-30.0, {})}
    decided = decided_pairs(links, clerk=keyed_clerk)
    assert decided["decision"].to_list() == ["no_match", "match"]
    assert decided["decided_by"].to_list() == ["clerk", "clerk"]
    labels, _ = cluster(3, decided, scorer(links))
    assert labels[0] == labels[2] != labels[1]


def clerk_says(first: dict, second: dict, decision: str) -> pl.DataFrame:
    """A clerk's decision on two records (rows of a resolution's `records`)."""
    return pl.DataFrame({
        "source_l": [first["source"]], "source_record_id_l": [first["source_record_id"]],
        "source_r": [second["source"]], "source_record_id_r": [second["source_record_id"]],
        "decision": [decision],
    })  # fmt: skip


def test_clerk_decisions_win_in_a_whole_run(generated_records, generated):
    top = generated.records.filter(pl.col("match_rule") == "national_id").row(0, named=True)
    mates = generated.records.filter(
        (pl.col("person_id") == top["person_id"]) & (pl.col("rk") != top["rk"])
    ).row(0, named=True)
    again = resolve(generated_records, clerk=clerk_says(top, mates, "no_match"),
                    model=generated.model)  # fmt: skip
    ids = dict(zip(again.records["rk"], again.records["person_id"], strict=True))
    assert ids[top["rk"]] != ids[mates["rk"]]


def test_a_pair_a_clerk_matched_that_blocking_never_found_is_compared_and_joins(
    generated_records, generated
):
    single = generated.records.filter(pl.col("match_rule") == "single")
    first, second = single.row(0, named=True), single.row(-1, named=True)
    again = resolve(generated_records, clerk=clerk_says(first, second, "match"),
                    model=generated.model)  # fmt: skip

    ends = sorted([first["rk"], second["rk"]])
    added = again.pairs.join(generated.pairs, on=["left", "right"], how="anti")
    assert added.select("left", "right", "blocked_by", "decision").rows() == [
        (*ends, BY_CLERK, "match")
    ]
    ids = dict(zip(again.records["rk"], again.records["person_id"], strict=True))
    assert ids[first["rk"]] == ids[second["rk"]]


def test_same_input_gives_identical_output(generated_records, generated):
    shuffled = generated_records.sample(fraction=1.0, shuffle=True, seed=5)
    again = resolve(shuffled, run="r1")
    assert again.records.equals(generated.records)
    assert again.persons.equals(generated.persons)
    assert again.review_queue.equals(generated.review_queue)


def ids_frame(*rows: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"source": pl.String, "source_record_id": pl.String, "cluster": pl.UInt32},
        orient="row",
    ).with_row_index("rk").with_columns(pl.col("rk").cast(pl.UInt32))  # fmt: skip


def test_stable_ids_across_runs_with_a_merge_and_a_split():
    first, _ = assign_ids(
        ids_frame(("dan_cu", "a", 0), ("bhxh", "b", 0), ("dan_cu", "c", 2), ("dan_cu", "d", 3),
                  ("y_te", "e", 3)),
        None, "r1",
    )  # fmt: skip
    records = ids_frame(("dan_cu", "a", 0), ("bhxh", "b", 0), ("dan_cu", "c", 2),
                        ("dan_cu", "d", 3), ("y_te", "e", 4))  # fmt: skip
    previous = records.select("rk", "source", "source_record_id").join(first, on="rk").drop("rk")
    # A new day: record f joins person a+b; c merges into a+b as well; d and e are split.
    day_two = ids_frame(("dan_cu", "a", 0), ("bhxh", "b", 0), ("dan_cu", "c", 0),
                        ("dan_cu", "d", 3), ("y_te", "e", 4), ("y_te", "f", 0))  # fmt: skip
    second, history = assign_ids(day_two, previous, "r2")
    old = dict(zip(previous["source_record_id"], previous["person_id"], strict=True))
    new = dict(zip(day_two["source_record_id"], second["person_id"], strict=True))
    assert new["a"] == new["b"] == new["f"] == new["c"] == old["a"]
    assert new["d"] == old["d"] and new["e"] != old["e"]
    kinds = {(r["old_person_id"], r["kind"]) for r in history.iter_rows(named=True)}
    assert kinds == {(old["c"], "merge"), (old["d"], "split")}
    assert set(history["run"]) == {"r2"}


@pytest.mark.parametrize("joined, left", [("P0000000000000A", "P000000000000FF"),
                                           ("P000000000000FF", "P0000000000000A")])  # fmt: skip
def test_a_record_that_moves_to_another_person_takes_no_id_with_it(joined, left):
    # k was one person; m and h another. m is corrected to k's person: each keeps its own id,
    # whichever sorts first, and m's move is a split of the person it left.
    previous = pl.DataFrame(
        {"source": ["dan_cu", "bhxh", "y_te"], "source_record_id": ["k", "m", "h"],
         "person_id": [joined, left, left]}
    )  # fmt: skip
    day_two = ids_frame(("dan_cu", "k", 0), ("bhxh", "m", 0), ("y_te", "h", 1))
    assigned, history = assign_ids(day_two, previous, "r2")
    assert assigned["person_id"].to_list() == [joined, joined, left]
    assert history.select("old_person_id", "new_person_id", "kind").rows() == [
        (left, joined, "split")
    ]


def test_a_record_that_had_no_person_claims_no_id():
    # A student who matched no one last run, now found with a register record.
    previous = pl.DataFrame(
        {"source": ["dan_cu", "giao_duc"], "source_record_id": ["k", "s"],
         "person_id": ["P0000000000000A", None]}
    )  # fmt: skip
    day_two = ids_frame(("dan_cu", "k", 0), ("giao_duc", "s", 0), ("dan_cu", "n", 1))
    assigned, history = assign_ids(day_two, previous, "r2")
    ids = assigned["person_id"].to_list()
    assert ids[:2] == ["P0000000000000A"] * 2 and ids[2] not in (None, ids[0])
    assert history.is_empty()


def test_adding_a_day_keeps_ids_of_unchanged_persons(generated_records, generated):
    dates = generated_records["extract_date"]
    last_day = dates.max()
    earlier = generated_records.filter(pl.col("extract_date") < last_day)
    first = resolve(earlier, run="r1")
    second = resolve(generated_records, previous=first.records, run="r2")
    before = first.records.select("source", "source_record_id", "person_id")
    after = second.records.select("source", "source_record_id", "person_id")
    both = before.join(after, on=["source", "source_record_id"], suffix="_now")
    changed = both.filter(pl.col("person_id") != pl.col("person_id_now"))
    moved_ids = set(second.person_id_history["old_person_id"])
    # A record changes id only where history says its person merged or split.
    assert set(changed["person_id"]) <= moved_ids
    assert changed.height <= 0.01 * both.height


def test_explain_masks_names_and_ids(generated, generated_records):
    row = generated.records.filter(pl.col("match_rule") == "national_id").row(0, named=True)
    mate = generated.records.filter(
        (pl.col("person_id") == row["person_id"]) & (pl.col("rk") != row["rk"])
    ).row(0, named=True)
    text = explain(
        generated.records.pipe(lambda r: features(r)),
        generated.model,
        (row["source"], row["source_record_id"]),
        (mate["source"], mate["source_record_id"]),
    )
    for value in (row["full_name"], row["national_id"], row["phone"], mate["full_name"]):
        if value:
            assert value not in text
    for word in row["full_name"].split():
        assert f" {word} " not in f" {text} "
    assert row["national_id"][:3] + "*******" + row["national_id"][-2:] in text
    assert "match weight" in text


def test_identifiers_anchor_m_where_namesakes_would_mislead_em():
    """Pairs sharing a national id show what one person's two records look like; pairs sharing
    an insurance code show it for the national id. Namesakes with different ids, however many,
    do not count."""
    used = [BY_NAME[name] for name in ("national_id", "bhxh_code", "given_name", "sex")]

    def pairs(n: int, **levels) -> pl.DataFrame:
        columns = {c.name: pl.Series([levels.get(c.name)] * n, dtype=pl.Int8) for c in used}
        return pl.DataFrame(columns)

    levels = pl.concat(
        [
            pairs(1_900, national_id=0, given_name=0),
            pairs(100, national_id=0, given_name=1),
            pairs(500, national_id=0, sex=0),
            pairs(1_490, bhxh_code=0, national_id=0),
            pairs(10, bhxh_code=0, national_id=2),
            pairs(50_000, national_id=2, given_name=0, sex=0),  # namesakes of one ward
        ]
    )
    counted = anchored_m(levels, used)
    assert counted["given_name"][:2] == pytest.approx([0.95, 0.05], abs=1e-4)
    assert counted["national_id"][2] == pytest.approx(10 / 1_500, abs=1e-4)
    assert "sex" not in counted  # 500 anchored pairs compare sex: too few, EM learns it
    # 1,490 pairs share both: the code's m is counted on pairs the national id anchors.
    assert counted["bhxh_code"][0] == pytest.approx(1.0, abs=1e-4)
