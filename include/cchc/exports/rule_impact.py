"""Which published indicators each data-quality rule distorts, and how.

Keys are the rule ids of `dq.record_flags` (GX rules and the data-entry error catalogue in
docs/data-contracts.md); a rule not listed here is reported as "not yet mapped".
"""

from __future__ import annotations

TDGQ = "766 TDGQ: tỷ lệ đúng hạn"
FORM06_RESOLVED = "Biểu 06: đã giải quyết trước/đúng/quá hạn"
FORM06_OPEN = "Biểu 06: đang giải quyết trong/quá hạn"

# rule id → (Vietnamese description, indicators distorted)
RULE_IMPACT: dict[str, tuple[str, tuple[str, ...]]] = {
    "completed_without_end_date": (
        "Đã giải quyết nhưng thiếu ngày kết thúc xử lý",
        (FORM06_OPEN, FORM06_RESOLVED, TDGQ),
    ),
    "end_before_receipt": (
        "Ngày kết thúc xử lý trước ngày tiếp nhận",
        (FORM06_RESOLVED, TDGQ),
    ),
    "multiple_supplement_requests": (
        "Yêu cầu bổ sung hồ sơ nhiều hơn một lần (tính trễ hạn)",
        (TDGQ,),
    ),
    "status_contradicts_dates": ("Trạng thái mâu thuẫn với ngày kết thúc", (FORM06_OPEN, TDGQ)),
    "appointment_not_statutory": ("Ngày hẹn trả không đúng thời hạn luật định", (TDGQ,)),
    "late_without_apology": ("Trễ hạn nhưng không có thư xin lỗi", ("Thư xin lỗi (công văn)",)),
    "missing_from_portal": ("Hồ sơ chưa đồng bộ lên Cổng DVCQG", ("766 CKMB: đồng bộ hồ sơ",)),
    "portal_status_mismatch": ("Trạng thái trên Cổng DVCQG không khớp", ("766 CKMB", TDGQ)),
    "online_without_electronic_trail": (
        "Hồ sơ trực tuyến không có vết điện tử",
        ("766 DVCTT: tỷ lệ hồ sơ trực tuyến",),
    ),  # fmt: skip
    "entered_in_two_systems": ("Hồ sơ nhập hai lần", ("Biểu 06: tổng số tiếp nhận", TDGQ)),
    "digitized_without_files": ("Số hóa nhưng không có tệp", ("766 MDSH: số hóa hồ sơ",)),
    "unknown_procedure_code": ("Mã TTHC không có trong danh mục", ("Biểu 06: lĩnh vực",)),
    "unknown_agency_code": ("Mã đơn vị không tồn tại", ("Biểu 06 và 766 theo đơn vị",)),
    "dossier_code_unique": ("Mã hồ sơ bị trùng", ("Mọi chỉ số (cấu trúc)",)),
    "dossier_code_not_null": ("Thiếu mã hồ sơ", ("Mọi chỉ số (cấu trúc)",)),
    "status_code_in_range": ("Trạng thái ngoài danh mục", ("Mọi chỉ số (cấu trúc)",)),
    "channel_code_in_range": (
        "Kênh thực hiện ngoài danh mục",
        ("Biểu 06: trực tuyến/trực tiếp", "766 DVCTT"),
    ),  # fmt: skip
    "agency_code_not_null": ("Thiếu đơn vị xử lý", ("Biểu 06 và 766 theo đơn vị",)),
}


def describe(rule_id: str) -> str:
    return RULE_IMPACT.get(rule_id, (rule_id, ()))[0]


def distorts(rule_id: str) -> str:
    indicators = RULE_IMPACT.get(rule_id, (None, ()))[1]
    return "; ".join(indicators) if indicators else "chưa xác định · not yet mapped"
