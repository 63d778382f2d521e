/* Brushing on the compare page's scatter tab (issue 14).
 *
 * The highlight list (#cmp-rel-brushed, a multi-select of area keys) is the
 * one state: a box or lasso in the scatter sets it, a click on an area of
 * the map next to it adds or removes that area, and keyboard users edit the
 * list itself. The map highlights the listed areas (the others fade), the
 * scatter shows their points as selected. Area keys are public geography,
 * so none of this needs the server.
 */
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  const nu = function () { return window.dash_clientside.no_update; };

  function triggered() {
    const t = window.dash_clientside.callback_context.triggered[0] || {};
    return t.prop_id || "";
  }

  // The keys of the points a box or lasso caught (the regression line is trace 1: never an area).
  function chartKeys(selected) {
    return ((selected && selected.points) || []).filter(function (p) { return p.curveNumber === 0; })
      .map(function (p) { return p.customdata; }).filter(function (k) { return typeof k === "string"; });
  }

  function same(a, b) {
    if (a.length !== b.length) { return false; }
    const set = new Set(a);
    return b.every(function (k) { return set.has(k); });
  }

  ns.brush = {
    // The new highlight list after a brush in the scatter, a click on the map, or a new pair of indicators.
    update: function (selected, click, ids, options) {
      const t = triggered();
      const current = Array.isArray(ids) ? ids : [];
      if (t.startsWith("cmp-rel-chart.")) {
        const keys = chartKeys(selected);
        return same(keys, current) ? nu() : keys;
      }
      if (t.startsWith("cmp-rel-geojson.")) {
        const key = click && click.properties && click.properties.id;
        const known = (options || []).some(function (o) { return o.value === key; });
        if (!known) { return nu(); }  // an area left out of the scatter has no point to highlight
        return current.indexOf(key) >= 0 ? current.filter(function (k) { return k !== key; }) : current.concat([key]);
      }
      return current.length ? [] : nu();  // other indicators or level: start afresh
    },
    // The scatter with the listed areas' points selected, unless the scatter itself just selected them.
    points: function (ids, figure, selected) {
      const keys = Array.isArray(ids) ? ids : [];
      if (!figure || !figure.data || !figure.data.length || same(keys, chartKeys(selected))) { return nu(); }
      const set = new Set(keys);
      const trace = Object.assign({}, figure.data[0]);
      const index = (trace.customdata || []).map(function (k, i) { return set.has(k) ? i : -1; })
        .filter(function (i) { return i >= 0; });
      trace.selectedpoints = keys.length ? index : null;
      return Object.assign({}, figure, {data: [trace].concat(figure.data.slice(1))});
    },
    // The map's style: the explorer's colours; with a highlight, the listed areas outlined, the others faded.
    style: function (feature, context) {
      const base = ns.map.style(feature, context);
      const h = (context && context.hideout) || {};
      if (!h.hl || !h.hl.length) { return base; }
      if (h.hl.indexOf(feature.properties.id) >= 0) {
        return Object.assign(base, {weight: 3, color: "#000000", opacity: 1, fillOpacity: 1});
      }
      return Object.assign(base, {weight: 1, opacity: 0.4, fillOpacity: 0.2});
    },
    // The explorer's tooltip, and the area's key on its path (tests and assistive checks find the area by it).
    tooltip: function (feature, layer) {
      ns.map.tooltip(feature, layer);
      layer.on("add", function () {
        if (layer._path) { layer._path.setAttribute("data-area", feature.properties.id); }
      });
    }
  };
})(window.ortsatlas);
