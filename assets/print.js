// The print button of /print: a listener instead of an inline onclick, which the Content-Security-Policy
// refuses (atlas/web/hardening.py). Dash loads every asset too; there the button does not exist.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    const button = e.target.closest ? e.target.closest("[data-oa-print]") : null;
    if (button) { window.print(); }
  });
})();
