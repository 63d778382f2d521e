"""Admin page: accounts, roles, departments, grants, API tokens, new indicators, boundaries, and the audit log.

The route is guarded before Dash runs (auth.login), and every callback here
checks again: a POST to /_dash-update-component from a non-admin changes
nothing and learns nothing.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from atlas.messages import Message, say
from atlas.services import audit_trail, versions
from atlas.services.context import Atlas
from atlas.web.components import (
    csrf_marker,
    data_table,
    drop_zone,
    lang_link,
    localise_dropdowns,
    scrolling,
    tr,
    viewer_lang,
)
from atlas.web.http import current_atlas
from auth import Principal, current_principal
from auth.permissions import ROLES, may_administer, may_set_visibility
from auth.users import UserError

ACTIONS = ("add", "save", "disable", "enable")
TOC = [("konten", "adm_toc_users"), ("indikatoren", "adm_toc_new"), ("gebiete", "adm_toc_boundaries"),
       ("metadaten", "adm_toc_meta"), ("token", "adm_toc_tokens"), ("protokoll", "audit"),
       ("/freigaben", "nav_releases")]  # anchors and catalogue keys


def _denied() -> html.Div:
    return html.Div([html.H1(tr("nav_admin")), html.P(tr("not_allowed"), className="oa-notice")], className="oa-admin",
                    id="adm-denied")


def users_table(atlas: Atlas) -> html.Div:
    dept = {k: atlas.department_name(k, viewer_lang()) for k in atlas.departments}
    rows = [{"username": u.username, "role": tr(f"role_{u.role}"),
             "departments": ", ".join(dept.get(d, d) for d in u.departments), "grants": ", ".join(u.grants),
             "status": tr("disabled") if u.disabled else tr("active")} for u in atlas.users.all().values()]
    columns = [(k, tr(k)) for k in ("username", "role", "departments", "grants", "status")]
    return scrolling(data_table(rows, columns, class_name="oa-cards", id="adm-users-table"))


AUDIT_COLUMNS = [("at", "adm_au_at"), ("actor", "adm_au_who"), ("label", "adm_au_action"), ("target", "adm_au_target"),
                 ("detail", "adm_au_detail"), ("ip", "adm_au_ip")]  # catalogue keys of the headers
AUDIT_SHOWN = 200


def audit_filter(actor, action, indicator, start, end) -> audit_trail.Filter:
    """The filter fields as the audit service takes them (unreadable dates do not filter)."""
    def day(text):
        try:
            return date.fromisoformat(str(text)) if text else None
        except ValueError:
            return None
    return audit_trail.Filter(actor or "", action or "", indicator or "", day(start), day(end))


def audit_table(atlas: Atlas, viewer: Principal, where: audit_trail.Filter = audit_trail.Filter()) -> html.Div:
    """The newest matching entries in local time with German action names, and how many there are."""
    rows = audit_trail.entries(atlas, viewer, where, limit=None, lang=viewer_lang())
    shown = [{**r, "at": f"{r['at']:%d.%m.%Y %H:%M:%S}"} for r in rows[:AUDIT_SHOWN]]
    note = (tr("adm_au_count").format(n=len(rows)) if len(rows) <= AUDIT_SHOWN else
            tr("adm_au_newest").format(shown=AUDIT_SHOWN, n=len(rows)))
    columns = [(key, tr(label)) for key, label in AUDIT_COLUMNS]
    return html.Div([html.P(note, className="oa-hint", id="adm-audit-count"),
                     scrolling(data_table(shown, columns, class_name="oa-cards", id="adm-audit-table"))])


def audit_csv_href(where: audit_trail.Filter) -> str:
    """The CSV export of exactly the filtered entries (GET /api/v1/audit?format=csv)."""
    params = {"actor": where.actor, "action": where.action, "indicator": where.indicator,
              "from": where.start.isoformat() if where.start else "", "to": where.end.isoformat() if where.end else ""}
    return "/api/v1/audit?" + urlencode({"format": "csv", **{k: v for k, v in params.items() if v}})


def audit_section(atlas: Atlas, viewer: Principal) -> html.Section:
    """The audit log with filters (who, what, indicator, time range) and the CSV export."""
    lang = viewer_lang()
    actions = [{"label": audit_trail.action_label(a, lang), "value": a} for a in audit_trail.ACTIONS]
    indicators = [{"label": f"{i.title(lang)} ({i.id})", "value": i.id} for i in atlas.indicators]
    return html.Section([
        html.H2(tr("audit"), id="protokoll"),
        html.Div([
            html.Div([html.Label(tr("adm_au_who"), htmlFor="adm-audit-actor"),
                      dcc.Dropdown(id="adm-audit-actor", options=audit_trail.actors(atlas, viewer))]),
            html.Div([html.Label(tr("adm_au_action"), htmlFor="adm-audit-action"),
                      dcc.Dropdown(id="adm-audit-action", options=actions)]),
            html.Div([html.Label(tr("indicator"), htmlFor="adm-audit-indicator"),
                      dcc.Dropdown(id="adm-audit-indicator", options=indicators)]),
            html.Div([html.Label(tr("adm_au_from"), htmlFor="adm-audit-from"),
                      dcc.Input(id="adm-audit-from", type="date", value="")]),
            html.Div([html.Label(tr("adm_au_to"), htmlFor="adm-audit-to"),
                      dcc.Input(id="adm-audit-to", type="date", value="")]),
            html.A(tr("adm_au_csv"), id="adm-audit-csv", href=audit_csv_href(audit_trail.Filter()),
                   className="oa-chip"),
        ], className="oa-form"),
        html.Div(audit_table(atlas, viewer), id="adm-audit"),
    ])


META_FIELDS = [("title_de", "adm_m_title_de"), ("title_en", "adm_m_title_en"), ("unit", "unit"),
               ("unit_en", "adm_m_unit_en"),
               ("source", "source"), ("contact", "contact"), ("licence", "licence"),
               ("definition_de", "adm_m_def_de"), ("definition_en", "adm_m_def_en"),
               ("suppress_numerator_below", "adm_m_num_below"),
               ("suppress_denominator_below", "adm_m_den_below"),
               ("suppress_value_below", "adm_m_value_below")]  # catalogue keys of the labels


def _meta_names() -> dict[str, str]:
    """Field → label in the viewer's language."""
    return {key: tr(label) for key, label in META_FIELDS}


