"""Column headers of a mart from its dbt YAML: `Vietnamese — English` descriptions.

Lets the exports show a newly landed mart with proper headers before anyone writes a
column list for it.
"""

from __future__ import annotations

from functools import cache

import yaml

from cchc.config import REPO_ROOT

MODELS_DIR = REPO_ROOT / "dbt_project" / "models"


@cache
def column_docs(model: str) -> dict[str, tuple[str, str]]:
    """{column: (vi, en)} for `model`, empty when its YAML is not there."""
    for path in sorted(MODELS_DIR.rglob("*.yml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for entry in doc.get("models") or []:
            if entry.get("name") == model:
                return {c["name"]: _split(c.get("description") or "", c["name"])
                        for c in entry.get("columns") or [] if c.get("name")}  # fmt: skip
    return {}


def _split(description: str, name: str) -> tuple[str, str]:
    vi, sep, en = " ".join(description.split()).partition(" — ")
    if not sep:
        return (vi or name, name)
    return (vi, en.split(" (")[0].split(";")[0][:60])
