"""The source entities the warehouse extracts, one entry per raw table."""

from __future__ import annotations

from dataclasses import dataclass

from cchc.config import SOURCES


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    path: str  # below the source's base URL
    key: str  # the field that identifies a record
    required: tuple[str, ...]  # a record without one of these is quarantined
    updated_field: str = "NgayCapNhat"

    @property
    def table(self) -> str:
        return f"raw.{self.source}__{self.name}"

    @property
    def qualified_name(self) -> str:
        return f"{self.source}__{self.name}"


ENTITIES: tuple[Entity, ...] = (
    Entity("onestop", "dossiers", "/api/v1/dossiers", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo", "DonViXuLy")),
    Entity("portal", "dossier_syncs", "/api/v1/dossier-sync", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo")),
    Entity("ioffice", "outgoing_documents", "/api/v1/outgoing-documents", "MaVanBan",
           ("MaVanBan", "NgayCapNhat", "LoaiVanBan")),
)  # fmt: skip

assert {e.source for e in ENTITIES} == set(SOURCES)


def entities_of(source: str | None = None, entity: str | None = None) -> list[Entity]:
    """Entities matching a source and/or entity name; an unknown name is a clear error."""
    found = [
        e
        for e in ENTITIES
        if (source is None or e.source == source) and (entity is None or e.name == entity)
    ]
    if not found:
        known = ", ".join(e.qualified_name for e in ENTITIES)
        raise ValueError(f"no entity matches source={source!r} entity={entity!r}; known: {known}")
    return found
