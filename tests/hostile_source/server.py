"""A source system that misbehaves the way real provincial systems do.

Written from docs/data-contracts.md §1 alone (it shares no code with the project's own
simulators): bearer auth, `updatedFrom`/`updatedTo` half-open windows in local time, each
record's latest version before `updatedTo` when it was written inside the window, stable
order (NgayCapNhat, key), `page`/`pageSize`, the portal's envelope. On top of that, faults:

- transient, on a seeded share of requests, each kind in turn: 429 storms (Retry-After in seconds
  and as an HTTP-date), 5xx with HTML bodies, connections reset mid-body, truncated and
  malformed pages, `items` null or an object, `code` not OK with status 200, HTML maintenance
  pages with status 200; and gzip bodies (not a fault, but a real system's habit);
- per window: `totalPages` one too small or one too large, the total changing while paging
  (a late write lands in the window between two pages of its first reading);
- `maintenance`: every list request answers an HTML maintenance page with status 200.

Bad records are part of the data (see `Dataset`); markers in values are replaced on the wire
by what JSON cannot carry as a Python string: `@@BADBYTE@@` by the byte 0xFF (invalid UTF-8),
`@@SURROGATE@@` by the escape `\\ud800` (a lone UTF-16 surrogate).
"""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FORMAT = "%Y%m%d%H%M%S"
PATH = "/onestop/api/v1/dossiers"
BAD_BYTE, SURROGATE = "@@BADBYTE@@", "@@SURROGATE@@"

TRANSIENT = (
    "429-storm", "429-seconds", "429-date", "503-html", "500-html", "reset", "truncated", "malformed",
    "items-null", "items-object", "code-not-ok", "maintenance-200",
)  # fmt: skip


@dataclass
class Version:
    key: str
    updated: datetime  # when the source wrote it (the window it belongs to)
    record: dict  # as the source sends it (markers included)
    escaped: bool = False  # sent with every non-ASCII character as a \u escape


@dataclass
class Dataset:
    versions: list[Version] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listing(self, start: datetime, end: datetime) -> list[Version]:
        """The contract: per key, the latest version before `end`, if written in [start, end)."""
        with self.lock:
            latest: dict[str, Version] = {}
            for version in self.versions:
                if version.updated < end:
                    seen = latest.get(version.key)
                    if seen is None or version.updated >= seen.updated:
                        latest[version.key] = version
        chosen = [v for v in latest.values() if start <= v.updated]
        return sorted(chosen, key=lambda v: (v.updated, v.key))

    def add(self, version: Version) -> None:
        with self.lock:
            self.versions.append(version)


@dataclass
class Faults:
    rate: float = 0.0  # share of list requests answered with a transient fault
    seed: int = 1
    maintenance: bool = False
    gzip_rate: float = 0.3
    # window start (source date text) -> "pages-too-few" | "pages-too-many" | "total-changes"
    per_window: dict[str, str] = field(default_factory=dict)
    late_write: Version | None = None  # what lands in the window whose total changes


