"""A headless Chromium with the network unreachable, driven by Playwright, for the reports
that must work on a closed government network.

Debian's `chromium` is used (Playwright's own browser download cannot work here): every
request to anything but a local file is refused and recorded, so a test sees both what the
page looks like offline and whether it tried to reach out.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM is not None


@dataclass
class OfflinePage:
    page: object
    outside_requests: list[str] = field(default_factory=list)

    def style(self, selector: str, prop: str) -> str:
        return self.page.eval_on_selector(
            selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')"
        )


@contextlib.contextmanager
def open_offline(path: Path) -> Iterator[OfflinePage]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            # No proxy can answer and no name resolves: the network is unreachable.
            args=["--no-sandbox", "--proxy-server=127.0.0.1:9",
                  "--host-resolver-rules=MAP * ~NOTFOUND"],
        )  # fmt: skip
        try:
            page = browser.new_page()
            offline = OfflinePage(page)

            def refuse(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    offline.outside_requests.append(route.request.url)
                    route.abort()

            page.route("**/*", refuse)
            page.goto(path.as_uri(), wait_until="load")
            yield offline
        finally:
            browser.close()