def metadata_section(atlas: Atlas, viewer: Principal) -> html.Section:
    """Metadata of indicators created through uploads: edit, every change a new version in the audit log."""
    options = [{"label": f"{i.title(viewer_lang())} ({i.id})", "value": i.id}
               for i in versions.editable_indicators(atlas, viewer)]
    def field(key: str, label: str):
        control = dcc.Textarea if key.startswith("definition") else dcc.Input
        extra = {"className": "oa-input", "rows": 3} if control is dcc.Textarea else {}
        return html.Div(html.Label([html.Span(label), control(id={"type": "adm-meta", "field": key}, value="",
                                                               **extra)]),
                        className="oa-meta-wide" if key.startswith("definition") else None)
    return html.Section([
        html.H2(tr("adm_meta"), id="metadaten"),
        html.P(tr("adm_meta_intro"), className="oa-hint"),
        html.Div([html.Label(tr("indicator"), htmlFor="adm-meta-indicator"),
                  dcc.Dropdown(id="adm-meta-indicator", options=options,
                               placeholder=tr("up_pick_indicator") if options else tr("adm_meta_none"))]),
        html.Div([field(k, label) for k, label in _meta_names().items()]
                 + [html.Div(html.Label([html.Span(tr("visibility")), dcc.Dropdown(
                     id={"type": "adm-meta", "field": "visibility"}, clearable=False,
                     options=[{"label": tr(f"vis_{v}"), "value": v} for v in ("public", "internal", "restricted")])])),
                    html.Button(tr("adm_meta_save"), id="adm-meta-save", className="oa-btn-save")],
                 className="oa-form", id="adm-meta-form"),
        html.Div(id="adm-meta-message", role="status"),
        html.Div(id="adm-meta-history"),
    ])


