"""`dancu serve`, `dancu client add|revoke|list` and `dancu audit`.

`add_commands` registers them on the main `dancu` parser; `python -m dancu.service.cli` runs them
alone.
"""

import argparse
import logging
import os
import re
import sys
from datetime import date
from pathlib import Path

from dancu.service import access_log
from dancu.service.keys import (
    DEFAULT_MISSES_PER_HOUR,
    DEFAULT_RATE,
    SCOPE_VIEWS,
    ClientError,
    ServerSecretMissing,
    access_log_secret,
    add_client,
    list_clients,
    revoke_client,
)
from dancu.service.paths import ServicePaths
from dancu.service.verify import NATIONAL_ID

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# uvicorn restarts a worker that does not answer its supervisor's ping in time (5 s by default):
# a worker indexing a million persons, on a busy machine, needs longer to start.
WORKER_HEALTHCHECK_SECONDS = 60
# The stores say who holds a key and who asked for whom: the owner's alone.
PRIVATE_UMASK = 0o077
# uvicorn's own access log would print every URL, and `?national_id=` puts ids in URLs: it stays
# off, and whatever else uvicorn logs loses the request targets it names. The access log of
# record is the service's own (`dancu audit`).
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_targets": {"()": "dancu.service.cli.HideRequestTargets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
        "uvicorn": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_targets"],
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["uvicorn"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "dancu.service": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


# A request target (`/v1/persons?national_id=...`) in a log line: a path that no scheme or host
# comes before.
_REQUEST_TARGET = re.compile(r"(?<![\w:/.])/[^\s\"']*")


def hide_request_targets(message: str) -> str:
    return _REQUEST_TARGET.sub("/…", message)


class HideRequestTargets(logging.Filter):
    """uvicorn's log lines without the URLs they may quote (a WebSocket handshake's, an
    unparsable request's): a URL holds the ids and names of its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = hide_request_targets(record.getMessage()), ()
        return True


def service_paths(args: argparse.Namespace) -> ServicePaths:
    """The data folder's service paths; the stores made from here on are the owner's alone."""
    os.umask(PRIVATE_UMASK)
    if args.data:
        # Set for the worker processes too, which build their app from the environment.
        os.environ["DANCU_DATA_DIR"] = str(Path(args.data).resolve())
    return ServicePaths.from_env()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    paths = service_paths(args)
    try:
        # Here, not in each worker: a refusal stops the server at once, with its reason.
        access_log_secret(paths)
    except ServerSecretMissing as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 1
    print(f"dancu: serving {paths.warehouse} on http://{args.host}:{args.port} (docs at /docs)")
    uvicorn.run(
        "dancu.service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=LOG_CONFIG,
        # No WebSocket endpoint: a handshake is an HTTP request, through the gate, logged.
        ws="none",
        server_header=False,
        # Not behind a proxy unless one is configured: no client may claim an address.
        proxy_headers=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    return 0


def client_add(args: argparse.Namespace) -> int:
    try:
        key = add_client(service_paths(args).clients, args.name, args.scope, args.rate, args.misses)
    except ClientError as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 1
    print(
        f"client {args.name} (scope {args.scope}, {args.rate:g} requests a second, "
        f"{args.misses:g} national-id lookups finding nobody an hour); its key:"
    )
    print(key)
    print("Give it to the client now: it is stored only as a digest and cannot be shown again.")
    return 0


def client_revoke(args: argparse.Namespace) -> int:
    try:
        revoke_client(service_paths(args).clients, args.name)
    except ClientError as error:
        print(f"dancu: {error}", file=sys.stderr)
        return 1
    print(f"client {args.name} revoked: its key is refused from the next request on")
    return 0


def client_list(args: argparse.Namespace) -> int:
    print(f"{'client':<24} {'scope':<13} {'rate/s':>8} {'misses/h':>8}  {'added':<25} revoked")
    for name, scope, rate, misses, created_at, revoked_at in list_clients(
        service_paths(args).clients
    ):
        print(
            f"{name:<24} {scope:<13} {rate:>8g} {misses:>8g}  {created_at:<25} {revoked_at or ''}"
        )
    return 0


def national_id(text: str) -> str:
    if not NATIONAL_ID.fullmatch(text):
        raise argparse.ArgumentTypeError("a national id is exactly 12 digits")
    return text


def format_entry(entry: dict) -> str:
    return (
        f"{entry['at'][:23]}  {entry.get('address') or '-':<15} {entry['client'] or '-':<16} "
        f"{entry['scope'] or '-':<12} "
        f"{entry['method']:<4} {entry['endpoint']:<26} {entry['status']} {entry['outcome']:<13} "
        f"{','.join(entry['person_ids']) or '-'}"
    )


def format_counts(counts: list[dict]) -> str:
    lines = [f"{'client':<16} {'scope':<12} {'outcome':<14} {'requests':>9}"]
    lines += [
        f"{c['client'] or '(no key)':<16} {c['scope'] or '-':<12} {c['outcome']:<14} "
        f"{c['requests']:>9,}"
        for c in counts
    ]
    return "\n".join(lines)


def audit(args: argparse.Namespace) -> int:
    paths = service_paths(args)
    digest = None
    if args.national_id:
        try:
            secret = access_log_secret(paths)
        except ServerSecretMissing as error:
            print(f"dancu: {error}", file=sys.stderr)
            return 1
        digest = access_log.query_digest(secret, "national_id", args.national_id)
    if not args.summary:
        entries = access_log.read_entries(paths.access_log, args.client, args.since, digest)
        for entry in entries:
            print(format_entry(entry))
        print(f"{len(entries):,} requests\n")
    print(format_counts(access_log.count_requests(paths.access_log, args.client, args.since)))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register `serve`, `client` and `audit` on the `dancu` parser's subcommands."""
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", type=Path, help="data folder (default $DANCU_DATA_DIR or ./data)")

    run = commands.add_parser(
        "serve", parents=[data], help="serve the published warehouse to client services over HTTP"
    )
    run.add_argument("--host", default=DEFAULT_HOST)
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)"
    )
    run.set_defaults(handler=serve)

    client = commands.add_parser("client", help="add, revoke or list the service's clients")
    actions = client.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[data], help="add a client and print its key once")
    add.add_argument("name", help="the client service, e.g. school-ba-dinh")
    add.add_argument("--scope", required=True, choices=list(SCOPE_VIEWS))
    add.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help="requests a second (default %(default)g)"
    )
    add.add_argument(
        "--misses",
        type=float,
        default=DEFAULT_MISSES_PER_HOUR,
        help="lookups by national id that find nobody, an hour, before they are refused "
        "(default %(default)g)",
    )
    add.set_defaults(handler=client_add)
    revoke = actions.add_parser("revoke", parents=[data], help="refuse a client's key from now on")
    revoke.add_argument("name")
    revoke.set_defaults(handler=client_revoke)
    listing = actions.add_parser("list", parents=[data], help="every client, revoked ones too")
    listing.set_defaults(handler=client_list)

    log = commands.add_parser(
        "audit", parents=[data], help="print the access log, and requests per client and outcome"
    )
    log.add_argument("--client", help="one client's requests only")
    log.add_argument("--since", type=date.fromisoformat, help="from this day (UTC), YYYY-MM-DD")
    log.add_argument("--national-id", type=national_id, help="requests that sent this id")
    log.add_argument("--summary", action="store_true", help="the counts only")
    log.set_defaults(handler=audit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dancu", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
