"""HTTP connector for the source systems: bearer token, paging, retries with backoff.

Base URL and token come from a connection URI (Airflow's `http://:TOKEN@host:port/prefix`),
so the same code talks to the simulators in dev and to the real systems in production.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx
import msgspec
import tenacity

from cchc.extract.entities import Entity
from cchc.extract.window import Window, to_source_date

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
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


class RetryableResponse(Exception):
    def __init__(self, status: int, retry_after: float | None, detail: str):
        super().__init__(f"HTTP {status}: {detail[:200]}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    number: int
    total_pages: int
    items: list | None  # None when the page could not be parsed
    raw_text: str
    error: str | None = None


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


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


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
            return min(error.retry_after, self.max_wait)
        return self.backoff(retry_state)


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
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def pages(self, entity: Entity, window: Window, page_size: int) -> Iterator[Page]:
        """Every page of the window in the source's stable order; bad pages are yielded, not raised."""
        number, total_pages = 1, 1
        while number <= total_pages:
            page = self._fetch(entity, window, number, page_size)
            if page.items is not None:
                total_pages = page.total_pages
            yield page
            number += 1

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
                if page.items is not None:
                    record = {"MaBaoCao": f"{name}:{year:04d}-{month:02d}", "TenBaoCao": name,
                              "Nam": year, "Thang": month, "NgayCapNhat": stamp, "data": page.items}  # fmt: skip
                    page = Page(page.number, 1, [record], page.raw_text)
                yield page

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
            # Still unparseable after every retry: hand it over for quarantine, keep going.
            return Page(number, number, None, bad.raw_text, bad.reason)
        except (RetryableResponse, httpx.HTTPError) as error:
            status = getattr(error, "status", None) or getattr(
                getattr(error, "response", None), "status_code", "no response"
            )
            raise SourceError(
                f"source {self.source!r}, entity {entity.name!r}, window {window}, page {number}: "
                f"giving up after {self.policy.attempts} attempts (HTTP status: {status}): {error}"
            ) from error

    def _get_page(self, path: str, params: dict, number: int, wrap: bool) -> Page | None:
        response = self.http.get(path, params=params)
        if response.status_code == 404 and not wrap:
            return None
        if response.status_code in RETRYABLE_STATUS:
            raise RetryableResponse(
                response.status_code, _retry_after_seconds(response), response.text
            )
        response.raise_for_status()
        # JSON is UTF-8 (RFC 8259): decode directly instead of letting httpx guess a charset.
        text = response.content.decode("utf-8", errors="replace")
        # Sources sometimes send decomposed (NFD) Vietnamese: normalise before anything reads it.
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        try:
            body = _decode(text)
            data = body["data"]
            if not wrap:  # a single report: the whole `data` object is the record's content
                if not isinstance(data, dict):
                    raise TypeError("data is not an object")
                return Page(number, 1, data, text)
            items = data["items"]
            total_pages = int(data["pagination"]["totalPages"])
        except (msgspec.DecodeError, ValueError, KeyError, TypeError) as error:
            raise _BadPage(text, f"unparseable page: {type(error).__name__}: {error}") from error
        if not isinstance(items, list):
            raise _BadPage(text, "unparseable page: data.items is not a list")
        return Page(number, max(total_pages, 1), items, text)


_DECODING = threading.Lock()


def _decode(text: str) -> object:
    """`msgspec.json.decode` with the cyclic garbage collector paused: otherwise it rescans the
    page's new objects (which form no cycles) as they are built, about half the decode time.
    The lock keeps threads from re-enabling it under each other; decoding holds the GIL anyway."""
    with _DECODING:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return msgspec.json.decode(text)
        finally:
            if enabled:
                gc.enable()


class _BadPage(Exception):
    def __init__(self, raw_text: str, reason: str):
        super().__init__(reason)
        self.raw_text = raw_text
        self.reason = reason