def metadata_history(meta: dict | None) -> html.Div:
    """Who changed what when, newest first; each entry one metadata version."""
    if not meta:
        return html.Div()
    names = _meta_names()
    rows = [{"version": h["version"], "by": h["by"], "at": f"{datetime.fromisoformat(h['at']):%d.%m.%Y %H:%M}",
             "changes": "; ".join(f"{names.get(f, f)}: {old!r} → {new!r}" for f, (old, new) in h["changes"].items())}
            for h in meta["history"]]
    note = html.P(tr("adm_meta_version").format(n=meta["version"]) + ("" if rows else tr("adm_meta_as_created")),
                  className="oa-hint")
    if not rows:
        return html.Div(note)
    return html.Div([note, scrolling(data_table(rows, [("version", tr("vt_version")), ("at", tr("adm_when")), ("by", tr("adm_au_who")),
                                                       ("changes", tr("adm_changes"))], class_name="oa-cards"))])


TOKEN_COLUMNS = [("token_id", "adm_tk_id"), ("username", "adm_tk_account"), ("name", "adm_tk_name"),
                 ("created", "adm_tk_created"), ("expires", "adm_tk_expires"), ("status", "status"),
                 ("action", "")]  # catalogue keys of the headers
TOKEN_STATES = {"widerrufen": "adm_tk_revoked", "abgelaufen": "adm_tk_expired", "aktiv": "active"}


def _stamp(value) -> str:
    return f"{value:%d.%m.%Y %H:%M}" if value is not None and pd.notna(value) else ""


def tokens_table(atlas: Atlas, viewer: Principal) -> html.Div:
    """Every token (never the token itself): whose, what for, since and until when, active or not."""
    if not may_administer(viewer):
        return html.Div()
    frame = atlas.tokens.all().sort_values("created_at", ascending=False)
    now = atlas.clock.now()
    rows = []
    for r in frame.itertuples(index=False):
        expired = pd.notna(r.expires_at) and r.expires_at <= now
        state = "widerrufen" if pd.notna(r.revoked_at) else "abgelaufen" if expired else "aktiv"  # CSS class too
        status = tr(TOKEN_STATES[state]).format(when=_stamp(r.revoked_at))
        action = html.Button(tr("adm_tk_revoke"), className="oa-chip",
                             id={"type": "adm-token-revoke", "token": r.token_id}) if state == "aktiv" else ""
        rows.append({"token_id": r.token_id, "username": r.username, "name": r.name,
                     "created": _stamp(audit_trail.local_time(r.created_at.isoformat())),
                     "expires": _stamp(r.expires_at) or tr("adm_tk_unlimited"),
                     "status": status, "action": action, "_class": "oa-token-" + state})
    if not rows:
        return html.P(tr("adm_tk_none"), className="oa-hint")
    columns = [(key, tr(label) if label else "") for key, label in TOKEN_COLUMNS]
    return scrolling(data_table(rows, columns, class_name="oa-cards", id="adm-tokens-table"))


def token_section(atlas: Atlas, viewer: Principal) -> html.Section:
    """API tokens for scripted feeds: create (shown once), list, revoke; each with an expiry date."""
    accounts = [{"label": u.username, "value": u.username} for u in atlas.users.all().values() if not u.disabled]
    default_expiry = (atlas.clock.now() + timedelta(days=365)).date().isoformat()
    return html.Section([
        html.H2(tr("adm_toc_tokens"), id="token"),
        html.P(tr("adm_tk_intro"), className="oa-hint"),
        html.Div([
            html.Div([html.Label(tr("adm_tk_account"), htmlFor="adm-token-user"),
                      dcc.Dropdown(id="adm-token-user", options=accounts)]),
            html.Div([html.Label(tr("adm_tk_name"), htmlFor="adm-token-label"),
                      dcc.Input(id="adm-token-label", type="text", value="", placeholder=tr("adm_tk_example"))]),
            html.Div([html.Label(tr("adm_tk_until"), htmlFor="adm-token-expires"),
                      dcc.Input(id="adm-token-expires", type="date", value=default_expiry)]),
            html.Button(tr("adm_tk_create"), id="adm-token-create", className="oa-btn-token"),
        ], className="oa-form"),
        html.Div(id="adm-token-new", role="status", **{"aria-live": "polite"}),
        html.Div(tokens_table(atlas, viewer), id="adm-tokens"),
    ])


