"""The operator's routes (unsigned, read-only) and the OpenAPI document's list of answers.

- ``GET /healthz``  liveness: the process answers HTTP (200 while it runs; restart it if not);
- ``GET /readyz``   readiness: 200 when every check passes (the run registry, the scheduler, the
                    workers), else 503 naming the ones that failed: take the instance out of the
                    load balancer, do not restart it (a database outage is not cured by a restart);
- ``GET /metrics``  Prometheus text format (``sheets_connector.metrics``), no spreadsheet ids.

None of them tells anything a visitor could use: no ids, paths, versions of dependencies or
counts by sheet.  A proxy may still keep ``/metrics`` to the monitoring network.

``document_answers`` makes the OpenAPI document list exactly the statuses a route can answer:
FastAPI adds a 422 to every route with parameters (this service answers 400 or 401 instead)
and knows nothing of the refusals raised inside a route.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .. import __version__

Check = Callable[[], bool]


class Alive(BaseModel):
    status: Literal["ok"]
    version: str


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, bool]
    version: str


def add_ops_routes(app: FastAPI, checks: Mapping[str, Check], response_class: type[JSONResponse]) -> None:
    @app.get("/healthz", response_model=Alive, summary="Liveness (unsigned): the process answers")
    def healthz() -> JSONResponse:
        return response_class(Alive(status="ok", version=__version__).model_dump())

    @app.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "a check failed"}},
             summary="Readiness (unsigned): the run registry, the scheduler and the workers")
    async def readyz() -> JSONResponse:
        results = await run_in_threadpool(_run_checks, checks)
        ok = all(results.values())
        body = Ready(status="ready" if ok else "not ready", checks=results, version=__version__)
        return response_class(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/metrics", response_class=Response, summary="Prometheus metrics (unsigned)",
             responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}, "description": "metrics"}})
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _run_checks(checks: Mapping[str, Check]) -> dict[str, bool]:
    results = {}
    for name, check in checks.items():
        try:
            results[name] = bool(check())
        except Exception:  # noqa: BLE001 - a check that cannot run has failed
            results[name] = False
    return results


def document_answers(app: FastAPI, answers: Mapping[tuple[str, str], Mapping[int, str]]) -> None:
    """Make ``/openapi.json`` list, for each (method, path), exactly ``answers``' statuses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    wanted = answers.get((method.upper(), path))
                    if wanted is None:
                        continue
                    given = operation.get("responses", {})
                    operation["responses"] = {
                        str(code): given.get(str(code)) or _refusal(text) for code, text in sorted(wanted.items())}
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _refusal(text: str) -> dict[str, Any]:
    return {"description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}}
