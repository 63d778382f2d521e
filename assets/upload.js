// The upload page's file transfer: drag and drop or pick a file, send it to
// POST /api/v1/uploads with a progress bar, then hand the upload id to Dash
// (set_props), whose callbacks show the report. The file never travels
// base64-encoded through a callback.
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  "use strict";
  let file = null;

  function el(id) { return document.getElementById(id); }

  function say(text) {
    const status = el("up-status");
    if (status) { status.textContent = text; }
  }

  function send(mapping, sheet) {
    const meta = el("up-csrf");
    if (!file || !meta) { return; }
    const limit = parseInt(meta.dataset.limit || "0", 10);
    if (limit && file.size > limit) {
      say("Die Datei ist größer als " + Math.round(limit / 1048576) + " MB und wird nicht hochgeladen.");
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    if (mapping && Object.keys(mapping).length) { form.append("mapping", JSON.stringify(mapping)); }
    if (sheet) { form.append("sheet", sheet); }
    const xhr = new XMLHttpRequest();
    const bar = el("up-bar"), progress = el("up-progress");
    xhr.open("POST", "/api/v1/uploads");
    xhr.setRequestHeader("X-CSRFToken", meta.dataset.token);
    if (progress) { progress.hidden = false; }
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable && bar) { bar.style.width = Math.round(100 * e.loaded / e.total) + "%"; }
    };
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (bar) { bar.style.width = "100%"; }
      if (body && body.upload_id) {
        say(body.ok ? "Geprüft: keine Fehler." : "Geprüft: bitte den Prüfbericht ansehen.");
        window.dash_clientside.set_props("up-upload", {data: {upload_id: body.upload_id, at: Date.now()}});
      } else {
        say((body && body.message) || ("Hochladen fehlgeschlagen (HTTP " + xhr.status + ")."));
      }
    };
    xhr.onerror = function () { say("Hochladen fehlgeschlagen: keine Verbindung."); };
    say("Wird hochgeladen und geprüft …");
    xhr.send(form);
  }

  function take(files) {
    if (!files || !files.length) { return; }
    file = files[0];
    const sheet = el("up-sheet");
    send(null, sheet ? sheet.value : "");
  }

  function pick() {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    input.id = "up-file-input";
    input.style.display = "none";
    input.addEventListener("change", function () { take(input.files); input.remove(); });
    document.body.appendChild(input);
    input.click();
  }

  // Event delegation: Dash renders the page after this script runs.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#up-drop")) { pick(); }
  });
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.id === "up-drop") { e.preventDefault(); pick(); }
  });
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      const zone = e.target.closest && e.target.closest("#up-drop");
      if (zone) { e.preventDefault(); zone.classList.add("oa-drop-active"); }
    });
  });
  document.addEventListener("dragleave", function (e) {
    const zone = e.target.closest && e.target.closest("#up-drop");
    if (zone) { zone.classList.remove("oa-drop-active"); }
  });
  document.addEventListener("drop", function (e) {
    const zone = e.target.closest && e.target.closest("#up-drop");
    if (!zone) { return; }
    e.preventDefault();
    zone.classList.remove("oa-drop-active");
    take(e.dataTransfer && e.dataTransfer.files);
  });

  ns.upload = {
    // A test (or a script) can hand over a File directly.
    take: function (files) { take(files); },
    recheck: function (clicks, mapping, sheet) {
      if (!clicks) { return window.dash_clientside.no_update; }
      if (!file) { return "Bitte die Datei erneut wählen."; }
      send(mapping || {}, sheet || "");
      return "Wird mit der Zuordnung erneut geprüft …";
    }
  };
})(window.ortsatlas);
