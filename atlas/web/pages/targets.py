"""The targets dashboard (/ziele): one tile per visible indicator with a target.

Each tile shows the whole territory's newest value, the target and its
deadline, a traffic light, the trend against the period before, and a
gauge (a tachometer with the warning zone, as Kaiserslautern's KLAR shows
it). Everything comes from `atlas.services.targets`, which reads through the
query services with the viewer's rights.
"""
from __future__ import annotations

from dash import dcc, html

from atlas.formatting import format_day, format_number
from atlas.i18n import norm_lang, t
from atlas.services import targets
from atlas.web.http import current_atlas
from atlas.web.pages import steering
from auth import current_principal

LIGHT_COLORS = {"green": "#1a9850", "yellow": "#fdae61", "red": "#d73027", "grey": "#8c8c8c"}
_TREND = {"up": "↑", "down": "↓", "flat": "→", None: ""}


def gauge(tile: dict, lang: str = "de") -> dict:
    """A plotly gauge: green up to the target, yellow in the warning zone, red beyond; the target as a line.

    Its number and axis in the reader's format (38,6 on a German page)."""
    goal, value = tile["target"], tile["value"]
    lo_goal, hi_goal = sorted((goal["target"], goal["warn"]))
    span = hi_goal - lo_goal
    top = max(hi_goal + span, (value or 0) * 1.1, hi_goal * 1.2 if hi_goal > 0 else hi_goal + span)
    bottom = min(0.0, lo_goal - span, value if value is not None else 0.0)
    if goal["direction"] == "down":
        steps = [(bottom, goal["target"], "green"), (goal["target"], goal["warn"], "yellow"), (goal["warn"], top, "red")]
    else:
        steps = [(bottom, goal["warn"], "red"), (goal["warn"], goal["target"], "yellow"), (goal["target"], top, "green")]
    return {"data": [{"type": "indicator", "mode": "gauge+number", "value": value,
                      "number": {"valueformat": ".1f"},
                      "gauge": {"axis": {"range": [bottom, top]}, "bar": {"color": "#333333", "thickness": 0.25},
                                "steps": [{"range": [a, b], "color": LIGHT_COLORS[c]} for a, b, c in steps],
                                "threshold": {"value": goal["target"], "line": {"color": "#000000", "width": 3}}}}],
            "layout": {"height": 170, "margin": {"l": 28, "r": 28, "t": 16, "b": 4},
                       "separators": ",." if lang == "de" else ".,"}}


def tile(item: dict, lang: str) -> html.Div:
    goal = item["target"]
    light = item["light"]
    value = format_number(item["value"], 1, lang) if item["value"] is not None else "–"
    unit = item.get("unit_en", item["unit"]) if lang == "en" else item["unit"]
    return html.Div([
        html.H3(item["title_en"] if lang == "en" else item["title_de"]),
        html.Div([html.Span(className=f"oa-light oa-light-{light}", style={"background": LIGHT_COLORS[light]}),
                  html.Span(t(f"tg_light_{light}", lang), className="oa-light-word"),  # never colour alone
                  html.Strong(f"{value} {unit} {_TREND[item['trend']]}"),
                  html.Span(f" ({item['period']})" if item["period"] else "")], className="oa-tile-value"),
        html.P(t("tg_target_line", lang).format(
            direction=t(f"tg_{goal['direction']}", lang), target=format_number(goal["target"], 1, lang),
            warn=format_number(goal["warn"], 1, lang), deadline=format_day(goal["deadline"], lang)),
            className="oa-hint"),
        # A static picture: one name (the value against the target, as the text above says) instead of SVG parts.
        html.Div(dcc.Graph(figure=gauge(item, lang), config={"displayModeBar": False, "staticPlot": True}), role="img",
                 **{"aria-label": f"{t(f'tg_light_{light}', lang)}: {value} {unit}"})
        if item["value"] is not None else html.P(t("tg_no_value", lang)),
    ], className=f"oa-tile oa-tile-{light}", id=f"tg-tile-{item['indicator']}")


def layout(lang: str | None = None, **_args) -> html.Div:
    lang = norm_lang(lang)
    tiles = targets.dashboard(current_atlas(), current_principal())
    body = [tile(item, lang) for item in tiles] or [html.P(t("tg_none", lang), className="oa-notice")]
    return html.Div([html.H1(t("tg_title", lang)), html.P(t("tg_intro", lang), className="oa-hint"),
                     html.Div(body, className="oa-tiles", id="tg-tiles"),
                     steering.warnings_section(lang), steering.register_section(lang)],
                    className="oa-page", id="tg-page")
