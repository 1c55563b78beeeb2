"""The registry of source entities: one row per list endpoint of the contract.

The generator writes records under `name`; the simulators serve them at
`/{source}/api/v1/{name}`. A new entity (incoming documents, petitions, ...) is one more row
here, one generator module and nothing else in the app.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the last path segment, also the `entity` column of the store
    source: str  # onestop | portal | ioffice: the URL prefix
    key_field: str  # the payload field that identifies a record
    raw_table: str  # where the loader lands it (documentation for readers of the store)

    @property
    def path(self) -> str:
        return f"/{self.source}/api/v1/{self.name}"


DOSSIERS = EntitySpec("dossiers", "onestop", "MaHoSo", "raw.onestop__dossiers")
DOSSIER_SYNC = EntitySpec("dossier-sync", "portal", "MaHoSo", "raw.portal__dossier_syncs")
OUTGOING_DOCUMENTS = EntitySpec(
    "outgoing-documents", "ioffice", "MaVanBan", "raw.ioffice__outgoing_documents"
)

ENTITIES: dict[str, EntitySpec] = {e.name: e for e in (DOSSIERS, DOSSIER_SYNC, OUTGOING_DOCUMENTS)}


def entity(name: str) -> EntitySpec:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None
