/* What the pages used to do with inline handlers, done here so the
   Content-Security-Policy can refuse every inline script (docs/security.md):

   data-autosubmit        a <select> that submits its form when changed
   data-print             a button that prints the page
   data-select-on-focus   a text box that selects its text when focused
   data-select-all        a check box that checks every input[data-row] of the page
   data-vars="--a:1;--b:2"  CSS custom properties of an element (the floor plan's
                          geometry, a gauge's fill), applied through the CSSOM,
                          which the policy allows, where a style="" attribute is not.

   Events are delegated from the document, so content htmx swaps in works too. */
(function () {
  "use strict";

  function applyVars(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var els = Array.prototype.slice.call(scope.querySelectorAll("[data-vars]"));
    if (scope.matches && scope.matches("[data-vars]")) els.push(scope);
    els.forEach(function (el) {
      el.getAttribute("data-vars").split(";").forEach(function (pair) {
        var at = pair.indexOf(":");
        if (at < 0) return;
        var name = pair.slice(0, at).trim();
        var value = pair.slice(at + 1).trim();
        if (name.indexOf("--") === 0 && /^-?[0-9.]+$/.test(value)) {
          el.style.setProperty(name, value);
        }
      });
    });
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    } else if (el.matches("[data-select-all]")) {
      document.querySelectorAll("input[data-row]").forEach(function (box) {
        box.checked = el.checked;
      });
    } else if (el.matches("input[data-row]")) {
      var all = document.querySelector("[data-select-all]");
      if (all) {
        all.checked = Array.prototype.every.call(
          document.querySelectorAll("input[data-row]"),
          function (box) { return box.checked; }
        );
      }
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  document.addEventListener("htmx:load", function (event) { applyVars(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applyVars(document); });
  } else {
    applyVars(document);
  }
})();
