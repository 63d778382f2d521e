"""Dash pieces shared by the pages: legend, indicator picker, time series, drop zone, tables, indicator facts.

One definition each, so the explorer, the upload and admin pages and the
print view look and behave alike. The time series figure renders the
drawing spec of `atlas.charts`, the same one the chart pictures draw, so
the browser and a downloaded picture show the same lines and markers.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd
import plotly.io as pio
from dash import dcc, html
from flask import has_request_context, request
from flask_wtf.csrf import generate_csrf

from atlas.catalog import unit_in
from atlas.charts import CURRENT_COLOR, MARKER_COLOR, ChartSpec
from atlas.formatting import format_number, format_timestamp
from atlas.i18n import STRINGS, norm_lang, t
from atlas.periods import period_label
from atlas.services import queries, versions
from atlas.services.context import Atlas
from atlas.web.language import remembered_lang
from auth import Principal


# ------------------------------------------------------------------ the viewer's language
def viewer_lang() -> str:
    """The language of the page being built or answered: its `?lang=`; for Dash's own requests (the layout,
    every callback), which carry no query, the `?lang=` of the page that sent them (its Referer, same origin);
    where neither says, the language the viewer chose last (atlas.web.language's cookie)."""
    if not has_request_context():
        return "de"
    lang = request.args.get("lang")
    if lang is None and request.referrer:
        lang = (parse_qs(urlsplit(request.referrer).query).get("lang") or [None])[0]
    return norm_lang(lang or remembered_lang())


def tr(key: str) -> str:
    """`t(key)` in the viewer's language: for the staff pages and their callbacks, which get no `lang` passed."""
    return t(key, viewer_lang())


def page_title(key: str) -> Callable[..., str]:
    """A page's browser title in the viewer's language: Dash calls it (with the page's path variables) for the
    index page's meta tags and for every page change, so an English page is not titled in German."""
    return lambda **_path: f"Ortsatlas – {tr(key)}"


def lang_link(path: str) -> str:
    """A link to `path` in the viewer's language (German needs no parameter)."""
    return f"{path}?lang=en" if viewer_lang() == "en" else path


# ------------------------------------------------------------------ map legend
def legend(entries: list[dict], title: str, lang: str) -> list:
    """The map legend from `classify.legend_entries`: swatch, label, count; gaps get their own swatch."""
    items = []
    for e in entries:
        cls = "oa-swatch" + {"missing": " oa-swatch-missing", "suppressed": " oa-swatch-suppressed"}.get(e["kind"], "")
        style = {"background": e["color"]} if e["kind"] == "class" else {}
        items.append(html.Li([html.Span(className=cls, style=style), html.Span(e["label"]),
                              html.Span(str(e["count"]), className="oa-count")],
                             className=f"oa-legend-{e['kind']}"))
    return [html.H4(title), html.Ul(items)]


# ------------------------------------------------------------------ indicator picker
def indicator_options(visible: pd.DataFrame, atlas: Atlas, lang: str, headers: bool = True) -> list[dict]:
    """Options grouped by domain: a disabled header row (unless `headers` is off), then its indicators."""
    options: list[dict] = []
    for domain_id, group in visible.groupby("domain", sort=False):
        if headers:
            domain = atlas.domain_by_id[domain_id]
            options.append({"label": (domain.title_en if lang == "en" else domain.title_de).upper(),
                            "value": f"__domain__{domain_id}", "disabled": True})
        for row in group.itertuples(index=False):
            options.append({"label": row.title_en if lang == "en" else row.title_de, "value": row.id})
    return options


def dropdown_words(lang: str) -> dict[str, str]:
    """A dropdown's own words in the viewer's language (Dash's are English: "2 selected", "Search", in a German
    page; a screen reader reads them with the German voice)."""
    return {"search": t("ex_dd_search", lang), "clear_search": t("ex_dd_clear_search", lang),
            "clear_selection": t("ex_dd_clear_selection", lang), "select_all": t("ex_dd_select_all", lang),
            "deselect_all": t("ex_dd_deselect_all", lang), "no_options_found": t("ex_dd_none_found", lang),
            "selected_count": t("dd_selected_count", lang)}


def localise_dropdowns(tree, lang: str):
    """Every dropdown in `tree` that has no words of its own gets `dropdown_words(lang)`; returns `tree`.

    One call per page layout instead of an argument at every dropdown.
    """
    for component in [tree, *tree._traverse()]:
        if isinstance(component, dcc.Dropdown) and getattr(component, "labels", None) is None:
            component.labels = dropdown_words(lang)
    return tree


DOMAIN_PREFIX = "__domain__"  # a header row's value in `indicator_options` (disabled: not a choice)


def indicator_picker(id_: str, label: str, options: list[dict], value=None, touch: bool = False,
                     **dropdown) -> html.Div:
    """A labelled indicator dropdown; `dropdown` passes on dcc.Dropdown's own settings (multi, placeholder …).

    `touch` (single choice only) adds a native `<select>` with the same options, shown instead of the
    searchable dropdown where the primary pointer is coarse (assets/style.css): on a throttled tablet Dash's
    dropdown ran two renderer cycles per choice (~150 ms); the select's change sets the dropdown's value once
    (assets/switch.js), so the same callbacks, and the server's rights checks, answer it.
    """
    searchable = [html.Label(label, htmlFor=id_), dcc.Dropdown(id=id_, options=options, value=value, **dropdown)]
    if not touch:
        return html.Div(searchable, className="oa-field")
    return html.Div([html.Div(searchable, className="oa-fine-pointer"),
                     html.Div([html.Label(label, htmlFor=f"{id_}-touch"), native_picker(id_, options, value)],
                              className="oa-coarse-pointer")], className="oa-field")


def native_groups(options: list[dict]) -> list[list]:
    """`indicator_options` as the touch picker's groups: `[header label or None, [[value, label], …]]`, in order;
    a header row starts a group (an `<optgroup>`), options before any header stand alone."""
    groups: list[list] = []
    for option in options:
        if str(option.get("value", "")).startswith(DOMAIN_PREFIX):
            groups.append([option["label"], []])
        elif not option.get("disabled"):
            if not groups:
                groups.append([None, []])
            groups[-1][1].append([option["value"], option["label"]])
    return groups


def native_picker(id_: str, options: list[dict], value) -> html.Select:
    """The touch picker: a native select whose options (`native_groups`, from the server's layout like the
    dropdown's) assets/switch.js puts in when it appears.

    One Dash component instead of one per option and group: Dash's renderer runs a selector per component
    on every store update, so ~30 more components made every update of the page ~13 % slower. Uncontrolled
    (no React `value`): later choices stay the browser's own and cost the renderer nothing until they reach
    the dropdown.
    """
    return html.Select([], id=f"{id_}-touch", className="oa-native-picker",
                       **{"data-for": id_, "data-value": value if isinstance(value, str) else "",
                          "data-options": json.dumps(native_groups(options), ensure_ascii=False)})


# ------------------------------------------------------------------ time series
# plotly.js's tool bar without "Share chart..." (it would send the figure, internal data included, to plotly's
# Chart Studio cloud); its other buttons are named in German by assets/lang_labels.js.
CHART_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"]}


def chart_url(indicator_id: str, area_id: str, lang: str, fmt: str | None = None) -> str:
    """The chart picture of one area's time series (`/api/v1/chart`); without `fmt` the caller appends it."""
    params = {"indicator": indicator_id, "area": area_id, "lang": lang}
    return "/api/v1/chart?" + urlencode({**params, "format": fmt} if fmt else params)


def timeseries_figure(spec: ChartSpec | None, period: str | None, lang: str) -> dict:
    """The time-series chart as a plain plotly.js figure; without a spec, a hint to pick an area.

    A dict, not `go.Figure`: plotly's validation of every property cost more
    than the query behind the chart (~40 ms per click); plotly.js reads the
    same JSON either way. `period` (the map's) gets a thin line.
    """
    layout = {"margin": {"l": 48, "r": 12, "t": 12, "b": 36}, "height": 300, "template": _white_template(),
              "legend": {"orientation": "h", "y": -0.25}, "hovermode": "x unified",
              "separators": ",." if lang == "de" else ".,", "shapes": [], "annotations": []}
    if spec is None:
        layout["annotations"].append({"text": t("click_area", lang), "showarrow": False, "xref": "paper",
                                      "yref": "paper", "x": 0.5, "y": 0.5, "font": {"color": "#5b616b"}})
        layout["xaxis"], layout["yaxis"] = {"visible": False}, {"visible": False}
        return {"data": [], "layout": layout}
    x = list(spec.period_labels)
    data = [{"type": "scatter", "x": x, "y": list(line.values), "name": line.label, "mode": "lines+markers",
             "connectgaps": False, "line": {"color": line.color, "dash": line.dash, "width": line.width},
             "customdata": list(line.texts), "hovertemplate": "%{customdata}"} for line in spec.lines]
    for marker in spec.markers:
        layout["shapes"].append(_vline(marker.x, {"color": MARKER_COLOR, "dash": "dot"}))
        layout["annotations"].append({"x": marker.x, "y": 1, "yref": "paper", "showarrow": False,
                                      "xanchor": "left", "text": marker.label, "hovertext": marker.note,
                                      "font": {"color": MARKER_COLOR, "size": 11}})
    if period in spec.periods:
        layout["shapes"].append(_vline(spec.periods.index(period), {"color": CURRENT_COLOR, "width": 1}))
    layout["xaxis"] = {"type": "category", "nticks": 8}
    layout["yaxis"] = {"title": {"text": spec.unit}}
    return {"data": data, "layout": layout}


def _vline(x: float, line: dict) -> dict:
    """A vertical line over the whole plot height at category position x."""
    return {"type": "line", "xref": "x", "yref": "y domain", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}


@functools.cache
def _white_template() -> dict:
    """plotly's 'plotly_white' template as JSON (a dict figure cannot name it)."""
    return pio.templates["plotly_white"].to_plotly_json()


# ------------------------------------------------------------------ indicator facts
def indicator_facts(atlas: Atlas, viewer: Principal, indicator_id: str | None, lang: str) -> list[tuple[str, str]]:
    """What the viewer may know about an indicator, as (label, text) pairs; empty if it is not visible.

    The explorer's info panel and the print view show the same list.
    """
    visible = queries.visible_indicators(atlas, viewer)
    row = visible[visible["id"] == indicator_id]
    if row.empty:
        return []
    r = row.iloc[0]
    dept = atlas.department_name(r["department"], lang)
    items = [(t("definition", lang), r["definition_en"] if lang == "en" else r["definition_de"]),
             (t("unit", lang), unit_in(r["unit"], r.get("unit_en"), lang))]
    if r["aggregation"] == "ratio":
        items += [(t("numerator", lang), r["numerator"]), (t("denominator", lang), r["denominator"])]
    elif r["aggregation"] == "none":
        items.append(("", t("not_aggregable", lang)))
    return items + [
        (t("periods", lang), f"{period_label(r['first_period'])} – {period_label(r['last_period'])}"),
        (t("source", lang), r["source"]),
        (t("department", lang), dept),
        (t("contact", lang), r["contact"]),
        (t("last_update", lang), format_timestamp(r["last_update"])),
        (t("licence", lang), r["licence"]),
        (t("visibility", lang), t(f"vis_{r['visibility']}", lang)),
    ]


def facts_list(items: list[tuple[str, str]]) -> html.Dl:
    """Indicator facts as a definition list."""
    children: list = []
    for label, text in items:
        children += [html.Dt(label), html.Dd(text)]
    return html.Dl(children, className="oa-info")


# ------------------------------------------------------------------ uploads
def csrf_marker(limit_mb: int) -> html.Div:
    """The CSRF token and size limit for assets/upload.js (API writes with the session cookie)."""
    return html.Div(id="oa-csrf", **{"data-token": generate_csrf(), "data-limit": str(limit_mb * 1024 * 1024)})


def drop_zone(zone_id: str, endpoint: str, status_id: str, accept: str, store: str = "", fields: str = "") -> html.Div:
    """A drop zone handled by assets/upload.js, its progress bar and its status line."""
    data = {"data-endpoint": endpoint, "data-status": status_id, "data-accept": accept, "data-fields": fields,
            "data-words": json.dumps({k: tr(k) for k in STRINGS if k.startswith("js_")} | {
                "adm_not_saved": tr("adm_not_saved")}, ensure_ascii=False)}  # assets/upload.js says these
    if store:
        data["data-store"] = store
    return html.Div([
        html.Div([html.Strong(tr("drop_here")), html.Span(tr("drop_or_click"))],
                 id=zone_id, className="oa-drop", tabIndex="0", role="button", **data),
        html.Div(html.Div(className="oa-progress-bar"), id=f"{zone_id}-progress", className="oa-progress",
                 hidden=True),
        html.Div(id=status_id, role="status", className="oa-hint"),
    ])


# ------------------------------------------------------------------ tables
def data_table(rows: list[dict], columns: list[tuple[str, str]], class_name: str | None = "oa-table",
               **table) -> html.Table:
    """A plain table of `rows` (dicts) in the order of `columns` ((key, header) pairs).

    Cells that are Dash components (a button in a row) stay components;
    None becomes an empty cell, anything else its text. A row's "_class"
    becomes its CSS class (marking new or changed rows). `table` passes on
    html.Table's own props (an id).
    """
    def cell(value, label: str) -> html.Td:
        # data-label: a narrow screen shows each row as a card, labelled by its headers (assets/style.css)
        if value is None:
            return html.Td("", **{"data-label": label})
        return html.Td(value if hasattr(value, "_prop_names") or isinstance(value, list) else str(value),
                       **{"data-label": label})
    head = html.Thead(html.Tr([html.Th(label) for _, label in columns]))
    body = html.Tbody([html.Tr([cell(r.get(key), label) for key, label in columns], className=r.get("_class"))
                       for r in rows])
    if class_name:
        table["className"] = class_name
    return html.Table([head, body], **table)


def plain_table(rows: list[dict], columns: list[tuple[str, str]], class_name: str | None = "oa-table",
                **table) -> html.Table:
    """`data_table` for rows of plain text, its body built as the dicts Dash sends (what the browser gets is the same).

    Why: a table of 1,000 areas is ~5,000 cells; making each an html.Td
    (every prop checked on creation) and encoding it back through plotly's
    JSON encoder was most of a compare view's time. Cells must be text,
    numbers or None (no components); tests/test_compare_tables.py holds the
    result equal to `data_table`'s.
    """
    def el(tag: str, children, **props) -> dict:
        return {"props": {"children": children, **props}, "type": tag, "namespace": "dash_html_components"}
    labels = [label for _, label in columns]
    body = [el("Tr", [el("Td", "" if r.get(key) is None else str(r.get(key)), **{"data-label": label})
                      for (key, _), label in zip(columns, labels)], className=r.get("_class")) for r in rows]
    head = html.Thead(html.Tr([html.Th(label) for label in labels]))
    if class_name:
        table["className"] = class_name
    return html.Table([head, html.Tbody(body)], **table)


def scrolling(child, **div) -> html.Div:
    """A wide table that scrolls sideways on a phone instead of widening the page."""
    return html.Div(child, className="oa-scroll", **div)


# ------------------------------------------------------------------ versions and their release steps
def periods_text(periods: list[str]) -> str:
    """A version's periods in words: all of a few, else first – last and how many."""
    labels = [period_label(p) for p in periods]
    if len(labels) <= 4:
        return ", ".join(labels) or "–"
    return f"{labels[0]} – {labels[-1]} ({len(labels)} Zeiträume)"


def _when(value) -> str:
    return f"{value:%d.%m.%Y %H:%M}" if value is not None and pd.notna(value) else ""


def _text(value) -> str:
    """A text cell of a table row: '' for None and NaN (rows hold both)."""
    return value if isinstance(value, str) else ""


def release_text(row, now, lang: str | None = None) -> str:
    """Who released a version and when, and a release set for later: 'admin, 02.03.2026 09:00; geplant: …'."""
    lang = lang or viewer_lang()
    parts = []
    to = _text(row["release_to"])
    if _text(row["released_by"]) or pd.notna(row["released_at"]):
        parts.append(", ".join(x for x in (_text(row["released_by"]), _when(row["released_at"])) if x))
    if versions.is_scheduled(to, row["release_at"], now):
        parts.append(t("rel_planned", lang).format(state=t('state_' + to, lang), when=_when(row['release_at'])))
    elif to and pd.notna(row["release_at"]):
        parts.append(t("rel_since", lang).format(state=t('state_' + to, lang), when=_when(row['release_at'])))
    return "; ".join(parts)


def action_buttons(prefix: str, version_id: int, actions: list[str], lang: str | None = None) -> html.Div:
    """One button per step the server allows (`versions.allowed_actions`); ids carry the version."""
    lang = lang or viewer_lang()
    return html.Div([html.Button(t(f"act_{a}", lang), className="oa-chip" if a != "release_public" else "oa-button",
                                 id={"type": f"{prefix}-act", "action": a, "version": int(version_id)})
                     for a in actions], className="oa-actions")


def version_table(atlas: Atlas, rows: pd.DataFrame, prefix: str, *, show_indicator: bool = False,
                  extra: dict | None = None, lang: str | None = None, **table) -> html.Div:
    """Versions (rows of `versions.history` or `versions.release_queue`) with their periods, state, who and
    when, a scheduled release, what changed, and the buttons for the steps this viewer may take.

    `extra` adds columns: {column key: (header, {version_id: cell})}.
    """
    lang = lang or viewer_lang()
    now = atlas.clock.now()
    columns = [("version", t("vt_version", lang))]
    if show_indicator:
        columns.append(("indicator", t("indicator", lang)))
    columns += [("periods", t("vt_periods", lang)), ("state", t("vt_state", lang)), ("created", t("vt_created", lang)),
                ("release", t("vt_release", lang)), ("changes", t("vt_changes", lang))]
    columns += [(key, header) for key, (header, _) in (extra or {}).items()]
    columns.append(("actions", ""))
    body = []
    for _, r in rows.iterrows():
        vid = int(r["version_id"])
        ind = atlas.indicator_by_id.get(r["indicator_id"])
        created = ", ".join(x for x in (_text(r["created_by"]), _when(r["created_at"])) if x)
        count = format_number(float(r["row_count"]), 0) if pd.notna(r["row_count"]) else "?"
        source = t("vt_source", lang).format(file=r["file_name"], n=count) if _text(r["file_name"]) else ""
        changes = " / ".join("–" if pd.isna(v) else format_number(v, 0)
                             for v in (r["n_added"], r["n_changed"], r["n_removed"]))
        variant = _text(r.get("projection"))  # a projection says so wherever its versions are listed
        periods = periods_text(list(r["periods"]))
        item = {"version": vid, "periods": html.Div([periods, html.Br(), html.Small(
                    t("projection", lang).format(variant=variant), className="oa-projection")]) if variant else periods,
                "state": t(f"state_{r['state']}", lang) if f"state_{r['state']}" in STRINGS else r["state"],
                "created": html.Div([created, html.Br(), html.Small(source)]) if source else created,
                "release": release_text(r, now, lang), "changes": changes,
                "actions": action_buttons(prefix, vid, list(r["actions"]), lang),
                "_class": f"oa-state-{r['state']}"}
        if show_indicator:
            item["indicator"] = html.Div([ind.title(lang) if ind else r["indicator_id"], html.Br(),
                                          html.Small(r["indicator_id"])])
        for key, (_, cells) in (extra or {}).items():
            item[key] = cells.get(vid)
        body.append(item)
    return scrolling(data_table(body, columns, "oa-table oa-versions oa-cards", **table))


def action_panel(prefix: str) -> html.Div:
    """The confirmation of a step that cannot be taken back lightly: a public release (now or at a time)
    and a withdrawal (with its reason, which goes to the audit log). Filled by `atlas.web.release_actions`."""
    return html.Div([
        dcc.Store(id=f"{prefix}-pending"),
        html.P(id=f"{prefix}-panel-text"),
        html.Div([html.Label(tr("ap_at"), htmlFor=f"{prefix}-at", className="oa-label"),
                  dcc.Input(id=f"{prefix}-at", type="text", value="", placeholder=tr("up_date_placeholder"),
                            className="oa-input")],
                 id=f"{prefix}-at-field", className="oa-field", hidden=True),
        html.Div([html.Label(tr("ap_reason"), htmlFor=f"{prefix}-reason", className="oa-label"),
                  dcc.Textarea(id=f"{prefix}-reason", value="", className="oa-input", rows=2)],
                 id=f"{prefix}-reason-field", className="oa-field", hidden=True),
        html.Div([html.Button(tr("ap_confirm"), id=f"{prefix}-do", className="oa-button"),
                  html.Button(tr("ap_abort"), id=f"{prefix}-abort", className="oa-chip")], className="oa-links"),
    ], id=f"{prefix}-panel", className="oa-confirm", hidden=True, role="dialog", **{"aria-live": "polite"})


def workflow_denied(viewer: Principal, path: str, **div) -> html.Div:
    """The upload and release pages for someone without the rights: say so, and where to sign in."""
    text = [tr("wf_denied")]
    if not viewer.logged_in:
        text += [" ", html.A(tr("login"), href=f"/login?next={path}" + ("&lang=en" if viewer_lang() == "en" else "")),
                 tr("wf_denied_login")]
    return html.Div([html.H1(tr("not_allowed_title")), html.P(text, className="oa-notice")], className="oa-page",
                    **div)
