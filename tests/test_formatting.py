from __future__ import annotations

import random

import numpy as np
import pytest

from atlas.formatting import format_number, format_value, format_values
from atlas.messages import Message, number
from atlas.periods import period_end, period_label


@pytest.mark.parametrize("value,decimals,expected", [
    (1234567.891, 1, "1.234.567,9"), (0.5, 0, "0"), (-3.25, 2, "−3,25"), (-0.04, 1, "0,0"), (None, 1, "–"),
    (float("nan"), 1, "–"),
])
def test_german_numbers(value, decimals, expected):
    assert format_number(value, decimals) == expected


def test_english_numbers():
    assert format_number(1234.5, 1, "en") == "1,234.5"
    assert format_number(-1234.5, 1, "en") == "−1,234.5"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_negative_numbers_carry_the_real_minus_sign_in_both_languages(lang):
    """U+2212 as the profile's and the comparison's signed differences have it, never the hyphen-minus; and
    no sign at all on a value that rounds to zero."""
    for text in (format_number(-9.2, 1, lang), format_value(-9.2, "ok", 1, "%", lang),
                 format_values(np.array([-9.2]), np.array(["ok"], dtype=object), 1, "", lang)[0]):
        assert text.startswith("\u2212") and "-" not in text, text
    assert format_number(-0.04, 1, lang) == format_number(0.0, 1, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_numbers_in_messages_carry_the_same_minus_sign(lang):
    """A check or refusal message's numbers (atlas.messages renders its own whole numbers) match the page's."""
    text = Message("api_bad_q", limit=-1234).text(lang)
    assert "\u22121" in text and "-" not in text, text
    assert Message("api_bad_q", limit=number(-2.5, 1)).text(lang).count("\u2212") == 1
    assert Message("api_bad_q", limit=-1e-9).text(lang) == Message("api_bad_q", limit=0.0).text(lang)


def test_values_distinguish_zero_missing_and_suppressed():
    assert format_value(0.0, "ok", 1, "%") == "0,0 %"
    assert format_value(None, "missing", 1, "%") == "keine Daten"
    assert format_value(None, "suppressed", 1, "%") == "geheim gehalten"


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("decimals,unit", [(0, ""), (1, "%"), (2, "€")])
def test_column_formatting_matches_the_single_value_one(lang, decimals, unit):
    rng = random.Random(decimals)
    values = [rng.uniform(-5000, 5000) for _ in range(300)] + [-0.04, -0.0, 0.0, 1234567.891, 2.675, float("nan")]
    statuses = [rng.choice(["ok", "ok", "missing", "suppressed"]) for _ in values[:-6]] + ["ok"] * 6
    expected = [format_value(v, s, decimals, unit, lang) for v, s in zip(values, statuses)]
    assert format_values(np.array(values), np.array(statuses, dtype=object), decimals, unit, lang) == expected


def test_periods():
    assert str(period_end("2024-Q3")) == "2024-09-30"
    assert str(period_end("2024-02")) == "2024-02-29"
    assert period_label("2024-Q3") == "Q3 2024"
    with pytest.raises(ValueError):
        period_end("Q3/2024")
