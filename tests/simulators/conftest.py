from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc.synthetic import generate

# Two weeks of March 2025 (no holidays) at the default scale: ~1,700 dossiers, under a second.
STORE_START = date(2025, 3, 3)
STORE_END = date(2025, 3, 17)


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("sim"), STORE_START, STORE_END, seed=42, scale=0.02)
