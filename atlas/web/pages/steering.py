"""The dashboard's steering sections: early warnings, reviews due, and the goals register.

Rendered on the targets dashboard (/ziele) below the tiles, from the services
with the viewer's rights: a warning or a measure the viewer may not read is
not shown.
"""
from __future__ import annotations

from dash import html

from atlas.formatting import format_day
from atlas.i18n import t
from atlas.services import early_warning, measures
from atlas.web.http import current_atlas
from auth import current_principal


def warnings_section(lang: str) -> html.Section:
    found = early_warning.warnings(current_atlas(), current_principal())
    items = [html.Li(w[f"message_{lang}"]) for w in found[:50]]
    more = [html.P(t("st_more", lang).format(n=len(found) - 50), className="oa-hint")] if len(found) > 50 else []
    return html.Section([html.H2(t("st_warnings", lang)),
                         html.Ul(items, id="st-warnings") if items else html.P(t("st_no_warnings", lang)), *more],
                        className="oa-section")


def register_section(lang: str) -> html.Section:
    """Reviews due and the goals tree with their measures: units by their names, indicators by their titles and
    days in the reader's format (the register stores keys, ids and ISO days)."""
    atlas = current_atlas()
    data = measures.register(atlas, current_principal())
    titles = {i.id: i.title_en if lang == "en" else i.title_de for i in atlas.indicators}

    due = [html.Li(f"{format_day(m['review'], lang)}: {m['title']} ({atlas.department_name(m['unit'], lang)})")
           for m in data["due"]]
    by_goal: dict[str, list] = {}
    for m in data["measures"]:
        by_goal.setdefault(m["goal"], []).append(html.Li(
            f"{m['title']} ({atlas.department_name(m['unit'], lang)}) – {t('st_state_' + m['state'], lang)}, "
            f"{t('st_review', lang)} {format_day(m['review'], lang)}"))

    def shown_by(goal: dict) -> str:
        return f" ({', '.join(titles.get(i, i) for i in goal['indicators'])})" if goal["indicators"] else ""
    leads = [g for g in data["goals"] if not g["parent"]]
    tree = [html.Li([html.Strong(g["title"]), shown_by(g), html.Ul([
        html.Li([sub["title"], shown_by(sub), html.Ul(by_goal.get(sub["id"], []))])
        for sub in data["goals"] if sub["parent"] == g["id"]] + by_goal.get(g["id"], []))]) for g in leads]
    return html.Section([
        html.H2(t("st_due", lang)),
        html.Ul(due, id="st-due") if due else html.P(t("st_no_due", lang)),
        html.H2(t("st_register", lang)),
        html.Ul(tree, id="st-register") if tree else html.P(t("st_no_goals", lang)),
    ], className="oa-section")
