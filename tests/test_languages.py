"""Two languages through one catalogue (issue 16): every page in German and in English, and nothing of the other.

Two kinds of check:
- the catalogue (atlas/i18n.py) is complete: every key has a German and an
  English text, they differ unless the word is the same in both languages
  (an allow-list), and every key the code asks for with `t("…")` exists;
- every page, anonymous and signed in (an admin sees every staff page), is
  rendered through the app as the browser asks for it (the shell, the page's
  layout, then each of the page's callbacks with the page's own values), and
  its visible text (text, labels, placeholders, titles, aria-labels, option
  labels) holds no string of the other language: no catalogue text that only
  the other language has, and in English no common German word.

Data are not translated here: area names, departments, sources and licences
are proper names and are taken out of the text before the word check.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from atlas.i18n import STRINGS
from tests.conftest import fresh_client, login
from tests.dash_requests import callback_payload
from tests.test_leaks import _walk, server_callbacks

ROOT = Path(__file__).resolve().parents[1]
# The same word in both languages (proper names, loan words, abbreviations).
SAME_IN_BOTH = {"app_title", "definition", "status", "format", "prof_trend", "prof_pdf", "ix_value", "ix_status",
                "pl_cl_kmeans", "pl_cl_cluster", "cmp_status_col", "up_neutral", "vt_version", "adm_au_detail", "adm_au_ip", "adm_tk_id",
                # upload checks: templates that only join other (translated) parts
                "chk_id_title", "chk_with_rows", "chk_where"}
EMPTY_ON_PURPOSE = {"prof_status_ok"}  # an 'ok' value needs no word next to it
PAGES = ["/", "/profil", "/profil/0101", "/vergleich", "/ziele", "/planung", "/indizes", "/upload", "/freigaben",
         "/admin", "/barrierefreiheit", "/impressum", "/datenschutz", "/gibt-es-nicht"]
WHO = {"anonymous": None, "admin": "admin", "steward": "jugendamt"}
TEXT_PROPS = {"children", "label", "placeholder", "title", "aria-label", "alt", "summary"}
NOT_TEXT = {"data", "figure", "hideout", "style", "id", "href", "className", "value", "options_data"}
# In an English page, none of these German words (whole words; data taken out first).
GERMAN_WORDS = re.compile(r"\b(der|die|das|und|oder|nicht|für|mit|von|bei|ist|sind|Sie|Ihre?[nm]?|keine?|Gebiet\w*|"
                          r"Zeitraum\w*|Freigabe\w*|freigeben|hochladen|Datei\w*|Zelle\w*|Ebene\w*|Konto\w*|"
                          r"Benutzer\w*|Wert\w*|Jahr\w*|Version\w* wartet|geheim\w*|Zähler|Nenner|Karte|Zurück)\b")
ENGLISH_WORDS = re.compile(r"\b(the|and|of|with|please|Search|Sign in|Upload data|Release|Period|Area|Value|Page)\b")
CALL = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']""")


# ------------------------------------------------------------------ catalogue
def test_every_message_has_both_languages():
    empty = sorted(k for k, (de, en) in STRINGS.items() if (not de.strip() or not en.strip())
                   and k not in EMPTY_ON_PURPOSE)
    assert empty == [], f"untranslated messages: {empty}"
    same = sorted(k for k, (de, en) in STRINGS.items() if de == en and de.strip() and k not in SAME_IN_BOTH)
    assert same == [], f"German and English are the same (translate, or allow in SAME_IN_BOTH): {same}"
    stale = sorted(SAME_IN_BOTH - {k for k, (de, en) in STRINGS.items() if de == en})
    assert stale == [], f"allowed as the same but translated now: {stale}"


def test_placeholders_are_the_same_in_both_languages():
    """'{n} Gebiete' and '{count} areas' would fail at run time in one language only."""
    field = re.compile(r"\{(\w*)\}")
    differ = {k: (de, en) for k, (de, en) in STRINGS.items() if sorted(field.findall(de)) != sorted(field.findall(en))}
    assert differ == {}


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    used: dict[str, str] = {}
    for path in list((ROOT / "atlas").rglob("*.py")):
        for key in CALL.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, str(path.relative_to(ROOT)))
    assert len(used) > 100  # the pattern finds the calls
    # 't("role_" + viewer.role)': a prefix, which some keys must start with
    missing = {k: where for k, where in used.items()
               if k not in STRINGS and not (k.endswith("_") and any(s.startswith(k) for s in STRINGS))}
    assert missing == {}, f"keys asked for but not in atlas/i18n.py: {missing}"


