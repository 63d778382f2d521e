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
 *
 * Made for 11,000 and more areas (issue 19): the hideout carries the classes
 * as one character per area (`cc`, see choropleth.class_codes) and the
 * address of the labels (`lq`: a hover asks /api/v1/map-label for one area);
 * each tile canvas is painted in one pass, all areas of a colour filled as
 * one path and the outlines stroked together, once per switch; and the layer
 * is made as soon as the map is (the page's `data-tiles`), so the tiles load
 * while the first hideout is still on its way.
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
  const state = {layer: null, url: null, map: null, hideout: {}, hover: null, tip: null, styles: null,
                 painted: 0, labels: new Map(), lq: null, answered: false, look: null};
  const DASH = [4, 3];

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
          painterFix();
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

  // One pass per tile canvas instead of a fill and a stroke per area (what Leaflet's canvas does): the areas of
  // one colour are filled as one path, the outlines stroked as one path per kind, the hovered or selected area
  // last. Leaflet asked each area to draw itself when its tile was made and then drew the whole tile again a
  // frame later; here areas only mark the tile for the one later paint. Areas of a coverage never overlap, so
  // one path per colour looks as the areas one by one did (the shared edges under the outlines in any case).
  function painterFix() {
    const T = L.Canvas.Tile.prototype;
    T._updatePoly = function () {};  // drawn by paintTile
    T._draw = function () { if (coloured()) { paintTile(this, false); } };
    // VectorGrid adds a tile once its areas are made. Tiles that arrive before the first hideout (the layer starts
    // with the map) wait for it unpainted: painting them blank first cost a second full paint (50,000 areas).
    T.addTo = function (map) { this._map = map; if (coloured()) { paintTile(this, false); } };
  }
  // Whether the page has answered a hideout yet (before it, tiles are loaded but not painted).
  function coloured() {
    return state.answered;
  }
  // An area's rings as a Path2D, made once per tile (a tile's geometry never changes): a paint then copies
  // paths natively (addPath) instead of walking every vertex in script on every switch.
  function pathOf(layer) {
    if (layer._oaPath) { return layer._oaPath; }
    const path = new Path2D(), parts = layer._parts;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      for (let j = 0; j < part.length; j++) {
        if (j) { path.lineTo(part[j].x, part[j].y); } else { path.moveTo(part[j].x, part[j].y); }
      }
    }  // no closePath: a fill closes each ring itself, and a tile's rings end on their first point (MVT)
    layer._oaPath = path;
    return path;
  }
  // The areas' rings as the path to fill or stroke: on a switch from the kept Path2Ds; on a tile's first paint
  // traced straight into the canvas (a Path2D made for each of 4,000 areas of a low-zoom tile, only to be
  // copied, made tile loads slower at 50,000 areas); null: the canvas's current path.
  function outline(ctx, layers, kept) {
    if (kept) { return joined(layers); }
    ctx.beginPath();
    for (let k = 0; k < layers.length; k++) {
      const parts = layers[k]._parts;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i];
        for (let j = 0; j < part.length; j++) {
          if (j) { ctx.lineTo(part[j].x, part[j].y); } else { ctx.moveTo(part[j].x, part[j].y); }
        }
      }
    }
    return null;
  }
  function fillWith(ctx, path) {
    if (path) { ctx.fill(path, "evenodd"); } else { ctx.fill("evenodd"); }
  }
  function joined(layers) {
    if (layers.length === 1) { return pathOf(layers[0]); }
    const path = new Path2D();
    for (let i = 0; i < layers.length; i++) { path.addPath(pathOf(layers[i])); }
    return path;
  }
  function group(groups, key, layer) {
    const found = groups.get(key);
    if (found) { found.push(layer); } else { groups.set(key, [layer]); }
  }
  function paintTile(renderer, kept) {
    const ctx = renderer._ctx;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    const fills = new Map(), lines = new Map(), strong = [];
    for (let o = renderer._drawFirst; o; o = o.next) {
      const layer = o.layer, opt = layer.options;
      if (!layer._parts || !layer._parts.length) { continue; }
      if (opt.oaStrong) { strong.push(layer); continue; }
      group(fills, opt.fillColor, layer);
      group(lines, opt.oaDash ? "d" : "s", layer);
    }
    fills.forEach(function (layers) {
      ctx.globalAlpha = layers[0].options.fillOpacity;
      ctx.fillStyle = layers[0].options.fillColor;
      fillWith(ctx, outline(ctx, layers, kept));
    });
    ["s", "d"].forEach(function (kind) {  // dashed (no data) over solid, so a gap's outline stays visible
      const layers = lines.get(kind);
      if (layers) { stroke(ctx, layers, layers[0].options, kept); }
    });
    strong.forEach(function (layer) {
      ctx.globalAlpha = layer.options.fillOpacity;
      ctx.fillStyle = layer.options.fillColor;
      fillWith(ctx, outline(ctx, [layer], kept));
      stroke(ctx, [layer], layer.options, kept);
    });
    ctx.restore();
  }
  function stroke(ctx, layers, opt, kept) {
    ctx.setLineDash(opt.oaDash || []);
    ctx.globalAlpha = opt.opacity;
    ctx.lineWidth = opt.weight;
    ctx.strokeStyle = opt.color;
    ctx.lineCap = ctx.lineJoin = "round";
    const path = outline(ctx, layers, kept);
    if (path) { ctx.stroke(path); } else { ctx.stroke(); }
  }

  // Area i's class from the hideout: `cc`, one character per area ('0' + class, '-' no data, '*' suppressed),
  // or `cls`, a class per area (as the GeoJSON map's hideout).
  function classOf(h, i) {
    if (typeof h.cc === "string") {
      const c = h.cc.charCodeAt(i);
      return c === 42 ? -2 : (c >= 48 ? c - 48 : -1);  // NaN (no such area) and '-' alike: no data
    }
    const cls = h.cls ? h.cls[i] : undefined;
    return cls === undefined || cls === null ? -1 : cls;
  }
  // One style object per class, shared by every area of the class (as assets/map.js styles the GeoJSON map):
  // a switch sets 11,000 references instead of making 11,000 objects.
  function stylesOf(h) {
    const base = {fill: true, stroke: true, weight: 1, color: "#4d4d4d", opacity: 1, fillOpacity: 0.85,
                  interactive: true, oaDash: null};
    const out = {"-1": Object.assign({}, base, {fillColor: h.mc || "#ffffff", oaDash: DASH}),
                 "-2": Object.assign({}, base, {fillColor: h.sc || "#bdbdbd", fillOpacity: 1})};
    (h.col || []).forEach(function (colour, c) { out[c] = Object.assign({}, base, {fillColor: colour}); });
    return out;
  }
  function styleOf(i) {
    const h = state.hideout || {};
    if (!state.styles) { state.styles = stylesOf(h); }
    const style = state.styles[classOf(h, i)] || state.styles["-1"];
    if (h.sel !== i && state.hover !== i) { return style; }
    return Object.assign({}, style, {weight: h.sel === i ? 4 : 3, color: "#000000", oaStrong: true});
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

  // The loaded areas take the hideout's styles where they are and each tile holding one is painted once, now
  // (no tile fetched again); `only`: just that area's tiles (hover).
  function restyle(only) {
    const layer = state.layer;
    if (!layer || !layer._vectorTiles) { return; }
    Object.keys(layer._vectorTiles).forEach(function (key) {
      const tile = layer._vectorTiles[key];
      const feats = tile._features || {};
      if (only !== undefined) {
        if (!feats[only]) { return; }
        feats[only].feature.options = styleOf(only);
      } else {
        for (const id in feats) { feats[id].feature.options = styleOf(+id); }
      }
      if (!tile._ctx) { return; }
      if (tile._redrawRequest) { L.Util.cancelAnimFrame(tile._redrawRequest); tile._redrawRequest = null; }
      tile._redrawBounds = null;
      paintTile(tile, true);
    });
  }

  function drop() {
    if (state.layer && state.layer._map) { state.layer.remove(); }
    if (state.tip && state.tip._map) { state.tip.remove(); }
    state.layer = state.url = state.map = null;
    state.hover = null;
  }

  // The hovered area's label: from the hideout when it has labels, else asked once per area and view
  // (/api/v1/map-label, the viewer's rights as for the map's colours) and kept for the view.
  function labelOf(h, i, key, show) {
    if (h.lab) { show(h.lab[i] || ""); return; }
    if (!h.lq || !key) { show(""); return; }
    if (state.lq !== h.lq) { state.labels.clear(); state.lq = h.lq; }
    if (state.labels.has(key)) { show(state.labels.get(key)); return; }
    show("…");
    fetch("/api/v1/map-label?" + h.lq + "&area=" + encodeURIComponent(key), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        const label = body && typeof body.label === "string" ? body.label : "";
        if (state.lq === h.lq) { state.labels.set(key, label); }
        if (state.hideout === h && state.hover === i) { show(label); }
      })
      .catch(function () { /* offline: the name stays, the value does not come */ });
  }

  function tooltip(map, latlng, feature) {
    const h = state.hideout || {};
    const p = feature.properties || {};
    const i = feature.oaId;
    state.tip = state.tip || L.tooltip({direction: "top", className: "oa-tooltip", offset: [0, -8]});
    state.tip.setLatLng(latlng);
    if (!state.tip._map) { state.tip.addTo(map); }
    labelOf(h, i, p.key, function (label) {
      state.tip.setContent("<strong>" + escapeHtml(p.name || "") + "</strong> <span class='oa-key'>" +
        escapeHtml(p.key || "") + "</span><br>" + escapeHtml(label || ""));
    });
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

  // The layer from the moment the map exists: the page's map box carries the tiles' description
  // (`data-tiles`, the explorer's layout), so tiles load while the first hideout is still being answered.
  function early(map) {
    const box = map.getContainer && map.getContainer();
    const inner = box && box.closest && box.closest(".oa-map-inner");
    const text = inner && inner.getAttribute("data-tiles");
    if (!text || state.layer) { return; }
    try { ns.tiles.sync(state.hideout, JSON.parse(text)); } catch (e) { /* the hideout's answer builds it */ }
  }
  if (window.L && L.Map && !L.Map.oaEarly) {
    L.Map.oaEarly = true;
    L.Map.addInitHook(function () { const map = this; setTimeout(function () { early(map); }, 0); });
  }

  // What of a hideout decides the areas' styles (not the labels or their address): a hideout painted early from
  // the map's answer (`paint`, assets/switch.js) is not painted again when Dash hands the same colours to `sync`.
  function lookOf(h) {
    return JSON.stringify([h.cc, h.cls, h.col, h.mc, h.sc, h.sel]);
  }
  // Take a new hideout; true when its colours differ from the ones shown (the loaded tiles need a repaint).
  function adopt(hideout) {
    const h = hideout || {}, look = lookOf(h), changed = !state.answered || look !== state.look;
    state.hideout = h;
    state.look = look;
    state.answered = true;
    if (changed) { state.styles = null; }
    return changed;
  }

  ns.tiles = {
    // Called with the GeoJSON layer's hideout and data (a clientside callback of the explorer).
    sync: function (hideout, data, tries) {
      const fresh = (hideout || {}) !== state.hideout && adopt(hideout);
      const nu = window.dash_clientside ? window.dash_clientside.no_update : null;
      if (!data || !data.tiles) { drop(); return nu; }
      const map = explorerMap();
      if (!map) {  // the map is not made yet: try again shortly
        if ((tries || 0) < 50) { setTimeout(function () { ns.tiles.sync(state.hideout, data, (tries || 0) + 1); }, 100); }
        return nu;
      }
      vendor().then(function () {
        if (state.layer && state.url === data.tiles && state.map === map) {
          if (fresh) { restyle(); state.painted += 1; }
          return;
        }
        drop();
        state.layer = build(map, data).addTo(map);
        state.url = data.tiles;
        state.map = map;
      });
      return nu;
    },
    // Paint the loaded tiles in a hideout's colours now, in one pass per tile, before Dash's renderer has worked
    // through the answer that carries it (assets/map.js `paint`, called by assets/switch.js as the map's answer
    // arrives); Dash's `sync` of the same colours later finds nothing to repaint. False when no tiled map is shown.
    paint: function (hideout) {
      if (!ns.tiles.active() || !hideout || typeof hideout !== "object") { return false; }
      if (adopt(hideout)) { restyle(); state.painted += 1; }
      return true;
    },
    // How often the loaded tiles were painted in a new hideout's colours: the bench and tests wait for it to
    // change after a switch (cheap, where reading 11,000 fills every frame was a part of what it measured).
    painted: function () {
      return state.painted;
    },
    // [areas in the loaded tiles, of them unfilled (white)], without sorting or sending 11,000 colours.
    counts: function () {
      const seen = new Set();
      let white = 0;
      eachFeature(function (id, feature) {
        if (seen.has(id)) { return; }
        seen.add(id);
        if (!feature.options.fillColor || feature.options.fillColor === "#ffffff") { white += 1; }
      });
      return [seen.size, white];
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
