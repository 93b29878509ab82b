/* The supervisor's wallboard: the server sends the live part as HTML over the websocket (at
   most twice a second, and every 5 s without events); this script swaps it in, ticks the
   clocks in between, falls back to fetching the live part while the socket is down, and opens
   the action panel. */
(function () {
  "use strict";
  var root = document.getElementById("wallboard");
  if (!root) { return; }
  var live = document.getElementById("wallboard-live");
  var status = root.querySelector("[data-testid=live-status]");
  var results = root.querySelector("[data-testid=command-results]");
  var clockEl = root.querySelector("[data-testid=clock]");
  var dialog = document.getElementById("agent-panel");
  var panel = document.getElementById("agent-panel-body");
  var offsetMs = 0; // the server's clock minus this browser's
  var zoneMs = 0; // the centre's UTC offset (the clock shows the centre's time)
  var socket = null;
  var retryMs = 1000;
  var pollTimer = null;
  var denied = false;

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? h + ":" + two(m) + ":" + two(s) : two(m) + ":" + two(s);
  }

  function syncClock() {
    var board = live.querySelector("[data-now]");
    if (board) {
      offsetMs = parseFloat(board.getAttribute("data-now")) * 1000 - Date.now();
      zoneMs = parseFloat(board.getAttribute("data-utc-offset") || "0") * 1000;
    }
  }

  function tick() {
    var now = (Date.now() + offsetMs) / 1000;
    var timers = live.querySelectorAll("[data-since]");
    for (var i = 0; i < timers.length; i++) {
      timers[i].textContent = clock(now - parseFloat(timers[i].getAttribute("data-since")));
    }
    if (clockEl) {
      var d = new Date(Date.now() + offsetMs + zoneMs);
      clockEl.textContent = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" +
        two(d.getUTCSeconds());
    }
  }

  function swap(html) {
    live.innerHTML = html;
    if (window.htmx) { window.htmx.process(live); }
    syncClock();
    tick();
  }

  function setStatus(state) {
    status.setAttribute("data-state", state);
    status.textContent = root.getAttribute("data-label-" + state) || state;
  }

  function addResult(html) {
    results.insertAdjacentHTML("afterbegin", html);
    while (results.children.length > 5) { results.removeChild(results.lastElementChild); }
  }

  function poll() {
    fetch(root.getAttribute("data-live-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () {});
  }

  function startPolling() {
    if (!pollTimer) { pollTimer = setInterval(poll, 5000); }
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () { retryMs = 1000; stopPolling(); setStatus("live"); };
    socket.onmessage = function (e) {
      var message = JSON.parse(e.data);
      if (message.type === "snapshot") { swap(message.html); }
      else if (message.type === "command_done") {
        addResult(message.html);
        // An open panel lists the monitor's commands on the call: show the new outcome there.
        var open = dialog.open && panel.querySelector("[data-url]");
        if (open && window.htmx) {
          window.htmx.ajax("GET", open.getAttribute("data-url"), {target: panel, swap: "innerHTML"});
        }
      }
    };
    socket.onclose = function (e) {
      if (e.code === 4403) { denied = true; setStatus("denied"); return; }
      setStatus("down");
      startPolling();
      setTimeout(function () { if (!denied) { connect(); } }, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  // The action panel: the row's button loads it with htmx into the dialog, which opens here.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target === panel && !dialog.open) { dialog.showModal(); }
  });
  // The services' refusals (403/404/409/422) come back as the panel with the reason: show it.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target === panel && e.detail.xhr.status >= 400 && e.detail.xhr.status < 500) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  dialog.addEventListener("click", function (e) {
    if (e.target === dialog || (e.target.closest && e.target.closest("[data-close]"))) {
      dialog.close();
    }
  });

  var full = document.getElementById("wb-fullscreen");
  if (full) {
    full.addEventListener("click", function () {
      document.body.classList.toggle("wb-big");
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () {});
      }
    });
  }

  syncClock();
  setInterval(tick, 1000);
  connect();
})();
