"""UI strings: German first, English second. Unknown keys fail loudly in tests."""
from __future__ import annotations

LANGS = ("de", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("Ortsatlas", "Ortsatlas"),
    "nav_map": ("Karte", "Map"),
    "indicator": ("Indikator", "Indicator"),
    "indicator_search": ("Indikator suchen …", "Search indicator …"),
    "period": ("Zeitraum", "Period"),
    "method": ("Klassenbildung", "Classification"),
    "classes": ("Klassen", "Classes"),
    "timeseries": ("Zeitreihe", "Time series"),
    "info": ("Über den Indikator", "About the indicator"),
    "controls": ("Auswahl", "Selection"),
    "click_area": ("Ortsteil in der Karte antippen, um seine Zeitreihe zu sehen.",
                   "Tap an Ortsteil on the map to see its time series."),
    "unavailable_view": ("Die angeforderte Ansicht ist nicht verfügbar. Es wird die Standardansicht gezeigt.",
                         "The requested view is not available. Showing the default view."),
    "no_indicators": ("Für Sie sind keine Indikatoren freigegeben.", "No indicators are released to you."),
    "definition": ("Definition", "Definition"),
    "unit": ("Einheit", "Unit"),
    "source": ("Quelle", "Source"),
    "department": ("Fachamt", "Department"),
    "contact": ("Ansprechperson", "Contact"),
    "last_update": ("Letzte Aktualisierung", "Last update"),
    "licence": ("Lizenz", "Licence"),
    "numerator": ("Zähler", "Numerator"),
    "denominator": ("Nenner", "Denominator"),
    "periods": ("Verfügbare Zeiträume", "Available periods"),
    "visibility": ("Sichtbarkeit", "Visibility"),
    "vis_public": ("öffentlich", "public"),
    "vis_internal": ("intern", "internal"),
    "vis_restricted": ("eingeschränkt (Fachamt)", "restricted (department)"),
    "not_aggregable": ("Nicht auf Stadtbezirk und Stadt aggregierbar.", "Not aggregable to district and city."),
    "boundary_change": ("Gebietsstand", "Boundaries"),
    "predecessor": ("Vorgänger", "Predecessor"),
    "city": ("Stadt", "City"),
    "district": ("Stadtbezirk", "District"),
    "points": ("Einrichtungen", "Facilities"),
    "layer_kita": ("Kitas", "Day-care centres"),
    "layer_grundschule": ("Grundschulen", "Primary schools"),
    "layer_weiterfuehrende_schule": ("Weiterführende Schulen", "Secondary schools"),
    "layer_familienzentrum": ("Familienzentren", "Family centres"),
    "capacity": ("Plätze", "Places"),
    "gaps_note": ("Lücken in der Linie: keine Daten oder geheim gehalten.",
                  "Gaps in a line: no data or suppressed."),
    "language": ("English", "Deutsch"),
    "login": ("Anmelden", "Sign in"),
    "logout": ("Abmelden", "Sign out"),
    "nav_admin": ("Verwaltung", "Administration"),
    "role_public": ("Öffentlichkeit", "public"),
    "role_internal": ("intern", "internal"),
    "role_steward": ("Datenpflege", "data steward"),
    "role_admin": ("Administration", "admin"),
    "not_allowed": ("Für diese Seite fehlt Ihnen die Berechtigung.", "You are not allowed to see this page."),
    "users": ("Benutzerkonten", "User accounts"),
    "audit": ("Protokoll", "Audit log"),
    "add_user": ("Konto anlegen", "Add account"),
    "change_user": ("Konto ändern", "Change account"),
    "username": ("Benutzername", "User name"),
    "password": ("Passwort", "Password"),
    "role": ("Rolle", "Role"),
    "departments": ("Fachämter", "Departments"),
    "grants": ("Freigaben (eingeschränkte Indikatoren)", "Grants (restricted indicators)"),
    "status": ("Status", "Status"),
    "active": ("aktiv", "active"),
    "disabled": ("gesperrt", "disabled"),
    "save": ("Speichern", "Save"),
    "disable": ("Sperren", "Disable"),
    "enable": ("Entsperren", "Enable"),
    "new_password": ("Neues Passwort (leer = unverändert)", "New password (empty = unchanged)"),
    "saved": ("Gespeichert.", "Saved."),
}


def t(key: str, lang: str = "de") -> str:
    de, en = STRINGS[key]
    return en if lang == "en" else de


def norm_lang(value: str | None) -> str:
    return value if value in LANGS else "de"