def _expiry(text) -> datetime | None:
    """'gültig bis einschließlich' a date: the token stops working at the following midnight (local time)."""
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(str(text)) + timedelta(days=1), datetime.min.time())
    except ValueError:
        raise UserError(tr("adm_tk_bad_date")) from None


# Why auth refused an account or token change, as a catalogue key and the parameters its wording names: auth
# imports no atlas code, so it has no catalogue and says its reasons in English (auth/users.py, auth/tokens.py).
# tests/test_refusal_languages.py raises every one of them and fails on a reason this list does not know.
USER_ERRORS = (
    (re.compile(r"the password must have at least (?P<n>\d+) characters"), "adm_ue_password"),
    (re.compile(r"unknown role (?P<role>.+); expected one of (?P<roles>.+)"), "adm_ue_role"),
    (re.compile(r"unknown department\(s\) (?P<unknown>.+); known: (?P<known>.*)"), "adm_ue_departments"),
    (re.compile(r"a steward needs at least one department.*"), "adm_ue_steward_department"),
    (re.compile(r"user names are 2–64 characters.*"), "adm_ue_username"),
    (re.compile(r"user (?P<name>.+) exists already"), "adm_ue_exists"),
    (re.compile(r"no user (?P<name>.+)"), "adm_no_user"),
    (re.compile(r"no active account (?P<name>.+)"), "adm_ue_no_active_account"),
    (re.compile(r"the expiry lies in the past"), "adm_ue_expiry_past"),
    (re.compile(r"a partner token names at least one indicator or domain and one level"), "adm_ue_partner_scope"),
    (re.compile(r"a partner token needs an expiry date"), "adm_ue_partner_expiry"),
    (re.compile(r"no active token (?P<id>.+)"), "adm_ue_no_token"),
)


def user_error_reason(exc: UserError) -> Message | str:
    """The reason of a refused account or token change, to be said in the page's language: auth's reasons as
    catalogue messages; this page's own (already in the page's language) as they are."""
    text = str(exc)
    for pattern, key in USER_ERRORS:
        if found := pattern.fullmatch(text):
            return Message(key, **found.groupdict())
    return text


def _options(atlas: Atlas) -> dict:
    return {
        "roles": [{"label": tr(f"role_{r}"), "value": r} for r in ROLES],
        "departments": [{"label": atlas.department_name(k, viewer_lang()), "value": k} for k in atlas.departments],
        "restricted": [{"label": i.title(viewer_lang()), "value": i.id} for i in atlas.indicators
                       if i.visibility == "restricted"],
        "users": [{"label": u, "value": u} for u in atlas.users.all()],
    }


