"""Small inline SVG charts for self-contained reports (no external assets)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(items: Sequence[tuple[str, int]], *, width: int = 640, bar_height: int = 18, title: str = "") -> str:
    """A horizontal bar chart of (label, value) pairs."""
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    label_w = 190
    height = len(items) * (bar_height + 6) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    for i, (label, value) in enumerate(items):
        y = 24 + i * (bar_height + 6)
        w = int((width - label_w - 60) * value / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height - 5}" font-size="12" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_height}" fill="#4a78c2"/>')
        parts.append(f'<text x="{label_w + w + 4}" y="{y + bar_height - 5}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(points: Sequence[tuple[float, float]], *, width: int = 640, height: int = 240, x_label: str = "", y_label: str = "", title: str = "") -> str:
    """A line chart of (x, y) points with labelled axes."""
    if len(points) < 2:
        return ""
    pad_l, pad_b, pad_t, pad_r = 60, 36, 24, 16
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1
    y1 = max(ys) or 1
    sx = (width - pad_l - pad_r) / ((x1 - x0) or 1)
    sy = (height - pad_t - pad_b) / y1
    coords = " ".join(f"{pad_l + (x - x0) * sx:.1f},{height - pad_b - y * sy:.1f}" for x, y in points)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" stroke="#333"/>')
    parts.append(f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#333"/>')
    parts.append(f'<polyline fill="none" stroke="#c2584a" stroke-width="2" points="{coords}"/>')
    parts.append(f'<text x="{pad_l - 6}" y="{pad_t + 10}" font-size="11" text-anchor="end">{int(y1)}</text>')
    parts.append(f'<text x="{pad_l - 6}" y="{height - pad_b}" font-size="11" text-anchor="end">0</text>')
    parts.append(f'<text x="{width - pad_r}" y="{height - pad_b + 16}" font-size="11" text-anchor="end">{int(x1)}</text>')
    parts.append(f'<text x="{(width + pad_l) / 2}" y="{height - 6}" font-size="12" text-anchor="middle">{escape(x_label)}</text>')
    mid = (height - pad_b + pad_t) / 2
    parts.append(f'<text x="14" y="{mid}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {mid})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
