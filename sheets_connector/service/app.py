"""The HTTP layer of the sync service (FastAPI): the sheet menu's webhook and run status.

Routes (the OpenAPI document is served at ``/openapi.json``):

- ``POST /v1/sync``                     signed; starts a run, answers 202 + run id at once
- ``GET  /v1/runs/{run_id}``            signed; a run's state, counts and rows that need attention
- ``GET  /v1/runs/latest?spreadsheet=`` signed; the spreadsheet's last sync from any trigger (menu,
                                        schedule, CLI, cron: one run registry), previews too with
                                        ``include_previews=true``
- ``GET  /healthz``, ``/readyz``, ``/metrics``  unsigned liveness, readiness and Prometheus
                                        metrics (``ops.py``)

A POST is checked in this order, each failure answering a short fixed text: content type
(415), size (413), signature + timestamp + replay (401), JSON and fields (400), spreadsheet
known and owning the signing secret (401, the same answer as a bad signature).  Only then
does the body mean anything, and all it can do is name a configured spreadsheet.  GETs are
signed but not replay-guarded: they only read a status, and the menu polls one every few
seconds.  Answers are
ASCII-only JSON (``\\uXXXX`` escapes), like the requests the sheet sends.
"""
from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import __version__
from ..errors import ConnectorError
from ..messages.catalog import msg, render
from . import log
from .ops import Check, add_ops_routes, document_answers
from .runs import Busy, RunManager, ServiceClosing
from .sheets import Registry, Sheet
from .signing import (
    HEADER,
    TOLERANCE_S,
    SignatureError,
    Verified,
    signed_text_for_get,
    verify,
)
from .store import Run, RunStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 * 1024  # a real request is about 200 bytes
    tolerance_s: int = TOLERANCE_S


# --- wire models ---------------------------------------------------------------------------------


class SyncRequest(BaseModel):
    """What the sheet sends. Any other key is refused: the body cannot choose files, URLs or configs."""

    model_config = ConfigDict(extra="forbid")

    spreadsheet_id: str = Field(min_length=1, max_length=200)
    worksheet: str | None = Field(None, max_length=200, description="The tab the user was on (recorded, informational).")
    dry_run: StrictBool = Field(False, description="Preview: validate and show what would be sent; send nothing.")
    requested_by: str | None = Field(None, max_length=320, description="Informational only, never used for access.")
    nonce: str | None = Field(None, max_length=100, description="Random per click, so two identical clicks are not replays.")


class RunAccepted(BaseModel):
    run_id: str
    state: str
    status_url: str
    language: Literal["en", "he"] = Field("en", description="The mapping's language: the menu's notices are in it.")


class Refusal(BaseModel):
    error: str
    run_id: str | None = None
    language: Literal["en", "he"] | None = Field(
        None, description="For the spreadsheet's own answers (409 busy, 404 no run yet): the mapping's language.")


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")
    row: int
    outcome: str
    detail: str


class Progress(BaseModel):
    stage: str
    done: int
    total: int | None = None


class RunStatus(BaseModel):
    id: str
    spreadsheet_id: str
    worksheet: str | None
    trigger: str
    dry_run: bool
    requested_by: str | None
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    problems: list[Problem]
    problems_total: int
    preview: list[dict[str, Any]] = Field(description="Dry run: the first contacts as they would be sent (API bodies).")
    preview_lines: list[str] = Field(description="Dry run: the same contacts in words staff recognise.")
    would_send: int | None
    rows_read: int
    warnings: list[str]
    error: str | None = Field(description="What went wrong, for the user; never a secret.")
    progress: Progress | None
    language: Literal["en", "he"] = Field("en", description="The mapping's language: the menu's texts are in it.")

    @classmethod
    def of(cls, run: Run, language: str = "en") -> RunStatus:
        """``language``: the sheet's mapping's, for a run that has no result yet (queued, running, failed)."""
        r = run.result
        return cls(
            id=run.id, spreadsheet_id=run.spreadsheet_id, worksheet=run.worksheet, trigger=run.trigger,
            dry_run=run.dry_run, requested_by=run.requested_by, state=run.state, created_at=run.created_at,
            started_at=run.started_at, finished_at=run.finished_at,
            counts=r.counts if r else {}, problems=[Problem(**p) for p in r.problems] if r else [],
            problems_total=r.problems_total if r else 0, preview=r.preview if r else [],
            preview_lines=r.preview_lines if r else [],
            would_send=r.would_send if r else None, rows_read=r.rows_read if r else 0,
            warnings=r.warnings if r else [], error=run.error,
            progress=Progress(**vars(run.progress)) if run.progress else None,
            language="he" if (r.language if r else language) == "he" else "en",
        )


# --- plumbing ---------------------------------------------------------------------------------------


class AsciiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class Refused(Exception):
    """Ends a request with a fixed, unhelpful-to-attackers answer; ``reason`` goes to the log only."""

    def __init__(self, status: int, reason: str, run_id: str | None = None, language: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.run_id = run_id
        self.language = language


PUBLIC_TEXT = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    409: "a sync of this spreadsheet is already running",
    413: "request too large",
    415: "send application/json",
    503: "the service is restarting or cannot reach its database; try again in a minute",
}
# a refusal for a sheet the signer owns is said in its mapping's language
_OWN_SHEET_TEXT = {409: "service.busy", 404: "service.no_run_yet"}


def _public_text(status: int, language: str | None) -> str:
    key = _OWN_SHEET_TEXT.get(status)
    return render(msg(key), language) if key and language else PUBLIC_TEXT[status]


REFUSALS: dict[int | str, dict[str, Any]] = {code: {"model": Refusal, "description": text}
                                             for code, text in PUBLIC_TEXT.items()}
ANSWER_TEXT = {200: "OK", 202: "the run is queued", 405: "method not allowed",
               408: "the body did not arrive in time (answered by the connection guard)", **PUBLIC_TEXT}
# what each route can answer, and so all that /openapi.json lists (tests/test_service_openapi.py
# makes each of them happen); uvicorn's own 400 for a request that is not HTTP is not a route's
ANSWERS: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/v1/sync"): (202, 400, 401, 408, 409, 413, 415, 503),
    ("GET", "/v1/runs/latest"): (200, 400, 401, 404, 503),
    ("GET", "/v1/runs/{run_id}"): (200, 401, 404, 503),
    ("GET", "/healthz"): (200,),
    ("GET", "/readyz"): (200, 503),
    ("GET", "/metrics"): (200,),
}


