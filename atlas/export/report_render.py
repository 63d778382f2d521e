"""A rendered report (`atlas.services.reports.ReportData`) as HTML and as an A4 PDF.

Maps and time series are drawn by `atlas.export.pictures`, the code behind
the map and chart downloads, so a report shows the same classes, gaps and
boundary-change markers as the web map. Every report ends with what it is
built from: the data as-of time, the versions of each indicator, and the
address that renders it again exactly so (`as_of=`).
"""
from __future__ import annotations

import base64
import io
from urllib.parse import urlencode

from markupsafe import escape
from matplotlib.figure import Figure
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from atlas.classify import classing
from atlas.export import pictures, profile_html, profile_pdf
from atlas.export import profile_view as pv
from atlas.formatting import format_value
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import notes as note_service
from atlas.services import territory
from atlas.services.reports import BlockData, ReportData


# ------------------------------------------------------------------ pictures
def _figure_bytes(fig: Figure, fmt: str, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Creator": "Ortsatlas"} if fmt != "png" else None)
    return buf.getvalue()


def _map(data: ReportData, b: BlockData, fmt: str, lang: str) -> bytes:
    method, k = classing(b.options.get("method"), b.options.get("k"))
    return pictures.draw_map(data.context, b.value_table, method, k, fmt, lang, dpi=110).body


def _chart(data: ReportData, b: BlockData, fmt: str, lang: str) -> bytes | None:
    spec = pictures.chart_spec(data.context, data.viewer, b.indicators[0].id, b.area, lang)
    if spec is None or not spec.lines:
        return None
    return _figure_bytes(pictures.draw_chart(spec, lang), fmt)


def _scatter(data: ReportData, b: BlockData, fmt: str, lang: str) -> tuple[bytes, int, int]:
    """Each area a dot (x: first indicator, y: second); areas without both values are counted, not drawn."""
    x_ind, y_ind = b.indicators[:2]
    rows = b.table
    ok = (rows[f"{x_ind.id}:status"] == "ok") & (rows[f"{y_ind.id}:status"] == "ok")
    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.add_axes((0.1, 0.13, 0.86, 0.8))
    ax.scatter(rows.loc[ok, f"{x_ind.id}:value"], rows.loc[ok, f"{y_ind.id}:value"], s=18, color="#0b5cad",
               alpha=0.75)
    ax.set_xlabel(f"{x_ind.title(lang)} ({x_ind.unit_in(lang)}, {period_label(b.options['periods'][x_ind.id], lang)})")
    ax.set_ylabel(f"{y_ind.title(lang)} ({y_ind.unit_in(lang)}, {period_label(b.options['periods'][y_ind.id], lang)})",
                  fontsize=8)
    ax.grid(color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    return _figure_bytes(fig, fmt), int(ok.sum()), int((~ok).sum())


def _table_rows(b: BlockData, lang: str) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Header and cells (text, status) of a table block: one row per area, one column per indicator."""
    head = [t("level", lang)] + [f"{i.title(lang)} ({i.unit_in(lang)}, {period_label(b.options['periods'][i.id], lang)})"
                                 for i in b.indicators]
    rows = []
    for values in b.table.sort_values("area_id").to_dict("records"):
        cells = [(f"{values['name']} ({values['area_id']})", "name")]
        for i in b.indicators:
            status = values[f"{i.id}:status"]
            cells.append((format_value(values[f"{i.id}:value"], status, i.decimals, "", lang), status))
        rows.append(cells)
    return head, rows


def _caption(b: BlockData, default: str) -> str:
    return b.options.get("caption") or default


def _default_caption(data: ReportData, b: BlockData, lang: str) -> str:
    ctx = data.context
    if b.type == "map":
        return f"{b.indicators[0].title(lang)}, {period_label(b.period, lang)} ({territory.label(ctx, b.level, lang)})"
    if b.type == "timeseries":
        return f"{b.indicators[0].title(lang)}: {t('timeseries', lang)}"
    if b.type == "comparison":
        return " – ".join(i.title(lang) for i in b.indicators)
    if b.type == "table":
        return territory.label(ctx, b.level, lang, plural=True)
    return pv.place_text(ctx, b.profile.area if b.profile else None, lang)


def reproduce_query(data: ReportData, fmt: str) -> str:
    """The address that renders this report again exactly as it is now."""
    stamp = (data.as_of or data.made).isoformat(timespec="seconds")
    return f"/api/v1/reports/{data.template.id}?" + urlencode({"format": fmt, "as_of": stamp})


def provenance_lines(data: ReportData, lang: str) -> list[str]:
    ctx = data.context
    lines = [pv.stamp(data.made, data.data_as_of, lang)]
    if data.as_of:
        lines.append(f"{t('rep_as_of', lang)} {data.as_of:%d.%m.%Y %H:%M}")
    for ind_id, ids in data.versions.items():
        ind = ctx.indicator_by_id.get(ind_id)
        lines.append(f"{ind.title(lang) if ind else ind_id}: {t('rep_versions', lang)} "
                     + ", ".join(f"v{v}" for v in ids))
    lines.append(f"{t('rep_again', lang)}: {reproduce_query(data, 'pdf')}")
    return lines


# ------------------------------------------------------------------ HTML
def _img(body: bytes, mime: str, alt: str) -> str:
    return f"<img src='data:{mime};base64,{base64.b64encode(body).decode()}' alt='{escape(alt)}' style='max-width:100%'>"


def report_html(data: ReportData, lang: str = "de") -> str:
    tpl, ctx = data.template, data.context
    out = [f"<h1>{escape(tpl.title(lang))}</h1>", f"<p class='hint'>{escape(tpl.description(lang))}</p>",
           "<nav><ol>" + "".join(f"<li><a href='#k{n}'>{escape(ch.title(lang))}</a></li>"
                                 for n, (ch, _) in enumerate(data.chapters, 1)) + "</ol></nav>"]
    for n, (chapter, blocks) in enumerate(data.chapters, 1):
        out.append(f"<h2 id='k{n}'>{n}. {escape(chapter.title(lang))}</h2>")
        out += [f"<p>{escape(par)}</p>" for par in chapter.text(lang).split("\n\n") if par.strip()]
        for b in blocks:
            caption = _caption(b, _default_caption(data, b, lang))
            out.append(f"<figure data-block='{b.type}'><figcaption><b>{escape(caption)}</b></figcaption>")
            if b.type == "map":
                out.append(_img(_map(data, b, "png", lang), "image/png", caption))
            elif b.type == "timeseries":
                chart = _chart(data, b, "png", lang)
                out.append(_img(chart, "image/png", caption) if chart else "")
            elif b.type == "comparison":
                body, drawn, left = _scatter(data, b, "png", lang)
                out.append(_img(body, "image/png", caption))
                out.append(f"<p class='hint'>{escape(t('rep_scatter_note', lang).format(drawn=drawn, left=left))}</p>")
            elif b.type == "table":
                head, rows = _table_rows(b, lang)
                out.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>"
                           "<tbody>" + "".join("<tr>" + "".join(
                               f"<td class='{'' if s == 'name' else 'num ' + escape(s)}'>{escape(x)}</td>"
                               for x, s in r) + "</tr>" for r in rows) + "</tbody></table>")
            elif b.type == "profile":
                notes = note_service.for_profile(ctx, data.viewer, b.profile, lang, data.as_of)
                out.append(profile_html.rows_table(ctx, b.profile, list(b.profile.rows), lang, notes))
            out.append("</figure>")
    out.append(f"<h2>{escape(t('rep_basis', lang))}</h2><ul class='hint'>"
               + "".join(f"<li>{escape(x)}</li>" for x in provenance_lines(data, lang)) + "</ul>")
    return profile_html.page(tpl.title(lang), "".join(out), data.viewer, data.made, data.data_as_of, lang)


# ------------------------------------------------------------------ PDF
def _image(body: bytes, width: float) -> Image:
    img = Image(io.BytesIO(body))
    scale = width / img.imageWidth
    img.drawWidth, img.drawHeight = width, img.imageHeight * scale
    return img


def report_pdf(data: ReportData, lang: str = "de") -> bytes:
    tpl, ctx = data.template, data.context
    st = profile_pdf.styles()
    width = profile_pdf.WIDTH
    flow = [Paragraph(escape(tpl.title(lang)), st["h1"]), profile_pdf.para(tpl.description(lang), "small")]
    for n, (chapter, blocks) in enumerate(data.chapters, 1):
        flow += [CondPageBreak(40 * mm), Paragraph(f"{n}. {escape(chapter.title(lang))}", st["h2"])]
        flow += [profile_pdf.para(par) for par in chapter.text(lang).split("\n\n") if par.strip()]
        for b in blocks:
            caption = Paragraph(f"<b>{escape(_caption(b, _default_caption(data, b, lang)))}</b>", st["base"])
            if b.type == "map":
                flow.append(KeepTogether([caption, _image(_map(data, b, "png", lang), width * 0.92)]))
            elif b.type == "timeseries":
                chart = _chart(data, b, "png", lang)
                if chart:
                    flow.append(KeepTogether([caption, _image(chart, width * 0.85)]))
            elif b.type == "comparison":
                body, drawn, left = _scatter(data, b, "png", lang)
                flow.append(KeepTogether([caption, _image(body, width * 0.8),
                                          profile_pdf.para(t("rep_scatter_note", lang).format(drawn=drawn, left=left),
                                                           "small")]))
            elif b.type == "table":
                head, rows = _table_rows(b, lang)
                cells = [[profile_pdf.para(h, "small") for h in head]] + [
                    [profile_pdf.para(x, "cell" if s == "name" else ("num" if s == "ok" else "gap")) for x, s in r]
                    for r in rows]
                first = width * 0.34
                table = Table(cells, colWidths=[first] + [(width - first) / len(b.indicators)] * len(b.indicators),
                              repeatRows=1)
                table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, profile_pdf.LINE),
                                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
                flow += [caption, table]
            elif b.type == "profile":
                notes = note_service.for_profile(ctx, data.viewer, b.profile, lang, data.as_of)
                flow += [caption, profile_pdf.rows_table(ctx, b.profile, list(b.profile.rows), lang, notes, width)]
            flow.append(Spacer(1, 3 * mm))
    flow += [CondPageBreak(30 * mm), Paragraph(escape(t("rep_basis", lang)), st["h3"])]
    flow += [profile_pdf.para(x, "small") for x in provenance_lines(data, lang)]
    ctx_doc = profile_pdf.Context(tpl.title(lang), ctx.store.manifest().get("city", {}).get("name", ""),
                                  pv.marking(data.viewer, lang), data.made, data.data_as_of, lang)
    return profile_pdf.build(ctx_doc, flow)
