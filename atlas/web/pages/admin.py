"""Admin page: accounts, roles, departments, grants, and the audit log.

The route is guarded before Dash runs (auth.login), and every callback here
checks again: a POST to /_dash-update-component from a non-admin changes
nothing and learns nothing.
"""
from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from atlas.i18n import t
from atlas.services import versions
from atlas.services.context import Atlas
from atlas.web.components import csrf_marker, data_table, drop_zone
from atlas.web.http import current_atlas
from auth import current_principal
from auth.permissions import ROLES, may_administer, may_set_visibility
from auth.users import UserError

ACTIONS = ("add", "save", "disable", "enable")


def _denied() -> html.Div:
    return html.Div(html.P(t("not_allowed"), className="oa-notice"), className="oa-admin", id="adm-denied")


def users_table(atlas: Atlas) -> html.Table:
    dept = {k: v["de"] for k, v in atlas.departments.items()}
    rows = [{"username": u.username, "role": t(f"role_{u.role}"),
             "departments": ", ".join(dept.get(d, d) for d in u.departments), "grants": ", ".join(u.grants),
             "status": t("disabled") if u.disabled else t("active")} for u in atlas.users.all().values()]
    columns = [(k, t(k)) for k in ("username", "role", "departments", "grants", "status")]
    return data_table(rows, columns, class_name=None, id="adm-users-table")


AUDIT_COLUMNS = [("at", "Zeit (UTC)"), ("actor", "Wer"), ("action", "Aktion"), ("target", "Betroffen"),
                 ("detail", "Details"), ("ip", "IP")]


def audit_table(atlas: Atlas) -> html.Table:
    return data_table(atlas.audit.entries(200), AUDIT_COLUMNS, class_name=None, id="adm-audit-table")


def _options(atlas: Atlas) -> dict:
    return {
        "roles": [{"label": t(f"role_{r}"), "value": r} for r in ROLES],
        "departments": [{"label": v["de"], "value": k} for k, v in atlas.departments.items()],
        "restricted": [{"label": i.title_de, "value": i.id} for i in atlas.indicators if i.visibility == "restricted"],
        "users": [{"label": u, "value": u} for u in atlas.users.all()],
    }


def layout(**_args) -> html.Div:
    viewer = current_principal()
    if not may_administer(viewer):
        return _denied()
    atlas = current_atlas()
    opts = _options(atlas)
    viewer = current_principal()
    return html.Div([
        html.H2(t("users")),
        html.Section(html.Div(users_table(atlas), id="adm-users")),
        html.Section([
            html.H3(t("add_user")),
            html.Div([
                html.Div([html.Label(t("username")), dcc.Input(id="adm-new-name", type="text")]),
                html.Div([html.Label(t("role")), dcc.Dropdown(id="adm-new-role", options=opts["roles"],
                                                              value="internal", clearable=False)]),
                html.Div([html.Label(t("departments")),
                          dcc.Dropdown(id="adm-new-depts", options=opts["departments"], multi=True)]),
                html.Div([html.Label(t("password")), dcc.Input(id="adm-new-password", type="password")]),
                html.Button(t("add_user"), id={"type": "adm-action", "action": "add"},
                            className="oa-btn-add"),
            ], className="oa-form"),
        ]),
        html.Section([
            html.H3(t("change_user")),
            html.Div([
                html.Div([html.Label(t("username")), dcc.Dropdown(id="adm-user", options=opts["users"])]),
                html.Div([html.Label(t("role")), dcc.Dropdown(id="adm-role", options=opts["roles"])]),
                html.Div([html.Label(t("departments")),
                          dcc.Dropdown(id="adm-depts", options=opts["departments"], multi=True)]),
                html.Div([html.Label(t("grants")),
                          dcc.Dropdown(id="adm-grants", options=opts["restricted"], multi=True)]),
                html.Div([html.Label(t("new_password")), dcc.Input(id="adm-password", type="password")]),
                html.Button(t("save"), id={"type": "adm-action", "action": "save"},
                            className="oa-btn-save"),
                html.Button(t("disable"), id={"type": "adm-action", "action": "disable"},
                            className="oa-btn-disable"),
                html.Button(t("enable"), id={"type": "adm-action", "action": "enable"},
                            className="oa-btn-enable"),
            ], className="oa-form"),
        ]),
        html.Div(id="adm-message", role="status", className="oa-notice"),
        html.H2("Neue Indikatoren: Sichtbarkeit freigeben"),
        html.Div(requests_table(atlas, viewer), id="adm-requests"),
        html.Div(id="adm-requests-status", role="status"),
        boundary_section(atlas),
        html.H2(t("audit")),
        html.Section(html.Div(audit_table(atlas), id="adm-audit")),
    ], className="oa-admin")


def requests_table(atlas: Atlas, viewer) -> html.Div:
    rows = versions.visibility_requests(atlas, viewer)
    if not rows:
        return html.P("Keine offenen Anträge.", className="oa-hint")
    return data_table([{"indicator": f"{r['title_de']} ({r['id']})", "department": r["department"],
                        "created_by": r["created_by"],
                        "action": html.Button("Öffentlich freigeben", className="oa-chip",
                                              id={"type": "adm-approve", "indicator": r["id"]})} for r in rows],
                      [("indicator", "Indikator"), ("department", "Fachamt"), ("created_by", "angelegt von"),
                       ("action", "")])


