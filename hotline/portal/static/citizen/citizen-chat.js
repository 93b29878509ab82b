/* The citizen's chat page, live: messages, the queue position and the agent joining arrive on
 * the chat's websocket; a message is sent with fetch and comes back through the socket, so the
 * log shows what the server has. Without JavaScript the page's forms still work. */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var log = document.getElementById("chat-log");
  var status = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var names = { citizen: root.dataset.you, agent: root.dataset.agent, system: root.dataset.system };
  var socket = null;

  function append(m) {
    if (log.querySelector('[data-id="' + m.id + '"]')) { return; }
    var li = document.createElement("li");
    li.className = "chat-" + m.sender;
    li.dataset.id = m.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = names[m.sender] || m.sender;
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
    if (m.file_url) {
      var a = document.createElement("a");
      a.href = m.file_url;
      a.textContent = m.file_name;
      li.appendChild(document.createTextNode(" "));
      li.appendChild(a);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function state(ev) {
    root.dataset.state = ev.state;
    if (ev.state === "waiting") {
      status.textContent = root.dataset.position.replace("{n}", String(ev.position));
    } else if (ev.state === "active") {
      status.textContent = root.dataset.joined;
      var leave = document.getElementById("chat-leave");
      if (leave) { leave.hidden = true; }
    } else {
      status.textContent = root.dataset.closed;
      if (form) { form.hidden = true; }
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = function () { root.dataset.connected = "1"; };
    socket.onmessage = function (e) {
      var ev = JSON.parse(e.data);
      if (ev.kind === "message") { append(ev); }
      if (ev.kind === "state") { state(ev); }
    };
    socket.onclose = function () {
      root.dataset.connected = "0";
      if (root.dataset.state === "waiting" || root.dataset.state === "active") {
        setTimeout(connect, 2000);
      }
    };
  }

  if (form) {
    form.addEventListener("submit", function (e) {
      if (!socket || socket.readyState !== WebSocket.OPEN) { return; } // the plain post
      e.preventDefault();
      var data = new FormData(form);
      fetch(root.dataset.sendUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (r) {
        if (r.ok) { form.reset(); } else { form.submit(); }
      });
    });
  }
  if (root.dataset.state === "waiting" || root.dataset.state === "active") { connect(); }
})();
