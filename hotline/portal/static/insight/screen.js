// The big screen: figures pushed over the websocket (ws/insight/screen/) are written into the
// elements that name them (data-figure="calls.offered"), the district map's colours and counts
// and the hot-issue list. While the socket is down the page asks /insight/screen/figures/
// every 10 s and keeps trying to reconnect, waiting longer each time.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var status = root.querySelector("[data-testid='screen-live']");
  var pollTimer = null;
  var retry = 1000;

  function setStatus(state, label) {
    status.setAttribute("data-state", state);
    status.textContent = label;
  }

  function pick(data, path) {
    var value = data;
    path.split(".").forEach(function (key) { value = value == null ? undefined : value[key]; });
    return value;
  }

  function render(data) {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var value = pick(data, el.getAttribute("data-figure"));
      if (value !== undefined && value !== null) { el.textContent = String(value); }
    });
    (data.districts || []).forEach(function (d) {
      var group = root.querySelector("g[data-district='" + CSS.escape(d.code) + "']");
      if (!group) { return; }
      group.setAttribute("class", "district lvl-" + d.level);
      var count = group.querySelector(".district-count");
      if (count) { count.textContent = String(d.orders); }
    });
    var list = document.getElementById("hot-issues");
    if (list && data.hot_issues) {
      list.textContent = "";
      if (!data.hot_issues.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = list.getAttribute("data-label-none");
        list.appendChild(none);
      }
      data.hot_issues.forEach(function (issue) {
        var li = document.createElement("li");
        var t = document.createElement("span");
        t.className = "t";
        t.textContent = issue.title;
        var n = document.createElement("span");
        n.className = "n";
        n.textContent = String(issue.orders);
        li.appendChild(t);
        li.appendChild(n);
        list.appendChild(li);
      });
    }
  }

  function poll() {
    fetch(root.getAttribute("data-figures-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the next poll tries again */ });
  }

  function startPolling() {
    if (pollTimer === null) { pollTimer = window.setInterval(poll, 10000); }
  }

  function stopPolling() {
    if (pollTimer !== null) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () {
      retry = 1000;
      stopPolling();
      setStatus("live", root.getAttribute("data-label-live"));
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "figures") { render(data); }
    };
    socket.onclose = function (event) {
      if (event.code === 4403 || event.code === 4401) {
        setStatus("down", root.getAttribute("data-label-denied"));
        return;
      }
      setStatus("down", root.getAttribute("data-label-down"));
      startPolling();
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  connect();
}());
