"""The service API's FastAPI application (`create_app`, a factory for uvicorn's workers).

Every request first passes the gate (`Gate`): it is identified by its key, held to its client's
rate limit and, whatever its outcome, written to the access log before its answer leaves. The
endpoints then check the scope, read the published warehouse and say what the log should keep.
No answer, error or server log line carries a value the client sent.
"""

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dancu.mask import mask_message
from dancu.service import access_log
from dancu.service.access_log import Access, AccessLog, query_digest
from dancu.service.keys import AUDIT_SCOPE, Client, ClientRegistry, access_log_secret
from dancu.service.paths import ServicePaths
from dancu.service.published import PublishedWarehouse, Version
from dancu.service.ratelimit import KEYLESS_RATE, MissBudget, RateLimiter, address_slot
from dancu.service.verify import NATIONAL_ID, name_key, parse_birth_date

logger = logging.getLogger("dancu.service")

# Where the gate leaves what it learnt for the endpoints, in the request's ASGI scope.
ACCESS = "dancu.access"
CLIENT = "dancu.client"
# Routes anyone may call: the load balancer's health check and the API's description.
PUBLIC_ROUTES = {"/v1/health", "/docs", "/docs/oauth2-redirect", "/openapi.json"}
ERROR_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
UNREADABLE_BODY = "the body is not JSON in UTF-8"
# A verification is three short strings: a larger body is a mistake or an attack on memory.
MAX_BODY_BYTES = 16 * 1024
PERSON_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ViewName = Literal[
    "svc_health", "svc_insurance", "svc_education", "svc_civil_status", "svc_justice"
]

DESCRIPTION = """
Services ask the published population warehouse here instead of opening it.

Every request but `/v1/health` carries `Authorization: Bearer <key>`; `dancu client add NAME
--scope SCOPE` prints a key once. A scope reads one view: `health` svc_health, `insurance`
svc_insurance, `education` svc_education, `civil_status` svc_civil_status, `justice`
svc_justice (judicial-record requests, their persons or candidates, and criminal data); `audit`
reads the access log and svc_audit, no person. Every scope may verify.

Every request, refused ones too, is written to the access log, with the values sent kept only as
keyed digests. Errors are JSON (`{"error", "detail"}`) and never repeat what was sent.
"""


@dataclass
class Services:
    """What the endpoints share within one worker process."""

    paths: ServicePaths
    clients: ClientRegistry
    rate_limiter: RateLimiter
    miss_budget: MissBudget
    keyless_limiter: RateLimiter
    log: AccessLog
    warehouse: PublishedWarehouse
    secret: bytes

    @classmethod
    def open(cls, paths: ServicePaths) -> "Services":
        secret = access_log_secret(paths)  # first: it may refuse to start
        warehouse = PublishedWarehouse(paths.warehouse, paths.index_dir)
        warehouse.open()
        return cls(
            paths,
            ClientRegistry(paths.clients),
            RateLimiter(paths.rate_buckets),
            MissBudget(paths.miss_buckets),
            RateLimiter(paths.keyless_buckets),
            AccessLog(paths.access_log),
            warehouse,
            secret,
        )

    def close(self) -> None:
        self.log.close()
        self.clients.close()
        self.rate_limiter.close()
        self.miss_budget.close()
        self.keyless_limiter.close()
        self.warehouse.close()


# ---------------------------------------------------------------------------- the gate


def error_body(status: int, detail: str) -> dict:
    return {"error": ERROR_CODES.get(status, f"status_{status}"), "detail": detail}


def error_response(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, detail), status_code=status, headers=headers)


