"""The area profile page (`/profil/<area>`) and the area search (`/profil`).

Rendered on the server from `atlas.services.profiles` with the viewer's
rights, with no server callbacks: the URL carries the whole state
(`?period=2023`, `?lang=en`), so a link, a bookmark and a printout show the
same. Texts come from `atlas.export.profile_view`, as in the PDF
(`/api/v1/profile?area=…&format=pdf`) and the JSON of the same route.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from dash import Input, Output, State, dcc, html, no_update

from atlas.export import profile_view as pv
from atlas.i18n import norm_lang, t
from atlas.periods import period_end, period_label
from atlas.services import notes as note_service
from atlas.services import profiles, queries, reports, territory
from atlas.services.context import Atlas
from atlas.services.profiles import Profile, ProfileRow
from atlas.web import booklet_jobs
from atlas.web.components import localise_dropdowns
from atlas.web.http import current_atlas
from auth import current_principal
from auth.permissions import may_make_booklet


def profile_href(area_id: str, lang: str = "de", period: str | None = None) -> str:
    params = {k: v for k, v in (("period", period), ("lang", lang if lang != "de" else None)) if v}
    return f"/profil/{quote(area_id, safe='')}" + (f"?{urlencode(params)}" if params else "")


def _search_form(atlas: Atlas, lang: str, value: str = "", suggest: bool = True) -> html.Form:
    """A plain GET form (no script): name or key, with the area names as suggestions on the search page."""
    names = sorted({p.name for p in profiles.all_areas(atlas)}) if suggest else []
    return html.Form([
        html.Label(t("prof_search", lang), htmlFor="prof-q", className="oa-label"),
        html.Div([
            dcc.Input(id="prof-q", name="q", type="search", value=value, list="prof-area-names",
                      autoComplete="off", className="oa-search-input", debounce=True),
            html.Button(t("prof_search_go", lang), type="submit", className="oa-button"),
        ], className="oa-search-row"),
        html.Datalist([html.Option(value=n) for n in names], id="prof-area-names"),
        *([dcc.Input(type="hidden", name="lang", value=lang)] if lang != "de" else []),
    ], action="/profil", method="GET", className="oa-profile-search", role="search")


def index_layout(q: str | None = None, lang: str | None = None, **_args) -> html.Div:
    """Search by name or key; without a search, every area grouped by level."""
    atlas, lang = current_atlas(), norm_lang(lang)
    children = [html.H1(t("nav_profiles", lang)), _search_form(atlas, lang, q or "")]
    if q:
        found = profiles.search(atlas, q)
        children.append(html.Ul([html.Li(html.A(f"{p.name} ({pv.level_name(atlas, p.level, lang)} {p.area_id})",
                                                href=profile_href(p.area_id, lang))) for p in found],
                                id="prof-results", className="oa-profile-list")
                        if found else html.P(t("prof_no_match", lang), id="prof-results", className="oa-hint"))
    else:
        current = queries.current_set(atlas)
        for level in reversed(territory.level_ids(atlas)):
            places = profiles.areas_of_level(atlas, level, current)
            children += [html.H2(territory.label(atlas, level, lang, plural=True)),
                         html.Ul([html.Li(html.A(f"{p.name} ({p.area_id})", href=profile_href(p.area_id, lang)))
                                  for p in places], className="oa-profile-list oa-columns")]
    children.append(_reports_section(lang))
    if may_make_booklet(current_principal()):
        children.append(_booklet_section(atlas, lang))
    return localise_dropdowns(html.Div(html.Div(children, className="oa-profile-inner"), className="oa-profile"), lang)


def _reports_section(lang: str) -> html.Section:
    """The report templates this viewer may render, as HTML and PDF links."""
    items = [html.Li([html.Strong(tpl.title(lang)), " – ", tpl.description(lang), " ",
                      html.A("HTML", href=f"/api/v1/reports/{tpl.id}?format=html&lang={lang}", className="oa-chip"),
                      " ", html.A("PDF", href=f"/api/v1/reports/{tpl.id}?format=pdf&lang={lang}", className="oa-chip")])
             for tpl in reports.templates_for(current_principal())]
    return html.Section([html.H2(t("reports", lang)), html.Ul(items, className="oa-report-list")], id="prof-reports")


def _booklet_section(atlas: Atlas, lang: str) -> html.Section:
    """Admins: make the booklet of a level, public or internal, with a progress line."""
    levels = [{"label": territory.label(atlas, lv, lang, plural=True), "value": lv} for lv in territory.level_ids(atlas)]
    return html.Section([
        html.H2(t("book_make", lang)),
        html.Div([
            dcc.Dropdown(id="book-level", options=levels, value=levels[0]["value"], clearable=False,
                         searchable=False, className="oa-book-level"),
            dcc.RadioItems(id="book-view", value="public", className="oa-radio", options=[
                {"label": t("book_view_public", lang), "value": "public"},
                {"label": t("book_view_internal", lang), "value": "internal"}]),
            dcc.RadioItems(id="book-format", value="pdf", inline=True, className="oa-radio", options=[
                {"label": "PDF", "value": "pdf"}, {"label": "ZIP (HTML)", "value": "zip"}]),
            html.Button(t("book_start", lang), id="book-start", className="oa-button", type="button"),
        ], className="oa-book-form"),
        html.Div(id="book-status", role="status", className="oa-hint"),
        dcc.Store(id="book-job"), dcc.Store(id="book-lang", data=lang),
        dcc.Interval(id="book-poll", interval=1000, disabled=True),
    ], id="prof-booklet", className="oa-booklet")


def layout(area: str | None = None, period: str | None = None, lang: str | None = None, **_args) -> html.Div:
    atlas, viewer, lang = current_atlas(), current_principal(), norm_lang(lang)
    try:
        if period:
            period_end(period)
    except ValueError:
        period = None
    prof = profiles.profile(atlas, viewer, area, period)
    if prof is None:
        return html.Div(html.Div([html.H1(t("prof_title", lang)),
                                  html.P(t("prof_not_found", lang), className="oa-notice", id="prof-missing"),
                                  _search_form(atlas, lang)], className="oa-profile-inner"), className="oa-profile")
    notes = note_service.for_profile(atlas, viewer, prof, lang)
    kind, mark = pv.marking(viewer, lang)
    body = [
        html.Div(mark, className=f"oa-mark oa-mark-{kind}", id="prof-marking"),
        _head(atlas, prof, lang),
        _actions(prof, lang),
        _gone(atlas, prof, lang),
        _summary(atlas, prof, lang),
    ]
    body += [_domain(atlas, prof, domain_id, rows, notes, lang) for domain_id, rows in prof.domains()]
    if not prof.rows:
        body.append(html.P(t("prof_no_indicators", lang), className="oa-hint"))
    body += [
        html.Section([html.H2(t("prof_rules", lang)), html.Ul([html.Li(r) for r in pv.rules(lang)])],
                     className="oa-profile-rules"),
        html.Section([html.H2(t("prof_sources", lang)), html.Ul([html.Li(s) for s in pv.sources(prof, lang)])],
                     className="oa-profile-sources"),
        html.P(pv.stamp(atlas.clock.now(), profiles.data_as_of(atlas, viewer), lang), className="oa-hint",
               id="prof-stamp"),
        html.Div(_search_form(atlas, lang, suggest=False), className="oa-noprint"),
        dcc.Store(id="prof-print-sink"),
    ]
    return html.Div(html.Article(body, className="oa-profile-inner", id="prof-article",
                                 **{"data-area": prof.area.area_id, "data-view": kind}), className="oa-profile")


def _head(atlas: Atlas, p: Profile, lang: str) -> html.Header:
    trail = [html.Span(f"{pv.level_name(atlas, p.area.level, lang)} {p.area.area_id}")]
    for place in (p.parent, p.territory):
        if place is not None and place.area_id != p.area.area_id and (place is p.parent or place != p.parent):
            trail += [" · ", html.A(pv.place_text(atlas, place, lang), href=profile_href(place.area_id, lang))]
    period = (t("prof_period_chosen", lang).format(period=period_label(p.chosen_period, lang))
              if p.chosen_period else t("prof_period_note", lang))
    return html.Header([html.H1(f"{t('prof_title', lang)} {p.area.name}", id="prof-title"),
                        html.P(trail, className="oa-profile-trail"), html.P(period, className="oa-hint")])


def _actions(p: Profile, lang: str) -> html.Nav:
    query = {"area": p.area.area_id, "lang": lang, **({"period": p.chosen_period} if p.chosen_period else {})}
    items = [html.A(t("prof_pdf", lang), href="/api/v1/profile?" + urlencode({**query, "format": "pdf"}),
                    className="oa-chip", id="prof-pdf", target="_blank"),
             html.Button(t("prof_print", lang), id="prof-print", className="oa-chip", type="button"),
             html.A(t("prof_json", lang), href="/api/v1/profile?" + urlencode(query), className="oa-chip",
                    id="prof-json"),
             html.A(t("prof_to_map", lang), href="/?" + urlencode({"area": p.area.area_id, "lang": lang}),
                    className="oa-chip"),
             html.A(t("prof_all_areas", lang), href="/profil" + ("?lang=en" if lang == "en" else ""),
                    className="oa-chip"),
             html.A(t("language", lang), href=profile_href(p.area.area_id, "en" if lang == "de" else "de",
                                                          p.chosen_period), className="oa-chip", lang="en")]
    return html.Nav(items, className="oa-profile-actions oa-noprint")


def _gone(atlas: Atlas, p: Profile, lang: str) -> html.Div | None:
    """An area of an older boundary set: say so, and link to its profile before the change."""
    if p.area.set_id == queries.current_set(atlas) or p.chosen_period:
        return None
    sets = queries.boundary_sets(atlas).set_index("set_id")
    end = sets.loc[p.area.set_id, "valid_to"] if p.area.set_id in sets.index else None
    link = [" ", html.A(t("prof_gone_link", lang), href=profile_href(p.area.area_id, lang, str(end.year)))] \
        if end is not None else []
    return html.P([t("prof_gone", lang), *link], className="oa-notice", id="prof-gone")


def _summary(atlas: Atlas, p: Profile, lang: str) -> html.Section:
    lines = pv.summary_lines(atlas, p, lang)
    items = [html.Li([html.Strong(head + ": "), text]) for head, text in lines]
    return html.Section([html.H2(t("prof_summary", lang)),
                         html.Ul(items) if items else html.P(t("prof_summary_none", lang))],
                        className="oa-profile-summary", id="prof-summary")


def _el(tag: str, children=None, **props) -> dict:
    """An html element as Dash sends it to the browser: exactly `html.<tag>(children, **props).to_plotly_json()`.

    Why: a profile of 210 indicators has ~2,500 table cells; making each a
    Dash component (every prop checked on creation) and turning it back into
    this dict cost ~150 ms of a ~250 ms page. Used for the rows of the
    tables only, whose props are fixed here (tests/test_profile_batch.py holds
    them equal to the components').
    """
    props["children"] = children  # a component without children sends None too
    return {"props": props, "type": tag, "namespace": "dash_html_components"}


def _cell(value, status, row: ProfileRow, lang: str, label: str, cls: str = "") -> dict:
    if status is None:
        return _el("Td", "", className="oa-num oa-empty")
    text = pv.value_text(value, status, row, lang)
    return _el("Td", text, className=f"oa-num oa-status-{status} {cls}".strip(), **{"data-label": label})


def _domain(atlas: Atlas, p: Profile, domain_id: str, rows: list[ProfileRow], notes: dict, lang: str) -> html.Section:
    domain = atlas.domain_by_id.get(domain_id)
    name = (domain.title_en if lang == "en" else domain.title_de) if domain else domain_id
    show_parent = p.parent is not None and p.parent.area_id != p.territory.area_id
    is_top = p.area.area_id == p.territory.area_id
    parent_label = pv.level_name(atlas, p.parent.level, lang) if show_parent else ""
    head = [t("prof_indicator", lang), t("prof_value", lang)] + ([parent_label] if show_parent else []) + \
        ([] if is_top else [p.territory.name, t("prof_difference", lang).format(territory=p.territory.name)]) + \
        [t("prof_trend", lang), t("prof_distribution", lang).format(level=pv.level_name(atlas, p.area.level, lang))]
    value_label, trend_label, diff_label = (t("prof_value", lang), t("prof_trend", lang),
                                            t("prof_difference", lang).format(territory=p.territory.name))
    level_plural = territory.label(atlas, p.area.level, lang, plural=True)
    body = []
    for r in rows:
        arrow, words = pv.trend_text(r, lang)
        label = [_el("Strong", r.indicator.title(lang)),
                 _el("Span", f"{period_label(r.period, lang)} · {r.indicator.unit_in(lang)}", className="oa-hint oa-sub")]
        for note in notes.get(r.indicator.id, []):
            label.append(_el("Span", f"{t('prof_notes', lang)}: {note['text']} ({note['author']}, {note['date']})",
                             className="oa-note"))
        strip = pv.strip(r.distribution, r.value, r.status)
        words_strip = pv.strip_words(r, atlas, p.area.level, lang, level_plural)
        cells = [_el("Th", label, scope="row", className="oa-ind"),
                 _cell(r.value, r.status, r, lang, value_label, "oa-value")]
        if show_parent:
            cells.append(_cell(r.parent_value, r.parent_status, r, lang, parent_label))
        if not is_top:
            cells += [_cell(r.territory_value, r.territory_status, r, lang, p.territory.name),
                      _el("Td", pv.comparison_text(r, lang), className="oa-num oa-diff",
                          **{"data-label": diff_label})]
        cells += [_el("Td", [_el("Span", arrow, className=f"oa-arrow oa-arrow-{r.trend.direction or 'none'}",
                                 title=pv.trend_label(r.trend.direction, lang), **{"aria-hidden": "true"}),
                             " ", words], className="oa-trend", **{"data-label": trend_label}),
                  _el("Td", _el("Img", src=pv.strip_data_uri(strip), alt=words_strip, title=words_strip,
                                className="oa-strip") if strip else _el("Span", words_strip, className="oa-hint"),
                      className="oa-dist", **{"data-label": head[-1]})]
        body.append(_el("Tr", cells, className=f"oa-row oa-row-{r.status}", **{"data-indicator": r.indicator.id}))
    kinds = ["ind"] + ["num"] * (len(head) - 3) + ["trend", "dist"]
    table = html.Table([html.Thead(html.Tr([html.Th(h, scope="col", className=f"oa-col-{k}")
                                            for h, k in zip(head, kinds)])), html.Tbody(body)],
                       className="oa-profile-table")
    return html.Section([html.H2(name), table], className="oa-profile-domain", **{"data-domain": domain_id})


def register_callbacks(app) -> None:
    """The print button (in the browser) and the booklet job (admins; checked on every call)."""
    @app.callback(Output("book-job", "data"), Input("book-start", "n_clicks"), State("book-level", "value"),
                  State("book-view", "value"), State("book-format", "value"), State("book-lang", "data"),
                  prevent_initial_call=True)
    def on_booklet(n_clicks, level, view, fmt, lang):
        atlas, viewer = current_atlas(), current_principal()
        if not n_clicks or not may_make_booklet(viewer) or level not in territory.level_ids(atlas) \
                or view not in ("public", "internal") or fmt not in booklet_jobs.FORMATS:
            return no_update
        return booklet_jobs.start(atlas, level, fmt, view, norm_lang(lang), viewer.name)

    @app.callback(Output("book-status", "children"), Output("book-poll", "disabled"),
                  Input("book-job", "data"), Input("book-poll", "n_intervals"), State("book-lang", "data"))
    def on_booklet_progress(job, _n, lang):
        lang = norm_lang(lang)
        state = booklet_jobs.status(current_atlas(), job) if may_make_booklet(current_principal()) else None
        if state is None:
            return "", True
        if state["state"] == "failed":
            return t("book_failed", lang), True
        if state["state"] == "done":
            return [t("book_done", lang), " ", html.A(f"{state['level']}.{state['format']}", id="book-download",
                                                      href=f"/api/v1/booklet/jobs/{job}/file")], True
        return t("book_running", lang).format(done=state["done"], total=state["total"] or "…"), False

    app.clientside_callback("function(n) { if (n) { window.print(); } return null; }",
                            Output("prof-print-sink", "data"), Input("prof-print", "n_clicks"),
                            prevent_initial_call=True)
