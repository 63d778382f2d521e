// Release pages (/upload version history, /freigaben): a link to a <details> opens it (the withheld cells
// of a queued version), and a confirmation panel that opens is scrolled into view with its field focused,
// so on a phone nobody confirms a step they cannot see.
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  "use strict";
  document.addEventListener("click", function (e) {
    const link = e.target.closest ? e.target.closest("a.oa-open-details") : null;
    if (!link) { return; }
    const target = document.getElementById((link.getAttribute("href") || "").slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  });

  ns.release = {
    showPanel: function (hidden, panelId) {
      if (hidden) { return window.dash_clientside.no_update; }
      window.setTimeout(function () {
        const panel = document.getElementById(panelId);
        if (!panel || panel.hidden) { return; }
        panel.scrollIntoView({block: "center"});
        const field = Array.from(panel.querySelectorAll("input, textarea"))
          .find(function (el) { return el.offsetParent !== null; });
        if (field) { field.focus({preventScroll: true}); }
      }, 0);
      return window.dash_clientside.no_update;
    }
  };
})(window.ortsatlas);
