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
    # Every field of the contract (docs/data-contracts.md); anything else is schema drift:
    # kept in the payload and reported in the batch's audit row.
    fields: tuple[str, ...] = ()
    # Payload fields other records are matched by (the data-quality checks' copy groups):
    # indexed per province in raw by the loader, which owns the raw tables.
    lookup_fields: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"raw.{self.source}__{self.name}"

    @property
    def qualified_name(self) -> str:
        return f"{self.source}__{self.name}"


ENTITIES: tuple[Entity, ...] = (
    Entity("onestop", "dossiers", "/api/v1/dossiers", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo", "DonViXuLy"),
           fields=("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "CapThucHien",
                   "KenhThucHien", "ChuHoSo", "LoaiDoiTuong", "SoGiayToChuHoSo", "SoDienThoai",
                   "Email", "DinhDanhCHS", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra",
                   "NgayKetThucXuLy", "NgayTra", "NgayTuChoi", "TrangThaiHoSo", "DonViXuLy",
                   "TenDonViXuLy", "HoSoCoThanhPhanSoHoa", "DuocThanhToanTrucTuyen",
                   "TaiKhoanDuocXacThucVoiVNeID", "QuaTrinhXuLy", "DanhSachHoSoBoSung",
                   "TaiLieuNop", "DanhSachLePhi", "DanhSachGiayToKetQua", "NgayCapNhat"),
           lookup_fields=("SoGiayToChuHoSo",)),
    Entity("onestop", "administrative_units", "/api/v1/administrative-units", "MaDonVi",
           ("MaDonVi", "NgayCapNhat", "TenDonVi", "NgayHieuLuc"),
           fields=("MaDonVi", "TenDonVi", "KyHieu", "LoaiDonVi", "CapDonVi", "MaDonViCha",
                   "LinhVuc", "NgayHieuLuc", "NgayHetHieuLuc", "MaDonViMoi", "NgayCapNhat")),
    Entity("portal", "dossier_syncs", "/api/v1/dossier-sync", "MaHoSo",
           ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo"),
           fields=("MaHoSo", "MaTTHC", "DonViXuLy", "KenhThucHien", "TrangThaiHoSo",
                   "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayDongBo", "NgayCapNhat")),
    Entity("portal", "procedures", "/api/v1/procedures", "MaTTHC",
           ("MaTTHC", "NgayCapNhat", "TenTTHC"),
           fields=("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "CapThucHien",
                   "ThoiHanGiaiQuyet", "LePhi", "MucDoDVC", "NgayQuyetDinhCongBo",
                   "NgayHieuLucCanCu", "NgayCongKhai", "DayDuNoiDung", "CanCuPhapLy", "NgayCapNhat")),
    Entity("portal", "payments", "/api/v1/payments", "MaGiaoDich",
           ("MaGiaoDich", "NgayCapNhat", "MaHoSo", "SoTien"),
           fields=("MaGiaoDich", "MaHoSo", "MaTTHC", "DonViXuLy", "MaPhiLePhi", "SoTien",
                   "KenhThanhToan", "TrangThaiGiaoDich", "NgayThanhToan", "MaBienLai", "NgayCapNhat")),
    Entity("portal", "ratings", "/api/v1/ratings", "MaDanhGia",
           ("MaDanhGia", "NgayCapNhat", "MaHoSo", "MucDoHaiLong"),
           fields=("MaDanhGia", "MaHoSo", "DonViXuLy", "MucDoHaiLong", "YKien", "NgayDanhGia",
                   "NgayCapNhat")),
    Entity("portal", "petitions", "/api/v1/petitions", "MaPAKN",
           ("MaPAKN", "NgayCapNhat", "DonViXuLy"),
           fields=("MaPAKN", "TieuDe", "NoiDung", "PhanLoai", "DonViXuLy", "NgayTiepNhan",
                   "HanXuLy", "TrangThai", "NgayTraLoi", "MucDoHaiLong", "NgayCapNhat")),
    Entity("portal", "evaluations", "/api/v1/evaluation", "MaBaoCao",
           ("MaBaoCao", "NgayCapNhat", "data"), kind="monthly",
           fields=("MaBaoCao", "TenBaoCao", "Nam", "Thang", "NgayCapNhat", "data")),
    Entity("ioffice", "outgoing_documents", "/api/v1/outgoing-documents", "MaVanBan",
           ("MaVanBan", "NgayCapNhat", "LoaiVanBan"),
           fields=("MaVanBan", "SoKyHieu", "LoaiVanBan", "TrichYeu", "NgayBanHanh",
                   "DonViBanHanh", "NguoiKy", "ChucVuNguoiKy", "DoKhan", "CoChuKySo",
                   "MaHoSoLienQuan", "NgayCapNhat")),
    Entity("ioffice", "incoming_documents", "/api/v1/incoming-documents", "MaVanBanDen",
           ("MaVanBanDen", "NgayCapNhat", "HanXuLy"),
           fields=("MaVanBanDen", "SoDen", "SoKyHieu", "CoQuanBanHanh", "LoaiVanBan", "TrichYeu",
                   "NgayBanHanh", "NgayDen", "DoKhan", "HanXuLy", "DonViNhan", "TrangThai",
                   "NgayHoanThanh", "QuaTrinhXuLyVanBan", "NgayCapNhat")),
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