def bearer_key(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "bearer" else None
    return None


def route_of(routes: list[BaseRoute], scope: Scope) -> str:
    """The route's template (`/v1/persons/{person_id}`): the URL itself may hold a national id."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "path", "(unnamed)")
        if match is Match.PARTIAL and partial is None:
            partial = route  # the path, not the method: a 405
    return getattr(partial, "path", "(no route)")


def peer_address(scope: Scope) -> str | None:
    """The connection's peer: the server takes no address a client claims in a header."""
    client = scope.get("client")
    return client[0] if client else None


class Gate:
    """Identify, rate-limit and log every request: pure ASGI, so that it sees each one, refused
    or failed, and holds the answer until its access-log row is committed."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]):
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.refuse_websocket(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        access = Access(
            access_log.utc_now(),
            scope["method"],
            route_of(self.routes, scope),
            address=peer_address(scope),
        )
        scope[ACCESS] = access
        answer = LoggedAnswer(send, services.log, access)
        refusal = self.refusal(scope, services, access)
        if refusal is None and declared_length(scope) is None:
            receive = await read_within_limit(receive)
            refusal = None if receive else too_large
        try:
            await (refusal or self.app)(scope, receive, answer.send)
        except Exception as error:  # anything uncaught is answered here, and logged masked
            logger.error("request to %s failed: %s", access.endpoint, describe(error))
            if not answer.started:
                failed = error_response(500, "the server failed; nothing was changed")
                await failed(scope, receive, answer.send)

    @staticmethod
    def refusal(scope: Scope, services: Services, access: Access) -> ASGIApp | None:
        """The answer of a request refused at the gate; None lets it through."""
        if (declared_length(scope) or 0) > MAX_BODY_BYTES:
            return too_large
        if access.endpoint in PUBLIC_ROUTES:
            return None
        key = bearer_key(scope)
        client = services.clients.find(key) if key else None
        if client is None:
            wait = services.keyless_limiter.admit(address_slot(access.address or ""), KEYLESS_RATE)
            if wait:
                return error_response(
                    429,
                    "too many requests without a valid key from this address: retry later",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
            return error_response(
                401,
                "a valid key is required: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        access.client, access.scope = client.name, client.scope
        scope[CLIENT] = client
        wait = services.rate_limiter.admit(client.id, client.rate)
        if wait:
            return error_response(
                429,
                f"more than {client.rate:g} requests a second: retry later",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        return None

    async def refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The API has no WebSocket: a handshake is refused (403), and logged as any refusal,
        under the route its URL names."""
        services: Services = scope["app"].state.services
        as_http = {**scope, "type": "http", "method": "GET"}
        access = Access(
            access_log.utc_now(),
            "GET",
            route_of(self.routes, as_http),
            address=peer_address(scope),
        )
        access.outcome, access.outcome_status = "websocket", 403
        await receive()  # the handshake, before any answer
        try:
            await services.log.append(access.row(403, 0.0))
        except Exception as error:
            logger.error("the access log refused a row: %s", describe(error))
        await send({"type": "websocket.close", "code": 1008})


too_large = error_response(413, f"the body is larger than {MAX_BODY_BYTES} bytes")


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else MAX_BODY_BYTES + 1
    return None


async def read_within_limit(receive: Receive) -> Receive | None:
    """A body sent without a length, read whole while it stays within MAX_BODY_BYTES and
    handed on as if just received; None when it grows past the limit."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            return None
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


class LoggedAnswer:
    """The ASGI `send` of one request, which lets the answer go only once its access-log row is
    committed, and withholds it (503) if the row cannot be."""

    def __init__(self, send: Send, log: AccessLog, access: Access):
        self._send = send
        self._log = log
        self._access = access
        self._began = time.perf_counter()
        self.started = False
        self._withheld = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            elapsed_ms = (time.perf_counter() - self._began) * 1000
            row = self._access.row(message["status"], elapsed_ms)
            try:
                await self._log.append(row)
            except Exception as error:
                logger.error("the access log refused a row: %s", describe(error))
                self._withheld = True
                await send_raw(self._send, 503, error_body(503, "the access log is unavailable"))
                return
            extra = answer_headers(self._access)
            message = {**message, "headers": [*message["headers"], *extra]}
        elif self._withheld:
            return
        await self._send(message)


def answer_headers(access: Access) -> list[tuple[bytes, bytes]]:
    headers = [(b"cache-control", b"no-store")]
    if access.warehouse_run:
        headers.append((b"x-dancu-warehouse", access.warehouse_run.encode()))
    return headers


async def send_raw(send: Send, status: int, body: dict) -> None:
    response = JSONResponse(body, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def describe(error: BaseException) -> str:
    """An exception for the server log: its kind, and its message with values masked."""
    return f"{type(error).__name__}: {mask_message(str(error))}"


# ---------------------------------------------------------------------------- errors


def problem(error: dict) -> dict:
    """One validation error, explained without the value that caused it."""
    where, *field = error["loc"]
    explained = {
        "json_invalid": "the body is not valid JSON",
        "missing": "required",
        "extra_forbidden": "a key that is not a field of this request (see the API's schema)",
        "string_type": "must be a JSON string",
        "model_attributes_type": "the body must be a JSON object (Content-Type: application/json)",
    }
    if error["type"] == "value_error":
        text = str(error["ctx"]["error"])
    elif error["type"] == "literal_error":
        text = f"one of {error['ctx']['expected']}"
    else:
        text = explained.get(error["type"]) or mask_message(error["msg"])
    # A key the client made up is not named back: it may be a person's name or id.
    named = [] if error["type"] == "extra_forbidden" else field
    named = [str(part) for part in named if isinstance(part, str)]
    return {"in": where, "field": ".".join(named) or None, "problem": text}


def malformed(problems: list[dict]) -> JSONResponse:
    body = error_body(422, "the request is malformed; nothing was looked up")
    return JSONResponse({**body, "problems": problems}, 422)


async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
    # FastAPI's own handler repeats every input it refused: a name, an id, a birth date.
    return malformed([problem(e) for e in error.errors()])


async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
    if error.status_code == 400:
        # FastAPI's answer to a body that is no JSON text at all (not UTF-8): as malformed as
        # any other, and answered as the API says a malformed request is.
        return malformed([{"in": "body", "field": None, "problem": UNREADABLE_BODY}])
    return error_response(error.status_code, str(error.detail), headers=error.headers)


# ---------------------------------------------------------------------------- models


def checked_national_id(value: str) -> str:
    value = value.strip()
    if not NATIONAL_ID.fullmatch(value):
        raise ValueError("a national id is exactly 12 digits")
    return value


def checked_full_name(value: str) -> str:
    if not any(character.isalpha() for character in value):
        raise ValueError("a full name holds at least one letter")
    return value


def checked_birth_date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("write the date as a string, dd/mm/yyyy or yyyy-mm-dd")
    birth_date = parse_birth_date(value)
    if birth_date > datetime.now(UTC).date():
        raise ValueError("the date lies in the future")
    return birth_date


NationalId = Annotated[
    str,
    AfterValidator(checked_national_id),
    Field(description="the 12-digit personal id (CCCD)", examples=["001088012345"]),
]
BirthDate = Annotated[
    date,
    BeforeValidator(checked_birth_date),
    WithJsonSchema({"type": "string", "examples": ["28/03/2001", "2001-03-28"]}),
    Field(description="dd/mm/yyyy or yyyy-mm-dd"),
]


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    national_id: NationalId
    full_name: Annotated[
        str,
        AfterValidator(checked_full_name),
        Field(max_length=200, description="with or without diacritics, in any case and spacing"),
    ]
    birth_date: BirthDate


class VerifyAnswer(BaseModel):
    match: bool = Field(description="one person in the register carries this id, name and date")
    is_deceased: bool | None = Field(description="on a match: whether the person has died")
    person_id: str | None = Field(description="on a match: the person's stable id")


class WarehouseVersion(BaseModel):
    run_id: str
    published_at: datetime


class Health(BaseModel):
    status: Literal["ok"]
    warehouse: WarehouseVersion


class PersonRows(BaseModel):
    view: str
    rows: list[dict[str, Any]] = Field(description="the view's rows of the person")


class AccessLogEntries(BaseModel):
    entries: list[dict[str, Any]]


class RequestCounts(BaseModel):
    counts: list[dict[str, Any]] = Field(description="requests per client, scope and outcome")


class AuditRecords(BaseModel):
    rows: list[dict[str, Any]] = Field(description="svc_audit rows: where each row delivered went")


# ---------------------------------------------------------------------------- the caller

bearer = HTTPBearer(auto_error=False, description="the key that `dancu client add` printed")


@dataclass(frozen=True)
class Caller:
    """The client the gate let in, and what the access log will keep of its request."""

    client: Client
    access: Access
    services: Services

    def version(self) -> Version:
        """The published version that answers this request, start to end."""
        version = self.services.warehouse.current()
        if version is None:
            raise HTTPException(503, "no warehouse has been published yet")
        self.access.warehouse_run = version.run_id
        return version

    def record_query(self, **values: str) -> None:
        secret = self.services.secret
        self.access.query_digests = {
            name: query_digest(secret, name, value) for name, value in values.items()
        }

    def readable_view(self, asked: str | None) -> str:
        scope, view = self.client.scope, self.client.view
        if scope == AUDIT_SCOPE:
            raise HTTPException(403, "a key of the audit scope reads no person")
        if view is None:
            raise HTTPException(403, f"the scope {scope} reads no view: it may only verify")
        if asked is not None and asked != view:
            raise HTTPException(403, f"the scope {scope} reads {view} only")
        self.access.view = view
        return view

    def require_audit(self) -> None:
        if self.client.scope != AUDIT_SCOPE:
            raise HTTPException(403, "only a key of the audit scope reads the audit trail")

    def answer_persons(self, rows: list[dict]) -> PersonRows:
        if not rows:
            raise HTTPException(404, f"no such person in {self.access.view}")
        self.access.person_ids = named_person_ids(rows)
        return PersonRows(view=self.access.view, rows=rows)

    def require_miss_left(self) -> None:
        """Refuse a national-id lookup once the client's lookups have found nobody too often:
        a key guessing ids would otherwise harvest the persons it hits."""
        client = self.client
        wait = self.services.miss_budget.wait(client.id, client.misses_per_hour)
        if wait:
            self.access.outcome, self.access.outcome_status = "miss_budget", 429
            raise HTTPException(
                429,
                f"more than {client.misses_per_hour:g} lookups by national id an hour found "
                "nobody: retry later",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    def count_miss(self) -> None:
        self.services.miss_budget.spend(self.client.id, self.client.misses_per_hour)


def named_person_ids(rows: list[dict]) -> list[str]:
    """Every person an answer names: its own, and its parents' (`mother_person_id`, ...)."""
    return sorted(
        {
            value
            for row in rows
            for column, value in row.items()
            if value and (column == "person_id" or column.endswith("_person_id"))
        }
    )


async def caller_of(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Caller:
    """(The key parameter only describes the key in /docs: the gate has checked it.)"""
    return Caller(request.scope[CLIENT], request.scope[ACCESS], request.app.state.services)


def utc_naive(moment: datetime | None) -> datetime | None:
    """A time as the access log writes it: in UTC, without its offset."""
    if moment is None or moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("the time lies outside the years 1 to 9999 once in UTC") from None


# ---------------------------------------------------------------------------- endpoints

router = APIRouter(prefix="/v1")
CallerDep = Annotated[Caller, Depends(caller_of)]
ViewQuery = Annotated[ViewName | None, Query(description="the view to read: the scope's own")]
SinceQuery = Annotated[
    datetime | None, Query(description="from this time (UTC) on"), AfterValidator(utc_naive)
]


@router.get("/health", tags=["service"], summary="The published warehouse's version; no key")
async def health(request: Request) -> Health:
    version = request.app.state.services.warehouse.current()
    if version is None:
        raise HTTPException(503, "no warehouse has been published yet")
    request.scope[ACCESS].warehouse_run = version.run_id
    published = WarehouseVersion(run_id=version.run_id, published_at=version.published_at)
    return Health(status="ok", warehouse=published)


@router.post(
    "/verify",
    tags=["persons"],
    summary="Is this the person with this id? Any scope",
    description="Match only when exactly one person carries the id with this name (diacritics, "
    "case and spacing aside) and birth date (or birth year, where the register knows no more). "
    "A mismatch says nothing of what the register holds.",
)
async def verify(body: VerifyRequest, caller: CallerDep) -> VerifyAnswer:
    version = caller.version()
    caller.record_query(
        national_id=body.national_id,
        full_name=name_key(body.full_name),
        birth_date=body.birth_date.isoformat(),
    )
    result = version.index.verify(body.national_id, body.full_name, body.birth_date)
    caller.access.outcome = "match" if result.match else "no_match"
    caller.access.person_ids = [result.person_id] if result.person_id else []
    return VerifyAnswer(
        match=result.match, is_deceased=result.is_deceased, person_id=result.person_id
    )


@router.get("/persons/{person_id}", tags=["persons"], summary="A person's rows in the scope's view")
def person_by_id(
    person_id: Annotated[str, Path(pattern=PERSON_ID_PATTERN)],
    caller: CallerDep,
    view: ViewQuery = None,
) -> PersonRows:
    readable = caller.readable_view(view)
    caller.record_query(person_id=person_id)
    version = caller.version()
    return caller.answer_persons(
        version.query(f"select * from warehouse.{readable} where person_id = ?", [person_id])
    )


@router.get("/persons", tags=["persons"], summary="The rows of the person with a national id")
def person_by_national_id(
    national_id: Annotated[str, Query(), AfterValidator(checked_national_id)],
    caller: CallerDep,
    view: ViewQuery = None,
) -> PersonRows:
    readable = caller.readable_view(view)
    caller.record_query(national_id=national_id)
    caller.require_miss_left()
    version = caller.version()
    # Two indexed lookups: a view joined by national id would be scanned whole.
    persons = version.query(
        "select person_id from warehouse.person where national_id = ?", [national_id]
    )
    rows = [
        row
        for person in persons
        for row in version.query(
            f"select * from warehouse.{readable} where person_id = ?", [person["person_id"]]
        )
    ]
    if not rows:
        caller.count_miss()
    return caller.answer_persons(rows)


@router.get("/audit/access-log", tags=["audit"], summary="The access log's latest rows")
def audit_access_log(
    caller: CallerDep,
    client: Annotated[str | None, Query(description="one client's requests")] = None,
    since: SinceQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> AccessLogEntries:
    caller.require_audit()
    path = caller.services.paths.access_log
    return AccessLogEntries(entries=access_log.read_entries(path, client, since, limit=limit))


@router.get("/audit/summary", tags=["audit"], summary="Requests per client, scope and outcome")
def audit_summary(caller: CallerDep, since: SinceQuery = None) -> RequestCounts:
    caller.require_audit()
    path = caller.services.paths.access_log
    return RequestCounts(counts=access_log.count_requests(path, since=since))


@router.get("/audit/records", tags=["audit"], summary="Where delivered rows went (svc_audit)")
def audit_records(
    caller: CallerDep,
    file_name: Annotated[str, Query(max_length=500, description="a delivered file")],
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditRecords:
    caller.require_audit()
    caller.access.view = "svc_audit"
    rows = caller.version().query(
        "select * from warehouse.svc_audit where file_name = ? "
        "order by row_number limit ? offset ?",
        [file_name, limit, offset],
    )
    caller.access.person_ids = named_person_ids(rows)
    return AuditRecords(rows=rows)


# ---------------------------------------------------------------------------- the application


def create_app(paths: ServicePaths | None = None) -> FastAPI:
    paths = paths or ServicePaths.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services.open(paths)
        try:
            yield
        finally:
            app.state.services.close()

    app = FastAPI(
        title="dancu service API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
        # The routes themselves, not `include_router`, which hides them behind one opaque route
        # and so from `route_of`.
        routes=list(router.routes),
    )
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(Gate, routes=app.router.routes)
    return app