def layout(**_args) -> html.Div:
    viewer = current_principal()
    if not may_administer(viewer):
        return _denied()
    atlas = current_atlas()
    opts = _options(atlas)
    viewer = current_principal()
    return localise_dropdowns(html.Div([
        html.H1(tr("nav_admin")),
        html.Nav([html.A(tr(label), href=lang_link(anchor) if anchor.startswith("/") else f"#{anchor}")
                  for anchor, label in TOC], className="oa-toc", **{"aria-label": tr("adm_sections")}),
        html.H2(tr("users"), id="konten"),
        html.Section(html.Div(users_table(atlas), id="adm-users")),
        html.Section([
            html.H3(tr("add_user")),
            html.Div([
                html.Div([html.Label(tr("username"), htmlFor="adm-new-name"),
                          dcc.Input(id="adm-new-name", type="text", autoComplete="off")]),
                html.Div([html.Label(tr("role"), htmlFor="adm-new-role"), dcc.Dropdown(id="adm-new-role", options=opts["roles"],
                                                              value="internal", clearable=False)]),
                html.Div([html.Label(tr("departments"), htmlFor="adm-new-depts"),
                          dcc.Dropdown(id="adm-new-depts", options=opts["departments"], multi=True)]),
                html.Div([html.Label(tr("password"), htmlFor="adm-new-password"),
                          dcc.Input(id="adm-new-password", type="password", autoComplete="new-password")]),
                html.Button(tr("add_user"), id={"type": "adm-action", "action": "add"},
                            className="oa-btn-add"),
            ], className="oa-form"),
        ]),
        html.Section([
            html.H3(tr("change_user")),
            html.Div([
                html.Div([html.Label(tr("username"), htmlFor="adm-user"), dcc.Dropdown(id="adm-user", options=opts["users"])]),
                html.Div([html.Label(tr("role"), htmlFor="adm-role"), dcc.Dropdown(id="adm-role", options=opts["roles"])]),
                html.Div([html.Label(tr("departments"), htmlFor="adm-depts"),
                          dcc.Dropdown(id="adm-depts", options=opts["departments"], multi=True)]),
                html.Div([html.Label(tr("grants"), htmlFor="adm-grants"),
                          dcc.Dropdown(id="adm-grants", options=opts["restricted"], multi=True)]),
                html.Div([html.Label(tr("new_password"), htmlFor="adm-password"),
                          dcc.Input(id="adm-password", type="password", autoComplete="new-password")]),
                html.Button(tr("save"), id={"type": "adm-action", "action": "save"},
                            className="oa-btn-save"),
                html.Button(tr("disable"), id={"type": "adm-action", "action": "disable"},
                            className="oa-btn-disable"),
                html.Button(tr("enable"), id={"type": "adm-action", "action": "enable"},
                            className="oa-btn-enable"),
            ], className="oa-form"),
        ]),
        html.Div(id="adm-message", role="status", className="oa-notice", **{"aria-live": "polite"}),
        html.H2(tr("adm_requests"), id="indikatoren"),
        html.Div(requests_table(atlas, viewer), id="adm-requests"),
        html.Div(id="adm-requests-status", role="status"),
        boundary_section(atlas),
        metadata_section(atlas, viewer),
        token_section(atlas, viewer),
        audit_section(atlas, viewer),
    ], className="oa-admin"), viewer_lang())


def requests_table(atlas: Atlas, viewer) -> html.Div:
    rows = versions.visibility_requests(atlas, viewer)
    if not rows:
        return html.P(tr("adm_no_requests"), className="oa-hint")
    return data_table([{"indicator": f"{r['title_de']} ({r['id']})", "department": r["department"],
                        "created_by": r["created_by"],
                        "action": html.Button(tr("up_release_public"), className="oa-chip",
                                              id={"type": "adm-approve", "indicator": r["id"]})} for r in rows],
                      [("indicator", tr("indicator")), ("department", tr("department")), ("created_by", tr("adm_created_by")),
                       ("action", "")], "oa-table oa-cards")


def boundary_section(atlas: Atlas) -> html.Section:
    """A new boundary set: GeoJSON, GeoPackage or zipped Shapefile, sent by assets/upload.js to the API."""
    def field(id_, label, **kw):
        return html.Div([html.Label(label, htmlFor=id_, className="oa-label"), dcc.Input(id=id_, **kw)],
                        className="oa-field")
    fields = ",".join(f"{k}:{v}" for k, v in (("valid_from", "bd-valid-from"), ("key_col", "bd-key"),
                                              ("name_col", "bd-name"), ("parent_col", "bd-parent"),
                                              ("parent_key_length", "bd-parent-len"), ("label", "bd-label")))
    return html.Section([
        html.H2(tr("adm_bd_title"), id="gebiete"),
        html.P(tr("adm_bd_intro"), className="oa-hint"),
        html.Div([field("bd-valid-from", tr("adm_bd_from"), type="text", placeholder="2027-01-01", value=""),
                  field("bd-key", tr("adm_bd_key"), value=""), field("bd-name", tr("adm_bd_name"), value=""),
                  field("bd-parent", tr("adm_bd_parent"), value=""),
                  field("bd-parent-len", tr("adm_bd_parent_len"), type="number", value=""),
                  field("bd-label", tr("adm_tk_name"), value="")], className="oa-grid"),
        csrf_marker(atlas.settings.upload_max_mb),
        drop_zone("bd-drop", "/api/v1/boundaries", "bd-status", ".geojson,.json,.gpkg,.zip", fields=fields),
    ])


