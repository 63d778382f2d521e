"""A profile in words and marks: the texts every form of the profile shows alike.

The Dash page, the HTML pages of a booklet, reports and the A4 PDF all take
their texts from here (values with unit and period, differences, trend
arrows with their rule, the distribution strip, the summary, the marking),
so the printed profile says exactly what the page says. Nothing here reads
the store: it formats a `profiles.Profile`.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import datetime

from atlas.formatting import format_number, format_value
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import profiles, territory
from atlas.services.context import Atlas
from atlas.services.profiles import Distribution, Profile, ProfileRow
from auth.permissions import Principal, sees_internal_figures

ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
STRIP_W, STRIP_H = 160, 22


# ------------------------------------------------------------------ single texts
def status_word(status: str, lang: str = "de") -> str:
    """What stands instead of a number: no data, withheld, or not comparable (boundary change)."""
    return t(f"prof_status_{status}", lang)


def value_text(value: float | None, status: str | None, row: ProfileRow, lang: str = "de") -> str:
    if status is None:
        return ""
    if status == "ok" and value is not None:
        return format_value(value, "ok", row.indicator.decimals, row.indicator.unit_in(lang), lang)
    return status_word(status, lang)


def diff_unit(row: ProfileRow, lang: str = "de") -> str:
    """Differences of percentages are percentage points."""
    return t("prof_pp", lang) if row.indicator.unit.strip() == "%" else row.indicator.unit_in(lang)


def signed(value: float, decimals: int, lang: str = "de") -> str:
    text = format_number(abs(value), decimals, lang)
    if float(format_number(abs(value), decimals, "en").replace(",", "")) == 0:
        return "±" + text
    return ("+" if value > 0 else "−") + text


def diff_text(diff: float | None, row: ProfileRow, lang: str = "de") -> str:
    if diff is None:
        return ""
    return f"{signed(diff, row.indicator.decimals, lang)} {diff_unit(row, lang)}".strip()


def comparison_text(row: ProfileRow, lang: str = "de") -> str:
    """The difference to the territory; for counts, the share of the territory's total instead."""
    if not row.comparable:
        share = row.share_of_territory
        return "" if share is None else t("prof_share", lang).format(share=format_number(share, 1, lang))
    return diff_text(row.difference, row, lang)


def trend_text(row: ProfileRow, lang: str = "de") -> tuple[str, str]:
    """(arrow, words): '↑', '+12,3 % seit 2022' — or ('', why there is no arrow)."""
    tr = row.trend
    if tr.direction is None:
        return "", t(f"prof_trend_{tr.reason or 'missing'}", lang)
    since = period_label(tr.from_period, lang)
    if tr.relative is None:
        words = f"{diff_text(tr.change, row, lang)} {t('prof_since', lang)} {since}"
    else:
        words = f"{signed(100 * tr.relative, 0, lang)} % {t('prof_since', lang)} {since}"
    return ARROWS[tr.direction], words


def trend_label(direction: str | None, lang: str = "de") -> str:
    return t(f"prof_dir_{direction}", lang) if direction else ""


def level_name(atlas: Atlas, level: str, lang: str = "de") -> str:
    return territory.label(atlas, level, lang)


def place_text(atlas: Atlas, place: profiles.Place | None, lang: str = "de") -> str:
    if place is None:
        return ""
    return f"{level_name(atlas, place.level, lang)} {place.name}"


# ------------------------------------------------------------------ the distribution strip
@dataclass(frozen=True)
class Strip:
    """Positions on a 0–1 scale: every area's value (dots), the quartile box, the median, this area."""

    dots: object  # numpy array of positions 0–1, one per area
    q1: float
    median: float
    q3: float
    here: float | None
    low: float
    high: float
    bins: tuple = ()  # counts in 24 equal bins: drawn instead of the dots above MAX_DOTS areas


MAX_DOTS = 120  # above this many areas the dots become a 24-bin histogram


def strip(dist: Distribution, value: float | None, status: str) -> Strip | None:
    """Where the area's value falls among all areas of its level; None when fewer than 3 areas have values."""
    q = dist.quantiles()
    if q is None or dist.n < 3:
        return None
    low, high = q["min"], q["max"]
    span = high - low

    def pos(v: float) -> float:
        return 0.5 if span == 0 else min(max((v - low) / span, 0.0), 1.0)
    here = pos(value) if status == "ok" and value is not None and math.isfinite(value) else None
    return Strip(dist.positions, pos(q["q1"]), pos(q["median"]), pos(q["q3"]), here, low, high, dist.bins)


