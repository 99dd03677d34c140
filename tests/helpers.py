"""What several test modules do alike: run `dancu run` as a data engineer does, and read a
delivered extract file the simple way, independently of dancu's own reader."""

import codecs
import io
import os
import subprocess
import sys
from pathlib import Path

import fastexcel
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def run_dancu(landing: Path, out: Path) -> None:
    """`dancu run` on `landing` into OUT/data, its whole output kept in OUT/run.log."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
         "--data", str(out / "data"), "--log-level", "DEBUG"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    (out / "run.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    assert done.returncode == 0, done.stderr[-3000:]


def read_extract(path: Path) -> pl.DataFrame:
    """An extract file as text columns: XLSX, or CSV in UTF-16, UTF-8 or CP1258 with , or ;."""
    if path.suffix == ".xlsx":
        return fastexcel.read_excel(path).load_sheet(0, dtypes="string").to_polars()
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF16_LE):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1258")
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    return pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False)


def landing_rows(truth: pl.DataFrame) -> pl.DataFrame:
    """The rows of a generated truth that must each land in exactly one of `person_source`,
    `civil_event` or `quarantine`: the latest row of each record, and, for a record whose
    latest row is invalid, its latest earlier row, which stands for it (is held)."""
    record, landed = ["source", "source_record_id"], ["file_name", "row_number"]
    refused = truth.filter("is_latest", pl.col("invalid_reason").is_not_null()).select(record)
    held = (
        truth.filter(~pl.col("is_latest"), pl.col("invalid_reason").is_null())
        .join(refused, on=record, how="semi")
        .group_by(record)
        .agg(pl.col(landed).sort_by("extract_date", "file_name").last())
    )
    return pl.concat([truth.filter("is_latest").select(landed), held.select(landed)]).select(
        "file_name", pl.col("row_number").cast(pl.Int64)
    )


def copy_published(run_data: Path, data: Path) -> Path:
    """A data folder of a test's own at `data`: the published warehouse of the run that wrote
    `run_data`, and its key (for publishes)."""
    from dancu.paths import Paths

    run, copied = Paths.of(run_data), Paths.of(data)
    for name in ("warehouse", "secret_file"):
        target = getattr(copied, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(getattr(run, name).read_bytes())
    return data
