"""Building the published DuckDB warehouse in a new file and swapping it in whole.

DuckDB admits one writer or many readers per file, never both; so a publish never writes the
file services read. It builds `dancu.<run>.duckdb`, runs the gate checks on it, closes it and
renames it over `dancu.duckdb`: readers see the old version or the new one, never a mix.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
WAREHOUSE_FILE = "dancu.duckdb"
_GATE_HEADER = re.compile(r"^-- name: (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Gate:
    name: str
    sql: str


@dataclass(frozen=True)
class GateResult:
    name: str
    violations: int
    sample: list[tuple]


class GateFailed(Exception):
    """A gate check found violations; the new warehouse was not published."""


def load_gates(path: Path = SQL_DIR / "gates.sql") -> list[Gate]:
    """The named queries of gates.sql; each returns one row per violation."""
    parts = _GATE_HEADER.split(path.read_text(encoding="utf-8"))
    return [Gate(name, sql.strip()) for name, sql in zip(parts[1::2], parts[2::2], strict=True)]


def load_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Insert each frame into its table by column name.

    Frame columns the table lacks are not published; table columns the frame lacks stay null,
    which the table's NOT NULL constraints refuse where a value is owed.
    """
    for table, frame in tables.items():
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
        ]
        incoming = frame.select(c for c in columns if c in frame.columns)
        con.register("incoming", incoming)
        con.execute(f"insert into {table} by name select * from incoming")
        con.unregister("incoming")


def run_gates(con: duckdb.DuckDBPyConnection, gates: list[Gate]) -> list[GateResult]:
    results = []
    for gate in gates:
        rows = con.sql(gate.sql).fetchall()
        results.append(GateResult(gate.name, len(rows), rows[:5]))
    return results


def publish(
    warehouse_dir: Path, build_name: str, tables: dict[str, pl.DataFrame]
) -> list[GateResult]:
    """Build a new warehouse from `tables`, gate it, and swap it in; raise GateFailed otherwise."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    build = warehouse_dir / f"dancu.{build_name}.duckdb"
    build.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(build)) as con:
            con.execute((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
            load_tables(con, tables)
            results = run_gates(con, load_gates())
            con.execute("checkpoint")
        failed = [r for r in results if r.violations]
        if failed:
            raise GateFailed(", ".join(f"{r.name}: {r.violations} violations" for r in failed))
        os.replace(build, warehouse_dir / WAREHOUSE_FILE)
    finally:
        build.unlink(missing_ok=True)
    return results
