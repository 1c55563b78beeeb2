"""The dbt docs as an offline site next to the exports: one HTML file, no server, no outside host.

`dbt docs generate --static` embeds the manifest and the warehouse's catalog into a single
`static_index.html` that opens from disk. It is written to `<exports>/docs/index.html`
(the marts are shared by every province of a deployment, so the site is too), with the
manifest and catalog beside it for tools that read column descriptions (the BI provisioning).
The nightly DAG refreshes it after the marts are built; `cchc dbt docs` does it by hand.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cchc.config import PgParams, Settings, load_settings
from cchc.transform.dbt import TARGET_DIR, run_dbt

# Apart from target/, which the night's `dbt build` rewrites: a docs run never clobbers it.
DOCS_TARGET = TARGET_DIR / "docs"
SITE_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
              "catalog.json": "catalog.json"}  # fmt: skip


def docs_dir(settings: Settings | None = None) -> Path:
    return (settings or load_settings()).export_dir / "docs"


def publish_docs(settings: Settings | None = None, pg: PgParams | None = None) -> Path:
    """Generate the docs from the warehouse as it is and publish them; returns index.html."""
    settings = settings or load_settings()
    run_dbt(["docs", "generate", "--static", "--target-path", str(DOCS_TARGET)], pg)
    out = docs_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    for source, name in SITE_FILES.items():
        # Replaced atomically: a reader opening the site meanwhile sees the old or the new file.
        partial = out / f".{name}.partial"
        shutil.copyfile(DOCS_TARGET / source, partial)
        os.replace(partial, out / name)
    return out / "index.html"