class HostileSource:
    def __init__(self, dataset: Dataset, token: str = "hostile-token"):
        self.dataset, self.token, self.faults = dataset, token, Faults()
        self.random = random.Random(1)
        self.served_faults: dict[str, int] = {}
        self._late_written = False
        self.storm = 0  # rate limits still to answer in the current storm
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://:{self.token}@127.0.0.1:{self.server.server_address[1]}/onestop"

    def configure(self, faults: Faults) -> None:
        self.faults, self.random = faults, random.Random(faults.seed)

    def __enter__(self) -> HostileSource:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _count(self, kind: str) -> None:
        self.served_faults[kind] = self.served_faults.get(kind, 0) + 1

    def _handler(self):
        source = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                url = urlsplit(self.path)
                if url.path == "/onestop/health":
                    return self._send(200, b'{"status": "ok"}')
                if self.headers.get("Authorization") != f"Bearer {source.token}":
                    return self._send(401, b'{"code": "UNAUTHORIZED"}')
                if url.path != PATH:
                    return self._send(404, b'{"code": "NOT_FOUND"}')
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                return source._list(self, query)

            def _send(self, status, body: bytes, headers=None, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _list(self, handler, query: dict) -> None:
        faults = self.faults
        if faults.maintenance:
            self._count("maintenance")
            return handler._send(200, _MAINTENANCE, ctype="text/html; charset=utf-8")
        if self.storm:  # a 429 storm: several rate limits in a row, in both header forms
            self.storm -= 1
            kind = "429-date" if self.storm % 2 else "429-seconds"
            self._count("429 within a storm")
            return self._transient(handler, kind, query)
        roll = self.random.random()
        if roll < faults.rate:
            # in turn, so that every kind is served however few requests a night makes
            kind = TRANSIENT[sum(self.served_faults.get(k, 0) for k in TRANSIENT) % len(TRANSIENT)]
            self._count(kind)
            if self._transient(handler, kind, query):
                return
        start, end = (datetime.strptime(query[k], FORMAT).replace(tzinfo=TZ)
                      for k in ("updatedFrom", "updatedTo"))  # fmt: skip
        page, size = int(query.get("page", 1)), min(int(query.get("pageSize", 500)), 1000)
        mode = faults.per_window.get(query["updatedFrom"])
        if mode == "total-changes" and page == 2 and not self._late_written:
            self._late_written = True  # a late write lands between two pages of this window
            self.dataset.add(faults.late_write)
            self._count("total-changes")
        listed = self.dataset.listing(start, end)
        total = len(listed)
        chunk = listed[(page - 1) * size : page * size]
        total_pages = -(-total // size)
        if mode in ("pages-too-few", "pages-too-many"):
            total_pages += -1 if mode == "pages-too-few" else 1
            total_pages = max(total_pages, 0)
            self._count(mode)
        body = (
            '{"code":"OK","message":"OK","data":{"items":['
            + ",".join(_record_json(v) for v in chunk)
            + f'],"pagination":{{"total":{total},"currentPage":{page},'
            f'"pageSize":{size},"totalPages":{total_pages}}}}}}}'
        )
        payload = _wire(body)
        headers = {}
        if self.random.random() < faults.gzip_rate:
            payload, headers = gzip.compress(payload), {"Content-Encoding": "gzip"}
            self._count("gzip")
        handler._send(200, payload, headers)

    def _transient(self, handler, kind: str, query: dict) -> bool:
        """Answer with fault `kind`; False when the fault is in the body (the page continues)."""
        if kind == "429-storm":
            self.storm = 3
            handler._send(429, b'{"code":"TOO_MANY"}', {"Retry-After": "0"})
        elif kind == "429-seconds":
            handler._send(429, b'{"code":"TOO_MANY"}', {"Retry-After": "0"})
        elif kind == "429-date":
            handler._send(429, b'{"code":"TOO_MANY"}', {"Retry-After": formatdate(time.time() + 1, usegmt=True)})  # fmt: skip
        elif kind in ("503-html", "500-html"):
            handler._send(int(kind[:3]), _MAINTENANCE, ctype="text/html")
        elif kind == "reset":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            handler.wfile.write(b'{"code":"OK","data":{"items":[{"MaHoSo":')
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(2)
        elif kind == "truncated":
            handler._send(200, b'{"code":"OK","message":"OK","data":{"items":[{"MaHoSo":"X-')
        elif kind == "malformed":
            handler._send(200, b'{"code":"OK","message":"OK","data":{"items":[,]}}')
        elif kind == "items-null":
            handler._send(200, b'{"code":"OK","message":"OK","data":{"items":null,"pagination":{"total":0,"currentPage":1,"pageSize":20,"totalPages":0}}}')  # fmt: skip
        elif kind == "items-object":
            handler._send(200, b'{"code":"OK","message":"OK","data":{"items":{},"pagination":{"total":0,"currentPage":1,"pageSize":20,"totalPages":0}}}')  # fmt: skip
        elif kind == "code-not-ok":
            handler._send(200, b'{"code":"SYSTEM_BUSY","message":"He thong dang ban","data":null}')
        elif kind == "maintenance-200":
            handler._send(200, _MAINTENANCE, ctype="text/html")
        return True


_MAINTENANCE = (
    "<!DOCTYPE html><html><head><title>Bảo trì hệ thống</title></head>"
    "<body><h1>Hệ thống đang bảo trì, vui lòng quay lại sau.</h1></body></html>"
).encode()


def _record_json(version: Version) -> str:
    return json.dumps(version.record, ensure_ascii=version.escaped, separators=(",", ":"))


def _wire(body: str) -> bytes:
    """The body's bytes, with the markers replaced by what a Python string cannot carry."""
    return body.replace(SURROGATE, "\\ud800").encode("utf-8").replace(BAD_BYTE.encode(), b"\xff")


def local(day, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def source_date(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime(FORMAT)


def shift(moment: datetime, **delta) -> datetime:
    return moment + timedelta(**delta)
