/* Behaviour every page shares, as a file because the content security policy allows no inline
   script (no onclick= / onchange= attributes). Delegated on the document, so it also covers
   content htmx swaps in later. */
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option sends its form (the language switch).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      select.form.submit();
    }
  });

  // <button class="triage-use" data-target="id" data-category="code">: fill that category
  // select with the suggested category, and tell listeners it changed.
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button.triage-use") : null;
    if (!button) { return; }
    var select = document.getElementById(button.getAttribute("data-target") || "");
    if (select) {
      select.value = button.getAttribute("data-category") || "";
      select.dispatchEvent(new Event("change", {bubbles: true}));
    }
  });

  // <button data-print>: open the browser's print dialog (the order's print view).
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) { window.print(); }
  });
})();
