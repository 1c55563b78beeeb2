"""The portal's 766 evaluation responses for one month, in the exact shape of its API
(`shared/samples/national-portal/`), computed from the generator's indicator counters."""

from __future__ import annotations

import uuid
from datetime import date

from .catalog import ONLINE_FULL, ONLINE_NONE, catalogue
from .indicators import COLUMNS, IndicatorCounters
from .units import KIND_DEPARTMENT, Unit, province, units_on

ENDPOINTS = (
    "dvc-progress-tree",
    "provide-online-tree",
    "formality-online-payment-tree",
    "transparency",
    "dossier-digitized",
    "handling-satisfaction",
)
_NAMESPACE = uuid.UUID("6f1c1a52-0000-4000-8000-000000000766")


def _id(code: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, code))


def _pct(numerator: int, denominator: int) -> float:
    return round(100 * numerator / denominator, 2) if denominator else 0


def _score(max_score: float, ratio_pct: float) -> float:
    return round(min(max_score, max_score * ratio_pct / 100), 2)


def _level(unit: Unit) -> str:
    return "PROVINCE" if unit.kind == KIND_DEPARTMENT else "COMMUNE"


def _sum(rows: list[dict]) -> dict:
    names = set(COLUMNS).union(*(r.keys() for r in rows))
    return {c: sum(r.get(c, 0) for r in rows) for c in names}


def _metric(code: str, name: str, num: int | None, den: int | None, max_score: int,
            ratio: float | None = None, score: float | None = None) -> dict:  # fmt: skip
    if ratio is None and den:
        ratio = _pct(num or 0, den)
    if score is None and ratio is not None:
        score = _score(max_score, ratio)
    return {"code": code, "name": name, "numerator": num, "denominator": den,
            "ratio": ratio, "score": score, "maxScore": max_score}  # fmt: skip


# What the portal counts itself (PortalView); a unit it holds nothing of counts 0 there.
PORTAL_COUNTED = dict.fromkeys(
    ("dossiers_received", "on_time_766", "overdue_766", "synced", "sync_universe", "satisfied",
     "petitions", "petitions_on_time", "petitions_satisfied", "e_result", "digitized", "reused",
     "online_received"), 0,
)  # fmt: skip


def build_evaluations(
    counters: IndicatorCounters,
    month: str,
    code: str,
    portal: dict[tuple[str, str], dict[str, int]] | None = None,
    snapshot: date | None = None,
) -> dict[str, dict]:
    """The portal's evaluation responses for province `code` and `month`. `portal`: the
    figures the portal counts from its own copies (PortalView.overrides), over the rest of
    the generator's counters; `snapshot`: its snapshot day, whose unit register it lists."""
    year, mon = (int(p) for p in month.split("-"))
    listed = units_on(snapshot or date(year, mon, 1), code)
    units = [u for u in listed if u.kind != "district"] + [
        u for u in listed if u.kind == "district"
    ]
    rows = {
        u.code: counters.counts.get((u.code, month)) or dict.fromkeys(COLUMNS, 0) for u in units
    }
    if portal is not None:
        rows = {u: {**r, **PORTAL_COUNTED, **portal.get((u, month), {})} for u, r in rows.items()}
    total = _sum(list(rows.values()))
    whole = {"departmentId": _id(code), "departmentName": f"UBND tỉnh {province(code).name}",
             "departmentCode": code}  # fmt: skip
    procs = catalogue(code)
    return {
        "dvc-progress-tree": _progress(whole, units, rows, total, year, mon),
        "provide-online-tree": _online(whole, units, rows, total, procs, mon),
        "formality-online-payment-tree": _payment(whole, units, rows, total, procs),
        "transparency": _scored_list(
            whole,
            units,
            rows,
            total,
            18,
            lambda r: _transparency_metrics(r, procs),
            transparency=True,
        ),
        "dossier-digitized": _scored_list(whole, units, rows, total, 22, _digitized_metrics),
        "handling-satisfaction": _scored_list(whole, units, rows, total, 18, _satisfaction_metrics),
    }


def _envelope(data: dict) -> dict:
    return {"code": "OK", "data": data, "message": "OK"}


def _child(unit: Unit) -> dict:
    return {"departmentId": _id(unit.code), "departmentName": unit.name,
            "departmentCode": unit.code, "level": _level(unit)}  # fmt: skip


