"""What a fault does to a correct page: the broken bodies connectors must survive.

Each function takes the page as the simulator would serve it and returns the faulty
version; all are deterministic (no randomness), so a test can predict the result.
"""

from __future__ import annotations

import json
import unicodedata

from cchc.synthetic.entities import EntitySpec

# An unknown field a newer release of a source might add.
DRIFT_EXTRA_FIELD = "TruongMoiPhienBanSau"
DRIFT_EXTRA_VALUE = "giá trị thử nghiệm"


def to_json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def truncated(text: str) -> str:
    """Cut off half-way, as when a proxy drops the connection mid-body."""
    return text[: max(1, len(text) // 2)]


def malformed(text: str) -> str:
    """Valid up to the first record, then a stray comma (the page cannot be parsed)."""
    if '"items":[' in text:
        return text.replace('"items":[', '"items":[,', 1)
    return text + ","


def with_neighbour_duplicate(items: list[dict], neighbour: dict | None, first_page: bool) -> list:
    """A record of the previous page (or, on page 1, of the next) served again here."""
    if neighbour is None:
        return items + items[-1:]  # a single page: the last record twice
    return items + [neighbour] if first_page else [neighbour, *items]


def drift_extra(items: list[dict]) -> list[dict]:
    return [{**item, DRIFT_EXTRA_FIELD: DRIFT_EXTRA_VALUE} for item in items]


def drift_missing(items: list[dict], spec: EntitySpec) -> list[dict]:
    return [{k: v for k, v in item.items() if k != spec.optional_field} for item in items]


def drift_renamed(items: list[dict], spec: EntitySpec) -> list[dict]:
    old, new = spec.renamed_field
    return [{(new if k == old else k): v for k, v in item.items()} for item in items]


def nfd(value):
    """Every string decomposed: 'Nghệ' becomes 'Nghe' + combining marks."""
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, list):
        return [nfd(v) for v in value]
    if isinstance(value, dict):
        return {nfd(k): nfd(v) for k, v in value.items()}
    return value


def keyless(items: list[dict], spec: EntitySpec) -> list[dict]:
    if not items:
        return items
    first = {k: v for k, v in items[0].items() if k != spec.key_field}
    return [first, *items[1:]]
