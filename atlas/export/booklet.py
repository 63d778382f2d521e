"""The profile booklet: every area of a level in one PDF (or a zip of HTML pages).

A cover, a table of contents, an explanation of the indicators, a page of
methods and sources, then one profile per area, each exactly as
`/profil/<area>` shows it for the booklet's view: "public" is made as the
anonymous public sees the atlas (released figures only), "internal" as
staff see it (internal releases, internal indicators; no drafts, no
restricted indicators). Who may make one is decided by the caller
(`may_make_booklet`); the figures are decided by the view alone.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from markupsafe import escape
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, Spacer
from reportlab.platypus.tableofcontents import TableOfContents

from atlas.export import profile_html, profile_pdf
from atlas.export import profile_view as pv
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import notes as note_service
from atlas.services import profiles, queries, territory
from atlas.services.context import Atlas
from auth.permissions import ANONYMOUS, Principal

VIEWS = ("public", "internal")
Progress = Callable[[int, int], None]


def view_principal(view: str) -> Principal:
    """Whose eyes a booklet is made with: the public's, or a staff member's without any department."""
    if view == "internal":
        return Principal("profilheft", "internal", logged_in=True)
    return ANONYMOUS


def _title(atlas: Atlas, level: str, lang: str) -> str:
    city = atlas.store.manifest().get("city", {}).get("name", "")
    name = t("book_title", lang).format(levels=territory.label(atlas, level, lang, plural=True))
    return f"{name} – {city}" if city else name


def _indicator_lines(atlas: Atlas, viewer: Principal, lang: str) -> list[tuple[str, str]]:
    """(title, definition · unit · periods · source · licence) for every indicator of the view."""
    out = []
    for r in queries.visible_indicators(atlas, viewer).itertuples(index=False):
        ind = atlas.indicator_by_id[r.id]
        facts = [ind.definition_en if lang == "en" else ind.definition_de, f"{t('unit', lang)}: {ind.unit_in(lang)}",
                 f"{t('periods', lang)}: {period_label(r.first_period, lang)} – {period_label(r.last_period, lang)}",
                 f"{t('source', lang)}: {ind.source}", f"{t('licence', lang)}: {ind.licence}"]
        out.append((ind.title(lang), " · ".join(facts)))
    return out


def _method_lines(lang: str) -> list[str]:
    return [t("book_method_values", lang), t("book_method_suppression", lang), *pv.rules(lang)]


class _BookDoc(profile_pdf.Document):
    """Registers each profile's title in the table of contents and the PDF outline."""

    def afterFlowable(self, flowable) -> None:
        key = getattr(flowable, "_oa_toc", None)
        if key:
            text, anchor = key
            self.notify("TOCEntry", (0, text, self.page, anchor))
            self.canv.bookmarkPage(anchor)
            self.canv.addOutlineEntry(text, anchor, level=0)


def booklet_pdf(atlas: Atlas, level: str, view: str, lang: str = "de", progress: Progress | None = None) -> bytes:
    """One PDF with the profiles of every area of `level` in the current boundary set."""
    viewer = view_principal(view)
    places = profiles.areas_of_level(atlas, level)
    st = profile_pdf.styles()
    title = _title(atlas, level, lang)
    ctx = profile_pdf.context_for(atlas, viewer, title, lang)
    kind, mark = pv.marking(viewer, lang)
    flow = [Spacer(1, 50 * mm), Paragraph(escape(title), st["cover"]),
            profile_pdf.para(mark, "h3"),
            profile_pdf.para(pv.stamp(ctx.made, ctx.data_as_of, lang)),
            profile_pdf.para(t("book_count", lang).format(n=len(places),
                                                          levels=territory.label(atlas, level, lang, plural=True))),
            PageBreak(), Paragraph(escape(t("book_contents", lang)), st["h2"])]
    toc = TableOfContents()
    toc.levelStyles = [st["toc"]]
    flow += [toc, PageBreak(), Paragraph(escape(t("book_indicators", lang)), st["h2"])]
    for name, facts in _indicator_lines(atlas, viewer, lang):
        flow += [Paragraph(f"<b>{escape(name)}</b>", st["base"]), profile_pdf.para(facts, "small"), Spacer(1, 1.5 * mm)]
    flow += [PageBreak(), Paragraph(escape(t("book_methods", lang)), st["h2"])]
    flow += [profile_pdf.para(line) for line in _method_lines(lang)]
    sources = sorted({(i.source, i.licence) for i in atlas.indicators
                      if i.id in set(queries.visible_indicators(atlas, viewer)["id"])})
    flow += [Paragraph(escape(t("prof_sources", lang)), st["h3"])]
    flow += [profile_pdf.para(f"{src} ({t('licence', lang)}: {lic})", "small") for src, lic in sources]
    for n, place in enumerate(places, start=1):
        prof = profiles.profile(atlas, viewer, place.area_id)
        notes = note_service.for_profile(atlas, viewer, prof, lang)
        part = profile_pdf.profile_flowables(atlas, prof, lang, notes)
        part[0]._oa_toc = (f"{prof.area.name} ({prof.area.area_id})", f"area-{prof.area.area_id}")
        flow += [PageBreak(), *part]
        if progress:
            progress(n, len(places))
    buf = io.BytesIO()
    doc = _BookDoc(buf, ctx)
    doc.multiBuild(flow)
    return buf.getvalue()


def booklet_zip(atlas: Atlas, level: str, view: str, lang: str = "de", progress: Progress | None = None) -> bytes:
    """index.html (cover, contents, indicators, methods) and one HTML page per area, in a zip."""
    viewer = view_principal(view)
    places = profiles.areas_of_level(atlas, level)
    title = _title(atlas, level, lang)
    made, as_of = atlas.clock.now(), profiles.data_as_of(atlas, viewer)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, place in enumerate(places, start=1):
            prof = profiles.profile(atlas, viewer, place.area_id)
            notes = note_service.for_profile(atlas, viewer, prof, lang)
            body = "<p><a href='index.html'>← " + escape(t("book_contents", lang)) + "</a></p>" + \
                profile_html.profile_body(atlas, prof, lang, notes)
            z.writestr(f"{place.area_id}.html", profile_html.page(f"{t('prof_title', lang)} {place.name}", body,
                                                                   viewer, made, as_of, lang))
            if progress:
                progress(n, len(places))
        index = [f"<h1>{escape(title)}</h1>", f"<h2>{escape(t('book_contents', lang))}</h2><ol>"]
        index += [f"<li><a href='{escape(p.area_id)}.html'>{escape(p.name)} ({escape(p.area_id)})</a></li>"
                  for p in places]
        index.append(f"</ol><h2>{escape(t('book_indicators', lang))}</h2><dl>")
        index += [f"<dt><b>{escape(name)}</b></dt><dd>{escape(facts)}</dd>"
                  for name, facts in _indicator_lines(atlas, viewer, lang)]
        index.append(f"</dl><h2>{escape(t('book_methods', lang))}</h2><ul>")
        index += [f"<li>{escape(line)}</li>" for line in _method_lines(lang)]
        index.append("</ul>")
        z.writestr("index.html", profile_html.page(title, "".join(index), viewer, made, as_of, lang))
    return buf.getvalue()
