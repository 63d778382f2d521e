// File transfer for the upload page and the admin's boundary upload: drag and
// drop or pick a file, POST it with a progress bar to the zone's endpoint,
// then hand the answer to Dash (set_props on the zone's data-store) or show
// it in the zone's status element. Files never travel base64 through a callback.
//
// A drop zone: <div class="oa-drop" data-endpoint="/api/v1/uploads"
//   data-store="up-upload" data-status="up-status"
//   data-fields="sheet:up-sheet,valid_from:bd-valid-from">
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  "use strict";
  const files = {};  // the last file per zone, kept for a re-check with a mapping
  const extra = {};  // extra JSON form fields per zone (mapping, new_indicators)

  function el(id) { return document.getElementById(id); }
  function csrf() { const meta = el("oa-csrf"); return meta ? meta.dataset.token : ""; }
  function limit() { const meta = el("oa-csrf"); return parseInt((meta && meta.dataset.limit) || "0", 10); }

  // The zone's words in the page's language (data-words, from the message catalogue): "{n}" takes vars.n.
  function word(zone, key, vars) {
    const holder = zone || document.querySelector(".oa-drop");
    let words = {};
    try { words = JSON.parse((holder && holder.dataset.words) || "{}"); } catch (err) { words = {}; }
    return String(words[key] || key).replace(/\{(\w+)\}/g, function (m, name) {
      return vars && vars[name] !== undefined ? vars[name] : m;
    });
  }

  function say(zone, text) {
    const status = el(zone.dataset.status);
    if (status) { status.textContent = text; }
  }

  function describe(zone, body, status) {
    if (!body) { return word(zone, "js_failed_http", {status: status}); }
    if (body.ok && body.set_id) {
      return word(zone, "js_boundaries_saved", {set: body.set_id, from: body.valid_from, areas: body.areas,
                                               districts: body.districts});
    }
    if (body.errors && body.errors.length) {
      return word(zone, "adm_not_saved", {exc: body.errors.map(function (e) { return e.message; }).join(" | ")});
    }
    return body.message || ("HTTP " + status);
  }

  // A large file is checked in the background (HTTP 202): ask how far it is until it is done.
  const STAGES = ["queued", "read", "cells", "rows", "compare", "saving"];  // js_stage_<stage> in the catalogue

  function handOver(zone, body) {
    say(zone, word(zone, body.ok ? "js_checked_ok" : "js_checked_errors"));
    window.dash_clientside.set_props(zone.dataset.store, {data: {upload_id: body.upload_id, at: Date.now()}});
  }

  function follow(zone, url, bar) {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (!body || xhr.status !== 200) { say(zone, describe(zone, body, xhr.status)); return; }
      if (body.state === "checking") {
        const p = body.progress || {}, share = Math.round(100 * (p.share || 0));
        if (bar) { bar.style.width = share + "%"; }
        const stage = STAGES.indexOf(p.stage) >= 0 ? word(zone, "js_stage_" + p.stage) : (p.stage || "");
        say(zone, word(zone, "js_checking", {stage: stage, share: share}));
        window.setTimeout(function () { follow(zone, url, bar); }, 700);
        return;
      }
      if (bar) { bar.style.width = "100%"; }
      handOver(zone, body);
    };
    xhr.onerror = function () {  // a brief drop of the connection: keep asking, the check runs on
      say(zone, word(zone, "js_connection_lost"));
      window.setTimeout(function () { follow(zone, url, bar); }, 3000);
    };
    xhr.send();
  }

  function send(zone) {
    const file = files[zone.id];
    if (!file) { return; }
    if (limit() && file.size > limit()) {
      say(zone, word(zone, "js_too_large", {mb: Math.round(limit() / 1048576)}));
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    (zone.dataset.fields || "").split(",").filter(Boolean).forEach(function (pair) {
      const parts = pair.split(":"), input = el(parts[1]);
      if (input && input.value) { form.append(parts[0], input.value); }
    });
    Object.entries(extra[zone.id] || {}).forEach(function (kv) {
      if (kv[1] && (!Array.isArray(kv[1]) || kv[1].length) && Object.keys(kv[1]).length) {
        form.append(kv[0], JSON.stringify(kv[1]));
      }
    });
    const xhr = new XMLHttpRequest();
    const progress = el(zone.id + "-progress"), bar = progress && progress.firstElementChild;
    xhr.open("POST", zone.dataset.endpoint);
    xhr.setRequestHeader("X-CSRFToken", csrf());
    if (progress) { progress.hidden = false; }
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable && bar) { bar.style.width = Math.round(100 * e.loaded / e.total) + "%"; }
    };
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status === 202 && body && body.upload_id) {
        if (bar) { bar.style.width = "0%"; }
        say(zone, word(zone, "js_uploaded"));
        follow(zone, xhr.getResponseHeader("Location") || ("/api/v1/uploads/" + body.upload_id), bar);
        return;
      }
      if (bar) { bar.style.width = "100%"; }
      if (zone.dataset.store && body && body.upload_id) {
        handOver(zone, body);
      } else {
        say(zone, describe(zone, body, xhr.status));
      }
    };
    xhr.onerror = function () { say(zone, word(zone, "js_no_connection")); };
    say(zone, word(zone, "js_sending"));
    xhr.send(form);
  }

  function take(zone, list) {
    if (!zone || !list || !list.length) { return; }
    files[zone.id] = list[0];
    send(zone);
  }

  function pick(zone) {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = zone.dataset.accept || "";
    input.style.display = "none";
    input.addEventListener("change", function () { take(zone, input.files); input.remove(); });
    document.body.appendChild(input);
    input.click();
  }

  function zoneOf(target) { return target.closest ? target.closest(".oa-drop") : null; }

  // Event delegation: Dash renders the page after this script runs.
  document.addEventListener("click", function (e) { const z = zoneOf(e.target); if (z) { pick(z); } });
  document.addEventListener("keydown", function (e) {
    const z = zoneOf(e.target);
    if (z && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); pick(z); }
  });
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      const z = zoneOf(e.target);
      if (z) { e.preventDefault(); z.classList.add("oa-drop-active"); }
    });
  });
  document.addEventListener("dragleave", function (e) {
    const z = zoneOf(e.target);
    if (z) { z.classList.remove("oa-drop-active"); }
  });
  document.addEventListener("drop", function (e) {
    const z = zoneOf(e.target);
    if (!z) { return; }
    e.preventDefault();
    z.classList.remove("oa-drop-active");
    take(z, e.dataTransfer && e.dataTransfer.files);
  });

  ns.upload = {
    // Remember JSON fields (new indicators) for the zone's next upload.
    remember: function (value, zoneId, field) {
      extra[zoneId] = Object.assign(extra[zoneId] || {}, {[field]: value});
      return window.dash_clientside.no_update;
    },
    recheck: function (clicks, mapping, zoneId) {
      if (!clicks) { return window.dash_clientside.no_update; }
      const zone = el(zoneId);
      if (!zone || !files[zoneId]) { return word(zone, "js_pick_again"); }
      extra[zoneId] = Object.assign(extra[zoneId] || {}, {mapping: mapping || {}});
      send(zone);
      return word(zone, "js_rechecking");
    }
  };
})(window.ortsatlas);