def strip_svg(s: Strip | None, width: int = STRIP_W, height: int = STRIP_H) -> str:
    """The strip as a small SVG: a short grey tick (or bars) per area, a box from the lower to the upper quartile,
    the median as a line, this area as a dark diamond. No numbers, no order: a place, not a rank."""
    if s is None:
        return ""
    pad, mid = 6, height / 2
    parts = [_strip_background(s, width, height)]
    if s.here is not None:
        xh = pad + s.here * (width - 2 * pad)
        parts.append(f'<path d="M{xh:.1f} {mid - 7} L{xh + 5:.1f} {mid} L{xh:.1f} {mid + 7} L{xh - 5:.1f} {mid} Z" '
                     f'fill="#0b5cad" stroke="#ffffff" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)


# Texts drawn or written lately from a distribution alone: (id of the distribution or its positions, …) →
# (that object, text). An entry holds the object itself, so its id cannot be reused while the entry exists.
_PER_DISTRIBUTION: dict[tuple, tuple[object, str]] = {}
_PER_DISTRIBUTION_MAX = 2048


def _per_distribution(anchor: object, key: tuple, make) -> str:
    """`make()`, kept per distribution: the same for every area of a level, asked by every area's profile."""
    full = (id(anchor), *key)
    kept = _PER_DISTRIBUTION.get(full)
    if kept is not None and kept[0] is anchor:
        return kept[1]
    text = make()
    if len(_PER_DISTRIBUTION) >= _PER_DISTRIBUTION_MAX:
        _PER_DISTRIBUTION.clear()
    _PER_DISTRIBUTION[full] = (anchor, text)
    return text


def _strip_background(s: Strip, width: int, height: int) -> str:
    """Everything of a strip but this area's diamond: the same for every area of the level, so drawn once per
    distribution (a profile page draws one per indicator; at 1,000 areas each is 24 bars and the quartile box)."""
    return _per_distribution(s.dots, ("strip", s.q1, s.median, s.q3, width, height),
                             lambda: _draw_background(s, width, height))


def _draw_background(s: Strip, width: int, height: int) -> str:
    pad, mid = 6, height / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f'<line x1="{pad}" y1="{mid}" x2="{width - pad}" y2="{mid}" stroke="#b8bec6" stroke-width="1"/>',
             f'<rect x="{pad + s.q1 * (width - 2 * pad):.1f}" y="{mid - 5}" '
             f'width="{max((s.q3 - s.q1) * (width - 2 * pad), 1):.1f}" height="10" fill="#dce6f2" stroke="#9fb3c8"/>']
    if len(s.dots) <= MAX_DOTS:
        x = [pad + p * (width - 2 * pad) for p in s.dots]
        parts.append('<path stroke="#7a828c" stroke-opacity="0.7" stroke-width="1" d="'
                     + " ".join(f"M{xi:.1f} {mid - 3.5}V{mid + 3.5}" for xi in x) + '"/>')
    else:
        bins = [int(b) for b in s.bins]
        top, bw = max(bins), (width - 2 * pad) / 24
        parts += [f'<rect x="{pad + i * bw:.1f}" y="{mid + 4 - 8 * b / top:.1f}" width="{bw - 0.5:.1f}" '
                  f'height="{8 * b / top:.1f}" fill="#7a828c" fill-opacity="0.6"/>' for i, b in enumerate(bins) if b]
    xm = pad + s.median * (width - 2 * pad)
    parts.append(f'<line x1="{xm:.1f}" y1="{mid - 7}" x2="{xm:.1f}" y2="{mid + 7}" stroke="#33404d" stroke-width="1.5"/>')
    return "".join(parts)


def strip_data_uri(s: Strip | None) -> str:
    svg = strip_svg(s)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode() if svg else ""


def strip_words(row: ProfileRow, atlas: Atlas, level: str, lang: str = "de", level_plural: str | None = None) -> str:
    """The strip for screen readers and print: the level's quartiles, no position number.

    `level_plural`: the level's plural name when the caller has it already (a page asks once, not per row).
    """
    dist = row.distribution
    q = dist.quantiles()
    if q is None or dist.n < 3:
        return t("prof_strip_none", lang)
    decimals = row.indicator.decimals
    plural = level_plural or territory.label(atlas, level, lang, plural=True)

    def words() -> str:
        fmt = lambda v: format_number(v, decimals, lang)  # noqa: E731
        return t("prof_strip_words", lang).format(n=dist.n, level=plural, low=fmt(q["min"]), q1=fmt(q["q1"]),
                                                  median=fmt(q["median"]), q3=fmt(q["q3"]), high=fmt(q["max"]))
    return _per_distribution(dist, ("words", decimals, lang, plural), words)  # the same for every area


def band(row: ProfileRow) -> str | None:
    """'low' (below the lower quartile), 'mid' or 'high' (above the upper quartile); None without a value."""
    q = row.distribution.quantiles()
    if q is None or row.status != "ok" or row.value is None or row.distribution.n < 3:
        return None
    return "low" if row.value < q["q1"] else "high" if row.value > q["q3"] else "mid"


# ------------------------------------------------------------------ rules, summary, marking
def rules(lang: str = "de") -> list[str]:
    """How to read the profile: every rule the numbers follow, with its thresholds."""
    return [t("prof_rule_trend", lang).format(years=profiles.TREND_YEARS,
                                              pct=format_number(100 * profiles.TREND_THRESHOLD, 0, lang)),
            t("prof_rule_strip", lang),
            t("prof_rule_summary", lang).format(dev=format_number(100 * profiles.SUMMARY_DEVIATION, 0, lang),
                                                chg=format_number(100 * profiles.SUMMARY_CHANGE, 0, lang),
                                                years=profiles.TREND_YEARS),
            t("prof_rule_gaps", lang),
            t("prof_rule_counts", lang)]


