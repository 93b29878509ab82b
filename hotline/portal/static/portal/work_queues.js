/* The centre's work queues, live: the websocket says an order landed in (or left) a queue; the
 * page fetches its counts again (the server decides what this user may count) and shows a
 * notice linking to the order. Without JavaScript the page is the same, refreshed by hand. */
(function () {
  "use strict";
  var root = document.getElementById("work-queues");
  if (!root) { return; }
  var live = document.getElementById("queue-live");
  var toasts = document.getElementById("queue-toasts");
  var retryMs = 1000;
  var denied = false;

  function refreshCounts() {
    return fetch(root.getAttribute("data-counts-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        Object.keys(body.counts).forEach(function (key) {
          var el = root.querySelector('[data-queue-count="' + key + '"]');
          if (el) { el.textContent = String(body.counts[key]); }
        });
      });
  }

  function refreshRows() {
    // The open queue's rows, from the same page the server renders without JavaScript.
    return fetch(location.href, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#queue-table tbody");
        var shown = document.querySelector("#queue-table tbody");
        if (fresh && shown) { shown.replaceWith(fresh); }
      });
  }

  // A busy centre sends many events: one refresh (counts and rows) at most every two seconds,
  // however many arrive, so a hundred open pages do not each query for every event.
  var pending = null;
  var lastRefresh = 0;
  function scheduleRefresh() {
    if (pending) { return; }
    var wait = Math.max(0, lastRefresh + 2000 - Date.now());
    pending = setTimeout(function () {
      pending = null;
      lastRefresh = Date.now();
      refreshCounts();
      refreshRows();
    }, wait);
  }

  function toast(message) {
    var tab = root.querySelector('[data-queue="' + message.queue + '"]');
    if (!tab) { return; }  // a queue this user does not work (call backs: agents only)
    var text = root.getAttribute("data-toast").replace("{number}", message.number)
      .replace("{queue}", tab ? tab.getAttribute("data-label") : "");
    var item = document.createElement("div");
    item.className = "toast";
    var link = document.createElement("a");
    link.href = root.getAttribute("data-order-url").replace("00000000", encodeURIComponent(message.number));
    link.textContent = text;
    item.appendChild(link);
    toasts.appendChild(item);
    setTimeout(function () { item.remove(); }, 15000);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () {
      retryMs = 1000;
      live.textContent = root.getAttribute("data-live-text");
      root.setAttribute("data-live", "1");
      refreshCounts();  // what changed while the socket was down
    };
    socket.onmessage = function (e) {
      var message = JSON.parse(e.data);
      if (message.kind !== "queue") { return; }
      scheduleRefresh();
      if (message.landed) { toast(message); }
    };
    socket.onclose = function (e) {
      root.removeAttribute("data-live");
      live.textContent = "";
      if (e.code === 4403 || e.code === 4401) { denied = true; return; }
      setTimeout(function () { if (!denied) { connect(); } }, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  connect();
})();
