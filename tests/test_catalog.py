"""The catalogue refuses to guess: a missing visibility must never become public."""
from __future__ import annotations

import pytest

from atlas.catalog import CatalogError, load_catalog
from atlas.config import PROJECT_ROOT

GOOD = '''
[domain]
id = "d"
title_de = "D"
title_en = "D"
order = 1

[[indicator]]
id = "x1"
title_de = "X"
title_en = "X"
definition_de = "x"
definition_en = "x"
unit = "%"
department = "statistik"
visibility = "public"
polarity = "neutral"
decimals = 1
aggregation = "sum"
periodicity = "year"
source = "s"
contact = "c"
licence = "l"
'''


def write(tmp_path, text):
    (tmp_path / "01_d.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_shipped_catalogue_loads_with_all_demo_domains():
    domains, indicators = load_catalog(PROJECT_ROOT / "layers")
    assert len(domains) == 8 and len(indicators) >= 30
    non_public = [i for i in indicators if i.visibility != "public"]
    assert len(non_public) >= len(indicators) / 3
    assert any(i.visibility == "restricted" and i.department == "jugend" for i in indicators)


def test_minimal_file_loads(tmp_path):
    assert load_catalog(write(tmp_path, GOOD))[1][0].id == "x1"


def test_missing_visibility_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="visibility"):
        load_catalog(write(tmp_path, GOOD.replace('visibility = "public"\n', "")))


@pytest.mark.parametrize("old,new,message", [
    ('visibility = "public"', 'visibility = "everyone"', "visibility"),
    ('unit = "%"', 'unit = "%"\ncolour = "red"', "unknown key"),
    ('aggregation = "sum"', 'aggregation = "ratio"', "ratio needs"),
    ('id = "x1"', 'id = "X 1"', "id must match"),
])
def test_malformed_entries_name_file_indicator_and_key(tmp_path, old, new, message):
    with pytest.raises(CatalogError) as exc:
        load_catalog(write(tmp_path, GOOD.replace(old, new)))
    english = exc.value.args[0].text("en")  # a steward reads it in either language; str() is the German text
    assert message in english and "01_d.toml" in english
    assert "01_d.toml" in str(exc.value) and "Indikator" in str(exc.value)
