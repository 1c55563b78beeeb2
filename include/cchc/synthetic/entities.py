"""The registry of source entities: one row per list endpoint of the contract.

The generator writes records under `name`; the simulators serve them at
`/{source}/api/v1/{name}`. A new entity is one more row here, one generator module and
nothing else in the app. `optional_field` and `renamed_field` say how the schema-drift
faults bend this entity's records (a field that may be absent; a field and the name a newer
release of the source gives it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the last path segment, also the `entity` column of the store
    source: str  # onestop | portal | ioffice: the URL prefix
    key_field: str  # the payload field that identifies a record
    raw_table: str  # where the loader lands it (documentation for readers of the store)
    optional_field: str  # may be missing from a record (schema drift "missing")
    renamed_field: tuple[str, str]  # (contract name, drifted name)

    @property
    def path(self) -> str:
        return f"/{self.source}/api/v1/{self.name}"


def _spec(name, source, key, table, optional, renamed) -> EntitySpec:
    return EntitySpec(name, source, key, f"raw.{source}__{table}", optional, renamed)


DOSSIERS = _spec("dossiers", "onestop", "MaHoSo", "dossiers", "Email", ("DonViXuLy", "MaDonViXuLy"))
UNITS = _spec(
    "administrative-units", "onestop", "MaDonVi", "administrative_units", "MaDonViMoi",
    ("TenDonVi", "Ten"),
)  # fmt: skip
DOSSIER_SYNC = _spec(
    "dossier-sync", "portal", "MaHoSo", "dossier_syncs", "NgayKetThucXuLy",
    ("TrangThaiHoSo", "TrangThai"),
)  # fmt: skip
PROCEDURES = _spec(
    "procedures", "portal", "MaTTHC", "procedures", "CanCuPhapLy", ("TenTTHC", "TenThuTuc")
)
PAYMENTS = _spec("payments", "portal", "MaGiaoDich", "payments", "MaBienLai", ("SoTien", "Gia"))
RATINGS = _spec(
    "ratings", "portal", "MaDanhGia", "ratings", "YKien", ("MucDoHaiLong", "DiemDanhGia")
)
PETITIONS = _spec(
    "petitions", "portal", "MaPAKN", "petitions", "NgayTraLoi", ("NoiDung", "NoiDungPAKN")
)
OUTGOING_DOCUMENTS = _spec(
    "outgoing-documents", "ioffice", "MaVanBan", "outgoing_documents", "MaHoSoLienQuan",
    ("SoKyHieu", "SoHieu"),
)  # fmt: skip
INCOMING_DOCUMENTS = _spec(
    "incoming-documents", "ioffice", "MaVanBanDen", "incoming_documents", "NgayHoanThanh",
    ("HanXuLy", "HanGiaiQuyet"),
)  # fmt: skip

ENTITIES: dict[str, EntitySpec] = {
    e.name: e
    for e in (
        DOSSIERS,
        UNITS,
        DOSSIER_SYNC,
        PROCEDURES,
        PAYMENTS,
        RATINGS,
        PETITIONS,
        OUTGOING_DOCUMENTS,
        INCOMING_DOCUMENTS,
    )
}


def entity(name: str) -> EntitySpec:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None
