/* The desk's call-back tasks: a refusal (403/404/409/422: another agent took the task, the
 * words are missing ...) comes back as the task panel with the reason; htmx swaps only 2xx
 * answers by default, so let these through for that panel. */
(function () {
  "use strict";
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    var status = e.detail.xhr.status;
    if (target && target.id === "desk-callback-task" && status >= 400 && status < 500) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
