/* Ortsatlas: repairs to the markup of Dash 4's own components, for screen readers and keyboards (issue 16).
 *
 * Dash renders these controls itself, and their props offer no way to name them, so the
 * page is mended after each render (a MutationObserver, at most once per animation frame):
 * - RadioItems and Checklist are a role=listbox of role=option labels that each hold a native
 *   radio or checkbox: two interactive roles nested (axe: nested-interactive) and an unnamed
 *   listbox. They become a named radiogroup / group of plain labels around native inputs,
 *   which screen readers and the keyboard (arrow keys) already understand.
 * - A Slider's thumb (role=slider) has no name: it gets its field's label, and the period
 *   label next to it (`.oa-period-label`) as its value text instead of a bare index.
 * - A Dropdown puts a hidden, aria-hidden input into the Tab order that passes focus on to
 *   its button (a Safari work-around): a focusable element screen readers cannot see. The
 *   button itself takes the Tab stop instead, named by its field's label and described by its value.
 * The name of a control is its `label[for]`, else the `label` / `.oa-label` of its field.
 */
(function () {
    "use strict";
    let counter = 0;
    let queued = false;

    function ensureId(el) {
        if (!el.id) {
            counter += 1;
            el.id = "oa-a11y-" + counter;
        }
        return el.id;
    }

    function fieldLabel(control) {
        if (control.id) {
            const direct = document.querySelector('label[for="' + CSS.escape(control.id) + '"]');
            if (direct) {
                return direct;
            }
        }
        let node = control.parentElement;
        for (let depth = 0; node && depth < 4; depth += 1, node = node.parentElement) {
            const found = Array.from(node.querySelectorAll("label, .oa-label")).find(
                (l) => !control.contains(l) && !l.closest(".dash-options-list") && !l.contains(control));
            if (found) {
                return found;
            }
        }
        return null;
    }

    function nameBy(control, label, withOwnText) {
        if (!label || control.hasAttribute("aria-label") || control.hasAttribute("aria-labelledby")) {
            return;
        }
        const ids = [ensureId(label)];
        if (withOwnText) {
            ids.push(ensureId(control));
        }
        control.setAttribute("aria-labelledby", ids.join(" "));
    }

    function repairOptionLists() {
        document.querySelectorAll(".dash-radioitems[role=listbox], .dash-checklist[role=listbox]").forEach((list) => {
            list.setAttribute("role", list.classList.contains("dash-radioitems") ? "radiogroup" : "group");
            nameBy(list, fieldLabel(list), false);
        });
        document.querySelectorAll(".dash-radioitems label[role=option], .dash-checklist label[role=option]")
            .forEach((option) => {
                option.removeAttribute("role");
                option.removeAttribute("aria-selected");
            });
    }

    function repairSliders() {
        document.querySelectorAll(".dash-slider-thumb[role=slider]").forEach((thumb) => {
            const root = thumb.closest(".dash-slider-container") || thumb.parentElement;
            nameBy(thumb, fieldLabel(root), false);
            const field = thumb.closest(".oa-field");
            const shown = field && field.querySelector(".oa-period-label");
            if (shown && shown.textContent && thumb.getAttribute("aria-valuetext") !== shown.textContent) {
                thumb.setAttribute("aria-valuetext", shown.textContent);
            }
        });
    }

    function repairDropdowns() {
        document.querySelectorAll(".dash-dropdown-focus-target").forEach((decoy) => {
            const button = decoy.nextElementSibling;
            if (!button || button.tagName !== "BUTTON") {
                return;
            }
            if (decoy.tabIndex !== -1) {
                decoy.tabIndex = -1;
            }
            if (!button.disabled && button.tabIndex !== 0) {
                button.tabIndex = 0;
            }
            const label = fieldLabel(button);
            if (label && label.tagName === "LABEL" && (!label.htmlFor || label.htmlFor === button.id)) {
                // A <label for> names the button natively. A multi-select names itself "2 selected" + its
                // values instead, in another order than it shows them (axe: label-content-name-mismatch).
                label.htmlFor = ensureId(button);
                if (button.hasAttribute("aria-labelledby")) {
                    button.removeAttribute("aria-labelledby");
                }
            } else if (label) {
                nameBy(button, label, true);
            }
            if (!button.hasAttribute("aria-describedby")) {
                button.setAttribute("aria-describedby", ensureId(button));  // its value, read after its name
            }
        });
    }

    function repair() {
        queued = false;
        repairOptionLists();
        repairSliders();
        repairDropdowns();
    }

    function schedule() {
        if (!queued) {
            queued = true;
            window.requestAnimationFrame(repair);
        }
    }

    function start() {
        repair();
        new MutationObserver(schedule).observe(document.body, {
            childList: true, subtree: true, attributes: true, attributeFilter: ["tabindex", "role"],
            characterData: true,
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