def summary_lines(atlas: Atlas, p: Profile, lang: str = "de") -> list[tuple[str, str]]:
    """(headline, items) per kind of finding; an empty list when nothing stands out by the rules."""
    whole = place_text(atlas, p.territory, lang)
    out = []
    for kind, rows in p.summary:
        head = t(f"prof_sum_{kind}", lang).format(
            territory=whole, dev=format_number(100 * profiles.SUMMARY_DEVIATION, 0, lang),
            chg=format_number(100 * profiles.SUMMARY_CHANGE, 0, lang), years=profiles.TREND_YEARS)
        items = []
        for r in rows:
            title, period = r.indicator.title(lang), period_label(r.period, lang)
            if kind in ("above", "below"):
                items.append(f"{title} {value_text(r.value, r.status, r, lang)} "
                             f"({whole}: {value_text(r.territory_value, r.territory_status, r, lang)}, {period})")
            elif kind in ("rising", "falling"):
                items.append(f"{title} {trend_text(r, lang)[1]} ({value_text(r.value, r.status, r, lang)}, {period})")
            else:
                items.append(f"{title} ({period})")
        out.append((head, "; ".join(items)))
    return out


def marking(viewer: Principal, lang: str = "de") -> tuple[str, str]:
    """('public' | 'internal', the line every form of the profile carries)."""
    if sees_internal_figures(viewer):
        return "internal", t("prof_mark_internal", lang)
    return "public", t("prof_mark_public", lang)


def stamp(now: datetime, as_of: datetime | None, lang: str = "de") -> str:
    """'Erstellt am … · Datenstand …': when it was made, and which data it shows."""
    made = f"{t('prof_made', lang)} {now:%d.%m.%Y %H:%M}"
    data = f"{t('prof_data_as_of', lang)} {(as_of or now):%d.%m.%Y %H:%M}"
    return f"{made} · {data}"


def sources(p: Profile, lang: str = "de") -> list[str]:
    """Each distinct source with its licence and the indicators it feeds."""
    by_source: dict[tuple[str, str], list[str]] = {}
    for r in p.rows:
        by_source.setdefault((r.indicator.source, r.indicator.licence), []).append(r.indicator.title(lang))
    return [f"{src} ({t('licence', lang)}: {lic}): {', '.join(titles)}" for (src, lic), titles in by_source.items()]


# ------------------------------------------------------------------ as data (API, booklet pages, reports)
def _num(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def as_document(atlas: Atlas, p: Profile, viewer: Principal, lang: str = "de",
                notes: dict | None = None) -> dict:
    """The profile as JSON-ready data: the same rows the page shows, with raw numbers and statuses.

    There is no rank field, by design; `band` names the quarter of the
    distribution (low, mid, high), and `distribution` its quartiles.
    `notes` maps indicator id → list of note dicts.
    """
    def place(x: profiles.Place | None) -> dict | None:
        return None if x is None else {"id": x.area_id, "name": x.name, "level": x.level,
                                       "level_name": level_name(atlas, x.level, lang), "boundary_set": x.set_id}
    kind, mark = marking(viewer, lang)
    as_of = profiles.data_as_of(atlas, viewer)
    rows = []
    for r in p.rows:
        q = r.distribution.quantiles() or {}
        tr = r.trend
        rows.append({
            "indicator": r.indicator.id, "title": r.indicator.title(lang), "domain": r.indicator.domain,
            "unit": r.indicator.unit_in(lang), "period": r.period, "value": _num(r.value), "status": r.status,
            "parent_value": _num(r.parent_value), "parent_status": r.parent_status,
            "territory_value": _num(r.territory_value), "territory_status": r.territory_status,
            "difference": _num(r.difference), "difference_parent": _num(r.difference_parent),
            "share_of_territory": _num(r.share_of_territory),
            "trend": {"direction": tr.direction, "from_period": tr.from_period, "from_value": _num(tr.from_value),
                      "change": _num(tr.change), "relative": _num(tr.relative), "reason": tr.reason or None},
            "distribution": {"n": r.distribution.n, "missing": r.distribution.missing,
                             "suppressed": r.distribution.suppressed, **{k: _num(v) for k, v in q.items()}},
            "band": band(r),
            "notes": (notes or {}).get(r.indicator.id, []),
        })
    return {"area": place(p.area), "parent": place(p.parent), "territory": place(p.territory),
            "period": p.chosen_period, "view": kind, "marking": mark,
            "data_as_of": as_of.isoformat() if as_of else None,
            "rules": rules(lang), "summary": [{"headline": h, "items": i} for h, i in summary_lines(atlas, p, lang)],
            "count": len(rows), "rows": rows}
