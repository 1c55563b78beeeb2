"""Small inline SVG charts for the offline HTML report: no scripts, fonts or URLs.

The `svg` elements carry no xmlns: inline SVG in HTML5 needs none, and the report holds no
URL at all.
"""

from __future__ import annotations

from html import escape

WIDTH = 760
BAR = 20
LABEL = 260
COLORS = ("#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6")


def _svg(height: int, body: str, title: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}"'
        f' height="{height}"><title>{escape(title)}</title>{body}</svg>'
    )


def bars(title: str, items: list[tuple[str, float, float]], value_text) -> str:
    """Horizontal bars: (label, value, maximum) each; the maximum is drawn as a pale track."""
    if not items:
        return f'<p class="empty">{escape(title)}: không có số liệu</p>'
    scale = WIDTH - LABEL - 80
    parts = []
    for i, (label, value, maximum) in enumerate(items):
        y = 10 + i * (BAR + 6)
        track = scale
        filled = 0 if not maximum else scale * max(0.0, min(1.0, value / maximum))
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 15}" text-anchor="end">{escape(label[:40])}</text>'
            f'<rect x="{LABEL}" y="{y}" width="{track:.1f}" height="{BAR}" fill="#EDEDED"/>'
            f'<rect class="bar" x="{LABEL}" y="{y}" width="{filled:.1f}" height="{BAR}"'
            f' fill="{COLORS[0]}"/>'
            f'<text x="{LABEL + track + 6}" y="{y + 15}">{escape(value_text(value))}</text>'
        )
    return _svg(20 + len(items) * (BAR + 6), "".join(parts), title)


def line(title: str, points: list[tuple[str, float]], low: float = 0.0, high: float = 1.0) -> str:
    """A line with a dot and a label per point, y from `low` to `high`."""
    if not points:
        return f'<p class="empty">{escape(title)}: không có số liệu</p>'
    height, left, top, plot_h = 260, 50, 20, 190
    step = (WIDTH - left - 30) / max(len(points) - 1, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / ((high - low) or 1))

    coords = [(left + i * step, y(v)) for i, (_, v) in enumerate(points)]
    parts = [
        f'<line x1="{left}" y1="{y(t):.1f}" x2="{WIDTH - 20}" y2="{y(t):.1f}" stroke="#DDD"/>'
        f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.0%}</text>'
        for t in (low, (low + high) / 2, high)
    ]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[0]}" stroke-width="2"/>')
    for (label, value), (x, yy) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="{COLORS[1]}"/>'
            f'<text x="{x:.1f}" y="{yy - 8:.1f}" text-anchor="middle">{value:.1%}</text>'
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{escape(label)}</text>'
        )
    return _svg(height, "".join(parts), title)


def heatmap(
    title: str, rows: list[str], columns: list[str], values: dict[tuple[str, str], float]
) -> str:
    """Cells shaded by value 0–max (rates); the value is printed in each cell."""
    if not rows or not columns:
        return f'<p class="empty">{escape(title)}: không có số liệu</p>'
    cell_w = (WIDTH - LABEL) / len(columns)
    top = 110
    peak = max(values.values(), default=0) or 1
    parts = [
        f'<text transform="translate({LABEL + (j + 0.5) * cell_w:.1f},{top - 6}) rotate(-30)">'
        f"{escape(c)}</text>"
        for j, c in enumerate(columns)
    ]
    for i, r in enumerate(rows):
        yy = top + i * (BAR + 4)
        parts.append(
            f'<text x="{LABEL - 8}" y="{yy + 15}" text-anchor="end">{escape(r[:40])}</text>'
        )
        for j, c in enumerate(columns):
            v = values.get((r, c))
            shade = 0 if v is None else 0.15 + 0.85 * v / peak
            x = LABEL + j * cell_w
            parts.append(
                f'<rect x="{x:.1f}" y="{yy}" width="{cell_w - 2:.1f}" height="{BAR}"'
                f' fill="#C00000" fill-opacity="{shade:.2f}" stroke="#EEE"/>'
            )
            if v is not None:
                parts.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{yy + 15}" text-anchor="middle">{v:.1%}</text>'
                )
    return _svg(top + len(rows) * (BAR + 4) + 10, "".join(parts), title)