class RequestLog:
    """ASGI middleware: one log line per request (never headers, bodies or signatures)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.monotonic()
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            state = scope.get("state") or {}
            client = scope.get("client")
            log.event("request", method=scope["method"], path=scope["path"], status=status[0],
                      ms=round((time.monotonic() - t0) * 1000, 1), client=client[0] if client else None,
                      **{k: state[k] for k in ("run_id", "refused") if k in state})


signature_header = APIKeyHeader(
    name=HEADER, auto_error=False, scheme_name="signature",
    description="t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\"> for POST, of "
                "\"<t>.<path>[?<query>]\" for GET, keyed with the spreadsheet's webhook secret.",
)


def _note(request: Request, **fields: str) -> None:
    for k, v in fields.items():
        setattr(request.state, k, v)


def _route_path(request: Request) -> str:
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


# --- the app -----------------------------------------------------------------------------------------


def create_app(
    registry: Registry,
    store: RunStore,
    manager: RunManager,
    *,
    limits: Limits = Limits(),
    clock: Callable[[], float] = time.time,
    on_shutdown: Callable[[], None] | None = None,
    checks: Mapping[str, Check] | None = None,
) -> FastAPI:
    """The service's ASGI app. ``on_shutdown`` (default ``manager.shutdown``) runs on SIGTERM;
    ``checks`` are the readiness checks by name (default: the run registry answers)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.event("started", spreadsheets=len(registry), version=__version__)
        yield
        log.event("stopping", active_runs=manager.active_runs())
        await run_in_threadpool(on_shutdown or manager.shutdown)
        log.event("stopped")

    app = FastAPI(
        title="sheets-connector sync service", version=__version__, lifespan=lifespan,
        default_response_class=AsciiJSONResponse, docs_url=None, redoc_url=None,
        redirect_slashes=False,  # a redirect would answer an unsigned request with a signed route's address
        description="Starts inwise syncs from the spreadsheet menu and reports their status. "
                    "Every /v1 request is signed (see the `signature` security scheme).",
    )
    app.add_middleware(RequestLog)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> AsciiJSONResponse:
        _note(request, refused=exc.reason)
        body: dict[str, Any] = {"error": _public_text(exc.status, exc.language)}
        if exc.run_id:  # a 409 names the run that holds the sheet, in the answer and the log line
            body["run_id"] = exc.run_id
            _note(request, run_id=exc.run_id)
        if exc.language:  # a sheet the signer owns: the menu says it in the mapping's language
            body["language"] = exc.language
        return AsciiJSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> AsciiJSONResponse:
        # only a signed GET's query can fail validation; unsigned, it gets the answer of any unsigned request
        query = request.scope["query_string"].decode("latin-1")
        try:
            check(request.headers.get(HEADER), signed_text_for_get(_route_path(request), query), replay=False)
        except Refused as e:
            _note(request, refused=e.reason)
            return AsciiJSONResponse({"error": PUBLIC_TEXT[401]}, status_code=401)
        _note(request, refused="invalid_parameters")
        return AsciiJSONResponse({"error": PUBLIC_TEXT[400]}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> AsciiJSONResponse:
        return AsciiJSONResponse({"error": PUBLIC_TEXT.get(exc.status_code, "error")}, status_code=exc.status_code)

    def check(signature: str | None, message: bytes, *, replay: bool) -> Verified:
        try:
            return verify(signature, message, registry.secrets(), now=clock(), tolerance_s=limits.tolerance_s,
                          replay_guard=store if replay else None)
        except SignatureError as e:
            raise Refused(401, str(e)) from None
        except ConnectorError:  # the replay guard's database cannot be reached: logged
            log.logger.warning('{"event": "replay_guard_unreachable"}', exc_info=True)
            raise Refused(503, "store_unavailable") from None

    def owned(verified: Verified, spreadsheet_id: str) -> Sheet | None:
        sheet = registry.get(spreadsheet_id)
        return sheet if sheet is not None and verified.matched.intersection(sheet.secrets) else None

    def read(lookup: Callable[[], Run | None]) -> Run | None:
        try:
            return lookup()
        except ConnectorError:  # the run registry cannot be reached (or a mapping is broken): logged
            log.logger.warning('{"event": "registry_unreadable"}', exc_info=True)
            raise Refused(503, "store_unavailable") from None

    def start(request: Request, signature: str | None, body: bytes) -> AsciiJSONResponse:
        verified = check(signature, body, replay=True)
        try:
            req = SyncRequest.model_validate(json.loads(body))
        # JSONDecodeError and UnicodeDecodeError are ValueErrors; a deeply nested array exhausts the parser
        except (ValueError, ValidationError, RecursionError):
            raise Refused(400, "malformed_body") from None
        sheet = owned(verified, req.spreadsheet_id)
        if sheet is None:
            raise Refused(401, "unknown_spreadsheet")
        try:
            outcome = manager.start(sheet, dry_run=req.dry_run, trigger="menu", worksheet=req.worksheet,
                                    requested_by=req.requested_by)
        except ServiceClosing:
            raise Refused(503, "closing") from None
        except ConnectorError:  # the run registry cannot be reached (or a mapping is broken): logged
            log.logger.warning('{"event": "not_started"}', exc_info=True)
            raise Refused(503, "store_unavailable") from None
        if isinstance(outcome, Busy):
            raise Refused(409, "busy", run_id=outcome.holder, language=sheet.language)
        _note(request, run_id=outcome.run.id)
        accepted = RunAccepted(run_id=outcome.run.id, state=outcome.run.state, status_url=f"/v1/runs/{outcome.run.id}",
                               language="he" if sheet.language == "he" else "en")
        return AsciiJSONResponse(accepted.model_dump(), status_code=202)

    @app.post(
        "/v1/sync", status_code=202, response_model=RunAccepted, responses={**REFUSALS},
        summary="Start a sync (or a preview) of a spreadsheet",
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": SyncRequest.model_json_schema()}}}},
    )
    async def post_sync(request: Request, signature: str | None = Security(signature_header)) -> AsciiJSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refused(415, "content_type")
        body = await _read_body(request, limits.max_body_bytes)
        return await run_in_threadpool(start, request, signature, body)

    # declared before /v1/runs/{run_id}, which would otherwise take "latest" for an id
    @app.get("/v1/runs/latest", response_model=RunStatus, responses={**REFUSALS},
             summary="The spreadsheet's last sync (optionally including previews)")
    def latest(
        request: Request,
        spreadsheet: str = Query(min_length=1, max_length=200),
        include_previews: bool = False,
        signature: str | None = Security(signature_header),
    ) -> RunStatus:
        query = request.scope["query_string"].decode("latin-1")
        verified = check(signature, signed_text_for_get(_route_path(request), query), replay=False)
        sheet = owned(verified, spreadsheet)
        if sheet is None:
            raise Refused(401, "unknown_spreadsheet")
        run = read(lambda: store.latest_run(sheet.spreadsheet_id, include_dry_runs=include_previews))
        if run is None:
            raise Refused(404, "no_run_yet", language=sheet.language)
        _note(request, run_id=run.id)
        return RunStatus.of(run, sheet.language)

    @app.get("/v1/runs/{run_id}", response_model=RunStatus, responses={**REFUSALS}, summary="One run's status")
    def get_run(request: Request, run_id: str, signature: str | None = Security(signature_header)) -> RunStatus:
        query = request.scope["query_string"].decode("latin-1")
        verified = check(signature, signed_text_for_get(_route_path(request), query), replay=False)
        run = read(lambda: store.get_run(run_id)) if len(run_id) <= 300 else None
        # a run of a spreadsheet the signer does not own looks exactly like no run at all
        sheet = owned(verified, run.spreadsheet_id) if run is not None else None
        if run is None or sheet is None:
            raise Refused(404, "unknown_run")
        return RunStatus.of(run, sheet.language)

    add_ops_routes(app, checks or {"store": store.ping}, AsciiJSONResponse)
    document_answers(app, {route: {code: ANSWER_TEXT[code] for code in codes} for route, codes in ANSWERS.items()})
    return app


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > limit):
        raise Refused(413, "too_large")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():  # a chunked body has no length: count as it comes
            size += len(chunk)
            if size > limit:
                raise Refused(413, "too_large")
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or timed out by the guard (which has answered 408)
        raise Refused(400, "body_not_received") from None
    return b"".join(chunks)
