"""The accidents a city register must survive, each reproduced: a client that died holding the
warehouse open, a mistyped landing path, a clerk's Excel save, two runs at once, a reader who
tries every id against a digest, a lost key, a half-delivered landing folder."""

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dancu.generate import generate
from dancu.keys import KeyFileError, backup_key, restore_key
from dancu.paths import Paths, SecretFileError
from dancu.review import DECISION, clerk_decisions, clerk_sheet, write_csv
from dancu.service.keys import server_secret
from dancu.service.paths import ServicePaths
from dancu.warehouse import (
    SERVICE_VIEWS,
    WAREHOUSE_FILE,
    GateFailed,
    Keys,
    publish,
    rollback,
    versions,
)
from pipelines.cli import main
from tests.test_warehouse import tables

ROOT = Path(__file__).resolve().parent.parent


def dancu_run(landing: Path, data: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
               "--data", str(data), "--log-level", "WARNING"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(run: subprocess.Popen) -> tuple[int, str]:
    out, err = run.communicate(timeout=600)
    return run.returncode, out + err


def read_only(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("adversary") / "sample"
    generate(persons=300, seed=23, out=out)
    return out / "landing"


@pytest.fixture(scope="module")
def two_runs_at_once(landing, tmp_path_factory) -> tuple[Path, list[tuple[int, str]]]:
    """Two `dancu run` started together on one data folder."""
    data = tmp_path_factory.mktemp("data")
    runs = [dancu_run(landing, data) for _ in range(2)]
    return data, [finished(run) for run in runs]


# 1. A dead read-write client's WAL beside the published file -------------------------------


def test_a_stale_wal_does_not_make_the_next_warehouse_unreadable(tmp_path):
    publish(tmp_path, "run1", tables())
    published = tmp_path / WAREHOUSE_FILE
    # A client opens the register read-write, writes, and dies before a checkpoint.
    subprocess.run(
        [sys.executable, "-c", f"import duckdb, os; con = duckdb.connect({str(published)!r}); "
         "con.execute('pragma disable_checkpoint_on_shutdown'); "
         "con.execute('create table scribble as select 1 as x'); os._exit(9)"],
        check=False,
    )  # fmt: skip
    assert published.with_name(WAREHOUSE_FILE + ".wal").exists()

    publish(tmp_path, "run2", tables())

    assert not published.with_name(WAREHOUSE_FILE + ".wal").exists()
    assert read_only(published, "select run_id from publish_run") == [("run2",)]


# 2. A mistyped or empty landing folder ------------------------------------------------------


def test_a_missing_landing_folder_is_an_error_not_an_empty_register(tmp_path, capsys):
    assert main(["run", "--landing", str(tmp_path / "no_such"), "--data", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "warehouse").exists()


def test_an_empty_landing_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "landing" / "dan_cu").mkdir(parents=True)
    assert main(["run", "--landing", str(tmp_path / "landing"), "--data", str(tmp_path)]) == 2
    assert "holds no file" in capsys.readouterr().err


def test_an_unwritable_data_folder_is_named(landing, tmp_path, capsys):
    # Root writes through any mode: a data folder below a file cannot be written by anyone.
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    data = tmp_path / "a_file" / "data"
    assert main(["run", "--landing", str(landing), "--data", str(data)]) == 2
    assert f"cannot write to the data folder {data}: Not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("lots", "DANCU_MEMORY_LIMIT='lots' is no memory amount"),
        ("384MB", "DANCU_MEMORY_LIMIT='384MB' is 366 MiB, less than a run needs (512 MiB"),
    ],
)
def test_a_memory_limit_that_is_no_amount_or_too_little_stops_the_run_before_it_starts(
    landing, tmp_path, capsys, limit, setting, said
):
    limit(setting)
    assert main(["run", "--landing", str(landing), "--data", str(tmp_path / "data")]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "data" / "staging").exists()  # nothing was ingested


