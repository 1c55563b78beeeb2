"""The data-quality report (Data Docs) as a static site that works with no network.

GX's own Data Docs load Bootstrap, jQuery, fonts and a logo from outside hosts, and their
index is drawn by JavaScript from one of them: on a closed government network the page is an
unstyled, empty list. This site is rendered from the same stored validation results
(`uncommitted/validations/<suite>/<run>/<time>/*.json`) into plain HTML with its style
inline: no script, no link, nothing fetched. One page per run, and an index of the runs,
newest first. Each build renders the runs it is given (and any run without a page yet);
older pages stay as they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from cchc.exports.rule_impact import describe, name, severity_vi

STYLE = """
body { font-family: "Times New Roman", "DejaVu Serif", serif; margin: 2rem auto;
       max-width: 72rem; color: #1f1f1f; background: #fafafa; padding: 0 1rem; }
h1 { font-size: 1.6rem; border-bottom: 3px solid #1f4e79; padding-bottom: .4rem; color: #1f4e79; }
h2 { font-size: 1.25rem; margin-top: 2rem; color: #1f4e79; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: .5rem 0 1rem; }
th, td { border: 1px solid #bfbfbf; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #ddebf7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fff2cc; }
tr.error td { background: #ffc7ce; }
.ok { color: #375623; font-weight: bold; }
.bad { color: #9c0006; font-weight: bold; }
.muted { color: #595959; font-size: .9rem; }
code { font-size: .85rem; }
"""
MAX_SAMPLE = 10  # failing keys shown per rule: the complete list is in dq.record_flags


@dataclass(frozen=True)
class RuleRow:
    suite: str
    rule_id: str
    severity: str
    success: bool
    unexpected: int | None
    checked: int | None
    sample: tuple[str, ...]
    error: str | None


@dataclass(frozen=True)
class RunSummary:
    run: str
    validated_at: str
    suites: int
    rules: int
    failed: int
    structural_failed: int
    page: str


def site_dir(project_dir: Path) -> Path:
    return project_dir / "uncommitted" / "data_docs" / "local_site"


def _slug(run: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run)


def _latest_results(project_dir: Path) -> dict[str, dict[str, Path]]:
    """{run: {suite: the latest stored result of that suite in that run}}."""
    runs: dict[str, dict[str, Path]] = {}
    root = project_dir / "uncommitted" / "validations"
    for path in sorted(root.glob("*/*/*/*.json")):
        suite, run = path.parts[-4], path.parts[-3]
        current = runs.setdefault(run, {}).get(suite)
        if current is None or path.parts[-2] >= current.parts[-2]:  # run times sort as text
            runs[run][suite] = path
    return runs


def _rule_row(suite: str, result: dict) -> RuleRow:
    config = result.get("expectation_config") or {}
    meta = config.get("meta") or {}
    outcome = result.get("result") or {}
    unexpected = outcome.get("unexpected_count", outcome.get("observed_value"))
    sample = []
    for item in (outcome.get("partial_unexpected_list") or [])[:MAX_SAMPLE]:
        sample.append(str(item.get("record_key", item)) if isinstance(item, dict) else str(item))
    info = result.get("exception_info") or {}
    entries = [info] if "raised_exception" in info else list(info.values())
    errors = [str(e.get("exception_message") or "").splitlines()[0][:200]
              for e in entries if isinstance(e, dict) and e.get("raised_exception")]  # fmt: skip
    return RuleRow(
        suite=suite,
        rule_id=str(meta.get("rule_id") or config.get("type") or "?"),
        severity=str(meta.get("severity") or ""),
        success=bool(result.get("success")) and not errors,
        unexpected=int(unexpected) if isinstance(unexpected, int | float) else None,
        checked=outcome.get("element_count"),
        sample=tuple(sample),
        error="; ".join(errors) or None,
    )


def _read_run(results: dict[str, Path]) -> tuple[str, list[RuleRow]]:
    rows, validated = [], ""
    for suite, path in sorted(results.items()):
        document = json.loads(path.read_text(encoding="utf-8"))
        run_meta = (document.get("meta") or {}).get("run_id") or {}
        validated = max(validated, str(run_meta.get("run_time") or path.parts[-2]))
        rows += [_rule_row(suite, r) for r in document.get("results") or []]
    return validated, rows


def _local_time(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    from cchc.extract.window import TZ

    return f"{moment.astimezone(TZ):%H:%M:%S %d/%m/%Y}" if moment.tzinfo else stamp


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _run_page(run: str, validated: str, rows: list[RuleRow]) -> str:
    failed = [r for r in rows if not r.success]
    parts = [
        f'<p><a href="../index.html">← Danh sách lượt kiểm tra</a></p>'
        f"<p>Lượt <code>{escape(run)}</code>, kiểm tra lúc {escape(_local_time(validated))}:"
        f" {len(rows)} quy tắc, "
        + (
            f'<span class="bad">{len(failed)} quy tắc có bản ghi vi phạm</span>'
            if failed
            else '<span class="ok">không quy tắc nào có vi phạm</span>'
        )  # fmt: skip
        + ".</p>"
    ]
    for suite in sorted({r.suite for r in rows}):
        parts.append(f"<h2>Bộ quy tắc <code>{escape(suite)}</code></h2>")
        parts.append(
            "<table><thead><tr><th>Quy tắc</th><th>Mô tả</th><th>Loại lỗi</th><th>Kết quả</th>"
            "<th>Bản ghi vi phạm</th><th>Ví dụ mã bản ghi</th></tr></thead><tbody>"
        )
        for r in sorted(
            (r for r in rows if r.suite == suite), key=lambda r: (r.success, r.rule_id)
        ):
            css = "error" if r.error else ("" if r.success else "failed")
            verdict = (f"Lỗi khi kiểm tra: {escape(r.error)}" if r.error
                       else "Đạt" if r.success else "Có vi phạm")  # fmt: skip
            count = "" if r.unexpected is None else f"{r.unexpected:,}".replace(",", ".")
            if r.checked:
                count += f" / {r.checked:,}".replace(",", ".")
            parts.append(
                f'<tr class="{css}"><td>{escape(name(r.rule_id))}<br>'
                f'<code class="muted">{escape(r.rule_id)}</code></td>'
                f"<td>{escape(describe(r.rule_id))}</td><td>{escape(severity_vi(r.severity))}</td>"
                f'<td>{verdict}</td><td class="n">{count}</td>'
                f"<td><code>{escape(', '.join(r.sample))}</code></td></tr>"
            )
        parts.append("</tbody></table>")
    return _page(f"Kết quả kiểm tra chất lượng dữ liệu — {run}", "\n".join(parts))


def _summary(run: str, validated: str, rows: list[RuleRow]) -> RunSummary:
    return RunSummary(
        run=run,
        validated_at=validated,
        suites=len({r.suite for r in rows}),
        rules=len(rows),
        failed=sum(not r.success for r in rows),
        structural_failed=sum(not r.success and r.severity == "structural" for r in rows),
        page=f"runs/{_slug(run)}.html",
    )


def _index_page(runs: list[RunSummary]) -> str:
    rows = []
    for s in sorted(runs, key=lambda s: s.validated_at, reverse=True):
        status = ('<span class="bad">dừng: lỗi cấu trúc</span>' if s.structural_failed
                  else f"{s.failed} quy tắc có vi phạm" if s.failed
                  else '<span class="ok">đạt</span>')  # fmt: skip
        rows.append(
            f'<tr><td><a href="{quote(s.page)}">{escape(s.run)}</a></td>'
            f"<td>{escape(_local_time(s.validated_at))}</td><td class='n'>{s.suites}</td>"
            f"<td class='n'>{s.rules}</td><td>{status}</td></tr>"
        )
    body = (
        "<p>Mỗi đêm, các quy tắc kiểm tra chất lượng dữ liệu (Great Expectations) chạy trên dữ"
        " liệu nguồn và kho dữ liệu; mỗi dòng dưới đây là một lượt kiểm tra, mới nhất trước."
        " Danh sách đầy đủ các bản ghi bị gắn cờ nằm trong bảng <code>dq.record_flags</code>.</p>"
        f"<p class='muted'>{len(runs)} lượt kiểm tra.</p>"
        "<table><thead><tr><th>Lượt kiểm tra</th><th>Thời điểm</th><th>Bộ quy tắc</th>"
        "<th>Quy tắc</th><th>Kết quả</th></tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table>"
        if runs
        else "<p>Chưa có lượt kiểm tra nào.</p>"
    )
    return _page("Báo cáo chất lượng dữ liệu", body)


def build_site(project_dir: Path, runs: list[str] | None = None) -> Path:
    """Render the pages of `runs` (every run when None, and any run still without a page)
    and the index; returns the index's path."""
    site = site_dir(project_dir)
    pages = site / "runs"
    pages.mkdir(parents=True, exist_ok=True)
    stored = _latest_results(project_dir)
    summaries: list[RunSummary] = []
    for run, results in stored.items():
        cache = pages / f"{_slug(run)}.json"
        if (runs is None or run in runs) or not cache.exists():
            validated, rows = _read_run(results)
            (pages / f"{_slug(run)}.html").write_text(
                _run_page(run, validated, rows), encoding="utf-8"
            )
            summary = _summary(run, validated, rows)
            cache.write_text(json.dumps(summary.__dict__, ensure_ascii=False), encoding="utf-8")
        else:
            summary = RunSummary(**json.loads(cache.read_text(encoding="utf-8")))
        summaries.append(summary)
    _remove_gx_pages(site)
    index = site / "index.html"
    index.write_text(_index_page(summaries), encoding="utf-8")
    return index


def _remove_gx_pages(site: Path) -> None:
    """An older build's GX pages would still reach out to the network: remove them."""
    import shutil

    for leftover in ("static", "expectations", "validations"):
        shutil.rmtree(site / leftover, ignore_errors=True)
