"""Keep source-system credentials and other secrets out of task logs and alert messages.

Airflow masks a connection's password when a task fetches it, but a token also travels
percent-encoded inside URIs, as a bare `Bearer` header value, and in exception texts
(httpx puts the URL in its messages). :func:`mask_connection_secrets` registers every form
with Airflow's secrets masker; :func:`redact` scrubs a text for places the masker does not
reach (alert e-mails and webhooks).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

# Environment variables whose values are secrets wherever they appear.
SECRET_ENV = re.compile(r"PASSWORD|SECRET|SALT|TOKEN|FERNET|WEBHOOK", re.IGNORECASE)
# scheme://user:password@host  ->  scheme://user:***@host (also a token as the user part).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<auth>[^/\s@]+)@", re.I)
_BEARER = re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=\-]+", re.I)
_KEY_VALUE = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|token|secret|api_key|apikey)\s*[=:]\s*)[^\s&,;'\"]+", re.I
)
MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary words


def _mask(value: str) -> None:
    try:  # Airflow 3.3: masks in the task process and tells the supervisor too
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older 3.x
        from airflow.sdk.execution_time.secrets_masker import mask_secret
    mask_secret(value)


def secret_forms(uri: str) -> set[str]:
    """The credential in a connection URI in every form it may be printed in."""
    parts = urlsplit(uri)
    forms = set()
    for raw in (parts.password, parts.username):
        if raw:
            forms |= {raw, unquote(raw), quote(unquote(raw), safe="")}
    forms = {form for form in forms if len(form) >= MIN_SECRET_LENGTH}
    if forms:
        forms.add(uri)
    return forms


def mask_connection_secrets(*uris_or_secrets: str | None) -> int:
    """Register connection URIs (or bare tokens) with Airflow's secrets masker.

    Call it in the extract task right after the source connection is read, before anything
    is logged. Returns how many strings were registered; outside Airflow it only counts.
    """
    values: set[str] = set()
    for item in uris_or_secrets:
        if not item:
            continue
        if "://" in item:
            values |= secret_forms(item)
        elif len(item) >= MIN_SECRET_LENGTH:
            values |= {item, quote(item, safe="")}
    for value in values:
        try:
            _mask(value)
        except Exception:  # the masker must never fail a task
            log.debug("secrets masker unavailable", exc_info=True)
    return len(values)


def environment_secrets(environ: dict[str, str] | None = None) -> set[str]:
    """Values of secret-looking variables and the credentials of URI-valued ones."""
    environ = dict(os.environ if environ is None else environ)
    found: set[str] = set()
    for name, value in environ.items():
        if not value:
            continue
        if "://" in value and (name.startswith("AIRFLOW_CONN_") or "URL" in name or "URI" in name):
            found |= {form for form in secret_forms(value) if form != value}
        elif SECRET_ENV.search(name) and len(value) >= MIN_SECRET_LENGTH:
            found.add(value)
    return found


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """`text` with URL credentials, bearer tokens, key=value secrets and known secret values
    replaced by `***`."""
    if not text:
        return text
    for secret in sorted({*environment_secrets(), *extra_secrets}, key=len, reverse=True):
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)
    text = _BEARER.sub(lambda m: f"{m['head']}***", text)
    return _KEY_VALUE.sub(lambda m: f"{m['head']}***", text)
