"""Check messages in both languages (issue 16): a catalogue key and its parameters, rendered late.

Uploads, boundary and grid files, crosswalks and indicator definitions sent
with an upload all report through it, so it sits with the pure modules.
A check knows what went wrong (row, column, what was expected) but not who
reads the report: the upload page renders it in the viewer's language, the API
in the caller's, the log in German. So a check builds a `Message`: the
catalogue key (`chk_*` in atlas/i18n.py) and its parameters. It *is* the
German text (a str), so joining, logging and the stored `message` field stay
as before; `problem()` stores its key and parameters next to that text, and
`problem_text()` renders a stored entry in any language. A report stored
before messages had keys has only its German text, which is shown as it is.

Parameters are rendered per language too: whole numbers with the language's
thousands separator, fractions with its decimal sign, lists joined, and a
nested `Message` (a cell's reason inside a row's message) in the same language, days as 31.12.2024 or
2024-12-31.
"""
from __future__ import annotations

from datetime import date

from atlas.formatting import format_day, format_number, localised
from atlas.i18n import STRINGS, t
from atlas.periods import period_label


class Message(str):
    """A check's message: German text (the str value) plus the key and parameters to render it in any language."""

    key: str
    params: dict

    def __new__(cls, key: str, /, **params) -> Message:
        text = render(key, params, "de")
        obj = super().__new__(cls, text)
        obj.key, obj.params = key, params
        return obj

    def text(self, lang: str) -> str:
        return render(self.key, self.params, lang)

    def to_json(self) -> dict:
        """Key and parameters as JSON (nested messages as {"key", "params"}), for a stored report."""
        return {"key": self.key, "params": {k: _param_json(v) for k, v in self.params.items()}}


def both(de: str, en: str) -> dict:
    """A parameter the data names in both languages (an indicator's title)."""
    return {"de": de, "en": en}


def period(key: str) -> dict:
    """A period as a parameter: '2024-Q4' reads '4. Quartal 2024' or 'Q4 2024'."""
    return {"period": key}


def number(value: float, decimals: int | None = None, unit: str = "") -> dict:
    """A number as a parameter: `decimals` as the indicator shows it (None: as many as it has), with its unit."""
    return {"number": float(value), "decimals": decimals, "unit": unit}


def _param_json(value):
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_param_json(v) for v in value]
    if isinstance(value, dict):  # both(), period(), number()
        return {k: _param_json(v) for k, v in value.items()}
    if isinstance(value, date):
        return {"date": value.isoformat()[:10]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _number(value: int | float, lang: str) -> str:
    """`12345` → `12.345` (de) / `12,345` (en); `0.125` → `0,125` / `0.125` (as many decimals as it has)."""
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return localised("0" if text == "-0" else text, lang)  # separators and the real minus, as format_number


def _param_text(value, lang: str) -> str:
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, dict) and "key" in value:  # a nested message read back from JSON
        return render(value["key"], value.get("params") or {}, lang)
    if isinstance(value, dict) and "period" in value:
        return period_label(value["period"], lang)
    if isinstance(value, dict) and "number" in value:
        text = _decimals(value["number"], value.get("decimals"), lang)
        return f"{text} {value['unit']}" if value.get("unit") else text
    if isinstance(value, dict) and "de" in value:
        return str(value.get(lang) or value["de"])
    if isinstance(value, dict) and "date" in value:
        return _param_text(date.fromisoformat(value["date"]), lang)
    if isinstance(value, date):
        return format_day(value, lang)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return _number(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(_param_text(v, lang) for v in value)
    return str(value)


def _decimals(value: float, decimals: int | None, lang: str) -> str:
    """`value` with `decimals` places, or (None) as many as it has up to 6: never scientific notation."""
    if decimals is None:
        decimals = next((d for d in range(7) if abs(round(value, d) - value) <= 1e-9 * max(1.0, abs(value))), 6)
    return format_number(value, decimals, lang)


def render(key: str, params: dict, lang: str) -> str:
    """The catalogue text of `key` in `lang` with its parameters filled in (each in `lang` as well)."""
    return t(key, lang).format(**{k: _param_text(v, lang) for k, v in params.items()})


def problem_text(entry: dict, lang: str) -> str:
    """The text of a report entry in `lang`: from its key when it has one the catalogue knows, else (a report
    stored before entries had keys) its stored text."""
    key = entry.get("key")
    if key in STRINGS:
        try:
            return render(key, entry.get("params") or {}, lang)
        except (KeyError, IndexError, ValueError):  # a stored entry from an older wording of the message
            pass
    return str(entry.get("message", ""))


def in_language(entries: list[dict], lang: str) -> list[dict]:
    """Report entries with `message` in `lang` (copies; key and parameters dropped: for display and the API)."""
    return [{k: v for k, v in e.items() if k not in ("key", "params")} | {"message": problem_text(e, lang)}
            for e in entries]


def say(text: str, lang: str) -> str:
    """Any message in `lang`: a `Message` rendered, other text (from a layer without keys) as it is."""
    return text.text(lang) if isinstance(text, Message) else str(text)