def boundary_section(atlas: Atlas) -> html.Section:
    """A new boundary set: GeoJSON, GeoPackage or zipped Shapefile, sent by assets/upload.js to the API."""
    def field(id_, label, **kw):
        return html.Div([html.Label(label, htmlFor=id_, className="oa-label"), dcc.Input(id=id_, **kw)],
                        className="oa-field")
    fields = ",".join(f"{k}:{v}" for k, v in (("valid_from", "bd-valid-from"), ("key_col", "bd-key"),
                                              ("name_col", "bd-name"), ("parent_col", "bd-parent"),
                                              ("parent_key_length", "bd-parent-len"), ("label", "bd-label")))
    return html.Section([
        html.H2("Gebietsgrenzen hochladen"),
        html.P("GeoJSON, GeoPackage oder ZIP mit Shapefile, in jedem Koordinatensystem. Geprüft werden Geometrie, "
               "Überlappungen, Lücken und Schlüssel; der bisherige Gebietsstand gilt bis zum Vortag weiter.",
               className="oa-hint"),
        html.Div([field("bd-valid-from", "gültig ab", type="text", placeholder="2027-01-01", value=""),
                  field("bd-key", "Spalte Schlüssel", value=""), field("bd-name", "Spalte Name", value=""),
                  field("bd-parent", "Spalte Stadtbezirk (Schlüssel)", value=""),
                  field("bd-parent-len", "oder: Stadtbezirk = erste N Zeichen des Schlüssels", type="number",
                        value=""),
                  field("bd-label", "Bezeichnung", value="")], className="oa-grid"),
        csrf_marker(atlas.settings.upload_max_mb),
        drop_zone("bd-drop", "/api/v1/boundaries", "bd-status", ".geojson,.json,.gpkg,.zip", fields=fields),
    ])


def _apply(atlas: Atlas, actor: str, action: str, new: dict, edit: dict) -> str:
    users = atlas.users
    if action == "add":
        users.add(new["name"], new["role"], new["depts"] or [], new["password"] or "", actor=actor)
        return f"{t('saved')} {new['name']}"
    name = edit["user"]
    if not name:
        raise UserError("choose an account first")
    if action in ("disable", "enable"):
        users.set_disabled(name, action == "disable", actor=actor)
        return f"{t('saved')} {name}: {t('disabled') if action == 'disable' else t('active')}"
    current = users.get(name)
    if current is None:
        raise UserError(f"no user {name!r}")
    if (edit["role"], tuple(sorted(edit["depts"] or []))) != (current.role, current.departments):
        users.set_role(name, edit["role"], edit["depts"] or [], actor=actor)
    if tuple(sorted(edit["grants"] or [])) != current.grants:
        users.set_grants(name, edit["grants"] or [], actor=actor)
    if edit["password"]:
        users.set_password(name, edit["password"], actor=actor)
    return f"{t('saved')} {name}"


def register_callbacks(app) -> None:
    @app.callback(
        Output("adm-message", "children"), Output("adm-users", "children"), Output("adm-audit", "children"),
        Output("adm-user", "options"),
        Input({"type": "adm-action", "action": ALL}, "n_clicks"),
        State("adm-new-name", "value"), State("adm-new-role", "value"), State("adm-new-depts", "value"),
        State("adm-new-password", "value"),
        State("adm-user", "value"), State("adm-role", "value"), State("adm-depts", "value"),
        State("adm-grants", "value"), State("adm-password", "value"),
        prevent_initial_call=True,
    )
    def on_action(_clicks, new_name, new_role, new_depts, new_password, user, role, depts, grants, password):
        viewer = current_principal()
        if not may_administer(viewer):
            return t("not_allowed"), no_update, no_update, no_update
        triggered = ctx.triggered_id
        action = triggered.get("action") if isinstance(triggered, dict) else None
        if action not in ACTIONS or not any(_clicks or []):
            return no_update, no_update, no_update, no_update
        atlas = current_atlas()
        try:
            message = _apply(atlas, viewer.name, action,
                             {"name": new_name, "role": new_role, "depts": new_depts, "password": new_password},
                             {"user": user, "role": role, "depts": depts, "grants": grants, "password": password})
        except UserError as exc:
            message = f"Nicht gespeichert: {exc}"
        return message, users_table(atlas), audit_table(atlas), _options(atlas)["users"]

    @app.callback(
        Output("adm-requests", "children"), Output("adm-requests-status", "children"),
        Input({"type": "adm-approve", "indicator": ALL}, "n_clicks"), prevent_initial_call=True,
    )
    def on_approve(clicks):
        atlas, viewer = current_atlas(), current_principal()
        trigger = ctx.triggered_id
        if not may_set_visibility(viewer):
            return no_update, t("not_allowed")
        if not isinstance(trigger, dict) or not any(clicks or []):
            return no_update, no_update
        try:
            versions.set_visibility(atlas, viewer, trigger.get("indicator"), "public")
            message = f"{trigger.get('indicator')} ist jetzt öffentlich sichtbar (sobald Versionen öffentlich sind)."
        except versions.VersionError as exc:
            message = str(exc)
        return requests_table(atlas, viewer), message

    @app.callback(
        Output("adm-role", "value"), Output("adm-depts", "value"), Output("adm-grants", "value"),
        Input("adm-user", "value"), prevent_initial_call=True,
    )
    def on_select(username):
        viewer = current_principal()
        if not may_administer(viewer) or not username:
            return no_update, no_update, no_update
        user = current_atlas().users.get(username)
        if user is None:
            return no_update, no_update, no_update
        return user.role, list(user.departments), list(user.grants)