def _apply(atlas: Atlas, actor: str, action: str, new: dict, edit: dict) -> str:
    users = atlas.users
    if action == "add":
        users.add(new["name"], new["role"], new["depts"] or [], new["password"] or "", actor=actor)
        return f"{tr('saved')} {new['name']}"
    name = edit["user"]
    if not name:
        raise UserError(tr("adm_pick_account"))
    if action in ("disable", "enable"):
        users.set_disabled(name, action == "disable", actor=actor)
        return f"{tr('saved')} {name}: {tr('disabled') if action == 'disable' else tr('active')}"
    current = users.get(name)
    if current is None:
        raise UserError(tr("adm_no_user").format(name=repr(name)))
    if (edit["role"], tuple(sorted(edit["depts"] or []))) != (current.role, current.departments):
        users.set_role(name, edit["role"], edit["depts"] or [], actor=actor)
    if tuple(sorted(edit["grants"] or [])) != current.grants:
        users.set_grants(name, edit["grants"] or [], actor=actor)
    if edit["password"]:
        users.set_password(name, edit["password"], actor=actor)
    return f"{tr('saved')} {name}"


def register_callbacks(app) -> None:
    @app.callback(
        Output("adm-message", "children"), Output("adm-users", "children"), Output("adm-user", "options"),
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
            return tr("not_allowed"), no_update, no_update
        triggered = ctx.triggered_id
        action = triggered.get("action") if isinstance(triggered, dict) else None
        if action not in ACTIONS or not any(_clicks or []):
            return no_update, no_update, no_update
        atlas = current_atlas()
        try:
            message = _apply(atlas, viewer.name, action,
                             {"name": new_name, "role": new_role, "depts": new_depts, "password": new_password},
                             {"user": user, "role": role, "depts": depts, "grants": grants, "password": password})
        except UserError as exc:
            message = Message("adm_not_saved", exc=user_error_reason(exc)).text(viewer_lang())
        return message, users_table(atlas), _options(atlas)["users"]

    @app.callback(
        Output("adm-token-new", "children"), Output("adm-tokens", "children"),
        Input("adm-token-create", "n_clicks"), Input({"type": "adm-token-revoke", "token": ALL}, "n_clicks"),
        State("adm-token-user", "value"), State("adm-token-label", "value"), State("adm-token-expires", "value"),
        prevent_initial_call=True,
    )
    def on_token(_create, _revoke, username, label, expires):
        """Create a token (shown this once) or revoke one; admins only, every step in the audit log."""
        atlas, viewer = current_atlas(), current_principal()
        if not may_administer(viewer):
            return tr("not_allowed"), no_update
        trigger = ctx.triggered_id
        if not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update
        try:
            if trigger == "adm-token-create":
                if not username:
                    raise UserError(tr("adm_tk_pick_account"))
                new = atlas.tokens.add(username, label or "", actor=viewer.name, expires_at=_expiry(expires))
                shown = html.Div([
                    html.P(tr("adm_tk_made").format(id=new.token_id, user=username), className="oa-ok"),
                    html.Label(tr("adm_tk_new"), htmlFor="adm-token-value", className="oa-label"),
                    dcc.Input(id="adm-token-value", value=new.token, readOnly=True, className="oa-token-value")],
                    className="oa-token-once")
            elif isinstance(trigger, dict) and trigger.get("type") == "adm-token-revoke":
                atlas.tokens.revoke(str(trigger.get("token")), actor=viewer.name)
                shown = html.P(tr("adm_tk_revoked_msg").format(id=trigger.get("token")),
                               className="oa-ok")
            else:
                return no_update, no_update
        except UserError as exc:
            shown = html.P(Message("ra_not_done", exc=user_error_reason(exc)).text(viewer_lang()),
                           className="oa-error")
        return shown, tokens_table(atlas, viewer)

    @app.callback(
        Output({"type": "adm-meta", "field": ALL}, "value"), Output("adm-meta-message", "children"),
        Output("adm-meta-history", "children"),
        Input("adm-meta-indicator", "value"), Input("adm-meta-save", "n_clicks"),
        State({"type": "adm-meta", "field": ALL}, "value"), State({"type": "adm-meta", "field": ALL}, "id"),
        prevent_initial_call=True,
    )
    def on_metadata(indicator_id, _save, values, ids):
        """Pick an indicator: its fields; save: a new metadata version (admins only; the service checks)."""
        atlas, viewer = current_atlas(), current_principal()
        keep = [no_update] * len(ids or [])
        if not may_administer(viewer):
            return keep, tr("not_allowed"), no_update
        message = ""
        if ctx.triggered_id == "adm-meta-save" and indicator_id:
            changes = {i["field"]: v for i, v in zip(ids or [], values or []) if isinstance(i, dict)}
            visibility = changes.pop("visibility", None)
            try:
                result = versions.update_metadata(atlas, viewer, indicator_id, changes)
                names = _meta_names()
                message = (tr("adm_meta_saved").format(n=result["version"], fields=", ".join(
                    names.get(f, f) for f in result["changed"])) if result["changed"] else tr("adm_nothing"))
                if visibility and visibility != (versions.metadata(atlas, viewer, indicator_id) or {}).get(
                        "fields", {}).get("visibility"):
                    versions.set_visibility(atlas, viewer, indicator_id, visibility)
                    message = (message.replace(tr("adm_nothing"), "") + f" {tr('visibility')}: "
                               f"{tr('vis_' + visibility)}.").strip()
            except versions.VersionError as exc:  # its catalogue message in the page's language
                return keep, html.P(tr("adm_not_saved").format(exc=say(exc.args[0], viewer_lang())),
                                    className="oa-error"), no_update
        meta = versions.metadata(atlas, viewer, indicator_id)
        if meta is None:
            return [""] * len(ids or []), message, html.Div()
        fields = ["" if meta["fields"].get(i["field"]) is None else meta["fields"][i["field"]] for i in ids or []]
        return fields, message, metadata_history(meta)

    @app.callback(
        Output("adm-audit", "children"), Output("adm-audit-csv", "href"),
        Input("adm-audit-actor", "value"), Input("adm-audit-action", "value"), Input("adm-audit-indicator", "value"),
        Input("adm-audit-from", "value"), Input("adm-audit-to", "value"),
        Input("adm-message", "children"), Input("adm-token-new", "children"),
        Input("adm-requests-status", "children"), Input("adm-meta-message", "children"),
        prevent_initial_call=True,
    )
    def on_audit(actor, action, indicator, start, end, *_changes):
        """The log narrowed by the filters, again after every change made on this page."""
        atlas, viewer = current_atlas(), current_principal()
        if not may_administer(viewer):
            return tr("not_allowed"), ""
        where = audit_filter(actor, action, indicator, start, end)
        return audit_table(atlas, viewer, where), audit_csv_href(where)

    @app.callback(
        Output("adm-requests", "children"), Output("adm-requests-status", "children"),
        Input({"type": "adm-approve", "indicator": ALL}, "n_clicks"), prevent_initial_call=True,
    )
    def on_approve(clicks):
        atlas, viewer = current_atlas(), current_principal()
        trigger = ctx.triggered_id
        if not may_set_visibility(viewer):
            return no_update, tr("not_allowed")
        if not isinstance(trigger, dict) or not any(clicks or []):
            return no_update, no_update
        try:
            versions.set_visibility(atlas, viewer, trigger.get("indicator"), "public")
            message = tr("adm_now_public").format(id=trigger.get("indicator"))
        except versions.VersionError as exc:
            message = say(exc.args[0], viewer_lang())
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
