/* Ortsatlas: words that Dash, Leaflet and plotly.js write into the page in English, in the page's language
 * (issue 16).
 *
 * Dash 4 labels the buttons of every number field "Decrease value" / "Increase value", Leaflet titles its
 * attribution link "A JavaScript library for interactive maps", plotly.js names its tool bar's buttons ("Zoom",
 * "Reset axes"); none of them can be set through a prop (plotly's German locale is not shipped), so a German
 * page read them out in English. Like the clipboard message in map.js, the page's <html lang> decides.
 */
(function () {
  "use strict";
  const WORDS = {
    de: {
      "Decrease value": "Wert verringern",
      "Increase value": "Wert erhöhen",
      "A JavaScript library for interactive maps": "Eine JavaScript-Bibliothek für interaktive Karten",
      // plotly.js's tool bar over the compare charts (its tooltips are CSS reading data-title)
      "Download plot as a PNG": "Diagramm als PNG herunterladen",
      "Zoom": "Zoomen",
      "Pan": "Verschieben",
      "Zoom in": "Vergrößern",
      "Zoom out": "Verkleinern",
      "Autoscale": "Automatisch skalieren",
      "Reset axes": "Achsen zurücksetzen",
      "Box Select": "Rechteckauswahl",
      "Lasso Select": "Lassoauswahl",
      "Reset view": "Ansicht zurücksetzen",
    },
  };

  /** Replace the English words in aria-label and title below `root` (idempotent: German words stay). */
  function translate(root) {
    const words = WORDS[document.documentElement.lang];
    if (!words) { return; }
    const selector = ".dash-input-stepper[aria-label], .leaflet-control-attribution a[title], .modebar-btn[data-title]";
    root.querySelectorAll(selector).forEach((el) => {
      ["aria-label", "title", "data-title"].forEach((attr) => {
        const value = el.getAttribute(attr);
        if (value && words[value]) { el.setAttribute(attr, words[value]); }
      });
    });
  }

  function start() {
    translate(document);
    // Dash renders pages and their fields after load, and again on every navigation. One pass per frame at
    // most: a map adding thousands of area paths must not cost a query per path.
    let queued = false;
    new MutationObserver(() => {
      if (queued) { return; }
      queued = true;
      window.requestAnimationFrame(() => { queued = false; translate(document); });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
