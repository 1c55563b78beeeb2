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
    # "window": records changed in [updatedFrom, updatedTo), paged; "monthly": the portal's
    # 766 evaluation, one response per endpoint and month, fetched for the window's months.
    kind: str = "window"

    @property
    def table(self) -> str:
        return f"raw.{self.source}__{self.name}"

    @property
    def qualified_name(self) -> str:
        return f"{self.source}__{self.name}"


ENTITIES: tuple[Entity, ...] = (
    Entity("onestop", "dossiers", "/api/v1/dossiers", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo", "DonViXuLy")),
    Entity("onestop", "administrative_units", "/api/v1/administrative-units", "MaDonVi",
           ("MaDonVi", "NgayCapNhat", "TenDonVi", "NgayHieuLuc")),
    Entity("portal", "dossier_syncs", "/api/v1/dossier-sync", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo")),
    Entity("portal", "procedures", "/api/v1/procedures", "MaTTHC",
           ("MaTTHC", "NgayCapNhat", "TenTTHC")),
    Entity("portal", "payments", "/api/v1/payments", "MaGiaoDich",
           ("MaGiaoDich", "NgayCapNhat", "MaHoSo", "SoTien")),
    Entity("portal", "ratings", "/api/v1/ratings", "MaDanhGia",
           ("MaDanhGia", "NgayCapNhat", "MaHoSo", "MucDoHaiLong")),
    Entity("portal", "petitions", "/api/v1/petitions", "MaPAKN",
           ("MaPAKN", "NgayCapNhat", "DonViXuLy")),
    Entity("portal", "evaluations", "/api/v1/evaluation", "MaBaoCao",
           ("MaBaoCao", "NgayCapNhat", "data"), kind="monthly"),
    Entity("ioffice", "outgoing_documents", "/api/v1/outgoing-documents", "MaVanBan",
           ("MaVanBan", "NgayCapNhat", "LoaiVanBan")),
    Entity("ioffice", "incoming_documents", "/api/v1/incoming-documents", "MaVanBanDen",
           ("MaVanBanDen", "NgayCapNhat", "HanXuLy")),
)  # fmt: skip

WINDOWED_ENTITIES = tuple(e for e in ENTITIES if e.kind == "window")

# The portal's 766 evaluation endpoints (shape of shared/samples/national-portal/<name>/).
EVALUATION_ENDPOINTS = (
    "transparency",
    "dvc-progress-tree",
    "provide-online-tree",
    "formality-online-payment-tree",
    "dossier-digitized",
    "handling-satisfaction",
)

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
