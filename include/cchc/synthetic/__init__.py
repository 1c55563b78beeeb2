"""Synthetic province: agencies, procedures, dossiers and their copies in the three sources.

`generate(out_dir, start, end, seed, scale)` writes `out_dir/store.sqlite`, which the
simulators (`cchc.simulators`) serve over HTTP.
"""

from .entities import ENTITIES, EntitySpec
from .generator import STORE_NAME, generate

__all__ = ["ENTITIES", "STORE_NAME", "EntitySpec", "generate"]
