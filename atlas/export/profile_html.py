"""The area profile as a self-contained HTML page (booklet zip, report extracts): no scripts, no requests.

The same rows and texts as the Dash page and the PDF (`profile_view`), with
the strips inline as SVG, so a page opened from a zip file on a laptop
without network shows exactly what the atlas showed.
"""
from __future__ import annotations

from datetime import datetime

from markupsafe import escape

from atlas.export import profile_view as pv
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services.context import Atlas
from atlas.services.profiles import Profile, ProfileRow
from auth.permissions import Principal

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1f2328; margin: 0; background: #f6f7f9; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 20px 32px; background: #fff; }
h1 { font-size: 1.5rem; margin: 6px 0 2px; } h2 { font-size: 1.05rem; color: #0b5cad; margin: 20px 0 6px; }
.mark { padding: 6px 10px; border-radius: 4px; background: #eef1f4; color: #5b616b; }
.mark.internal { background: #a4262c; color: #fff; font-weight: 700; }
.hint { color: #5b616b; font-size: .9rem; }
table { width: 100%; border-collapse: collapse; font-size: .88rem; }
th, td { border-bottom: 1px solid #d0d4da; padding: 5px 4px; text-align: left; vertical-align: middle; }
thead th { font-size: .75rem; color: #5b616b; }
td.num { text-align: right; white-space: nowrap; }
.missing { color: #5b616b; font-style: italic; }
.suppressed { background: repeating-linear-gradient(45deg, #eee 0 4px, #fff 4px 8px); }
.boundary { color: #8a5a00; text-decoration: underline dotted; }
.note { display: block; font-size: .8rem; color: #7a4b00; }
.sub { display: block; font-size: .78rem; color: #5b616b; }
@media print { body { background: #fff; } main { padding: 0; } @page { size: A4 portrait; margin: 12mm; } }
"""


def _value(value, status, row: ProfileRow, lang: str) -> str:
    if status is None:
        return "<td class='num'></td>"
    return f"<td class='num {escape(status)}'>{escape(pv.value_text(value, status, row, lang))}</td>"


def rows_table(atlas: Atlas, p: Profile, rows: list[ProfileRow], lang: str = "de", notes: dict | None = None) -> str:
    show_parent = p.parent is not None and p.parent.area_id != p.territory.area_id
    is_top = p.area.area_id == p.territory.area_id
    head = [t("prof_indicator", lang), t("prof_value", lang)]
    if show_parent:
        head.append(pv.level_name(atlas, p.parent.level, lang))
    if not is_top:
        head += [p.territory.name, t("prof_difference", lang).format(territory=p.territory.name)]
    head += [t("prof_trend", lang), t("prof_distribution", lang).format(level=pv.level_name(atlas, p.area.level,
                                                                                            lang))]
    body = []
    for r in rows:
        label = (f"<b>{escape(r.indicator.title(lang))}</b><span class='sub'>"
                 f"{escape(period_label(r.period, lang))} · {escape(r.indicator.unit_in(lang))}</span>")
        for note in (notes or {}).get(r.indicator.id, []):
            label += f"<span class='note'>{escape(t('prof_notes', lang))}: {escape(note['text'])}</span>"
        arrow, words = pv.trend_text(r, lang)
        cells = [f"<th scope='row'>{label}</th>", _value(r.value, r.status, r, lang)]
        if show_parent:
            cells.append(_value(r.parent_value, r.parent_status, r, lang))
        if not is_top:
            cells += [_value(r.territory_value, r.territory_status, r, lang),
                      f"<td class='num'>{escape(pv.comparison_text(r, lang))}</td>"]
        strip = pv.strip_svg(pv.strip(r.distribution, r.value, r.status))
        alt = escape(pv.strip_words(r, atlas, p.area.level, lang))
        cells += [f"<td><b>{escape(arrow)}</b> {escape(words)}</td>",
                  f"<td role='img' aria-label='{alt}' title='{alt}'>{strip}</td>"]
        body.append(f"<tr data-indicator='{escape(r.indicator.id)}'>{''.join(cells)}</tr>")
    return (f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def profile_body(atlas: Atlas, p: Profile, lang: str = "de", notes: dict | None = None) -> str:
    """Title, summary, the domain tables, rules and sources (no page frame)."""
    trail = [f"{pv.level_name(atlas, p.area.level, lang)} {p.area.area_id}"]
    for place in (p.parent, p.territory):
        if place is not None and place.area_id != p.area.area_id and not (place is p.territory and place == p.parent):
            trail.append(pv.place_text(atlas, place, lang))
    out = [f"<h1>{escape(t('prof_title', lang))} {escape(p.area.name)}</h1>",
           f"<p class='hint'>{escape(' · '.join(trail))}</p>", f"<h2>{escape(t('prof_summary', lang))}</h2>"]
    lines = pv.summary_lines(atlas, p, lang)
    out.append("<ul>" + "".join(f"<li><b>{escape(h)}:</b> {escape(i)}</li>" for h, i in lines) + "</ul>" if lines
               else f"<p>{escape(t('prof_summary_none', lang))}</p>")
    for domain_id, rows in p.domains():
        domain = atlas.domain_by_id.get(domain_id)
        name = (domain.title_en if lang == "en" else domain.title_de) if domain else domain_id
        out += [f"<h2>{escape(name)}</h2>", rows_table(atlas, p, rows, lang, notes)]
    out.append(f"<h2>{escape(t('prof_rules', lang))}</h2><ul class='hint'>"
               + "".join(f"<li>{escape(r)}</li>" for r in pv.rules(lang)) + "</ul>")
    out.append(f"<h2>{escape(t('prof_sources', lang))}</h2><ul class='hint'>"
               + "".join(f"<li>{escape(s)}</li>" for s in pv.sources(p, lang)) + "</ul>")
    return "".join(out)


def page(title: str, body: str, viewer: Principal, made: datetime, data_as_of: datetime | None,
         lang: str = "de", extra_head: str = "") -> str:
    """A complete HTML document with the marking on top and the stamp at the foot."""
    kind, mark = pv.marking(viewer, lang)
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{CSS}</style>{extra_head}</head><body><main>"
            f"<div class='mark {kind}'>{escape(mark)}</div>{body}"
            f"<p class='hint'>{escape(pv.stamp(made, data_as_of, lang))}</p></main></body></html>")
