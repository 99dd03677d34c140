"""Publishing: a new warehouse is built beside the old one and replaces it only when gated."""

import grp
import os
import re
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dancu.paths import PRIVATE_UMASK
from dancu.warehouse import (
    BUILDING_DIR,
    SERVICE_VIEWS,
    SERVICES_DIR,
    STALE_BUILD_SECONDS,
    VERSIONS_DIR,
    WAREHOUSE_FILE,
    GateFailed,
    Keys,
    key_columns,
    load_gates,
    load_queries,
    prune,
    publish,
    service_access,
)
from sql import SQL_DIR

SERVICE_FILES = [f"{SERVICES_DIR}/{view}.duckdb" for view in SERVICE_VIEWS]


def tables(person_ids=("P1",), quarantined_rows=(2,)) -> dict[str, pl.DataFrame]:
    day = date(2025, 9, 15)
    file_name = "dan_cu/dan_cu_00001_20250915.csv"
    person_source = pl.DataFrame(
        {
            "source": "dan_cu", "source_record_id": [f"HS{i}" for i in range(len(person_ids))],
            "person_id": list(person_ids), "match_rule": "national_id", "file_name": file_name,
            "row_number": [1 + i for i in range(len(person_ids))], "extract_date": day,
        }
    )  # fmt: skip
    person = pl.DataFrame(
        {
            "person_id": sorted(set(person_ids)), "is_deceased": False,
            "primary_source": "dan_cu", "record_count": 1,
        }
    )  # fmt: skip
    quarantine = pl.DataFrame(
        {
            "source": "dan_cu", "file_name": file_name, "row_number": list(quarantined_rows),
            "reasons": [["name.empty: no letter"]] * len(quarantined_rows),
        },
        schema_overrides={"row_number": pl.Int64},
    )  # fmt: skip
    delivered = len(person_ids) + len(quarantined_rows)
    extract_file = pl.DataFrame(
        {"source": ["dan_cu"], "file_name": [file_name], "extract_date": [day],
         "rows": [delivered], "rows_latest": [delivered], "rows_held": [0]}
    )  # fmt: skip
    empty_events = pl.DataFrame(
        schema={"event_id": pl.String, "event_type": pl.String, "source": pl.String,
                "source_record_id": pl.String, "file_name": pl.String, "row_number": pl.Int64,
                "extract_date": pl.Date}
    )  # fmt: skip
    parties = pl.DataFrame(schema={"event_id": pl.String, "role": pl.String})
    return {
        "person": person, "person_source": person_source, "civil_event": empty_events,
        "event_party": parties, "quarantine": quarantine, "extract_file": extract_file,
    }  # fmt: skip