def _progress(province, units, rows, total, year, mon) -> dict:
    def figures(r):
        ratio = _pct(r["on_time_766"], r["dossiers_received"])
        days = (
            round(r["processing_days_sum"] / r["ended_by_month_end"], 2)
            if r["ended_by_month_end"]
            else 0
        )
        return ratio, days

    ratio, days = figures(total)
    parent = {**province, "totalReceived": total["dossiers_received"],
              "totalOnTime": total["on_time_766"], "totalCompleted": total["ended_by_month_end"],
              "avgProcessingDays": days, "ratio": ratio, "totalScore": _score(20, ratio),
              "totalMaxScore": 20}  # fmt: skip
    children = []
    for unit in units:
        r = rows[unit.code]
        ratio, days = figures(r)
        children.append({**_child(unit), "totalReceived": r["dossiers_received"],
                         "totalOnTime": r["on_time_766"], "totalOverdue": r["overdue_766"],
                         "avgProcessingDays": days, "ratio": ratio, "score": _score(20, ratio),
                         "maxScore": 20, "scoreDelta": None})  # fmt: skip
    chart = [{"month": f"{m:02d}", "onTimePct": round(ratio) if m == mon else 0,
              "overduePct": round(100 - ratio) if m == mon and total["dossiers_received"] else 0}
             for m in range(1, 13)]  # fmt: skip
    return _envelope({"parent": parent, "children": children, "monthlyChart": chart})


def _online(province, units, rows, total, procs, mon) -> dict:
    def ratio_of(r):
        return _pct(r["online_received"], r["dossiers_received"])

    offered = [p for p in procs if p.online_level != ONLINE_NONE]
    full = sum(1 for p in offered if p.online_level == ONLINE_FULL)
    ratio = min(100.0, 2 * ratio_of(total))  # full marks at a 50% online share
    parent = {**province, "totalScore": _score(12, ratio), "totalMaxScore": 12, "ratio": ratio,
              "authorityCount": len(units), "partialCount": len(offered) - full,
              "fullCount": full, "onlineDossierCount": total["online_received"],
              "onlineServiceTotal": len(offered), "channelOnlineSum": total["online_received"],
              "channelDirectSum": total["direct_received"],
              "channelPostalSum": total["postal_received"],
              "channelTotalSum": total["dossiers_received"],
              "onlineOnTimeSum": total["on_time_766"], "onlineOverdueSum": total["overdue_766"]}  # fmt: skip
    children = []
    for unit in units:
        r = min(100.0, 2 * ratio_of(rows[unit.code]))
        children.append({**_child(unit), "totalScore": _score(12, r), "totalMaxScore": 12,
                         "ratio": r, "scoreDelta": None})  # fmt: skip
    chart = [{"label": f"{m:02d}", "onlineDossierPct": round(ratio_of(total)) if m == mon else 0}
             for m in range(1, 13)]  # fmt: skip
    return _envelope({"parent": parent, "children": children, "monthlyChart": chart})


def _payment_figures(r: dict, fee_procedures: int) -> dict:
    a = r["paid_online"] / r["fee_dossiers"] if r["fee_dossiers"] else 0
    # Score = 6·A + min(2, 2.5·B) + 2.5·C; here B = 0 (no per-procedure figures) and C = 1.
    score = round(6 * a + 2.5, 2) if r["fee_dossiers"] else 0
    return {"totalMaxScore": 10, "totalScore": score, "ratio": round(10 * score, 2),
        "totalDossierOnlinePaymentSuccess": r["paid_online"],
        "totalDossierFinancialObligation": r["fee_dossiers"],
        "totalDossierOnlineFormalityPaymentSuccess": 0,
        "totalFeeDossierFormalityDistinct": fee_procedures,
        "totalFeeDossierFormality": fee_procedures, "totalFeeFormality": fee_procedures}  # fmt: skip


def _payment(province, units, rows, total, procs) -> dict:
    fee_procedures = sum(1 for p in procs if p.fee)
    parent = {**province, **_payment_figures(total, fee_procedures)}
    children = [{**_child(u), **_payment_figures(rows[u.code], 0), "scoreDelta": None}
                for u in units]  # fmt: skip
    return _envelope({"parent": parent, "children": children})


def _transparency_metrics(r: dict, procs: tuple) -> list[dict]:
    on_time = sum(1 for p in procs if (p.decision_date - p.legal_basis_effective).days <= 0)
    updated = sum(1 for p in procs if (p.published_date - p.decision_date).days <= 5)
    complete = sum(1 for p in procs if p.content_complete)
    return [
        _metric("PUBLISH_ON_TIME", "Tỷ lệ TTHC công bố đúng hạn", on_time, len(procs), 6),
        _metric("PUBLIC_UPDATE_ON_TIME", "Tỷ lệ TTHC cập nhật, công khai đúng hạn", updated,
                len(procs), 4),
        _metric("PUBLIC_CONTENT_FULL", "Tỷ lệ TTHC công khai đầy đủ nội dung", complete,
                len(procs), 2),
        _metric("DOSSIER_SYNC", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", r["synced"],
                r.get("sync_universe", r["dossiers_received"]), 6),
    ]  # fmt: skip


