"""HTTP connector for the source systems: bearer token, paging, retries with backoff.

Base URL and token come from a connection URI (Airflow's `http://:TOKEN@host:port/prefix`),
so the same code talks to the simulators in dev and to the real systems in production.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import httpx
import tenacity

from cchc.extract.decoding import BodyDecodeError, decode_body
from cchc.extract.entities import Entity
from cchc.extract.window import Window, to_source_date

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# A source that keeps serving full pages past what it announced is not trusted beyond this.
MAX_PAGES_BEYOND_ANNOUNCED = 10
# Monthly reports fetched per window at most: a night needs this month and the last (whose
# scores the portal finalises early in the next); an initial load, the last year.
MONTHLY_SNAPSHOT_LIMIT = 12


@dataclass(frozen=True)
class SourceConnection:
    base_url: str
    token: str

    @classmethod
    def from_uri(cls, uri: str) -> SourceConnection:
        parts = urlsplit(uri)
        scheme = "https" if parts.scheme == "https" else "http"
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        token = unquote(parts.password or parts.username or "")
        return cls(f"{scheme}://{netloc}{parts.path.rstrip('/')}", token)

    def __repr__(self) -> str:  # never print the token
        return f"SourceConnection({self.base_url!r}, token=***)"


class SourceError(RuntimeError):
    """The source could not serve a page, after every retry."""


class IncompleteWindow(SourceError):
    """The pages received do not add up to what the source said the window holds."""


class TotalChanged(IncompleteWindow):
    """The window's total changed while it was paged: offsets moved, the pages may not join."""