def test_a_run_that_dagster_cannot_record_stops_with_one_line_saying_where_to_look(
    landing, tmp_path, capsys, monkeypatch
):
    import sqlite3

    import dagster

    def full_disk(*args, **kwargs):
        try:
            raise sqlite3.OperationalError("disk I/O error")
        except sqlite3.OperationalError as error:
            raise RuntimeError("(sqlite3.OperationalError) writing the run's events") from error

    monkeypatch.setattr(dagster, "execute_job", full_disk)
    data = tmp_path / "data"
    assert main(["run", "--landing", str(landing), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "dancu: the run stopped: OperationalError: disk I/O error" in err
    assert f"is the data folder {data} full, or not writable?" in err
    assert "Traceback" not in err


def test_a_collapse_is_refused_and_the_published_version_stays(tmp_path):
    publish(tmp_path, "run1", tables(person_ids=("P1", "P2", "P3", "P4"), quarantined_rows=(9,)))
    half_delivered = tables(person_ids=("P1",), quarantined_rows=(9,))

    with pytest.raises(GateFailed, match=r"no_collapse: person 4 -> 1.*dan_cu 4 -> 1"):
        publish(tmp_path, "run2", half_delivered)
    assert read_only(tmp_path / WAREHOUSE_FILE, "select run_id from publish_run") == [("run1",)]

    publish(tmp_path, "run3", half_delivered, max_drop_share=1.0)  # a purge someone meant


def test_records_of_a_file_gone_from_landing_stop_the_publish(tmp_path):
    publish(tmp_path, "run1", tables(person_ids=("P1", "P2", "P3", "P4"), quarantined_rows=(9,)))
    # The file taken out of landing: its four records are published nowhere, far less than half
    # of anything, and yet every one of them is lost.
    gone = tables(person_ids=("P1",), quarantined_rows=(9,))
    gone["person_source"] = gone["person_source"].with_columns(
        pl.lit("dan_cu/dan_cu_00002_20250916.csv").alias("file_name"),
        pl.lit("HS9").alias("source_record_id"),
    )
    gone["extract_file"] = gone["extract_file"].with_columns(
        pl.lit("dan_cu/dan_cu_00002_20250916.csv").alias("file_name")
    )
    with pytest.raises(
        GateFailed, match=r"1 file\(s\) of dan_cu gone from landing or unreadable, 4"
    ):
        publish(tmp_path, "run2", gone, max_drop_share=0.9)
    assert read_only(tmp_path / WAREHOUSE_FILE, "select run_id from publish_run") == [("run1",)]
    publish(tmp_path, "run3", gone, max_drop_share=1.0)  # a withdrawal someone meant


# 3. Versions and rollback -------------------------------------------------------------------


def test_rollback_publishes_the_version_before_atomically(tmp_path):
    publish(tmp_path, "run1", tables())
    publish(tmp_path, "run2", tables(person_ids=("P1", "P2"), quarantined_rows=(9,)))
    assert [v.run_id for v in versions(tmp_path)] == ["run1", "run2"]

    restored = rollback(tmp_path)

    assert restored.run_id == "run1"
    assert read_only(tmp_path / WAREHOUSE_FILE, "select run_id from publish_run") == [("run1",)]
    service = tmp_path / "services" / "svc_health.duckdb"
    assert read_only(service, "select count(*) from svc_health") == [(1,)]
    assert [v.is_published for v in versions(tmp_path)] == [True, False]
    with pytest.raises(ValueError, match="no version 'run9'"):
        rollback(tmp_path, "run9")


def test_dancu_versions_and_rollback_commands(tmp_path, capsys):
    for run in ("run1", "run2"):
        publish(tmp_path / "warehouse", run, tables())
    assert main(["versions", "--data", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.startswith("*") for line in listed] == [False, True]
    assert main(["rollback", "run1", "--data", str(tmp_path)]) == 0
    assert "run run1" in capsys.readouterr().out


# 4. The clerk's decision files --------------------------------------------------------------


@pytest.fixture
def decided_export() -> pl.DataFrame:
    queue = pl.DataFrame(
        {"source_l": ["dan_cu", "dan_cu"], "source_record_id_l": ["HS1", "=HS2"],
         "source_r": ["bhxh", "y_te"], "source_record_id_r": ["0123456789", "BN7"],
         "national_id_l": ["001088012345", None], "total_weight": [3.2, -1.0]}
    )  # fmt: skip
    return clerk_sheet(queue).with_columns(pl.Series(DECISION, ["match", "no_match"]))


def test_decision_files_as_excel_saves_them_are_read(tmp_path, decided_export):
    folder = tmp_path / "decisions"
    folder.mkdir()
    (folder / "comma.csv").write_bytes(write_csv(decided_export.head(1)))
    semicolon = decided_export.tail(1).write_csv(separator=";")
    (folder / "semicolon.csv").write_bytes(semicolon.encode("cp1258"))
    decided_export.with_columns(extra=pl.lit("ghi chú")).write_excel(folder / "workbook.xlsx")

    decisions, rejected = clerk_decisions(folder)

    assert rejected == {}
    assert decisions.height == 4
    assert set(decisions["source_record_id_l"]) == {"HS1", "=HS2"}  # as delivered, unescaped


def test_a_bad_decision_file_is_left_out_by_name_and_the_others_count(tmp_path, decided_export):
    folder = tmp_path / "decisions"
    folder.mkdir()
    (folder / "good.csv").write_bytes(write_csv(decided_export))
    (folder / "noise.csv").write_bytes(os.urandom(4096))
    (folder / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")

    decisions, rejected = clerk_decisions(folder)

    assert decisions.height == 2
    assert set(rejected) == {"noise.csv", "other.csv"}
    assert "missing column(s) source_l" in rejected["other.csv"]


# 5. Digests that cannot be recomputed, and no masked id beside them -------------------------


def test_a_view_digest_cannot_be_computed_without_the_key(two_runs_at_once):
    data, _ = two_runs_at_once
    warehouse = Paths.of(data).warehouse
    person_id, national_id, digest = read_only(
        warehouse,
        "select person_id, national_id, national_id_digest from person "
        "where national_id is not null limit 1",
    )[0]
    assert digest == Keys.from_secret(Paths.of(data).person_id_secret()).digest(national_id)
    unkeyed = [
        hashlib.sha256(f"{salt}{national_id}".encode()).hexdigest()
        for salt in ("", "dancu.national_id:")
    ]
    assert digest not in unkeyed
    assert digest != Keys.from_secret("00" * 32).digest(national_id)
    # Nothing in the file can compute one: no macro or function names a digest.
    functions = read_only(
        warehouse,
        "select function_name from duckdb_functions() where function_name like '%digest%' "
        "or function_name like '%mask%'",
    )
    assert functions == []
    assert person_id.startswith("P")


def test_no_view_shows_a_masked_id_beside_a_digest(two_runs_at_once):
    data, _ = two_runs_at_once
    warehouse = Paths.of(data).warehouse
    masked = re.compile(r"^\d{3}\*+\d{2}$")
    for view in SERVICE_VIEWS:
        frame = duckdb.connect(str(warehouse), read_only=True).sql(f"from {view}").pl()
        if "national_id_digest" not in frame.columns:
            continue
        text = frame.select(pl.col(pl.String)).drop("national_id_digest")
        for column in text.columns:
            assert not text[column].drop_nulls().str.contains(masked.pattern).any(), (view, column)


# 6. Two runs at once ------------------------------------------------------------------------


def test_two_runs_at_once_one_refuses_and_the_register_is_the_others(two_runs_at_once):
    data, outcomes = two_runs_at_once
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 75], outcomes
    refusal = next(text for code, text in outcomes if code == 75)
    assert "another dancu run holds the data folder" in refusal
    succeeded = next(text for code, text in outcomes if code == 0)
    run_id = re.search(r"run (\S+) succeeded", succeeded).group(1)
    assert read_only(Paths.of(data).warehouse, "select run_id from publish_run") == [(run_id,)]


# 7. Who reads what --------------------------------------------------------------------------


def test_nothing_dancu_writes_is_world_readable(two_runs_at_once):
    data, _ = two_runs_at_once
    paths = Paths.of(data)
    assert stat.S_IMODE(paths.warehouse.stat().st_mode) == 0o600
    for view in SERVICE_VIEWS:
        service = paths.warehouse_dir / "services" / f"{view}.duckdb"
        assert stat.S_IMODE(service.stat().st_mode) == 0o640
        tables_in_file = read_only(service, "select table_name from duckdb_tables()")
        assert tables_in_file == [(view,)]
    written = [
        p
        for folder in (paths.staging_dir, paths.reports_dir, paths.warehouse_dir)
        for p in folder.rglob("*")
    ]
    assert written
    assert [p for p in written if p.stat().st_mode & 0o007] == []


# 8. The secret key --------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["", "0" * 63, "not a key at all"])
def test_a_key_file_that_holds_no_key_is_refused_not_taken_for_a_key(tmp_path, written):
    # An empty key would key every installation's person ids alike.
    paths = Paths.of(tmp_path / "data")
    paths.secret_file.parent.mkdir(parents=True)
    paths.secret_file.write_text(written, encoding="utf-8")
    with pytest.raises(SecretFileError, match="holds no dancu key"):
        paths.person_id_secret()


def test_a_run_clears_what_a_dead_run_left_to_spill(two_runs_at_once, landing, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(two_runs_at_once[0], data)
    left = data / "staging" / "spill" / "warehouse.dancu.dead" / "tables" / "person.parquet"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"what a killed publish staged: the whole person table")
    code, output = finished(dancu_run(landing, data))
    assert code == 0, output
    assert not left.exists()


def test_keys_back_up_and_restore_and_refuse_a_different_key(tmp_path):
    paths = Paths.of(tmp_path / "data")
    secret = paths.person_id_secret()
    backup = tmp_path / "key.backup"
    backup_key(paths, backup)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with pytest.raises(KeyFileError, match="exists"):
        backup_key(paths, backup)

    other = tmp_path / "other.key"
    other.write_text("cd" * 32, encoding="utf-8")
    with pytest.raises(KeyFileError, match="a different key is in place"):
        restore_key(paths, other)
    paths.secret_file.unlink()
    restore_key(paths, backup)
    assert paths.person_id_secret() == secret


def test_the_backup_holds_the_service_key_too_and_old_backups_still_restore(tmp_path):
    paths = Paths.of(tmp_path / "data")
    secret = paths.person_id_secret()
    service_key = ServicePaths(tmp_path / "data").secret
    service_secret = server_secret(service_key)
    backup = tmp_path / "keys.backup"
    backup_key(paths, backup)

    shutil.rmtree(paths.secret_file.parent)
    restore_key(paths, backup)
    assert paths.person_id_secret() == secret
    assert server_secret(service_key) == service_secret

    legacy = tmp_path / "legacy.key"
    legacy.write_text(secret + "\n", encoding="utf-8")
    shutil.rmtree(paths.secret_file.parent)
    restore_key(paths, legacy)
    assert paths.person_id_secret() == secret
    assert not service_key.exists()


def test_a_run_with_another_key_does_not_mint_new_ids_over_the_register(
    two_runs_at_once, landing, tmp_path
):
    data, _ = two_runs_at_once
    copy = tmp_path / "data"
    shutil.copytree(data / "warehouse", copy / "warehouse")
    Paths.of(copy).secret_file.parent.mkdir(parents=True)
    Paths.of(copy).secret_file.write_text("ef" * 32, encoding="utf-8")

    code, output = finished(dancu_run(landing, copy))

    assert code == 1
    assert "is not the one that built the published register" in output
    before = read_only(Paths.of(data).warehouse, "select run_id from publish_run")
    assert read_only(Paths.of(copy).warehouse, "select run_id from publish_run") == before
