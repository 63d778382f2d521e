/* The map from vector tiles, for levels of many thousand areas (issue 19, the third path).
 *
 * The server marks such a level by sending, instead of GeoJSON features, an
 * empty FeatureCollection with `tiles` (the address template of the tiles
 * stored with the boundary set), `minzoom`, `maxzoom` and `bounds`. Then this
 * file loads Leaflet.VectorGrid (assets/vendor, only now: other pages and
 * smaller maps never load it) and draws the tiles on canvases, coloured from
 * the same `hideout` as the GeoJSON map (feature id = the area's index in the
 * hideout's arrays). A new hideout restyles the features of the tiles already
 * loaded, without fetching a tile again; a click selects the area
 * (`ex-selected`, as a click on the GeoJSON map), hovering names it.
 */
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  const VENDOR = "/assets/vendor/leaflet.vectorgrid-1.3.0.bundled.min.js";
  const LAYER = "areas";
  const maps = [];
  if (window.L && L.Map && !L.Map.oaTracked) {  // dash-leaflet keeps its Leaflet map to itself: note each one made
    L.Map.oaTracked = true;
    L.Map.addInitHook(function () { maps.push(this); });
  }
  const state = {layer: null, url: null, map: null, hideout: {}, hover: null, tip: null};

  function explorerMap() {
    for (let i = maps.length - 1; i >= 0; i--) {
      const box = maps[i].getContainer();
      if (box && box.isConnected && box.closest(".oa-map-inner")) { return maps[i]; }
    }
    return null;
  }

  let loading = null;
  function vendor() {
    if (L.VectorGrid && L.VectorGrid.Protobuf) { return Promise.resolve(); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = VENDOR;
        script.onload = function () {
          // VectorGrid 1.3.0 calls L.DomEvent.fakeStop on a click, which Leaflet 1.9 no longer has.
          if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stopPropagation; }
          pointerFix();
          resolve();
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  // VectorGrid finds the feature under the pointer from map pixels, which is right only at the tiles' own zoom;
  // the map zooms in quarter steps and past the finest tiles, where each tile canvas is scaled. The point in
  // the canvas is taken from the canvas's place on the screen instead, right at every zoom.
  function tilePoint(renderer, e) {
    const r = renderer._container.getBoundingClientRect();
    return L.point((e.clientX - r.left) * renderer._size.x / r.width, (e.clientY - r.top) * renderer._size.y / r.height);
  }
  function pointerFix() {
    const T = L.Canvas.Tile.prototype;
    T._onMouseMove = function (e) {
      if (!this._map || this._map.dragging.moving() || this._map._animatingZoom) { return; }
      this._handleMouseHover(e, tilePoint(this, e));
    };
    T._onClick = function (e) {
      if (!this._map) { return; }
      const point = tilePoint(this, e);
      let hit = null;
      for (const id in this._layers) {
        const layer = this._layers[id];
        if (layer.options.interactive && layer._containsPoint(point) && !this._map._draggableMoved(layer)) { hit = layer; }
      }
      if (hit) { L.DomEvent.stopPropagation(e); this._fireEvent([hit], e); }
    };
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  // The style of area i from the hideout: as assets/map.js styles the GeoJSON map on a canvas.
  function styleOf(i) {
    const h = state.hideout || {};
    const cls = h.cls ? h.cls[i] : undefined;
    const strong = h.sel === i || state.hover === i;
    const base = {fill: true, stroke: true, weight: h.sel === i ? 4 : (state.hover === i ? 3 : 1),
                  color: strong ? "#000000" : "#4d4d4d", opacity: 1, fillOpacity: 0.85, dashArray: null};
    if (cls === -2) { return Object.assign(base, {fillColor: h.sc || "#bdbdbd", fillOpacity: 1}); }
    if (cls === undefined || cls === null || cls < 0) {
      return Object.assign(base, {fillColor: h.mc || "#ffffff", dashArray: "4 3"});
    }
    return Object.assign(base, {fillColor: h.col[cls]});
  }

  function eachFeature(fn) {
    const layer = state.layer;
    if (!layer || !layer._vectorTiles) { return; }
    Object.keys(layer._vectorTiles).forEach(function (key) {
      const tile = layer._vectorTiles[key];
      const feats = tile._features || {};
      Object.keys(feats).forEach(function (id) { fn(+id, feats[id].feature, tile); });
    });
  }

  // Every loaded feature restyled where it is: one repaint per tile canvas, no tile fetched again.
  function restyle(only) {
    const cache = {};
    eachFeature(function (id, feature, tile) {
      if (only !== undefined && id !== only) { return; }
      feature.oaId = id;
      state.layer._updateStyles(feature, tile, cache[id] || (cache[id] = styleOf(id)));
    });
  }

  function drop() {
    if (state.layer && state.layer._map) { state.layer.remove(); }
    if (state.tip && state.tip._map) { state.tip.remove(); }
    state.layer = state.url = state.map = null;
    state.hover = null;
  }

  function tooltip(map, latlng, feature) {
    const h = state.hideout || {};
    const p = feature.properties || {};
    const label = h.lab ? h.lab[feature.oaId] : "";
    state.tip = state.tip || L.tooltip({direction: "top", className: "oa-tooltip", offset: [0, -8]});
    state.tip.setLatLng(latlng).setContent("<strong>" + escapeHtml(p.name || "") + "</strong> <span class='oa-key'>" +
      escapeHtml(p.key || "") + "</span><br>" + escapeHtml(label || ""));
    if (!state.tip._map) { state.tip.addTo(map); }
  }

  function build(map, data) {
    let lastId = null;  // VectorGrid asks the id right before the style of the same feature
    const options = {
      rendererFactory: L.canvas.tile, interactive: true, zIndex: 5,
      getFeatureId: function (feature) { lastId = feature.id; return feature.id; },
      vectorTileLayerStyles: {[LAYER]: function () { return styleOf(lastId); }},
      minNativeZoom: data.minzoom, maxNativeZoom: data.maxzoom,
    };
    if (data.bounds) {  // no request for tiles outside the territory
      options.bounds = L.latLngBounds([data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]);
    }
    const layer = L.vectorGrid.protobuf(data.tiles, options);
    layer.on("tileload", function (e) {  // ids on the features, for hover and the checks below
      const tile = layer._vectorTiles[layer._tileCoordsToKey(e.coords)];
      Object.keys((tile && tile._features) || {}).forEach(function (id) { tile._features[id].feature.oaId = +id; });
    });
    layer.on("click", function (e) {
      const key = e.layer && e.layer.properties && e.layer.properties.key;
      if (key && window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("ex-selected", {data: String(key)});
      }
    });
    layer.on("mouseover", function (e) {
      if (!e.layer || e.layer.oaId === undefined) { return; }
      const before = state.hover;
      state.hover = e.layer.oaId;
      if (before !== null) { restyle(before); }
      restyle(state.hover);
      tooltip(map, e.latlng, e.layer);
    });
    layer.on("mouseout", function (e) {
      const before = state.hover;
      state.hover = null;
      if (before !== null) { restyle(before); }
      if (state.tip && state.tip._map && (!e.layer || e.layer.oaId === before)) { state.tip.remove(); }
    });
    return layer;
  }

  ns.tiles = {
    // Called with the GeoJSON layer's hideout and data (a clientside callback of the explorer).
    sync: function (hideout, data, tries) {
      state.hideout = hideout || {};
      const nu = window.dash_clientside ? window.dash_clientside.no_update : null;
      if (!data || !data.tiles) { drop(); return nu; }
      const map = explorerMap();
      if (!map) {  // the map is not made yet: try again shortly
        if ((tries || 0) < 50) { setTimeout(function () { ns.tiles.sync(state.hideout, data, (tries || 0) + 1); }, 100); }
        return nu;
      }
      vendor().then(function () {
        if (state.layer && state.url === data.tiles && state.map === map) { restyle(); return; }
        drop();
        state.layer = build(map, data).addTo(map);
        state.url = data.tiles;
        state.map = map;
      });
      return nu;
    },
    active: function () {
      return !!(state.layer && state.layer._map);
    },
    // Fill colours of the areas in the loaded tiles, by feature index (as ortsatlas.map.shown on GeoJSON).
    shown: function () {
      const byId = {};
      eachFeature(function (id, feature) { byId[id] = feature.options.fillColor; });
      return Object.keys(byId).map(Number).sort(function (a, b) { return a - b; }).map(function (i) { return byId[i]; });
    },
    fill: function (i) {
      let out = null;
      eachFeature(function (id, feature) { if (id === i) { out = feature.options.fillColor; } });
      return out;
    },
    // A point's place on the screen (client pixels), to hover or tap an area in tests.
    spot: function (lat, lon) {
      const map = state.map;
      if (!map) { return null; }
      const frame = map.getContainer().getBoundingClientRect();
      const p = map.latLngToContainerPoint([lat, lon]);
      return {x: frame.left + p.x, y: frame.top + p.y};
    },
    // The Leaflet map and tile layer drawn on (dash-leaflet keeps them to itself): the bench pans and zooms them.
    view: function () {
      return state.layer && state.layer._map ? {map: state.map, layer: state.layer} : null;
    }
  };
})(window.ortsatlas);
