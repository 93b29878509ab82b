// A campaign's live progress: every 3 seconds the page asks its JSON endpoint for the counts
// and updates the bar and the figures (elements marked data-field). It stops when the
// campaign is over, and shows nothing new on an error (the page's figures stay as served).
(function () {
  "use strict";
  var box = document.getElementById("campaign-progress");
  if (!box || !box.dataset.live) { return; }
  var url = box.dataset.url;
  var over = { finished: true, cancelled: true };

  function show(data) {
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.dataset.field;
      if (!(key in data)) { return; }
      if (el.tagName === "PROGRESS") { el.value = data[key]; } else { el.textContent = data[key]; }
    });
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        show(data);
        if (!over[data.state]) { window.setTimeout(tick, 3000); }
      })
      .catch(function () { window.setTimeout(tick, 10000); });
  }
  window.setTimeout(tick, 3000);
})();
