"""The area profile as an A4 PDF, drawn on the server with ReportLab.

The page's content, row for row (texts from `atlas.export.profile_view`),
with a title, the date it was made, the data as-of time, the sources and
licences, and the internal/public marking in the head of every page. The
booklet (`atlas.export.booklet`) puts many profiles into one document with
the same flowables.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from atlas.export import profile_view as pv
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import profiles
from atlas.services.context import Atlas
from atlas.services.profiles import Profile, ProfileRow
from auth.permissions import Principal

FONT, BOLD = "OA-Sans", "OA-Sans-Bold"
INK, MUTED, ACCENT, LINE = colors.HexColor("#1f2328"), colors.HexColor("#5b616b"), colors.HexColor("#0b5cad"), \
    colors.HexColor("#d0d4da")
INTERNAL_RED = colors.HexColor("#a4262c")
MARGIN = 14 * mm
WIDTH = A4[0] - 2 * MARGIN


@functools.cache
def _fonts() -> None:
    """DejaVu Sans (shipped with matplotlib): umlauts, arrows, ± and the middle dot in every PDF viewer."""
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.2, leading=8.8, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.8, leading=9.4),
        "num": ParagraphStyle("num", parent=base, fontSize=7.8, leading=9.4, alignment=TA_RIGHT),
        "gap": ParagraphStyle("gap", parent=base, fontSize=7.2, leading=8.8, alignment=TA_RIGHT, textColor=MUTED),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=17, leading=21, spaceAfter=2),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11, leading=14, spaceBefore=7,
                             spaceAfter=3, textColor=ACCENT),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=9, leading=11, spaceBefore=4, spaceAfter=2),
        "cover": ParagraphStyle("cover", parent=base, fontName=BOLD, fontSize=26, leading=32, spaceAfter=8),
        "toc": ParagraphStyle("toc", parent=base, fontSize=9, leading=12),
    }


def para(text: str, style: str = "base") -> Paragraph:
    return Paragraph(escape(text), styles()[style])


class StripFlowable(Flowable):
    """The distribution strip (`profile_view.strip`) drawn as vectors: the same marks as on the page."""

    def __init__(self, strip: pv.Strip | None, width: float = 27 * mm, height: float = 5.5 * mm):
        super().__init__()
        self.strip, self.width, self.height = strip, width, height

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def draw(self) -> None:
        s, c = self.strip, self.canv
        if s is None:
            return
        pad, mid, span = 1.5 * mm, self.height / 2, self.width - 3 * mm
        c.setStrokeColor(colors.HexColor("#b8bec6"))
        c.setLineWidth(0.5)
        c.line(pad, mid, pad + span, mid)
        c.setFillColor(colors.HexColor("#dce6f2"))
        c.setStrokeColor(colors.HexColor("#9fb3c8"))
        c.rect(pad + s.q1 * span, mid - 1.3 * mm, max((s.q3 - s.q1) * span, 0.5), 2.6 * mm, fill=1, stroke=1)
        ticks = c.beginPath()  # one path for all areas: a short tick each (circles cost 40x more to write)
        for p in (s.dots if len(s.dots) <= pv.MAX_DOTS else ()):
            ticks.moveTo(pad + p * span, mid - 0.9 * mm)
            ticks.lineTo(pad + p * span, mid + 0.9 * mm)
        c.setStrokeColor(colors.Color(0.48, 0.51, 0.55, alpha=0.7))
        c.setLineWidth(0.4)
        c.drawPath(ticks, fill=0, stroke=1)
        if len(s.dots) > pv.MAX_DOTS and len(s.bins):  # many areas: a small histogram instead of ticks
            top, width = max(int(b) for b in s.bins), span / len(s.bins)
            c.setFillColor(colors.Color(0.48, 0.51, 0.55, alpha=0.6))
            for i, b in enumerate(s.bins):
                if b:
                    c.rect(pad + i * width, mid - 1.3 * mm, width * 0.9, 2.6 * mm * int(b) / top, fill=1, stroke=0)
        c.setStrokeColor(colors.HexColor("#33404d"))
        c.setLineWidth(1)
        c.line(pad + s.median * span, mid - 1.8 * mm, pad + s.median * span, mid + 1.8 * mm)
        if s.here is not None:
            x = pad + s.here * span
            path = c.beginPath()
            path.moveTo(x, mid + 1.8 * mm)
            path.lineTo(x + 1.3 * mm, mid)
            path.lineTo(x, mid - 1.8 * mm)
            path.lineTo(x - 1.3 * mm, mid)
            path.close()
            c.setFillColor(ACCENT)
            c.setStrokeColor(colors.white)
            c.drawPath(path, fill=1, stroke=1)


# ------------------------------------------------------------------ the profile as flowables
@dataclass(frozen=True)
class Context:
    """What every page of a document carries: who it is for, when, which data."""

    title: str
    city: str
    marking: tuple[str, str]
    made: datetime
    data_as_of: datetime | None
    lang: str = "de"


def _cell(text: str, style: str = "cell") -> Paragraph:
    return para(text, style)


def _value_cell(value, status, row: ProfileRow, lang: str) -> Paragraph:
    if status is None:
        return _cell("", "num")
    return _cell(pv.value_text(value, status, row, lang), "num" if status == "ok" else "gap")


def profile_flowables(atlas: Atlas, p: Profile, lang: str = "de", notes: dict | None = None,
                      bookmark: str | None = None) -> list[Flowable]:
    """Title, summary, one table per domain, the reading rules and the sources of one profile."""
    st = styles()
    whole = pv.place_text(atlas, p.territory, lang)
    title = f"{t('prof_title', lang)} {p.area.name}"
    heading = Paragraph(escape(title) + (f'<a name="{escape(bookmark)}"/>' if bookmark else ""), st["h1"])
    out: list[Flowable] = [heading]
    line = [f"{pv.level_name(atlas, p.area.level, lang)} {p.area.area_id}"]
    if p.parent is not None:
        line.append(pv.place_text(atlas, p.parent, lang))
    if p.area.area_id != p.territory.area_id:
        line.append(whole)
    out.append(para(" · ".join(line), "small"))
    out.append(para(t("prof_period_chosen", lang).format(period=period_label(p.chosen_period, lang))
                    if p.chosen_period else t("prof_period_note", lang), "small"))
    findings = pv.summary_lines(atlas, p, lang)
    out.append(Paragraph(escape(t("prof_summary", lang)), st["h2"]))
    if findings:
        out += [Paragraph(f"<b>{escape(h)}:</b> {escape(i)}", st["base"]) for h, i in findings]
    else:
        out.append(para(t("prof_summary_none", lang)))
    for domain_id, rows in p.domains():
        domain = atlas.domain_by_id.get(domain_id)
        name = (domain.title_en if lang == "en" else domain.title_de) if domain else domain_id
        out += [CondPageBreak(30 * mm), Paragraph(escape(name), st["h2"]), rows_table(atlas, p, rows, lang, notes)]
    if not p.rows:
        out.append(para(t("prof_no_indicators", lang)))
    out.append(KeepTogether([Paragraph(escape(t("prof_rules", lang)), st["h2"])]
                            + [para(rule, "small") for rule in pv.rules(lang)]))
    out.append(Spacer(1, 2 * mm))
    out.append(KeepTogether([Paragraph(escape(t("prof_sources", lang)), st["h3"])]
                            + [para(line, "small") for line in pv.sources(p, lang)]))
    return out


def rows_table(atlas: Atlas, p: Profile, rows, lang: str = "de", notes: dict | None = None,
               width: float = WIDTH) -> Table:
    """Profile rows as a table: indicator, value, parent, territory, difference, trend, distribution strip."""
    st = styles()
    show_parent = p.parent is not None and p.parent.area_id != p.territory.area_id
    is_top = p.area.area_id == p.territory.area_id
    header = [t("prof_indicator", lang), t("prof_value", lang)]
    widths = [50 * mm, 22 * mm]
    if show_parent:
        header.append(pv.level_name(atlas, p.parent.level, lang))
        widths.append(20 * mm)
    if not is_top:
        header += [p.territory.name, t("prof_difference", lang).format(territory=p.territory.name)]
        widths += [20 * mm, 20 * mm]
    header += [t("prof_trend", lang), t("prof_distribution", lang).format(level=pv.level_name(atlas, p.area.level,
                                                                                               lang))]
    widths += [24 * mm, 28 * mm]
    scale = width / sum(widths)
    widths = [w * scale for w in widths]
    data = [[_cell(h, "small") for h in header]]
    for r in rows:
        label = f"<b>{escape(r.indicator.title(lang))}</b><br/>" \
                f"<font size='6.8' color='#5b616b'>{escape(period_label(r.period, lang))} · " \
                f"{escape(r.indicator.unit_in(lang))}</font>"
        for note in (notes or {}).get(r.indicator.id, []):
            label += f"<br/><font size='6.8' color='#7a4b00'>{escape(t('prof_notes', lang))}: " \
                     f"{escape(note['text'])}</font>"
        arrow, words = pv.trend_text(r, lang)
        cells = [Paragraph(label, st["cell"]), _value_cell(r.value, r.status, r, lang)]
        if show_parent:
            cells.append(_value_cell(r.parent_value, r.parent_status, r, lang))
        if not is_top:
            cells += [_value_cell(r.territory_value, r.territory_status, r, lang),
                      _cell(pv.comparison_text(r, lang), "num")]
        cells += [Paragraph(f"<b>{escape(arrow)}</b> {escape(words)}", st["small"]),
                  StripFlowable(pv.strip(r.distribution, r.value, r.status), width=widths[-1] - 4)]
        data.append(cells)
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, LINE),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f4f7")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return table


# ------------------------------------------------------------------ documents
def _page(ctx: Context):
    """Head (marking) and foot (title, made, data as-of, page) of every page."""
    def draw(canvas, doc) -> None:
        _fonts()
        canvas.saveState()
        kind, text = ctx.marking
        top = A4[1] - 8 * mm
        if kind == "internal":
            canvas.setFillColor(INTERNAL_RED)
            canvas.rect(MARGIN, top - 2.2 * mm, WIDTH, 6 * mm, fill=1, stroke=0)
            canvas.setFillColor(colors.white)
            canvas.setFont(BOLD, 8)
        else:
            canvas.setFillColor(MUTED)
            canvas.setFont(FONT, 7.5)
        canvas.drawString(MARGIN + 2 * mm, top, text)
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 7)
        foot = f"Ortsatlas {ctx.city} · {ctx.title} · {pv.stamp(ctx.made, ctx.data_as_of, ctx.lang)}"
        canvas.drawString(MARGIN, 8 * mm, foot[:150])
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"{'Seite' if ctx.lang == 'de' else 'Page'} {doc.page}")
        canvas.restoreState()
    return draw


class Document(BaseDocTemplate):
    """A4 portrait with the marking head and the foot on every page; outline entries for `bookmark` headings."""

    def __init__(self, buf, ctx: Context, **kw):
        super().__init__(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=14 * mm,
                         bottomMargin=14 * mm, title=ctx.title, author="Ortsatlas " + ctx.city,
                         creator="Ortsatlas", subject=ctx.marking[1], **kw)
        frame = Frame(MARGIN, 13 * mm, WIDTH, A4[1] - 27 * mm, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPage=_page(ctx))])


def build(ctx: Context, flowables: list[Flowable], doc_class=Document, **kw) -> bytes:
    _fonts()
    buf = io.BytesIO()
    doc = doc_class(buf, ctx, **kw)
    doc.build(flowables)
    return buf.getvalue()


def context_for(atlas: Atlas, viewer: Principal, title: str, lang: str = "de") -> Context:
    city = atlas.store.manifest().get("city", {}).get("name", "")
    return Context(title, city, pv.marking(viewer, lang), atlas.clock.now(), profiles.data_as_of(atlas, viewer), lang)


def profile_pdf(atlas: Atlas, viewer: Principal, p: Profile, lang: str = "de", notes: dict | None = None) -> bytes:
    """One area's profile as an A4 PDF (one or more pages)."""
    ctx = context_for(atlas, viewer, f"{t('prof_title', lang)} {p.area.name}", lang)
    return build(ctx, profile_flowables(atlas, p, lang, notes))
