"""The service API: other public services ask the published warehouse over HTTP, each client
seeing only the view of its purpose, every request written to an access log.

    paths.py       where the service keeps its state, under $DANCU_DATA_DIR
    keys.py        clients, their scopes and keys (stored as digests), the server secret
    ratelimit.py   token buckets shared by every worker process: rates, miss budgets, keyless
    access_log.py  the append-only access log, its digests of query values, and its reports
    verify.py      identity verification against an in-memory index of the register
    index.py       that index, built once per published version for every worker
    files.py       the published file: its identity, attached read-only
    published.py   the published warehouse, read-only, moving to each new version as it appears
    app.py         the FastAPI application
    cli.py         `dancu serve`, `dancu client`, `dancu audit`
"""
