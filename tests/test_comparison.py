"""Comparison services and routes: areas side by side, change across periods, relations of two indicators.

Every number must be one the values service gives the same viewer; a change
or a correlation never uses a suppressed or missing cell; an area that broke
across a boundary change is 'not comparable', never a number; hidden
indicators answer like unknown ones.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from atlas.services import comparison, queries, territory
from auth.permissions import ANONYMOUS, Principal
from tests.conftest import fresh_client, login
from tests.test_leaks import GHOST, post, secrets, server_callbacks

STAFF = Principal("intern", "internal", logged_in=True)


def test_compare_table_is_the_values_service_for_areas_parents_and_territory(atlas):
    table = comparison.compare_table(atlas, ANONYMOUS, ["0101", "0208", "02", "nope"], ["sgb2_quote", "kaufkraft"])
    assert set(table["indicator_id"]) == {"sgb2_quote"}  # kaufkraft is internal: left out like an unknown id
    roles = dict(zip(table["area_id"], table["role"]))
    top = territory.top_level(atlas)
    assert roles["0101"] == roles["0208"] == roles["02"] == "area" and roles["01"] == "parent"
    assert table.loc[table["role"] == "territory", "level"].tolist() == [top]
    period = queries.periods(atlas, ANONYMOUS, "sgb2_quote")[-1]
    for row in table.itertuples():
        rows = queries.values(atlas, ANONYMOUS, "sgb2_quote", period, row.level).rows.set_index("area_id")
        assert row.period == period and row.status == rows.loc[row.area_id, "status"]
        assert row.value == pytest.approx(rows.loc[row.area_id, "value"], nan_ok=True)


def test_at_most_six_areas(atlas):
    keys = queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas))["area_id"].tolist()[:9]
    assert len(comparison.resolve_areas(atlas, keys)) == comparison.MAX_AREAS


def test_compare_series_breaks_at_a_boundary_change(atlas):
    series = comparison.compare_series(atlas, ANONYMOUS, ["0101", "0208"], "bev_u6")
    new_area = series[series["area_id"] == "0208"]
    first_new = str(queries.boundary_sets(atlas).iloc[-1]["valid_from"].year)
    assert len(new_area) and (new_area["period"] >= first_new).all()  # nothing before the split
    assert len(series[series["area_id"] == "0101"]) == len(queries.periods(atlas, ANONYMOUS, "bev_u6"))
    assert comparison.compare_series(atlas, ANONYMOUS, ["0101"], "kaufkraft") is None


def test_change_is_never_a_number_across_a_boundary_change_or_beside_a_hidden_cell(atlas):
    periods = queries.periods(atlas, ANONYMOUS, "seu_masern")
    old, new = next(p for p in periods if p < "2022"), periods[-1]
    table = comparison.change(atlas, ANONYMOUS, "seu_masern", old, new)
    rows = table.rows.set_index("area_id")
    assert rows.loc["0208", "status"] == rows.loc["0209", "status"] == "not_comparable"
    before = queries.values(atlas, ANONYMOUS, "seu_masern", old).rows.set_index("area_id")
    after = queries.values(atlas, ANONYMOUS, "seu_masern", new).rows.set_index("area_id")
    assert set(rows["status"]) <= set(comparison.CHANGE_STATUSES)
    for key, row in rows.iterrows():
        if row["status"] == "ok":
            assert row["change"] == pytest.approx(after.loc[key, "value"] - before.loc[key, "value"])
        else:
            assert np.isnan(row["change"])
        if key in after.index and after.loc[key, "status"] == "suppressed" and row["status"] != "not_comparable":
            assert row["status"] == "suppressed" and np.isnan(row["to_value"])
        if key in before.index and before.loc[key, "status"] == "suppressed" and row["status"] != "not_comparable":
            assert row["status"] == "suppressed"  # visible value ± change would give the hidden one
    assert (rows["status"] == "suppressed").any()
    labels = comparison.change_classes(table).labels
    assert "nicht vergleichbar" in labels and table.measure == "pp"


def test_change_of_counts_gives_percent_and_unreadable_periods_are_refused(atlas):
    periods = queries.periods(atlas, ANONYMOUS, "bev_gesamt")
    table = comparison.change(atlas, ANONYMOUS, "bev_gesamt", periods[-9], periods[-1])
    ok = table.rows[table.rows["status"] == "ok"]
    assert np.allclose(ok["change_pct"], (ok["to_value"] - ok["from_value"]) / ok["from_value"] * 100)
    with pytest.raises(ValueError):
        comparison.change(atlas, ANONYMOUS, "sgb2_quote", "2025-Q4", "2024-Q4")  # a draft: not readable
    assert comparison.change(atlas, ANONYMOUS, "kaufkraft", "2024", "2025") is None


def test_change_classes_are_centred_on_zero(atlas):
    periods = queries.periods(atlas, ANONYMOUS, "bev_gesamt")
    c = comparison.change_classes(comparison.change(atlas, ANONYMOUS, "bev_gesamt", periods[0], periods[-1]), 5)
    bounds = [e["label"] for e in c.legend[:5]]
    assert bounds[2].startswith("−") and bounds[2].split(" – ")[1] == bounds[2].split(" – ")[0].replace("−", "+")
    assert c.legend[5]["label"] == "nicht vergleichbar" and c.legend[5]["count"] == 2
    assert c.colors[5] == comparison.NOT_COMPARABLE_COLOR
    from atlas.classify import MISSING_COLOR, SCHEMES, SUPPRESSED_COLOR
    scheme_colors = {col for by_k in SCHEMES.values() for cols in by_k.values() for col in cols}
    assert comparison.NOT_COMPARABLE_COLOR not in scheme_colors | {MISSING_COLOR, SUPPRESSED_COLOR}


def test_correlation_matches_scipy_and_lists_what_it_left_out(atlas):
    found = comparison.relation(atlas, ANONYMOUS, "sgb2_u15", "uebergang_gym", "2024")
    x_rows = queries.values(atlas, ANONYMOUS, "sgb2_u15", "2024").rows.set_index("area_id")
    y_rows = queries.values(atlas, ANONYMOUS, "uebergang_gym", "2024").rows.set_index("area_id")
    both = [k for k in x_rows.index if k in y_rows.index
            and x_rows.loc[k, "status"] == "ok" and y_rows.loc[k, "status"] == "ok"]
    x, y = x_rows.loc[both, "value"].to_numpy(float), y_rows.loc[both, "value"].to_numpy(float)
    assert found.n == len(both) and len(found.left_out) == len(set(x_rows.index) | set(y_rows.index)) - len(both)
    assert len(found.left_out) > 0  # the demo city suppresses small numbers here
    assert found.pearson == pytest.approx(stats.pearsonr(x, y)[0])
    assert found.spearman == pytest.approx(stats.spearmanr(x, y)[0])
    fit = stats.linregress(x, y)
    assert (found.slope, found.intercept) == (pytest.approx(fit.slope), pytest.approx(fit.intercept))
    assert comparison.relation(atlas, ANONYMOUS, "sgb2_u15", "kaufkraft") is None
    assert comparison.relation(atlas, STAFF, "sgb2_u15", "kaufkraft") is not None


def test_routes_answer_hidden_indicators_like_unknown_ones(dash_app, atlas):
    client = fresh_client(dash_app)
    hidden = [i for i in atlas.indicators if i.visibility != "public"]
    urls = ["/api/v1/compare?area=0101&area=02&indicator={}", "/api/v1/change?indicator={}&from=2020&to=2024",
            "/api/v1/correlation?x={}&y=sgb2_u15&period=2024", "/api/v1/correlation?x=sgb2_u15&y={}",
            "/api/v1/compare?area=0101&indicator=sgb2_u15&indicator={}"]
    for url in urls:
        ghost = client.get(url.format(GHOST))
        for ind in hidden:
            resp = client.get(url.format(ind.id))
            body = resp.get_data(as_text=True)
            assert resp.status_code == ghost.status_code, (url, ind.id)
            assert body.replace(ind.id, GHOST) == ghost.get_data(as_text=True), (url, ind.id)
            assert not any(s in body for s in secrets(ind))


def test_routes_answer_with_the_services(dash_app, atlas):
    client = fresh_client(dash_app)
    doc = client.get("/api/v1/change?indicator=bev_gesamt&from=2015-Q4&to=2024-Q4").get_json()
    status = {r["area_id"]: r["status"] for r in doc["rows"]}
    assert status["0208"] == "not_comparable" and doc["measure"] == "abs"
    csv_text = client.get("/api/v1/change?indicator=bev_gesamt&from=2015-Q4&to=2024-Q4&format=csv").get_data(
        as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert len(lines) == len(doc["rows"]) + 1 and "not_comparable" in next(x for x in lines if ";0208;" in x)
    draft = client.get("/api/v1/change?indicator=sgb2_quote&from=2025-Q4&to=2024-Q4")
    ghost = client.get("/api/v1/change?indicator=sgb2_quote&from=2031-Q4&to=2024-Q4")
    assert draft.status_code == 400 and draft.get_data() == ghost.get_data()
    corr = client.get("/api/v1/correlation?x=sgb2_u15&y=uebergang_gym&period=2024").get_json()
    assert corr["n"] + len(corr["left_out"]) == len(queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas)))
    rows = client.get("/api/v1/compare?area=0101&area=0201&indicator=sgb2_u15,bev_u6").get_json()["rows"]
    assert {r["indicator_id"] for r in rows} == {"sgb2_u15", "bev_u6"}
    staff = fresh_client(dash_app)
    login(staff, "intern")
    assert staff.get("/api/v1/compare?area=0101&indicator=kaufkraft").status_code == 200


def _compare_defaults(client, app) -> dict:
    from tests.test_leaks import page_values
    return page_values(client, app, "/vergleich")


def test_compare_callbacks_answer_hidden_indicators_like_unknown_ones(dash_app, atlas):
    """test_leaks walks every callback with the defaults of '/' and '/admin'; these get their own page's."""
    client = fresh_client(dash_app)
    defaults = _compare_defaults(client, dash_app)
    defaults.update({"cmp-areas.value": ["0101", "0208", "02"]})
    hidden = [i for i in atlas.indicators if i.visibility != "public"][:4]
    keys = [k for k in server_callbacks(dash_app) if "cmp-" in k]
    assert keys
    checked = 0
    for key in keys:
        spec = dash_app.callback_map[key]
        for dep in spec["inputs"] + spec.get("state", []):
            pos = f"{dep['id']}.{dep['property']}"
            if dep["id"].startswith("{"):
                continue
            as_list = isinstance(defaults.get(pos), list)
            ghost = post(client, dash_app, key, {**defaults, pos: [GHOST] if as_list else GHOST})
            for ind in hidden:
                status, body = post(client, dash_app, key, {**defaults, pos: [ind.id] if as_list else ind.id})
                assert status == ghost[0], (key, pos)
                assert body.replace(ind.id, GHOST) == ghost[1], (key, pos, ind.id)
                assert not any(s in body for s in secrets(ind)), (key, pos)
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("method,tolerance", [("range", 0.3), ("zscore", 0.8)])
def test_similar_areas_match_a_reference_computed_with_numpy(atlas, method, tolerance):
    ids = ["sgb2_u15", "uebergang_gym"]
    found = comparison.similar(atlas, ANONYMOUS, "0101", ids + ["kaufkraft"], None, tolerance, method)
    assert found.indicators == ids  # the internal one is left out like an unknown id
    frames = [queries.values(atlas, ANONYMOUS, i, found.periods[i]).rows.set_index("area_id") for i in ids]
    keys = sorted(k for k in frames[0].index if all(k in f.index and f.loc[k, "status"] == "ok" for f in frames))
    values = np.array([[f.loc[k, "value"] for f in frames] for k in keys], dtype=float)
    ref = values[keys.index("0101")]
    if method == "range":
        dist = (np.abs(values - ref) / np.ptp(values, axis=0)).max(axis=1)
    else:
        dist = np.sqrt((((values - ref) / values.std(axis=0, ddof=1)) ** 2).mean(axis=1))
    expected = {k: d for k, d in zip(keys, dist) if d <= tolerance}
    assert set(found.rows["area_id"]) == set(expected) and len(expected) > 1
    for row in found.rows.itertuples():
        assert row.distance == pytest.approx(expected[row.area_id])
    assert found.rows["area_id"].iloc[0] == "0101" and found.rows["distance"].is_monotonic_increasing
    assert sorted(found.left_out["area_id"]) == sorted((set(frames[0].index) | set(frames[1].index)) - set(keys))


def test_similar_route_answers_hidden_indicators_like_unknown_ones(dash_app, atlas):
    client = fresh_client(dash_app)
    doc = client.get("/api/v1/similar?area=0101&indicators=sgb2_u15,uebergang_gym&method=zscore&tolerance=0.8")
    assert doc.status_code == 200 and doc.get_json()["rows"][0]["area_id"] == "0101"
    for ind in (i for i in atlas.indicators if i.visibility != "public"):
        for url in ("/api/v1/similar?area=0101&indicators={}", "/api/v1/similar?area=0101&indicators=sgb2_u15,{}"):
            asked, ghost = client.get(url.format(ind.id)), client.get(url.format(GHOST))
            assert asked.status_code == ghost.status_code
            assert asked.get_data() == ghost.get_data()
