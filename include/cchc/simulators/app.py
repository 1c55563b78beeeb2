"""The three source systems over HTTP, from one process: `/onestop`, `/portal`, `/ioffice`.

Routes come from the entity registry (`cchc.synthetic.entities`): every entity is served at
`/{source}/api/v1/{name}`, every source has `/{source}/health`.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cchc.synthetic.entities import ENTITIES, EntitySpec
from cchc.synthetic.timeutil import STAMP_FORMAT

from .faults import FAULT_HEADER, RETRY_AFTER_SECONDS, FaultConfig, FaultInjector
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

    def list_endpoint(spec: EntitySpec):
        # Sync handler: FastAPI runs it on a worker thread, so SQLite and sleeps don't block.
        def list_records(request: Request) -> JSONResponse:
            if not authorized(request):
                return _envelope(
                    "UNAUTHORIZED",
                    "missing or invalid bearer token",
                    None,
                    401,
                    {"WWW-Authenticate": "Bearer"},
                )
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
                time.sleep(fault.delay)  # "slow": answer correctly, but late
            result = store.page(spec.name, updated_from, updated_to, page, page_size)
            pagination = {
                "total": result.total,
                "currentPage": page,
                "pageSize": page_size,
                "totalPages": math.ceil(result.total / page_size),
            }
            return _envelope("OK", "OK", {"items": result.items, "pagination": pagination}, 200)

        list_records.__name__ = f"list_{spec.source}_{spec.name.replace('-', '_')}"
        return list_records

    for source in sorted({spec.source for spec in ENTITIES.values()}):
        app.add_api_route(f"/{source}/health", health, methods=["GET"], name=f"{source}_health")
    for spec in ENTITIES.values():
        app.add_api_route(spec.path, list_endpoint(spec), methods=["GET"])
    return app
