"use strict";
// Names for the admin widgets that Django's own scripts build without one (issue 12).
// The autocomplete boxes (select2) draw a combobox and a search field beside the real
// <select>, not named by its <label>; the two-box chooser's search icons carry an
// aria-label a plain span may not have; select2's "clear all" cross sits in a list as a
// non-item. Loaded on every admin page (templates/admin/base_site.html); it only adds
// attributes, so the admin works the same with it or without it.
{
    // The <select>'s own name: its <label>, else its aria-label (the inline rows').
    function nameOf(select) {
        const label = select.id && document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
        if (label) {
            if (!label.id) {
                label.id = `${select.id}-label`;
            }
            return {labelledby: label.id};
        }
        const aria = select.getAttribute("aria-label");
        return aria ? {label: aria} : null;
    }

    function setAttribute(element, attribute, value) {
        if (element.getAttribute(attribute) !== value) {
            element.setAttribute(attribute, value);
        }
    }

    // `withValue`: a single choice keeps its chosen value in the name ("Member Assata Shakur").
    function name(element, how, withValue) {
        if (how.label) {
            setAttribute(element, "aria-label", how.label);
            return;
        }
        const rendered = withValue && element.querySelector(".select2-selection__rendered[id]");
        setAttribute(element, "aria-labelledby", [how.labelledby, rendered && rendered.id].filter(Boolean).join(" "));
    }

    function labelWidgets() {
        document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
            const box = select.nextElementSibling;
            const how = nameOf(select);
            if (!how || !box || !box.classList.contains("select2")) {
                return;
            }
            box.querySelectorAll(".select2-selection").forEach((element) => name(element, how, true));
            // The chosen value's own box is a read-only textbox: named by the label too.
            box.querySelectorAll(".select2-selection__rendered[role]").forEach((element) => name(element, how, false));
            box.querySelectorAll(".select2-search__field").forEach((field) => name(field, how, false));
        });
        document.querySelectorAll("ul > .select2-selection__clear:not([role])").forEach((clear) => {
            clear.setAttribute("role", "listitem");
            clear.setAttribute("aria-label", clear.title);
        });
        document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach((icon) => {
            icon.setAttribute("role", "img");
        });
    }

    // select2 starts when the document is ready, the two-box chooser on load; both redraw
    // parts of themselves later (a choice made, an inline row added): label after each.
    window.addEventListener("load", () => {
        labelWidgets();
        new MutationObserver(labelWidgets).observe(document.body, {childList: true, subtree: true});
    });
}
