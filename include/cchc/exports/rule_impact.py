"""Every data-quality rule in Vietnamese: a short name, its description and the published
indicators it distorts.

Keys are the rule ids of `dq.record_flags`: the GX rules (their `meta.rule_id`) and the
data-entry error catalogue in docs/data-contracts.md. Descriptions come from each GX rule's
`meta.description_vi`; rules outside the suites carry their own. A test checks every rule
of every suite is listed here, so no official file shows a rule id or an unmapped rule.
"""

from __future__ import annotations

import json
from functools import cache

from cchc.config import REPO_ROOT

SUITES_DIR = REPO_ROOT / "expectations" / "expectations"

TDGQ = "766 TDGQ: tỷ lệ đúng hạn"
FORM06_RESOLVED = "Biểu 06: đã giải quyết trước/đúng/quá hạn"
FORM06_OPEN = "Biểu 06: đang giải quyết trong/quá hạn"
BY_UNIT = "Biểu 06 và Chỉ số 766 theo đơn vị"
STRUCTURE = "Mọi chỉ số (lỗi cấu trúc: dừng lượt xử lý đêm)"
APOLOGY = "Thư xin lỗi (công văn)"
CKMB = "766 CKMB: đồng bộ hồ sơ"
DOCS = "Văn bản điều hành trên I-Office (không vào Biểu 06, Chỉ số 766)"
MDHL = "766 MDHL: mức độ hài lòng"
TTTT = "766 TTTT: thanh toán trực tuyến"
PAKN = "766 TDGQ: xử lý phản ánh, kiến nghị"
PERSONAL = "Không ảnh hưởng chỉ số (chất lượng dữ liệu cá nhân)"

SEVERITY_VI = {"structural": "Lỗi cấu trúc", "data_entry": "Lỗi nhập liệu"}