class RetryableResponse(Exception):
    def __init__(self, status: int, retry_after: float | None, detail: str):
        super().__init__(f"HTTP {status}: {detail[:200]}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    number: int
    total_pages: int
    items: list
    raw_text: str
    total: int | None = None  # pagination.total, when the source pages
    page_size: int | None = None  # the page size the source says it used
    valid_utf8: bool = True
    suspect_text: bool = False  # records may hold invalid UTF-8 or lone surrogates


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """`CCHC_HTTP_ATTEMPTS`, `CCHC_HTTP_MAX_WAIT_SECONDS`, `CCHC_HTTP_TIMEOUT_SECONDS`."""
        env = os.environ.get
        return cls(
            attempts=int(env("CCHC_HTTP_ATTEMPTS", cls.attempts)),
            max_wait=float(env("CCHC_HTTP_MAX_WAIT_SECONDS", cls.max_wait)),
            timeout=float(env("CCHC_HTTP_TIMEOUT_SECONDS", cls.timeout)),
        )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as delay-seconds or as an HTTP-date (RFC 9110 §10.2.3); None if absent
    or unreadable (the backoff then decides)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _WaitHonouringRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff with jitter, unless the server said how long to wait."""

    def __init__(self, policy: RetryPolicy):
        self.backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )
        self.max_wait = policy.max_wait

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            return min(error.retry_after, self.max_wait)  # capped: a source cannot stall a night
        return self.backoff(retry_state)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verification (the certifi bundle), built once per process: each
    `httpx.Client` otherwise loads and parses the whole bundle again (30–70 ms), and a night
    opens one client per entity. A context is safe to share between clients and threads."""
    return httpx.create_ssl_context()


class SourceClient:
    def __init__(
        self,
        source: str,
        connection: SourceConnection,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.source = source
        self.policy = policy or RetryPolicy.from_env()
        self.http = httpx.Client(
            base_url=connection.base_url,
            headers={"Authorization": f"Bearer {connection.token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.policy.timeout, connect=5.0),
            transport=transport,
            verify=_tls_context(),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def pages(self, entity: Entity, window: Window, page_size: int) -> Iterator[Page]:
        """Every page of the window in the source's stable order, until both the pages the
        source announced (`totalPages`, or `total` over the page size, whichever is more) are
        fetched and a page comes back short or empty: a `totalPages` one too small costs a
        lost page otherwise. A total that changes between pages raises `TotalChanged` (the
        caller starts the window again); a page still unreadable after every retry raises
        `SourceError`. The loader checks the records received against the total."""
        number, first_total = 1, None
        while True:
            page = self._fetch(entity, window, number, page_size)
            if first_total is None:
                first_total = page.total
            elif page.total != first_total:
                raise TotalChanged(
                    f"{self._where(entity, window, number)}: the window's total changed from "
                    f"{first_total} to {page.total} while paging"
                )
            yield page
            size = min(page_size, page.page_size or page_size)
            announced = max(page.total_pages, math.ceil((first_total or 0) / size))
            if number >= announced and len(page.items) < size:
                return
            if number >= 2 * announced + MAX_PAGES_BEYOND_ANNOUNCED:
                raise IncompleteWindow(
                    f"{self._where(entity, window, number)}: still full pages after the "
                    f"{announced} the source announced"
                )
            number += 1

    def _where(self, entity: Entity, window: Window, number: int) -> str:
        return f"source {self.source!r}, entity {entity.name!r}, window {window}, page {number}"

    def monthly_pages(
        self, entity: Entity, window: Window, endpoints: tuple[str, ...]
    ) -> Iterator[Page]:
        """One page per evaluation endpoint and month the window touches. Each response becomes
        one record keyed `<endpoint>:<yyyy-mm>`; its version time is the window's end, so a
        rerun of the window fetches the same version and an unchanged report is stored once."""
        stamp = to_source_date(window.end)
        for year, month in window.recent_months(MONTHLY_SNAPSHOT_LIMIT):
            for name in endpoints:
                params = {"year": year, "month": month}
                page = self._fetch_one(
                    entity, window, f"{entity.path}/{name}", params, 1, wrap=False
                )
                if page is None:  # not published for that month
                    continue
                record = {"MaBaoCao": f"{name}:{year:04d}-{month:02d}", "TenBaoCao": name,
                          "Nam": year, "Thang": month, "NgayCapNhat": stamp, "data": page.items}  # fmt: skip
                yield Page(page.number, 1, [record], page.raw_text, None, None,
                           page.valid_utf8, page.suspect_text)  # fmt: skip

    def _fetch(self, entity: Entity, window: Window, number: int, page_size: int) -> Page:
        params = {**window.source_params(), "page": number, "pageSize": page_size}
        return self._fetch_one(entity, window, entity.path, params, number)

    def _fetch_one(
        self,
        entity: Entity,
        window: Window,
        path: str,
        params: dict,
        number: int,
        wrap: bool = True,
    ) -> Page | None:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=_WaitHonouringRetryAfter(self.policy),
            retry=tenacity.retry_if_exception_type((RetryableResponse, httpx.TransportError, _BadPage)),
            reraise=True,
            before_sleep=lambda s: log.warning(
                "%s/%s page %d attempt %d failed: %s", self.source, entity.name, number,
                s.attempt_number, s.outcome.exception(),
            ),
        )  # fmt: skip
        try:
            return retrying(self._get_page, path, params, number, wrap)
        except _BadPage as bad:
            # Still unparseable after every retry: the window cannot be complete.
            raise SourceError(
                f"{self._where(entity, window, number)}: giving up after "
                f"{self.policy.attempts} attempts: {bad.reason}; body starts {bad.raw_text[:120]!r}"
            ) from bad
        except (RetryableResponse, httpx.HTTPError) as error:
            status = getattr(error, "status", None) or getattr(
                getattr(error, "response", None), "status_code", "no response"
            )
            raise SourceError(
                f"{self._where(entity, window, number)}: "
                f"giving up after {self.policy.attempts} attempts (HTTP status: {status}): {error}"
            ) from error

    def _get_page(self, path: str, params: dict, number: int, wrap: bool) -> Page | None:
        response = self.http.get(path, params=params)
        if response.status_code == 404 and not wrap:
            return None
        if response.status_code in RETRYABLE_STATUS:
            raise RetryableResponse(
                response.status_code,
                retry_after_seconds(response.headers.get("Retry-After")),
                response.text,
            )
        response.raise_for_status()
        # JSON is UTF-8 (RFC 8259): decoded from the bytes, never by a guessed charset.
        try:
            decoded = decode_body(response.content)
        except BodyDecodeError as error:
            raise _BadPage(_head(response), f"unparseable page: {error}") from error
        body, text = decoded.value, decoded.text
        try:
            if not isinstance(body, dict):
                raise TypeError("the body is not a JSON object")
            if body.get("code") != "OK":
                raise ValueError(f"code {body.get('code')!r}, message {body.get('message')!r}")
            data = body["data"]
            if not wrap:  # a single report: the whole `data` object is the record's content
                if not isinstance(data, dict):
                    raise TypeError("data is not an object")
                return Page(number, 1, data, text)
            items = data["items"]
            if not isinstance(items, list):
                raise TypeError(f"data.items is {type(items).__name__}, not a list")
            pagination = data["pagination"]
            total_pages, total = int(pagination["totalPages"]), int(pagination["total"])
            size = int(pagination.get("pageSize") or 0) or None
            if total < 0 or total_pages < 0:
                raise ValueError(f"negative pagination {pagination}")
        except (ValueError, KeyError, TypeError) as error:
            raise _BadPage(text, f"unparseable page: {type(error).__name__}: {error}") from error
        return Page(number, max(total_pages, 1), items, text, total, size,
                    decoded.valid_utf8, decoded.suspect_text)  # fmt: skip


def _head(response: httpx.Response) -> str:
    return response.content[:2000].decode("utf-8", "backslashreplace")


class _BadPage(Exception):
    def __init__(self, raw_text: str, reason: str):
        super().__init__(reason)
        self.raw_text = raw_text
        self.reason = reason
