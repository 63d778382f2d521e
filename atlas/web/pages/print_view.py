"""The print view: the current map with its panels on one A4 landscape sheet.

A plain HTML page (no Dash), so the browser's print dialog lays it out
exactly: the map picture with legend, scale bar and source line on the
left; the indicator's definition and the selected area's time series on
the right; the value table on a second sheet. The view is resolved with
the explorer's rules, so a link to something the viewer may not see shows
the public default view, never the protected content.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request
from markupsafe import escape

from atlas.formatting import format_value
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import queries
from atlas.web.components import chart_url, indicator_facts
from atlas.web.http import current_atlas
from atlas.web.pages.explorer import query_string, resolve_state
from atlas.web.pages.legal import LINKS
from auth import current_principal

print_view = Blueprint("print_view", __name__)

_CSS = """
@page { size: A4 landscape; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1b1b1b; margin: 0; font-size: 10pt; }
.sheet { width: 277mm; height: 190mm; display: grid; grid-template-columns: 182mm 1fr; gap: 6mm;
         page-break-after: always; overflow: hidden; }
.sheet img { width: 100%; }
.sheet.table { display: block; height: auto; columns: 3; column-gap: 8mm; }
h1 { font-size: 14pt; margin: 0 0 4mm; } h2 { font-size: 11pt; margin: 3mm 0 2mm; }
dl { margin: 0; } dt { font-weight: bold; margin-top: 2mm; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
td { border-bottom: 1px solid #ddd; padding: 1px 3px; } td.num { text-align: right; white-space: nowrap; }
.bar { padding: 8px; background: #f2f2f2; } .bar button, .bar a { font-size: 12pt; margin-right: 12px; }
.bar .legal { display: inline; } .bar .legal a { font-size: 10pt; }
@media screen { body { background: #e5e5e5; } .sheet { background: #fff; margin: 8mm auto; padding: 10mm;
                width: 297mm; height: 210mm; box-shadow: 0 1px 4px rgba(0,0,0,.3); } .sheet.table { height: auto; } }
@media print { .bar { display: none; } }
"""


def _dl(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items if v) + "</dl>"


def _legal_links(lang: str) -> str:
    """The legal pages every page links to (on screen only: the bar is not printed)."""
    suffix = "?lang=en" if lang == "en" else ""
    links = " ".join(f'<a href="{path}{suffix}">{escape(t(key, lang))}</a>' for path, key in LINKS)
    return f'<nav aria-label="{escape(t("legal_nav", lang))}" class="legal">{links}</nav>'


@print_view.get("/print")
def print_page() -> Response:
    atlas, viewer = current_atlas(), current_principal()
    state = resolve_state(atlas, viewer, request.args.to_dict())
    lang = state.lang
    if not state.indicator or not state.period:
        return Response(f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>Ortsatlas</title>"
                        f"</head><body><main><h1>Ortsatlas</h1><p>{escape(t('no_indicators', lang))}</p>"
                        f"</main>{_legal_links(lang)}</body></html>", mimetype="text/html")
    ind = atlas.indicator_by_id[state.indicator]
    view = {"indicator": ind.id, "period": state.period, "method": state.method, "k": state.k, "lang": lang}
    table = queries.values(atlas, viewer, ind.id, state.period)
    rows = "".join(f"<tr><td>{escape(r.area_id)}</td><td>{escape(r.name)}</td><td class='num'>"
                   f"{escape(format_value(r.value, r.status, ind.decimals, '', lang))}</td></tr>"
                   for r in table.rows.itertuples())
    chart = ""
    if state.area:  # the chart picture: drawn from the same spec as the explorer's time series
        chart = (f"<h2>{escape(t('timeseries', lang))}</h2>"
                 f"<img src='{escape(chart_url(ind.id, state.area, lang, 'svg'))}' "
                 f"alt='{escape(t('timeseries', lang))}: {escape(ind.title(lang))}, {escape(state.area)}'>")
    info = _dl(indicator_facts(atlas, viewer, ind.id, lang))  # what the explorer's info panel says
    title = f"{ind.title(lang)}, {period_label(state.period)}"
    notice = f"<p class='bar'>{escape(state.notice)}</p>" if state.notice else ""
    back = "/?" + query_string(ind.id, state.period, state.method, state.k, state.area, lang)
    html = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)} – Ortsatlas</title>
<style>{_CSS}</style><script src="/assets/print.js" defer></script></head><body>
<div class="bar"><button type="button" data-oa-print>{'Drucken' if lang == 'de' else 'Print'}</button>
<a href="{escape(back)}">{'Zurück zur Karte' if lang == 'de' else 'Back to the map'}</a>{_legal_links(lang)}</div>{notice}
<main class="sheet"><section><img src="{escape('/api/v1/map?' + urlencode({**view, 'format': 'svg'}))}"
 alt="{escape(title)}"></section>
<aside><h2>{escape(t("info", lang))}</h2>{info}{chart}</aside></main>
<section class="sheet table"><h1>{escape(title)}</h1><table>{rows}</table></section>
</body></html>"""
    resp = Response(html, mimetype="text/html")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