# rule id → (short Vietnamese name, indicators distorted)
RULE_IMPACT: dict[str, tuple[str, tuple[str, ...]]] = {
    # one-stop dossiers: data entry
    "completed_without_end_date": (
        "Đã giải quyết nhưng thiếu ngày kết thúc xử lý",
        (FORM06_OPEN, FORM06_RESOLVED, TDGQ),
    ),
    "end_before_receipt": ("Ngày kết thúc xử lý trước ngày tiếp nhận", (FORM06_RESOLVED, TDGQ)),
    "multiple_supplement_requests": (
        "Yêu cầu bổ sung hồ sơ nhiều hơn một lần (tính trễ hạn)",
        (TDGQ,),
    ),
    "status_contradicts_dates": ("Trạng thái mâu thuẫn với ngày kết thúc", (FORM06_OPEN, TDGQ)),
    "appointment_not_statutory": ("Ngày hẹn trả không đúng thời hạn luật định", (TDGQ,)),
    "late_without_apology": ("Trễ hạn nhưng không có thư xin lỗi", (APOLOGY,)),
    "online_without_electronic_trail": (
        "Hồ sơ trực tuyến không có vết điện tử",
        ("766 DVCTT: tỷ lệ hồ sơ trực tuyến",),
    ),
    "entered_in_two_systems": ("Hồ sơ nhập hai lần", ("Biểu 06: tổng số tiếp nhận", TDGQ)),
    "digitized_without_files": ("Số hóa nhưng không có tệp", ("766 MDSH: số hóa hồ sơ",)),
    "unknown_procedure_code": ("Mã TTHC không có trong danh mục", ("Biểu 06: lĩnh vực",)),
    "unknown_agency_code": ("Mã đơn vị không hợp lệ", (BY_UNIT,)),
    "backdated_bulk_entry": ("Nhập dồn các bước xử lý vào cuối tháng", (FORM06_OPEN, TDGQ)),
    "invalid_citizen_id": ("Số CCCD người nộp không hợp lệ", (PERSONAL,)),
    "invalid_phone": ("Số điện thoại không hợp lệ", (PERSONAL,)),
    # portal
    "missing_from_portal": ("Hồ sơ chưa đồng bộ lên Cổng DVCQG", (CKMB,)),
    "portal_status_mismatch": ("Trạng thái trên Cổng DVCQG không khớp", ("766 CKMB", TDGQ)),
    "dossier_sync_dossier_exists": ("Bản đồng bộ trên Cổng không có hồ sơ gốc", (CKMB,)),
    "payment_dossier_exists": ("Giao dịch thanh toán không có hồ sơ gốc", (TTTT,)),
    "rating_dossier_exists": ("Đánh giá không có hồ sơ gốc", (MDHL,)),
    # I-Office
    "apology_letter_dossier_exists": ("Thư xin lỗi ghi mã hồ sơ không tồn tại", (APOLOGY,)),
    "unsigned_outgoing_document": ("Văn bản đi không có chữ ký số", (DOCS,)),
    "incoming_document_overdue": ("Văn bản đến xử lý quá hạn", (DOCS,)),
    # structural: keys, required fields, code lists (any of them stops the night's run)
    "dossier_key_unique": ("Mã hồ sơ bị trùng phiên bản", (STRUCTURE,)),
    "dossier_key_required": ("Thiếu mã hồ sơ", (STRUCTURE,)),
    "dossier_required_fields": ("Hồ sơ thiếu trường bắt buộc", (STRUCTURE,)),
    "dossier_valid_codes": ("Trạng thái hoặc kênh thực hiện ngoài danh mục", (STRUCTURE,)),
    "dossier_sync_key_unique": ("Mã đồng bộ hồ sơ bị trùng phiên bản", (STRUCTURE,)),
    "dossier_sync_key_required": ("Thiếu mã đồng bộ hồ sơ", (STRUCTURE,)),
    "payment_key_unique": ("Mã giao dịch thanh toán bị trùng phiên bản", (STRUCTURE,)),
    "payment_key_required": ("Thiếu mã giao dịch thanh toán", (STRUCTURE,)),
    "payment_required_fields": ("Giao dịch thanh toán thiếu trường bắt buộc", (STRUCTURE,)),
    "petition_key_unique": ("Mã phản ánh kiến nghị bị trùng phiên bản", (STRUCTURE,)),
    "petition_key_required": ("Thiếu mã phản ánh kiến nghị", (STRUCTURE,)),
    "petition_required_fields": ("Phản ánh kiến nghị thiếu trường bắt buộc", (STRUCTURE, PAKN)),
    "procedure_key_unique": ("Mã thủ tục bị trùng phiên bản", (STRUCTURE,)),
    "procedure_key_required": ("Thiếu mã thủ tục", (STRUCTURE,)),
    "procedure_required_fields": ("Thủ tục thiếu trường bắt buộc", (STRUCTURE,)),
    "rating_key_unique": ("Mã đánh giá bị trùng phiên bản", (STRUCTURE,)),
    "rating_key_required": ("Thiếu mã đánh giá", (STRUCTURE,)),
    "rating_required_fields": ("Đánh giá thiếu trường bắt buộc", (STRUCTURE, MDHL)),
    "administrative_unit_key_unique": ("Mã đơn vị hành chính bị trùng phiên bản", (STRUCTURE,)),
    "administrative_unit_key_required": ("Thiếu mã đơn vị hành chính", (STRUCTURE,)),
    "administrative_unit_required_fields": (
        "Đơn vị hành chính thiếu trường bắt buộc",
        (STRUCTURE, BY_UNIT),
    ),
    "incoming_document_key_unique": ("Mã văn bản đến bị trùng phiên bản", (STRUCTURE,)),
    "incoming_document_key_required": ("Thiếu mã văn bản đến", (STRUCTURE,)),
    "incoming_document_required_fields": ("Văn bản đến thiếu trường bắt buộc", (STRUCTURE,)),
    "outgoing_document_key_unique": ("Mã văn bản đi bị trùng phiên bản", (STRUCTURE,)),
    "outgoing_document_key_required": ("Thiếu mã văn bản đi", (STRUCTURE,)),
    "outgoing_document_required_fields": ("Văn bản đi thiếu trường bắt buộc", (STRUCTURE,)),
    "fct_dossier_key_not_null": ("Bảng hồ sơ có dòng thiếu mã", (STRUCTURE,)),
    "fct_dossier_key_unique": ("Mã hồ sơ bị trùng trong bảng hồ sơ", (STRUCTURE,)),
    "fct_dossier_agency_not_null": ("Hồ sơ thiếu đơn vị xử lý", (STRUCTURE, BY_UNIT)),
    # the error catalogue's older names (docs/data-contracts.md)
    "dossier_code_unique": ("Mã hồ sơ bị trùng", (STRUCTURE,)),
    "dossier_code_not_null": ("Thiếu mã hồ sơ", (STRUCTURE,)),
    "status_code_in_range": ("Trạng thái ngoài danh mục", (STRUCTURE,)),
    "channel_code_in_range": (
        "Kênh thực hiện ngoài danh mục",
        ("Biểu 06: trực tuyến/trực tiếp", "766 DVCTT"),
    ),
    "agency_code_not_null": ("Thiếu đơn vị xử lý", (BY_UNIT,)),
}
UNMAPPED = "Quy tắc mới: chưa đánh giá ảnh hưởng"


@cache
def suite_rules() -> dict[str, dict]:
    """{rule_id: meta} of every GX rule in the committed suites."""
    rules: dict[str, dict] = {}
    for path in sorted(SUITES_DIR.glob("*.json")):
        for expectation in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
            meta = expectation.get("meta") or {}
            if meta.get("rule_id"):
                rules[meta["rule_id"]] = meta
    return rules


def name(rule_id: str) -> str:
    """The rule's short Vietnamese name; an unknown id says it is a new rule, in Vietnamese."""
    entry = RULE_IMPACT.get(rule_id)
    return entry[0] if entry else f"Quy tắc mới ({rule_id})"


def describe(rule_id: str) -> str:
    """The rule's Vietnamese description (the GX rule's own), else its short name."""
    return suite_rules().get(rule_id, {}).get("description_vi") or name(rule_id)


def severity_vi(severity: str | None) -> str:
    return SEVERITY_VI.get(severity or "", severity or "")


def distorts(rule_id: str) -> str:
    indicators = RULE_IMPACT.get(rule_id, (None, ()))[1]
    return "; ".join(indicators) if indicators else UNMAPPED