def count(path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def run_of(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select run_id from publish_run").fetchone()[0]


def listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_publish_builds_gates_and_swaps(tmp_path):
    published = publish(tmp_path, "run1", tables())

    assert {r.name for r in published.gates} == {g.name for g in load_gates()} | {"no_collapse"}
    assert all(r.violations == 0 for r in published.gates)
    assert count(tmp_path / WAREHOUSE_FILE, "person") == 1
    assert run_of(tmp_path / WAREHOUSE_FILE) == "run1"
    assert listing(tmp_path) == sorted(
        [WAREHOUSE_FILE, *SERVICE_FILES, f"{VERSIONS_DIR}/{published.version.name}"]
    )
    assert published.version.samefile(tmp_path / WAREHOUSE_FILE)  # kept at no cost


def test_a_failing_gate_leaves_the_published_warehouse_untouched(tmp_path):
    first = publish(tmp_path, "run1", tables())
    lost_row = tables(quarantined_rows=())  # extract_file still counts the row: it was lost
    lost_row["extract_file"] = tables()["extract_file"]

    with pytest.raises(GateFailed, match="nothing_lost"):
        publish(tmp_path, "run2", lost_row)

    assert count(tmp_path / WAREHOUSE_FILE, "quarantine") == 1
    assert listing(tmp_path) == sorted(
        [WAREHOUSE_FILE, *SERVICE_FILES, f"{VERSIONS_DIR}/{first.version.name}"]
    )


@pytest.mark.parametrize("gate_passes", [True, False])
def test_lazy_tables_load_from_files_the_build_removes(tmp_path, gate_passes):
    lazy = {name: frame.lazy() for name, frame in tables(("P1", "P2", "P3"), (9,)).items()}
    if not gate_passes:  # a record in two persons
        lazy["person_source"] = lazy["person_source"].with_columns(source_record_id=pl.lit("HS0"))
    data = tmp_path / "data"

    if gate_passes:
        published = publish(tmp_path / "warehouse", "run1", lazy, data_dir=data)
        assert published.rows["person"] == count(published.path, "person") == 3
        assert published.rows["person_source"] == 3
    else:
        with pytest.raises(GateFailed):
            publish(tmp_path / "warehouse", "run1", lazy, data_dir=data)
    assert listing(data) == []


def test_a_row_in_two_places_fails_the_gate(tmp_path):
    twice = tables(quarantined_rows=(1,))  # row 1 is also in person_source
    twice["extract_file"] = twice["extract_file"].with_columns(rows_latest=pl.lit(2))
    with pytest.raises(GateFailed, match="one_place_per_row"):
        publish(tmp_path, "run1", twice)
    assert not (tmp_path / WAREHOUSE_FILE).exists()


def test_a_record_in_two_persons_fails_the_gate(tmp_path):
    twice = tables(person_ids=("P1", "P2"))
    twice["person_source"] = twice["person_source"].with_columns(source_record_id=pl.lit("HS0"))
    with pytest.raises(GateFailed, match="person_source_keys_unique"):
        publish(tmp_path, "run1", twice)
    assert not (tmp_path / WAREHOUSE_FILE).exists()


def test_every_key_and_index_of_keys_sql_is_built(tmp_path):
    publish(tmp_path, "run1", tables())
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        keyed = {t for (t,) in con.execute(
            "select table_name from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
        ).fetchall()}  # fmt: skip
        indexed = {t for (t,) in con.execute("select table_name from duckdb_indexes()").fetchall()}
    sections = load_queries(SQL_DIR / "keys.sql")
    assert keyed == {t for t, sql in sections.items() if "primary key" in sql}
    assert indexed == {t for t, sql in sections.items() if "create index" in sql}


class ShortOfMemory:
    """A DuckDB connection (and its cursors) on which building the keys of `tables` fails the
    first `times` times, as it does when indexes built side by side do not fit in DuckDB's
    memory limit."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: set[str], times: int):
        self.con, self.tables, self.left = con, tables, times
        self.refused: list[str] = []
        self.owner = self

    def __getattr__(self, name):
        return getattr(self.con, name)

    def __enter__(self):
        return self

    def __exit__(self, *error):
        return self.con.__exit__(*error)

    def cursor(self) -> "ShortOfMemory":
        cursor = ShortOfMemory(self.con.cursor(), self.tables, 0)
        cursor.owner = self
        return cursor

    def execute(self, sql: str, parameters=None):
        owner = self.owner
        keyed = re.search(r"(?:alter table|create index \w+ on) (\w+)", sql)
        if keyed and keyed.group(1) in owner.tables and owner.left > 0:
            owner.left -= 1
            owner.refused.append(keyed.group(1))
            raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")
        return self.con.execute(sql, parameters)


def short_of_memory(monkeypatch, tables: set[str], times: int) -> list[ShortOfMemory]:
    import dancu.warehouse
    from dancu.memory import limit_duckdb

    made = []

    def limited(con, spill, keeps_order=True, share=1.0):
        made.append(ShortOfMemory(limit_duckdb(con, spill, keeps_order, share), tables, times))
        return made[-1]

    monkeypatch.setattr(dancu.warehouse, "limit_duckdb", limited)
    return made


def test_tables_whose_keys_did_not_fit_side_by_side_are_loaded_again_one_at_a_time(
    tmp_path, monkeypatch
):
    made = short_of_memory(monkeypatch, {"person", "event_party"}, times=2)
    publish(tmp_path, "run1", tables(person_ids=("P1", "P2", "P2"), quarantined_rows=(4,)))

    assert sorted(made[0].refused) == ["event_party", "person"]
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        keyed = {t for (t,) in con.execute(
            "select table_name from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
        ).fetchall()}  # fmt: skip
        indexed = {t for (t,) in con.execute("select table_name from duckdb_indexes()").fetchall()}
    assert {"person", "event_party"} <= keyed and {"person", "event_party"} <= indexed
    assert count(tmp_path / WAREHOUSE_FILE, "person") == 2
    assert count(tmp_path / WAREHOUSE_FILE, "person_source") == 3


def test_keys_that_do_not_fit_alone_fail_the_publish_naming_the_table_and_the_setting(
    tmp_path, monkeypatch
):
    short_of_memory(monkeypatch, {"person"}, times=2)
    with pytest.raises(MemoryError, match=r"table person .* DANCU_MEMORY_LIMIT"):
        publish(tmp_path, "run1", tables())
    assert not (tmp_path / WAREHOUSE_FILE).exists()


def keys_of(path) -> set[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return set(
            con.execute(
                "select table_name, constraint_type, constraint_column_names::varchar "
                "from duckdb_constraints() where constraint_type = 'PRIMARY KEY' union all "
                "select table_name, index_name, expressions::varchar from duckdb_indexes()"
            ).fetchall()
        )


def rows_of(path, table: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"select * from {table}").pl().sort(pl.all())


def test_keys_too_large_for_duckdbs_memory_are_built_as_their_rows_arrive_in_key_order(
    tmp_path, monkeypatch
):
    import dancu.warehouse

    persons = tables(person_ids=("P3", "P1", "P4", "P2", "P2"), quarantined_rows=(6, 7))
    publish(tmp_path / "whole", "run1", persons)
    # A row's key as large as all of DuckDB's memory: every table with keys loads a row at a
    # time, in key order.
    monkeypatch.setattr(dancu.warehouse, "KEY_ROW_BYTES", 2**50)
    publish(tmp_path / "in_order", "run1", persons)

    whole, in_order = (tmp_path / name / WAREHOUSE_FILE for name in ("whole", "in_order"))
    assert keys_of(in_order) == keys_of(whole)
    for table in ("person", "person_source", "record_flag", "extract_file"):
        assert rows_of(in_order, table).equals(rows_of(whole, table))
    repeated = dict(persons, person=pl.concat([persons["person"]] * 2))
    with pytest.raises(duckdb.ConstraintException):
        publish(tmp_path / "repeated", "run1", repeated)


@pytest.mark.parametrize(
    "statement, columns",
    [
        ("alter table person add primary key (person_id);", "person_id"),
        ("create index person_source_person on person_source (person_id)", "person_id"),
        (
            "alter table t add primary key\n    (person_id, document_type) ;\n",
            "person_id, document_type",
        ),
    ],
)
def test_the_columns_of_a_key_are_those_its_statement_lists_last(statement, columns):
    assert key_columns(statement) == columns


def test_a_repeated_person_id_is_refused_by_its_key(tmp_path):
    repeated = tables()
    repeated["person"] = pl.concat([repeated["person"]] * 2)
    with pytest.raises(duckdb.ConstraintException):
        publish(tmp_path, "run1", repeated)
    assert not (tmp_path / WAREHOUSE_FILE).exists()


def test_only_the_last_versions_are_kept(tmp_path):
    for run in range(5):
        published = publish(tmp_path, f"run{run}", tables(), keep=3)
    versions = sorted((tmp_path / VERSIONS_DIR).iterdir())
    assert [run_of(v) for v in versions] == ["run2", "run3", "run4"]
    assert versions[-1].samefile(published.path)


def test_stale_builds_are_removed_and_fresh_ones_kept(tmp_path):
    building = tmp_path / BUILDING_DIR
    building.mkdir()
    (building / "dancu.crashed.duckdb").write_bytes(b"half")
    (building / "dancu.running.duckdb").write_bytes(b"half")
    removed = prune(tmp_path, keep=3, now=time.time() + 1)
    assert removed == []
    removed = prune(tmp_path, keep=3, now=time.time() + STALE_BUILD_SECONDS + 1)
    assert sorted(p.name for p in removed) == ["dancu.crashed.duckdb", "dancu.running.duckdb"]


# The tests' own group: a group that exists wherever they run.
OWN_GROUP = grp.getgrgid(os.getgid()).gr_name


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def private_umask():
    """The umask dancu runs under (`paths.PRIVATE_UMASK`)."""
    old = os.umask(PRIVATE_UMASK)
    yield
    os.umask(old)


@pytest.mark.parametrize(
    "setting, health, justice",
    [
        (None, (-1, 0o640), (-1, 0o640)),
        (OWN_GROUP, (os.getgid(), 0o640), (os.getgid(), 0o640)),
        # Each service's own group reads its own view; a view left out is the owner's alone.
        (f"svc_health={OWN_GROUP}", (os.getgid(), 0o640), (-1, 0o600)),
        (f" svc_justice = {OWN_GROUP} ,", (-1, 0o600), (os.getgid(), 0o640)),
    ],
)
def test_service_access_reads_one_group_or_a_group_per_view(setting, health, justice):
    access = service_access(setting)
    assert set(access) == set(SERVICE_VIEWS)
    assert (access["svc_health"], access["svc_justice"]) == (health, justice)


@pytest.mark.parametrize(
    "setting, message",
    [
        ("no-such-group-here", "does not exist"),
        ("svc_health=no-such-group-here", "does not exist"),
        (f"svc_hospital={OWN_GROUP}", "not view=group"),
        ("svc_health=", "not view=group"),
    ],
)
def test_a_service_group_setting_that_cannot_be_met_is_refused_before_publishing(
    tmp_path, setting, message
):
    publish(tmp_path, "run1", tables())
    with pytest.raises(ValueError, match=message):
        publish(tmp_path, "run2", tables(), service_group=setting)
    assert run_of(tmp_path / WAREHOUSE_FILE) == "run1"
    for service in SERVICE_FILES:
        with duckdb.connect(str(tmp_path / service), read_only=True) as con:
            comment = con.execute("select comment from duckdb_tables()").fetchone()[0]
        assert comment == "dancu run run1"


def test_each_service_file_is_readable_by_its_own_group_alone(tmp_path, private_umask):
    warehouse = tmp_path / "data" / "warehouse"
    publish(warehouse, "run1", tables(), service_group=f"svc_health={OWN_GROUP}")
    services = warehouse / SERVICES_DIR
    assert mode(services / "svc_health.duckdb") == 0o640
    assert {
        mode(services / f"{view}.duckdb") for view in SERVICE_VIEWS if view != "svc_health"
    } == {0o600}
    # Others may pass through the folders above the files (a service's group is not the
    # owner's), never list them.
    for folder in (warehouse.parent, warehouse, services):
        assert mode(folder) & 0o007 == stat.S_IXOTH


def test_a_publish_that_dies_leaves_no_register_readable_by_others(tmp_path, private_umask):
    class Died(Exception):
        pass

    def die_once_kept(step: str) -> None:
        if step == "kept":
            raise Died

    with pytest.raises(Died):
        publish(tmp_path, "run1", tables(), on_step=die_once_kept)
    # The whole register, kept but never swapped in: created group-readable, in folders that
    # only their owner may enter.
    assert [mode(kept) for kept in (tmp_path / VERSIONS_DIR).iterdir()] == [0o640]
    assert mode(tmp_path / VERSIONS_DIR) == mode(tmp_path / BUILDING_DIR) == 0o700


def test_an_open_reader_keeps_its_version_and_a_new_one_sees_the_next(tmp_path):
    publish(tmp_path, "run1", tables())
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as reader:
        publish(tmp_path, "run2", tables(person_ids=("P1", "P2"), quarantined_rows=(3,)))
        assert reader.execute("select run_id from publish_run").fetchone()[0] == "run1"
        assert reader.execute("select count(*) from person").fetchone()[0] == 1
        # Within one process DuckDB shares an open database by path, so the new version is
        # seen by another process now, and by this one once its last connection closes.
        query = "select run_id from publish_run"
        script = (
            f"import duckdb; con = duckdb.connect({str(tmp_path / WAREHOUSE_FILE)!r}, "
            f"read_only=True); print(con.execute({query!r}).fetchall()[0][0])"
        )
        other = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert other.stdout.strip() == "run2"
    assert run_of(tmp_path / WAREHOUSE_FILE) == "run2"


def test_dq_metric_history_is_carried_across_runs(tmp_path):
    publish(tmp_path, "run1", tables())
    publish(tmp_path, "run2", tables(person_ids=("P1", "P2"), quarantined_rows=(3,)))
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        rows = con.sql(
            "select run_id, value from dq_metric "
            "where source = 'dan_cu' and ward_code = 'all' and metric = 'rows_delivered' "
            "order by run_time"
        ).fetchall()
    assert rows == [("run1", 2.0), ("run2", 3.0)]


def history(run: str, old: str, new: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"run": [run], "old_person_id": [old], "new_person_id": [new], "kind": ["split"],
         "records": [1]}
    )  # fmt: skip


def test_person_id_history_keeps_every_runs_moves(tmp_path):
    publish(tmp_path, "run1", tables(), {"person_id_history": history("run1", "PA", "PB")})
    publish(tmp_path, "run2", tables(), {"person_id_history": history("run2", "PB", "PC")})
    # A run in which nothing moved, and a publish run again on run2's resolution.
    publish(tmp_path, "run3", tables())
    publish(tmp_path, "run4", tables(), {"person_id_history": history("run2", "PB", "PC")})
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        moves = con.sql("select run, old_person_id, new_person_id from person_id_history").pl()
    assert sorted(moves.rows()) == [("run1", "PA", "PB"), ("run2", "PB", "PC")]


def test_optional_tables_keep_every_column_of_their_frame(tmp_path):
    queue = pl.DataFrame(
        {
            "source_l": ["dan_cu"], "source_record_id_l": ["HS0"], "source_r": ["bhxh"],
            "source_record_id_r": ["0101"], "reason": ["uncertain"], "match_weight": [1.5],
        }
    )  # fmt: skip
    publish(tmp_path, "run1", tables(), {"review_queue": queue})
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        assert con.sql("select * from review_queue").pl().equals(queue)
        assert con.sql("select * from person_id_history").pl().is_empty()


def test_an_optional_table_without_its_columns_is_refused(tmp_path):
    with pytest.raises(ValueError, match="review_queue lacks the columns"):
        publish(tmp_path, "run1", tables(), {"review_queue": pl.DataFrame({"reason": ["x"]})})


@pytest.mark.parametrize("national_id", ["001088012345", "079199000001", None])
def test_the_digest_computed_in_sql_is_the_hmac_of_the_id(tmp_path, national_id):
    registered = tables()
    registered["person"] = registered["person"].with_columns(national_id=pl.lit(national_id))
    keys = Keys.from_secret("ab" * 32)
    publish(tmp_path, "run1", registered, keys=keys)
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        (digest,) = con.execute("select national_id_digest from svc_health").fetchone()
    assert digest == (keys.digest(national_id) if national_id else None)


def test_a_frame_cannot_bring_its_own_digest(tmp_path):
    registered = tables()
    registered["person"] = registered["person"].with_columns(
        national_id=pl.lit("001088012345"), national_id_digest=pl.lit("chosen by the frame")
    )
    keys = Keys.from_secret("ab" * 32)
    publish(tmp_path, "run1", registered, keys=keys)
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        (digest,) = con.execute("select national_id_digest from person").fetchone()
    assert digest == keys.digest("001088012345")


def documented_views(readme: Path) -> dict[str, list[str]]:
    """Each view of docs/services.md's "Published views" and the columns its table lists."""
    section = readme.read_text(encoding="utf-8").split("## Published views", 1)[1]
    section = section.split("\n## ", 1)[0]
    views = {}
    for block in re.split(r"^### ", section, flags=re.MULTILINE)[1:]:
        name = re.match(r"`(\w+)`", block).group(1)
        views[name] = re.findall(r"^\| `(\w+)` \|", block, flags=re.MULTILINE)
    return views


def test_each_view_exposes_exactly_its_documented_columns(tmp_path):
    documented = documented_views(Path(__file__).parent.parent / "docs" / "services.md")
    publish(tmp_path, "run1", tables())
    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        views = {
            name: [c for c, *_ in con.sql(f"describe {name}").fetchall()]
            for (name,) in con.execute(
                "select view_name from duckdb_views() where not internal"
            ).fetchall()
        }
    assert views == documented