# ------------------------------------------------------------------ pages
def _texts(node, out: list[str]) -> None:
    """The visible text of a Dash component tree (or of a callback's output value)."""
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list):
        for item in node:
            _texts(item, out)
    elif isinstance(node, dict) and "props" in node and "type" in node:
        for key, value in (node["props"] or {}).items():
            if key in TEXT_PROPS:
                _texts(value, out)
            elif key == "options" and isinstance(value, list):
                for option in value:
                    _texts(option.get("label") if isinstance(option, dict) else option, out)
            elif key not in NOT_TEXT and isinstance(value, (dict, list)):
                _walk_components(value, out)


def _walk_components(node, out: list[str]) -> None:
    """Components nested in other props (a tab's children, a dict of labels): only their text props."""
    if isinstance(node, list):
        for item in node:
            _walk_components(item, out)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            _texts(node, out)
        else:
            for value in node.values():
                if isinstance(value, (dict, list)):
                    _walk_components(value, out)


def _output_texts(body: dict, out: list[str]) -> None:
    for props in (body.get("response") or {}).values():
        for prop, value in props.items():
            if prop in TEXT_PROPS:
                _texts(value, out)
            elif prop == "options" and isinstance(value, list):
                _texts([o.get("label") for o in value if isinstance(o, dict)], out)


def render(app, client, path: str, lang: str) -> list[str]:
    """Every visible text of `path` in `lang`: shell, layout, and the page's callbacks as the page first runs them."""
    out: list[str] = []
    values, router = open_page(app, client, path, lang, out)
    for key in server_callbacks(app):
        spec = app.callback_map[key]
        deps = spec["inputs"] + spec.get("state", [])
        if key == router or any(d["id"].startswith("{") for d in deps) or spec.get("prevent_initial_call"):
            continue
        if not all(f"{d['id']}.{d['property']}" in values for d in spec["inputs"]):
            continue  # not a callback of this page
        resp = client.post("/_dash-update-component", json=callback_payload(app, key, values))
        if resp.status_code == 200:
            _output_texts(resp.get_json(), out)
    return [s.strip() for s in out if isinstance(s, str) and s.strip()]


def _data_words(atlas) -> list[str]:
    """Proper names the pages show as they are in both languages, longest first."""
    from atlas.services import queries, territory
    words = {atlas.store.manifest().get("city", {}).get("name", ""), *atlas.users.all()}  # user names too
    for ind in atlas.indicators:
        words.update({ind.source, ind.department, ind.licence, ind.contact, ind.numerator or "",
                      ind.denominator or ""})
    for level in territory.level_ids(atlas):
        words.update(queries.areas(atlas, level, queries.current_set(atlas))["name"].astype(str))
    register = atlas.store.manifest().get("register", {})  # goals and measures: titles as the planners typed them
    words.update(entry["title"] for kind in ("goals", "measures") for entry in register.get(kind, {}).values())
    return sorted((w for w in words if w and len(w) > 2), key=len, reverse=True)


def _other_only(lang: str) -> tuple[set[str], list[str]]:
    """Catalogue texts only the other language has: whole texts, and long ones (found inside other text too)."""
    mine = {pair[lang == "en"] for pair in STRINGS.values()}
    theirs = {pair[lang != "en"] for pair in STRINGS.values()} - mine
    pieces = set()
    for text in theirs:  # the literal parts of a template ('{n} Zellen geheim' → ' Zellen geheim')
        pieces.update(p.strip() for p in re.split(r"\{\w*\}", text))
    whole = {p for p in pieces if len(p) >= 4}
    return whole, sorted((p for p in whole if len(p) >= 16), key=len, reverse=True)


def foreign(texts: list[str], lang: str, names: list[str]) -> list[str]:
    """The texts that are (or hold) a string of the other language."""
    whole, long = _other_only(lang)
    words = GERMAN_WORDS if lang == "en" else ENGLISH_WORDS
    found = []
    data = set(names)
    for text in texts:
        if text in data:  # a name is the same in both languages ('intern' the account, not the word)
            continue
        plain = text
        for name in names:
            plain = plain.replace(name, " ")
        if text in whole or any(p in text for p in long) or words.search(plain):
            found.append(text)
    return sorted(set(found))


