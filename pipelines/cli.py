"""The `dancu` command: generate sample extracts, and run the pipeline as the UI would."""

import argparse
import functools
import html
import io
import os
import subprocess
import sys
import threading
import time
import traceback
from datetime import date
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from dancu.generate import DEFAULT_AS_OF
from dancu.service.cli import add_commands as add_service_commands

DATA_HELP = "output folder (default $DANCU_DATA_DIR or ./data)"
WAREHOUSE_TABLES = ["person", "person_source", "civil_event", "event_party", "quarantine"]


def _generate(args: argparse.Namespace) -> int:
    from dancu.generate import generate

    started = time.perf_counter()
    summary = generate(
        persons=args.persons,
        seed=args.seed,
        out=args.out,
        as_of=args.as_of,
        two_days=args.two_days,
        noise=args.noise,
        office_edits=args.office_edits,
    )
    print(summary.describe())
    print(f"written to {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


def dagster_home(data_dir: Path) -> Path:
    """The persistent Dagster instance under the data folder, shared with `make ui`."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        # Freshness policies (the warehouse's) are judged only where the instance enables them.
        # Runs the daemon starts (schedule, sensor, the UI) queue one behind the other: two at
        # once would share the data folder, and the second would fail on its lock.
        settings.write_text(
            "telemetry:\n  enabled: false\nfreshness:\n  enabled: true\n"
            "concurrency:\n  runs:\n    max_concurrent_runs: 1\n",
            encoding="utf-8",
        )
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def root_cause(failure_event) -> str:
    """The innermost error of a failed step, masked: what went wrong, not where Dagster caught
    it, and no value of a person's that a library may have quoted."""
    from dancu.mask import mask_message

    error = failure_event.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    if error.cls_name == "Failure":  # dancu's own, which names the error it stands for
        message = message.split(": ", 1)[-1]
    return mask_message(message)


# What an error of the data folder's disk says, in the words of the OS, SQLite and DuckDB.
DISK_TROUBLE = ("disk i/o error", "no space left", "readonly database", "read-only file system",
                "permission denied", "database or disk is full")  # fmt: skip


def stopped_because(error: BaseException, data_dir: Path) -> str:
    """One line for a run that stopped outside any step (Dagster's own storage, the data folder
    full or read-only): the innermost error, masked, and where to look."""
    from dancu.mask import mask_message

    while (inner := error.__cause__ or error.__context__) is not None:
        error = inner
    line = f"{type(error).__name__}: {mask_message(str(error).strip())}"
    if any(sign in str(error).lower() for sign in DISK_TROUBLE):
        line += f" (is the data folder {data_dir} full, or not writable?)"
    return line


def failed_checks(events) -> list[str]:
    """One line per check that did not pass (blocking ones stop the run; advisory ones do not,
    and would otherwise show only on each asset's page)."""
    lines = []
    for event in events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if not evaluation.passed:
            severity = evaluation.severity.value if evaluation.severity else "ERROR"
            asset = evaluation.asset_key.to_user_string()
            lines.append(f"check:     {severity} {evaluation.check_name} on {asset} did not pass")
    return lines


def warehouse_summary(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in WAREHOUSE_TABLES
        }
        files = con.execute("select count(*) from quarantine where row_number is null").fetchone()[
            0
        ]
    lines = [f"  {table:<14} {n:>10,} rows" for table, n in counts.items()]
    lines.append(f"  quarantined: {counts['quarantine'] - files:,} rows and {files:,} whole files")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    if args.landing:
        os.environ["DANCU_LANDING_DIR"] = str(args.landing)
    if args.data:
        os.environ["DANCU_DATA_DIR"] = str(args.data)

    import dagster as dg

    from dancu.lock import DataFolderBusy, run_lock
    from dancu.memory import run_memory_limit
    from dancu.paths import PRIVATE_UMASK, FolderError, Paths, check_landing, check_writable
    from pipelines.definitions import refresh_register_job

    paths = Paths.from_env()
    os.umask(PRIVATE_UMASK)
    try:
        check_writable(Path(paths.data_dir))
        check_landing(paths.landing)
        # Read now, not when the first stage that needs it starts, after ingest.
        run_memory_limit()
    except (FolderError, ValueError) as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 2
    home = dagster_home(Path(paths.data_dir))
    print(f"dancu: reading {paths.landing_dir}; Dagster instance {home}")
    started = time.perf_counter()
    try:
        with (
            run_lock(Path(paths.data_dir), "dancu run"),
            dg.DagsterInstance.get() as instance,
        ):
            result = dg.execute_job(
                dg.reconstructable(refresh_register_job),
                instance=instance,
                run_config={"loggers": {"progress": {"config": {"log_level": args.log_level}}}},
            )
    except DataFolderBusy as busy:
        print(f"dancu: {busy}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except Exception as error:  # outside any step: Dagster's storage, the disk
        if args.log_level == "DEBUG":
            traceback.print_exc()
        reason = stopped_because(error, Path(paths.data_dir))
        print(f"dancu: the run stopped: {reason}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"dancu: step {event.step_key} failed: {root_cause(event)}", file=sys.stderr)
        for line in failed_checks(result.all_events):
            print(line, file=sys.stderr)
        print(f"dancu: run {result.run_id} failed after {elapsed:.0f}s", file=sys.stderr)
        return 1
    warehouse = paths.warehouse
    print(f"\ndancu: run {result.run_id} succeeded in {elapsed:.0f}s")
    for line in failed_checks(result.all_events):
        print(line)
    print(f"warehouse: {warehouse}\n{warehouse_summary(warehouse)}")
    reports = sorted(paths.reports_dir.glob(f"*{result.run_id}*"))
    for report in reports or [paths.reports_dir]:
        print(f"output:    {report}")
    print(f"UI:        dancu ui  (or make ui PORT=3000; DAGSTER_HOME={home})")
    return 0


class ReportFolderHandler(SimpleHTTPRequestHandler):
    """GET and HEAD of the auditor reports at the top of the reports folder, and their list.

    Nothing else is served: the clerks' and agencies' workbooks beside them hold whole names and
    ids under file modes (640) that a server running as their owner would bypass for every user
    of the machine. `translate_path` already drops `..`; resolving the path also stops a link
    that leads out of the folder.
    """

    def send_head(self):
        folder = Path(self.directory).resolve()
        path = Path(self.translate_path(self.path)).resolve()
        if path == folder:
            return self._report_list(folder)
        if path.parent != folder or path.suffix != ".html" or not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "only the auditor reports are served")
            return None
        return super().send_head()

    def _report_list(self, folder: Path) -> io.BytesIO:
        """The reports, newest first (their names start with the publish time)."""
        links = "".join(
            f'<li><a href="{quote(report.name)}">{html.escape(report.name)}</a></li>'
            for report in sorted(folder.glob("*.html"), reverse=True)
        )
        page = (
            '<!doctype html><html lang="vi"><meta charset="utf-8"><title>dancu: báo cáo</title>'
            f"<h1>Báo cáo chất lượng dữ liệu</h1><ul>{links}</ul></html>"
        ).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        return io.BytesIO(page)

    def log_message(self, format, *args):
        """Quiet: the terminal is `dagster dev`'s."""


def serve_reports(folder: Path, port: int) -> ThreadingHTTPServer:
    """Serve the reports folder read-only on localhost, from a thread of this process."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(ReportFolderHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="reports", daemon=True).start()
    return server


def dagster_dev_command(host: str, port: int) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [str(dagster), "dev", "-m", "pipelines.definitions", "-h", host, "-p", str(port)]


def _ui(args: argparse.Namespace) -> int:
    from dancu.paths import PRIVATE_UMASK, REPORT_PORT_ENV, Paths, report_port

    paths = Paths.from_env()
    os.umask(PRIVATE_UMASK)
    home = dagster_home(Path(paths.data_dir))
    try:
        reports = serve_reports(paths.reports_dir, report_port())
    except OSError as error:
        # The UI is still worth having; only the report links in its metadata will not open.
        print(
            f"dancu: cannot serve the reports on port {report_port()}: {error.strerror} "
            f"(set {REPORT_PORT_ENV} to a free port)",
            file=sys.stderr,
        )
        reports = None
    else:
        print(f"dancu: reports on http://localhost:{report_port()}/ ({paths.reports_dir})")
    print(
        f"dancu: Dagster UI on http://{args.host}:{args.port} (instance {home}); the schedule "
        "nightly_refresh and the sensor new_extracts start off: switch them on under Automation",
        flush=True,
    )
    dagster = subprocess.Popen(dagster_dev_command(args.host, args.port))
    try:
        return dagster.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached `dagster dev` too: let it stop its webserver and daemon first.
        dagster.wait()
        return 130
    finally:
        if reports is not None:
            reports.shutdown()
            reports.server_close()


def record_ref(text: str) -> tuple[str, str]:
    """ "dan_cu:HS0001" -> ("dan_cu", "HS0001"); "khai_sinh:KS1:child" -> the birth's child."""
    source, _, record_id = text.partition(":")
    if not record_id:
        raise argparse.ArgumentTypeError(f"expected SOURCE:RECORD_ID, got {text!r}")
    return source, record_id


def _explain(args: argparse.Namespace) -> int:
    import polars as pl

    from dancu.contract import SOURCES
    from dancu.link import party_records
    from dancu.paths import Paths
    from dancu.resolve.explain import explain
    from dancu.resolve.model import Model
    from dancu.resolve.records import features, keyed, person_records
    from orchestration import keys

    if args.data:
        os.environ["DANCU_DATA_DIR"] = str(args.data)
    paths = Paths.from_env()
    staging = paths.staging_dir
    if not paths.model_dir.exists():
        print(
            f"dancu: no resolution model under {staging}: run the pipeline first", file=sys.stderr
        )
        return 1
    frames = {name: pl.scan_parquet(staging / f"{keys.std(name)}.parquet") for name in SOURCES}
    # The records resolution compared: the register's, and the parties of civil events
    # ("khai_sinh:KS0001:child", as the review queue names them).
    records = features(keyed(pl.concat([person_records(frames), party_records(frames)]).collect()))
    try:
        print(explain(records, Model.load(paths.model_dir), args.left, args.right))
    except KeyError:
        print(
            "dancu: one of the records is not an accepted record of a register source or a "
            "party of a civil event (SOURCE:RECORD_ID, e.g. khai_sinh:KS0001:child)",
            file=sys.stderr,
        )
        return 1
    return 0


def _paths(args: argparse.Namespace):
    """The folders of `--data`, else of the environment."""
    from dancu.paths import Paths

    return Paths.of(args.data) if args.data else Paths.from_env()


def _versions(args: argparse.Namespace) -> int:
    from dancu.warehouse import versions

    paths = _paths(args)
    kept = versions(paths.warehouse_dir)
    if not kept:
        print(f"dancu: no published version under {paths.warehouse_dir}", file=sys.stderr)
        return 1
    for version in kept:
        mark = "*" if version.is_published else " "
        print(f"{mark} {version.published_at}  run {version.run_id}  {version.path.name}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from dancu.lock import DataFolderBusy, run_lock
    from dancu.paths import PRIVATE_UMASK
    from dancu.warehouse import rollback

    paths = _paths(args)
    os.umask(PRIVATE_UMASK)
    try:
        with run_lock(Path(paths.data_dir), "dancu rollback"):
            version = rollback(
                paths.warehouse_dir, args.version, os.environ.get("DANCU_SERVICE_GROUP")
            )
    except (ValueError, DataFolderBusy) as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 1
    print(f"dancu: published again {version.path.name} (run {version.run_id})")
    return 0


def _keys(args: argparse.Namespace) -> int:
    from dancu.keys import KeyFileError, backup_key, restore_key
    from dancu.paths import PRIVATE_UMASK

    paths = _paths(args)
    os.umask(PRIVATE_UMASK)
    try:
        if args.action == "backup":
            backup_key(paths, args.file)
            print(f"dancu: key written to {args.file} (mode 600): keep it apart from the data")
        else:
            restore_key(paths, args.file, force=args.force)
            print(f"dancu: key restored from {args.file}")
    except KeyFileError as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dancu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write synthetic extracts and their ground truth")
    gen.add_argument("--persons", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", type=Path, required=True, help="writes OUT/landing and OUT/truth")
    gen.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    gen.add_argument(
        "--noise",
        type=float,
        default=1.0,
        help="scale every error rate of the extracts (documented in dancu/generate/noise.py): "
        "2 doubles them, 0 writes clean extracts",
    )
    gen.add_argument(
        "--office-edits",
        action="store_true",
        help="edit files as offices do (a title above the header, several sheets, joined "
        "extracts, two-digit years, old mobile numbers...): the same set otherwise",
    )
    gen.add_argument(
        "--two-days",
        action="store_true",
        help="hold the latest files back in OUT/day2: copying them into OUT/landing is day 2",
    )
    gen.set_defaults(handler=_generate)

    run = commands.add_parser("run", help="materialise every asset into the warehouse")
    run.add_argument("--landing", type=Path, help="extract folder (default $DANCU_LANDING_DIR)")
    run.add_argument("--data", type=Path, help=DATA_HELP)
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(handler=_run)

    why = commands.add_parser(
        "explain", help="show, field by field, why two records are or are not one person"
    )
    why.add_argument("left", type=record_ref, help="SOURCE:RECORD_ID, e.g. dan_cu:HS00012")
    why.add_argument("right", type=record_ref, help="SOURCE:RECORD_ID, e.g. bhxh:0123456789")
    why.add_argument("--data", type=Path, help=DATA_HELP)
    why.set_defaults(handler=_explain)

    ui = commands.add_parser(
        "ui",
        help="open the runs, assets and checks in the Dagster UI, and serve the auditor reports "
        "on localhost:$DANCU_REPORT_PORT (default 3001)",
    )
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=_ui)

    listing = commands.add_parser("versions", help="list the kept warehouse versions")
    listing.add_argument("--data", type=Path, help=DATA_HELP)
    listing.set_defaults(handler=_versions)

    back = commands.add_parser(
        "rollback", help="publish a kept warehouse version again (default: the one before)"
    )
    back.add_argument("version", nargs="?", help="a version's file name or run id")
    back.add_argument("--data", type=Path, help=DATA_HELP)
    back.set_defaults(handler=_rollback)

    key = commands.add_parser(
        "keys", help="back up or restore the secret key behind person ids and digests"
    )
    key.add_argument("action", choices=["backup", "restore"])
    key.add_argument("file", type=Path)
    key.add_argument("--data", type=Path, help=DATA_HELP)
    key.add_argument(
        "--force", action="store_true", help="restore over a different key (new ids for all)"
    )
    key.set_defaults(handler=_keys)

    add_service_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
