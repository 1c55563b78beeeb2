"""The three source systems over HTTP, from one process: `/onestop`, `/portal`, `/ioffice`.

Routes come from the entity registry (`cchc.synthetic.entities`): every entity is served at
`/{source}/api/v1/{name}`, every source has `/{source}/health`. The portal also serves its
766 evaluation endpoints (`/portal/api/v1/evaluation/<name>?year=&month=`), precomputed by
the generator in the samples' exact shape.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from cchc.synthetic.entities import ENTITIES, EntitySpec
from cchc.synthetic.timeutil import STAMP_FORMAT

from . import corruption
from .faults import FAULT_HEADER, RETRY_AFTER_SECONDS, Fault, FaultConfig, FaultInjector
from .store import SimStore

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000
_STAMP = re.compile(r"^\d{14}$")


class BadRequest(ValueError):
    pass


def _envelope(
    code: str, message: str, data: dict | None, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": data}, status, headers)


def _unauthorized() -> JSONResponse:
    return _envelope(
        "UNAUTHORIZED", "missing or invalid bearer token", None, 401, {"WWW-Authenticate": "Bearer"}
    )


def _parse_stamp(name: str, value: str | None) -> datetime:
    if value is None:
        raise BadRequest(f"{name} is required (yyyyMMddHHmmss, local time)")
    if not _STAMP.match(value):
        raise BadRequest(f"{name} must be yyyyMMddHHmmss, got {value!r}")
    try:
        return datetime.strptime(value, STAMP_FORMAT)
    except ValueError:
        raise BadRequest(f"{name} is not a valid date: {value!r}") from None


def _parse_int(name: str, value: str | None, default: int, low: int, high: int | None) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"\d+", value):
        raise BadRequest(f"{name} must be a positive integer, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"{name} must be {bounds}, got {number}")
    return number


def _error_response(fault: Fault) -> JSONResponse | None:
    if fault.kind == "500":
        return _envelope("INTERNAL_ERROR", "simulated server error", None, 500)
    if fault.kind == "429":
        return _envelope(
            "TOO_MANY_REQUESTS",
            "simulated rate limit",
            None,
            429,
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if fault.kind in ("slow", "timeout"):
        time.sleep(fault.delay)  # answer correctly, but late (past the client's timeout)
    return None


def create_app(store_path: Path, token: str, faults: FaultConfig | str | None = None) -> FastAPI:
    """`faults`: a FaultConfig, its string form (as in CCHC_SIM_FAULTS), or None for none.
    The `X-Sim-Fault` request header works in every case."""
    store = SimStore(store_path)
    config = FaultConfig.parse(faults) if isinstance(faults, str) or faults is None else faults
    injector = FaultInjector(config)
    app = FastAPI(title="CCHC source simulators", docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.faults = injector

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            presented.strip().encode(), token.encode()
        )

    def health() -> dict:
        return {"status": "ok"}

    def faulty_page(
        spec: EntitySpec, fault: Fault, window: tuple[datetime, datetime], page: int, size: int
    ) -> Response:
        result = store.page(spec.name, *window, page, size)
        items = result.items
        kind = fault.kind
        if kind == "duplicate" and items:
            neighbour_index = (page - 1) * size - 1 if page > 1 else size
            neighbour = (
                store.page(spec.name, *window, neighbour_index + 1, 1).items
                if neighbour_index < result.total
                else []
            )
            items = corruption.with_neighbour_duplicate(
                items, neighbour[0] if neighbour else None, page == 1
            )
        elif kind == "drift-extra":
            items = corruption.drift_extra(items)
        elif kind == "drift-missing":
            items = corruption.drift_missing(items, spec)
        elif kind == "drift-renamed":
            items = corruption.drift_renamed(items, spec)
        elif kind == "nfd":
            items = corruption.nfd(items)
        elif kind == "keyless":
            items = corruption.keyless(items, spec)
        body = {
            "code": "OK",
            "message": "OK",
            "data": {"items": items, "pagination": _pagination(result.total, page, size)},
        }
        text = corruption.to_json(body)
        if kind == "truncated":
            text = corruption.truncated(text)
        elif kind == "malformed":
            text = corruption.malformed(text)
        return Response(text.encode(), 200, media_type="application/json")

    def list_endpoint(spec: EntitySpec):
        # Sync handler: FastAPI runs it on a worker thread, so SQLite and sleeps don't block.
        def list_records(request: Request) -> Response:
            if not authorized(request):
                return _unauthorized()
            query = request.query_params
            try:
                fault = injector.draw(request.headers.get(FAULT_HEADER))
                updated_from = _parse_stamp("updatedFrom", query.get("updatedFrom"))
                updated_to = _parse_stamp("updatedTo", query.get("updatedTo"))
                if updated_from >= updated_to:
                    raise BadRequest("updatedFrom must be before updatedTo")
                page = _parse_int("page", query.get("page"), 1, 1, None)
                page_size = _parse_int(
                    "pageSize", query.get("pageSize"), DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE
                )
            except ValueError as error:
                return _envelope("BAD_REQUEST", str(error), None, 400)
            if fault is not None:
                if (failed := _error_response(fault)) is not None:
                    return failed
                if fault.kind not in ("slow", "timeout"):
                    return faulty_page(spec, fault, (updated_from, updated_to), page, page_size)
            items, total = store.page_json(spec.name, updated_from, updated_to, page, page_size)
            return Response(_ok_page(items, total, page, page_size), 200, media_type="application/json")  # fmt: skip

        list_records.__name__ = f"list_{spec.source}_{spec.name.replace('-', '_')}"
        return list_records

    def evaluation(name: str, request: Request) -> Response:
        if not authorized(request):
            return _unauthorized()
        query = request.query_params
        try:
            if query.get("year") is None or query.get("month") is None:
                raise BadRequest("year and month are required")
            year = _parse_int("year", query.get("year"), 0, 2000, 2100)
            month = _parse_int("month", query.get("month"), 0, 1, 12)
        except ValueError as error:
            return _envelope("BAD_REQUEST", str(error), None, 400)
        body = store.evaluation(name, year, month)
        if body is None:
            known = ", ".join(store.evaluation_names())
            return _envelope(
                "NOT_FOUND", f"no evaluation {name!r} for {year}-{month:02d} (known: {known})",
                None, 404,
            )  # fmt: skip
        return Response(body, 200, media_type="application/json")

    for source in sorted({spec.source for spec in ENTITIES.values()}):
        app.add_api_route(f"/{source}/health", health, methods=["GET"], name=f"{source}_health")
    for spec in ENTITIES.values():
        app.add_api_route(spec.path, list_endpoint(spec), methods=["GET"])
    app.add_api_route("/portal/api/v1/evaluation/{name}", evaluation, methods=["GET"])
    return app


def _ok_page(items: bytes, total: int, page: int, page_size: int) -> bytes:
    """The body `_envelope("OK", "OK", {"items": ..., "pagination": ...}, 200)` would send,
    byte for byte, around items already serialised."""
    pagination = json.dumps(_pagination(total, page, page_size), separators=(",", ":"))
    return (b'{"code":"OK","message":"OK","data":{"items":' + items
            + b',"pagination":' + pagination.encode() + b"}}")  # fmt: skip


def _pagination(total: int, page: int, page_size: int) -> dict:
    return {
        "total": total,
        "currentPage": page,
        "pageSize": page_size,
        "totalPages": math.ceil(total / page_size),
    }