@pytest.fixture(scope="module")
def names(atlas):
    return _data_words(atlas)


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_page_speaks_one_language(scratch_app, scratch_atlas, names, who, lang):
    client = fresh_client(scratch_app)
    if WHO[who]:
        login(client, WHO[who])
    wrong = {}
    for path in PAGES:
        texts = render(scratch_app, client, path, lang)
        assert texts, path
        bad = foreign(texts, lang, names)
        if bad:
            wrong[path] = bad
    assert wrong == {}, f"{who}, {lang}: strings of the other language: {wrong}"


def test_the_check_finds_a_page_in_the_wrong_language(names):
    """The detector itself: a German sentence in an English page, an English one in a German page."""
    assert foreign(["Für diese Seite fehlt Ihnen die Berechtigung."], "en", names)
    assert foreign([STRINGS["nav_upload"][0]], "en", names)
    assert foreign([STRINGS["nav_upload"][1]], "de", names)
    assert not foreign([STRINGS["nav_upload"][1], "Altstadt"], "en", names)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_staff_action_answers_in_the_pages_language(scratch_app, lang):
    """A callback's answer (here: 'save' with no account chosen) is in the language of the page that asked."""
    from tests.test_leaks import admin_action
    client = fresh_client(scratch_app)
    login(client, "admin")
    values, _ = open_page(scratch_app, client, "/admin", lang)
    body = client.post("/_dash-update-component", json=admin_action(scratch_app, "save", values)).get_json()
    message = body["response"]["adm-message"]["children"]
    assert message == STRINGS["adm_not_saved"][lang == "en"].format(exc=STRINGS["adm_pick_account"][lang == "en"])


def open_page(app, client, path: str, lang: str, texts: list[str] | None = None) -> tuple[dict, str]:
    """Open `path` in `lang` as the browser does (the shell, then the page router): the components' values, the
    router's callback key; the visible text of both goes to `texts`."""
    query = "?lang=en" if lang == "en" else ""
    client.environ_base["HTTP_REFERER"] = f"http://localhost{path}{query}"  # Dash's requests carry no query
    client.get(path + query)
    texts = [] if texts is None else texts
    shell = client.get("/_dash-layout").get_json()
    _texts(shell, texts)
    values = {"_pages_location.pathname": path, "_pages_location.search": query}
    _walk(shell, values)
    router = next(k for k in app.callback_map if "_pages_content.children" in k)
    body = client.post("/_dash-update-component", json=callback_payload(app, router, values)).get_json()
    _output_texts(body, texts)
    _walk(body, values)
    return values, router


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_upload_scripts_words_come_from_the_catalogue(scratch_app, lang):
    """assets/upload.js says what the drop zone hands it (data-words), in the page's language."""
    import json
    client = fresh_client(scratch_app)
    login(client, "admin")
    values, _ = open_page(scratch_app, client, "/upload", lang)
    words = json.loads(values["up-drop.data-words"])
    expected = {k: pair[lang == "en"] for k, pair in STRINGS.items() if k.startswith("js_")}
    assert len(expected) > 10 and all(words[k] == text for k, text in expected.items())
    script = (ROOT / "assets" / "upload.js").read_text(encoding="utf-8")
    used = {k for k in re.findall(r"""word\(\w+, ["'](\w+)["']""", script) if not k.endswith("_")}
    used |= {f"js_stage_{s}" for s in re.search(r"const STAGES = \[([^\]]*)\]", script).group(1)
             .replace('"', "").replace(" ", "").split(",")}  # 'js_stage_' + the stage
    assert used - set(words) == set(), "every word the script asks for is handed to it"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_server_rendered_pages_speak_one_language(dash_app, names, lang):
    """The pages Flask renders itself (sign-in, print view): their text and their named attributes."""
    client = fresh_client(dash_app)
    wrong = {}
    for path in ("/login", "/print?indicator=sgb2_quote&area=0101"):
        query = ("&" if "?" in path else "?") + "lang=en" if lang == "en" else ""
        page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", client.get(path + query).get_data(as_text=True),
                      flags=re.S)
        texts = [part.strip() for part in re.split(r"<[^>]+>", page) if part.strip()]
        texts += re.findall(r'(?:placeholder|aria-label|title|alt)="([^"]+)"', page)
        assert len(texts) > 3, path
        if bad := foreign(texts, lang, names):
            wrong[path] = bad
    assert wrong == {}
