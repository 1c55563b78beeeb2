"""The export folder's manifest: what was exported, from which data, with each file's SHA-256.

Checksums cover the files, not the manifest itself (it holds the generation time), so an
unchanged quarter re-exported has the same checksums.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.tables import Table

MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build(folder: Path, quarter: Quarter, generated_at: datetime, freshness: Freshness,
          tables: list[Table]) -> dict:  # fmt: skip
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST)
    checksums = {p.name: sha256(p) for p in files}
    return {
        "period": quarter.label,
        "kind": quarter.kind,
        "period_start": quarter.start.isoformat(),
        "period_end": quarter.end.isoformat(),
        "generated_at": generated_at.isoformat(),
        "draft": freshness.draft,
        "source_freshness": freshness.to_json(),
        "warnings": [w for w in (freshness.warning_en(),) if w],
        "notes": {t.name: t.note for t in tables if t.note},
        "row_counts": {t.name: len(t.rows) for t in tables},
        "files": [
            {"name": name, "bytes": (folder / name).stat().st_size, "sha256": digest}
            for name, digest in checksums.items()
        ],  # fmt: skip
        "content_sha256": hashlib.sha256(
            "".join(f"{n}\t{d}\n" for n, d in checksums.items()).encode()
        ).hexdigest(),
    }


def write(folder: Path, manifest: dict) -> Path:
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
