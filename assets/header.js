/* The page header on phones and tablets (issue 16): one row (brand, language, menu button), with the
 * navigation as a drawer below it that the menu button opens and closes.
 *
 * The button says whether the drawer is open (aria-expanded) and names it (aria-controls); Escape
 * closes it and puts focus back on the button, and so does a click outside it. The drawer follows the
 * button in the DOM, so Tab goes from the button straight into it. Listeners sit on the document, so
 * they hold when Dash re-renders the header.
 *
 * The language link takes the address as it is when clicked: pages keep their view in the URL
 * (replaceState), which the link's server-built href cannot know.
 */
(function () {
    "use strict";

    function parts() {
        return {button: document.getElementById("oa-menu-toggle"), nav: document.getElementById("oa-nav")};
    }

    function setOpen(open, focusButton) {
        const {button, nav} = parts();
        if (!button || !nav) {
            return;
        }
        button.setAttribute("aria-expanded", open ? "true" : "false");
        nav.classList.toggle("oa-nav-open", open);
        if (!open && focusButton) {
            button.focus();
        }
    }

    function isOpen() {
        const {button} = parts();
        return !!button && button.getAttribute("aria-expanded") === "true";
    }

    document.addEventListener("click", function (event) {
        const target = event.target instanceof Element ? event.target : null;
        if (!target) {
            return;
        }
        if (target.closest("#oa-menu-toggle")) {
            setOpen(!isOpen(), false);
            return;
        }
        const lang = target.closest("#oa-lang-switch");
        if (lang) {
            const url = new URL(window.location.href);
            const want = lang.getAttribute("hreflang");
            url.searchParams.set("lang", want);  /* "de" too: the server remembers the choice (cookie) */
            event.preventDefault();
            window.location.assign(url.pathname + url.search + url.hash);
            return;
        }
        if (isOpen() && (!target.closest("#oa-nav") || target.closest("#oa-nav a"))) {
            setOpen(false, false);  // a tap outside, or a link taken: the drawer closes
        }
    });

    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && isOpen()) {
            setOpen(false, true);
        }
    });
})();