def _digitized_metrics(r: dict) -> list[dict]:
    n = r["dossiers_received"]
    return [
        _metric("ORIGINAL_RESULT_AVAILABLE", "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả "
                "giải quyết thủ tục hành chính điện tử", r["e_result"], n, 6),
        _metric("SO_HOA_GIAY_TO_GIAI_QUYET", "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa "
                "hồ sơ", r["digitized"], n, 4),
        _metric("REUSED_DIGITIZED_DATA", "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ "
                "liệu số hóa", r["reused"], n, 2,
                score=round(min(2, 2 * (r["reused"] / n) / 0.8), 2) if n else None),
        _metric("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, "
                "chia sẻ dữ liệu phục vụ tái sử dụng", 0, n, 4),
        _metric("CITIZEN_DATA_CONNECTED_DOSSIER", "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ "
                "liệu dân cư", r["online_received"], n, 2),
        _metric("CITIZEN_DATA_CONNECTED_FORMALITY", "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ "
                "liệu dân cư phục vụ GQ TTHC", 0, 0, 2),
        _metric("ELECTRONIC_CERTIFIED_COPY", "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử "
                "từ bản chính", None, None, 2, ratio=100, score=2),
    ]  # fmt: skip


def _satisfaction_metrics(r: dict) -> list[dict]:
    n = r["dossiers_received"]
    satisfied = r.get("satisfied", max(0, n - r["overdue_766"] - r["rated_dissatisfied"]))
    petitions = r["petitions"]
    satisfied_petitions = r.get("petitions_satisfied", r["petitions_on_time"])
    ratio = _pct(satisfied, n)
    return [
        _metric("PETITION_CLASSIFICATION_TTHC", "Tỷ lệ PAKN về quy định, thủ tục hành chính",
                petitions, petitions, 0, score=None),
        _metric("DOSSIER_RECEIVING_SATISFACTION", "Tỷ lệ hài lòng trong tiếp nhận, giải quyết "
                "TTHC", satisfied, n, 6, ratio=ratio,
                score=round(min(6, 6 * ratio / 100 / 0.9), 2)),
        _metric("PETITION_PROCESSING_ON_TIME", "Tỷ lệ PAKN xử lý đúng hạn",
                r["petitions_on_time"], petitions, 6, score=None if petitions else 6),
        _metric("PETITION_HANDLING_SATISFACTION", "Tỷ lệ hài lòng trong xử lý PAKN",
                satisfied_petitions, petitions, 6, score=None if petitions else 6),
        _metric("PETITION_CLASSIFICATION_STAFF", "Tỷ lệ PAKN về hành vi cán bộ, công chức, "
                "viên chức", 0, petitions, 0, score=None),
    ]  # fmt: skip


def _scored_list(province, units, rows, total, max_score, metrics_of, transparency=False) -> dict:
    def row(stt, identity, kind, level, agency_level, r):
        metrics = metrics_of(r)
        score = round(sum(m["score"] or 0 for m in metrics), 2)
        entry = {"stt": stt, **identity, "departmentType": kind, "departmentLevel": level,
                 "agencyLevel": agency_level, "totalScore": score, "totalMaxScore": max_score,
                 "ratio": _pct(round(score * 100), max_score * 100), "metrics": metrics,
                 "scoreDelta": None}  # fmt: skip
        if metrics_of is _satisfaction_metrics:
            entry |= {"totalPetitions": r["petitions"], "classifiedPetitions": r["petitions"],
                      "totalDossiers": r["dossiers_received"], "averageScore": None}  # fmt: skip
        return entry

    overview = row(1, province, "PROVINCE", "PROVINCE", "level_1", total)
    evaluation = [
        row(i, _child(u) | {}, "PROVINCIAL_DEPARTMENT" if u.kind == KIND_DEPARTMENT
            else "COMMUNE_PEOPLE_COMMITTEE", _level(u), "level_2", rows[u.code])
        for i, u in enumerate(units, start=1)
    ]  # fmt: skip
    for entry in evaluation:
        entry.pop("level", None)
    data = {"overview": overview, "evaluation": evaluation,
            "pagination": {"total": len(evaluation), "currentPage": 1, "pageSize": 200,
                           "totalPages": 1},
            "source": "cchc synthetic province"}  # fmt: skip
    if transparency:
        overview["averageScore"] = overview["totalScore"]
        data = {"overview": overview, "monthlyChart": [], **{k: v for k, v in data.items()
                                                             if k != "overview"}}  # fmt: skip
    return _envelope(data)
