/* Client-side map styling for Ortsatlas.
 *
 * The server sends geometry once per boundary set; a switch of indicator,
 * period or classing only changes the GeoJSON layer's `hideout`:
 *   cls: class index per feature (by feature property `i`), -1 missing, -2 suppressed
 *   col: colours of the classes, lab: display label per feature,
 *   sel: index of the selected feature, mc/sc: missing/suppressed colours.
 * dash-leaflet 1.x passes the component props as the last argument.
 */
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  let current = {};
  let shownSel = null;
  const layers = {};  // feature index -> its Leaflet layer, to find the selected area on screen

  // The legend never covers the selected area: if they overlap, pan the map
  // by the smaller of the two shifts that frees the area (right or up).
  function keepClear(i) {
    const layer = layers[i];
    const box = document.getElementById("ex-legend-box");
    if (!layer || !layer._map || !box || !layer.getBounds) { return; }
    const map = layer._map;
    const frame = map.getContainer().getBoundingClientRect();
    const r = box.getBoundingClientRect();
    const legend = {left: r.left - frame.left, right: r.right - frame.left,
                    top: r.top - frame.top, bottom: r.bottom - frame.top};
    const b = layer.getBounds();
    const nw = map.latLngToContainerPoint(b.getNorthWest());
    const se = map.latLngToContainerPoint(b.getSouthEast());
    if (!(nw.x < legend.right && se.x > legend.left && nw.y < legend.bottom && se.y > legend.top)) { return; }
    const dx = legend.right - nw.x + 8, dy = se.y - legend.top + 8;
    map.panBy(dx <= dy ? [-dx, 0] : [0, dy]);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  // A hatch pattern for suppressed areas, so they never look like a colour of the scale.
  function ensureHatch() {
    if (document.getElementById("oa-hatch")) { return; }
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", "0"); svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.style.position = "absolute";
    svg.innerHTML = '<defs><pattern id="oa-hatch" patternUnits="userSpaceOnUse" width="8" height="8" ' +
      'patternTransform="rotate(45)"><rect width="8" height="8" fill="#d9d9d9"/>' +
      '<line x1="0" y1="0" x2="0" y2="8" stroke="#8c8c8c" stroke-width="3"/></pattern></defs>';
    document.body.appendChild(svg);
  }

  // Orientation without a basemap: each area's name on the map where it fits
  // at the current zoom (redrawn after zooming and when the areas change).
  let labelTimer = null;
  function drawLabels(map) {
    if (!map) { return; }
    if (!map.oaLabels) {
      map.oaLabels = L.layerGroup().addTo(map);
      map.on("zoomend", function () { drawLabels(map); });
    }
    map.oaLabels.clearLayers();
    Object.keys(layers).forEach(function (i) {
      const layer = layers[i];
      if (layer._map !== map || !layer.getBounds) { return; }
      const name = String(layer.feature.properties.name || "");
      const b = layer.getBounds();
      const nw = map.latLngToLayerPoint(b.getNorthWest()), se = map.latLngToLayerPoint(b.getSouthEast());
      if (se.x - nw.x < name.length * 6.5 + 12 || se.y - nw.y < 22) { return; }
      map.oaLabels.addLayer(L.marker(b.getCenter(), {interactive: false, keyboard: false,
        icon: L.divIcon({className: "oa-area-label", html: escapeHtml(name), iconSize: null})}));
    });
  }
  function labelsSoon(layer) {
    clearTimeout(labelTimer);
    labelTimer = setTimeout(function () { drawLabels(layer._map); }, 100);
  }

  // Recolour in place. dash-leaflet 1.1.3 answers a new `hideout` by removing every area's layer and
  // adding it again from the same data (clearLayers, then addData): each switch re-projected all
  // geometry, re-bound every tooltip and redrew every label (1.6 s at 11,000 areas, most of a slow
  // tablet's switch). When the data that follows the clear is the very object the layer already
  // shows, only the style can have changed: each layer is restyled where it is (`resetStyle` asks the
  // layer's style function, now holding the new hideout), one canvas repaint or one attribute per path.
  // New data (another level or boundary set) is cleared and added as before.
  function recolourInPlace() {
    if (!window.L || !L.GeoJSON || L.GeoJSON.prototype.oaRecolour) { return; }
    const clear = L.GeoJSON.prototype.clearLayers, add = L.GeoJSON.prototype.addData;
    L.GeoJSON.prototype.oaRecolour = true;
    L.GeoJSON.prototype.clearLayers = function () {
      if (this.oaData && !this.oaAdding) { this.oaPending = true; return this; }  // decided by addData
      return clear.call(this);
    };
    L.GeoJSON.prototype.addData = function (data) {
      if (this.oaAdding) { return add.call(this, data); }  // a collection's features, one by one
      const pending = this.oaPending;
      this.oaPending = false;
      if (pending && data === this.oaData && !this.options.filter) {
        const group = this;
        group.eachLayer(function (layer) { group.resetStyle(layer); });
        return this;
      }
      if (pending) { clear.call(this); }
      this.oaAdding = true;
      try { add.call(this, data); } finally { this.oaAdding = false; }
      this.oaData = data;
      return this;
    };
  }
  recolourInPlace();

  // The big path (issue 19) draws every area on one canvas; the page marks its map so.
  function onCanvas() {
    return document.querySelector(".oa-map-inner[data-canvas='1']") !== null;
  }

  ns.map = {
    // Fill colours of the areas on the map, by feature index: the same answer on SVG and on canvas,
    // where there are no paths to inspect (browser tests and the bench ask this).
    shown: function () {
      if (ns.tiles && ns.tiles.active()) { return ns.tiles.shown(); }  // a level drawn from tiles (assets/tiles.js)
      return Object.keys(layers).filter(function (i) { return layers[i]._map; })
        .map(function (i) { return layers[i].options.fillColor; });
    },
    // How many vertices the areas on the map have: a finer zoom band has more (tests and the bench ask this).
    vertices: function () {
      return Object.keys(layers).filter(function (i) { return layers[i]._map && layers[i].getLatLngs; })
        .reduce(function (n, i) { return n + [layers[i].getLatLngs()].flat(4).length; }, 0);
    },
    // Where area i lies on the screen (its label point's client pixel), to hover or tap it on a canvas.
    spot: function (i) {
      const layer = layers[i];
      if (!layer || !layer._map) { return null; }
      const frame = layer._map.getContainer().getBoundingClientRect();
      const p = layer._map.latLngToContainerPoint(layer.getCenter());
      return {x: frame.left + p.x, y: frame.top + p.y};
    },
    // Area i's Leaflet layer as it is now (tests check that a switch restyles it instead of replacing it).
    layer: function (i) {
      return layers[i];
    },
    // Restyle the areas from a map answer's hideout before Dash's renderer has worked through the answer
    // (assets/switch.js, as the answer arrives; the same colours follow through dash-leaflet). A level drawn
    // from tiles is repainted by assets/tiles.js, each loaded tile once.
    paint: function (hideout) {
      if (ns.tiles && ns.tiles.active()) { return ns.tiles.paint(hideout); }
      Object.keys(layers).forEach(function (i) {
        const layer = layers[i];
        if (layer._map && layer.setStyle) { layer.setStyle(ns.map.style(layer.feature, {hideout: hideout})); }
      });
      return true;
    },
    style: function (feature, context) {
      recolourInPlace();  // in case Leaflet was not there yet when this file ran
      ensureHatch();
      const h = (context && context.hideout) || {};
      current = h;
      const i = feature.properties.i;
      const cls = h.cls ? h.cls[i] : undefined;
      const selected = h.sel === i;
      if (h.sel !== shownSel) {  // once per new selection, after Leaflet has drawn it
        shownSel = h.sel;
        if (h.sel !== null && h.sel !== undefined) { setTimeout(function () { keepClear(h.sel); }, 50); }
      }
      const base = {weight: selected ? 4 : 1, color: selected ? "#000000" : "#4d4d4d",
                    opacity: 1, fillOpacity: 0.85, dashArray: null};
      if (cls === -2) {  // a canvas cannot fill with an SVG pattern: the suppressed colour, solid
        return Object.assign(base, {fillColor: onCanvas() ? (h.sc || "#bdbdbd") : "url(#oa-hatch)", fillOpacity: 1});
      }
      if (cls === undefined || cls === null || cls < 0) {
        return Object.assign(base, {fillColor: h.mc || "#ffffff", dashArray: "4 3"});
      }
      return Object.assign(base, {fillColor: h.col[cls]});
    },
    hover: function () {
      return {weight: 3, color: "#000000"};
    },
    keepClear: function () {
      if (current.sel !== null && current.sel !== undefined) { keepClear(current.sel); }
    },
    tooltip: function (feature, layer) {
      layers[feature.properties.i] = layer;
      layer.on("add", function () { labelsSoon(layer); });
      layer.bindTooltip(function () {
        const p = feature.properties;
        const label = current.lab ? current.lab[p.i] : "";
        return "<strong>" + escapeHtml(p.name) + "</strong> <span class='oa-key'>" + escapeHtml(p.id) +
          "</span><br>" + escapeHtml(label || "");
      }, {sticky: true, direction: "top", className: "oa-tooltip"});
    },
    point: function (feature, latlng) {
      const colours = {kita: "#1b9e77", grundschule: "#d95f02", weiterfuehrende_schule: "#7570b3",
                       familienzentrum: "#e7298a"};
      const p = feature.properties;
      const marker = L.circleMarker(latlng, {radius: 6, weight: 1.5, color: "#ffffff",
                                             fillColor: colours[p.layer] || "#333333", fillOpacity: 1});
      marker.bindTooltip(escapeHtml(p.name) + "<br>" + escapeHtml(String(p.capacity)) + " Plätze");
      return marker;
    }
  };

  // The map legend folds away behind its button. Phones start folded (the
  // legend covered a sixth of the map); every tap flips it.
  ns.legend = {
    phone: function () {
      return window.matchMedia && window.matchMedia("(max-width: 640px)").matches;
    },
    toggle: function (clicks) {
      const startOpen = !ns.legend.phone();
      const open = (clicks || 0) % 2 === 0 ? startOpen : !startOpen;
      if (open) { setTimeout(ns.map.keepClear, 50); }  // the unfolded legend must not cover the selection
      return [open ? "oa-legend oa-legend-box" : "oa-legend oa-legend-box oa-legend-folded",
              open ? "true" : "false"];
    }
  };

  // Meeting mode: when the connection drops, the page stays as it is, a
  // banner says so, and views already seen in this page (their callback
  // answers, kept in memory, never on disk) are shown again from memory.
  const seen = new Map();
  const SEEN_MAX = 200;
  function offline(on) {
    const banner = document.getElementById("ex-offline");
    if (banner) { banner.hidden = !on; }
  }
  // A view is its callback's outputs and inputs (what was changed, and the state, do not make another view),
  // and the geometry the map held when it was answered: the map's answer leaves out the geometry when the
  // map already shows that boundary set and level (`ex-set`), so it may only be replayed onto that geometry.
  function viewKey(body) {
    try {
      const b = JSON.parse(body);
      const held = (b.state || []).filter(function (s) { return s.id === "ex-set"; }).map(function (s) { return s.value; });
      return JSON.stringify([b.output, b.inputs, held]);
    } catch (e) {
      return body;
    }
  }
  window.addEventListener("offline", function () { offline(true); });
  window.addEventListener("online", function () { offline(false); });
  if (window.fetch && !window.fetch.oaKeeps) {
    const plain = window.fetch.bind(window);
    const keeping = function (resource, init) {
      const url = typeof resource === "string" ? resource : (resource && resource.url) || "";
      const body = init && typeof init.body === "string" ? init.body : null;
      if (url.indexOf("/_dash-update-component") < 0 || body === null) { return plain(resource, init); }
      const key = viewKey(body);
      return plain(resource, init).then(function (response) {
        offline(false);
        if (response.ok && response.status === 200) {
          response.clone().text().then(function (text) {
            seen.delete(key);
            seen.set(key, text);
            if (seen.size > SEEN_MAX) { seen.delete(seen.keys().next().value); }
          });
        }
        return response;
      }, function (error) {
        offline(true);
        if (seen.has(key)) {
          return new Response(seen.get(key), {status: 200, headers: {"Content-Type": "application/json"}});
        }
        throw error;
      });
    };
    keeping.oaKeeps = true;
    window.fetch = keeping;
  }

  // Keeps the shareable URL in step with the view without reloading or
  // adding history entries (replaceState fires no navigation events).
  ns.url = {
    write: function (query) {
      if (typeof query !== "string") { return window.dash_clientside.no_update; }
      const target = window.location.pathname + (query ? "?" + query : "");
      if (target !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", target);
      }
      return query;
    },
    // The absolute link to the current view, for the share field.
    share: function (query) {
      if (typeof query !== "string") { return ""; }
      return window.location.origin + window.location.pathname + (query ? "?" + query : "");
    },
    // Copy the share field; the clipboard API needs HTTPS, so fall back to selecting the text.
    copy: function (clicks, inputId) {
      const input = document.getElementById(inputId);
      if (!clicks || !input) { return window.dash_clientside.no_update; }
      input.select();
      const de = document.documentElement.lang !== "en";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value);
      } else {
        document.execCommand("copy");
      }
      return de ? "Kopiert." : "Copied.";
    }
  };
})(window.ortsatlas);
