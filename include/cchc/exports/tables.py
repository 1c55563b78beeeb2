"""The shape every quarterly export table takes: one definition feeds XLSX, CSV and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# Excel number formats, one per kind of value.
COUNT = "#,##0"
RATIO = "0.0%"
POINTS = "0.00"
DATE = "dd/mm/yyyy"


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    fmt: str | None = None  # None: text
    width: float | None = None  # None: fitted to the content


@dataclass
class Table:
    """Rows in a fixed, stable order; `note` says why a table is empty or partial."""

    name: str  # file stem of the CSV, ASCII
    title_vi: str
    title_en: str
    columns: list[Column]
    rows: list[tuple] = field(default_factory=list)
    note: str | None = None

    def column(self, key: str) -> list:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]

    def without(self, *keys: str) -> Table:
        """The same table less some columns (e.g. English working notes kept for the CSV)."""
        keep = [i for i, c in enumerate(self.columns) if c.key not in keys]
        return Table(self.name, self.title_vi, self.title_en, [self.columns[i] for i in keep],
                     [tuple(r[i] for i in keep) for r in self.rows], self.note)  # fmt: skip

    def records(self) -> list[dict]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


def plain(value):
    """Database values as Excel and CSV want them: Decimal → float, everything else as is."""
    if isinstance(value, Decimal):
        return float(value)
    return value
