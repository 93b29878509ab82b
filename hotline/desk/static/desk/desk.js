/* The agent desk (坐席工作台): state buttons, the screen pop and call controls.
 *
 * The page listens on the desk websocket (/ws/desk/). Every event of the agent arrives there:
 * agent_state (any change, also a supervisor's or the ACD's), call_offered (the pop: fetched as
 * server-rendered partials so the message stays small), call_answered, call_ended,
 * call_updated (hold, consultation, conference, monitors) and command_done (the gateway's
 * outcome of a call command). The socket sends a snapshot first, so a reconnect catches up.
 * The state machine comes from the server as data (config.allowed): which buttons each state
 * offers is the server's table, not a copy of it here.
 *
 * Between calls the order pane shows the idle desk (the agent's figures for today and a
 * knowledge search), fetched again when a call is over and no order form is open. Knowledge
 * answers put their text into the reply with one click (or Alt+1…9); Alt+N, Alt+K and ? work
 * without a call, Alt+A / Alt+S / Ctrl+Enter submit the order form.
 */
(function () {
  "use strict";
  var root = document.getElementById("desk");
  if (!root) { return; }
  var config = JSON.parse(document.getElementById("desk-config").textContent);
  var initial = JSON.parse(document.getElementById("desk-snapshot").textContent);
  var T = config.text;
  var csrfInput = document.querySelector("#desk-state-form [name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var $ = function (id) { return document.getElementById(id); };

  var desk = {
    state: "signed_out", reason: "", since: null, stateAt: null, wrapUntil: null,
    call: null, phase: "", answeredAt: null, onHold: false, consulting: false,
    conference: false, parties: [], monitors: [], loadedCall: null, offset: 0,
    commands: {}, socket: null, retry: 0
  };
  window.hotlineDesk = desk; // for tests and the lead's end-to-end checks

  // --- clock and timers -------------------------------------------------------------------
  function serverNow() { return Date.now() + desk.offset; }
  function parse(iso) { return iso ? Date.parse(iso) : null; }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" : "") + two(m) + ":" + two(sec);
  }
  function tick() {
    var now = serverNow();
    $("desk-state-timer").textContent = desk.since ? clock(now - desk.since) : "00:00";
    if (desk.wrapUntil) { $("desk-wrapup-countdown").textContent = clock(desk.wrapUntil - now + 999); }
    if (desk.phase === "talking" && desk.answeredAt) {
      $("desk-call-timer").textContent = clock(now - desk.answeredAt);
    }
  }
  setInterval(tick, 250);

  // --- messages -----------------------------------------------------------------------------
  var messageTimer = null;
  function say(text, kind) {
    var box = $("desk-message");
    box.textContent = text || "";
    box.className = "desk-message " + (kind || "info");
    clearTimeout(messageTimer);
    if (text && kind !== "error") { messageTimer = setTimeout(function () { box.textContent = ""; }, 8000); }
  }

  // --- state --------------------------------------------------------------------------------
  function show(el, yes) { if (el) { el.hidden = !yes; } }
  // The POST response and the websocket both carry a state with the server time it began; they
  // can arrive out of order (the sign-in event after the ready response), so an older one is
  // dropped rather than shown over the newer.
  function stale(iso) {
    var at = parse(iso);
    return !!(at && desk.stateAt && at < desk.stateAt);
  }
  function applyState(state, reason, sinceIso, wrapIso) {
    if (stale(sinceIso)) { return; }
    if (parse(sinceIso)) { desk.stateAt = parse(sinceIso); }
    desk.state = state;
    desk.reason = reason || "";
    desk.since = parse(sinceIso) || serverNow();
    desk.wrapUntil = state === "wrap_up" ? parse(wrapIso) : null;
    var label = $("desk-state");
    label.textContent = config.states[state] || state;
    label.dataset.state = state;
    label.className = "desk-state state-" + state;
    $("desk-reason-label").textContent = desk.reason ? (config.reasons[desk.reason] || "") : "";
    var allowed = config.allowed[state] || [];
    show($("btn-sign-in"), allowed.indexOf("sign_in") >= 0);
    show($("btn-ready"), allowed.indexOf("ready") >= 0 && state !== "wrap_up");
    show($("btn-not-ready"), allowed.indexOf("not_ready") >= 0);
    show($("desk-reason").parentNode, allowed.indexOf("not_ready") >= 0);
    show($("btn-sign-out"), allowed.indexOf("sign_out") >= 0);
    show($("desk-wrapup"), state === "wrap_up");
    if (state === "ringing" || state === "talking" || state === "wrap_up") {
      setPhase(state);
    } else if (desk.phase) {
      setPhase("");
      showIdle();
    }
    tick();
  }

  function setPhase(phase) {
    desk.phase = phase;
    var bar = $("desk-call");
    bar.dataset.phase = phase;
    bar.dataset.call = desk.call || "";
    show(bar, !!phase);
    var names = {ringing: T.offered, talking: T.talking, wrap_up: T.wrap_up};
    $("desk-call-phase").textContent = names[phase] || "";
    var live = phase === "talking";
    bar.querySelectorAll("button").forEach(function (b) { b.disabled = !live; });
    if (phase !== "talking") {
      desk.onHold = false; desk.consulting = false; desk.conference = false;
      desk.parties = []; desk.monitors = [];
    }
    renderCall();
  }

  function renderCall() {
    var hold = $("btn-hold");
    hold.innerHTML = (desk.onHold ? T.resume : T.hold) + " <kbd>F4</kbd>";
    hold.dataset.onHold = desk.onHold ? "1" : "0";
    show($("desk-consult"), desk.consulting);
    var parts = [];
    if (desk.onHold) { parts.push(T.on_hold); }
    if (desk.consulting) { parts.push(T.consulting); }
    if (desk.conference) { parts.push(T.conference + (desk.parties.length ? " " + desk.parties.join("、") : "")); }
    if (desk.monitors.length) { parts.push(T.monitored + " " + desk.monitors.join("、")); }
    $("desk-call-status").textContent = parts.join(" · ");
  }

  function snapshot(s) {
    if (s.now) { desk.offset = Date.parse(s.now) - Date.now(); }
    desk.call = s.call;
    desk.answeredAt = parse(s.answered_at);
    desk.onHold = !!s.on_hold;
    applyState(s.state, s.reason, s.since, s.wrap_up_until);
    if (s.call && desk.loadedCall !== s.call) { loadCall(s.call); }
  }

  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"}
    }).then(function (r) {
      return r.json().catch(function () { return {error: r.statusText}; }).then(function (j) {
        return {ok: r.ok, status: r.status, json: j};
      });
    });
  }

  function setState(action) {
    var data = {action: action};
    if (action === "not_ready") {
      data.reason = $("desk-reason").value;
      if (!data.reason) { say(T.need_reason, "error"); return; }
    }
    post(root.dataset.stateUrl, data).then(function (r) {
      if (!r.ok) { say(r.json.error, "error"); return; }
      say("");
      snapshot(r.json);
    }).catch(function () { say(T.reconnecting, "error"); });
  }

  $("desk-state-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var button = e.submitter;
    if (button && button.value) { setState(button.value); }
  });
  $("btn-ready-now").addEventListener("click", function () { setState("ready"); });

  // --- the call: pop, form, commands ------------------------------------------------------
  function url(template, id) { return template.replace("/0/", "/" + id + "/"); }

  function fill(area, html) {
    area.innerHTML = html;
    if (window.htmx) { window.htmx.process(area); }
  }

  function loadCall(id) {
    desk.loadedCall = id;
    desk.popRequestedAt = performance.now();
    fetch(url(root.dataset.popUrl, id), {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || desk.loadedCall !== id) { return; }
      fill($("desk-pop"), html);
      desk.popShownAt = performance.now();
    });
    fetch(url(root.dataset.formUrl, id), {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || desk.loadedCall !== id) { return; }
      fill($("desk-order"), html);
    });
  }

  function clearCall() {
    desk.loadedCall = null;
    desk.call = null;
    $("desk-pop").innerHTML = "";
    $("desk-order").innerHTML = "";  // the caller went before the call was answered
    showIdle();
  }

  // The idle desk (the agent's figures for today and a knowledge search) comes back once the
  // call is over and no order form is open: an order being written is never thrown away.
  function showIdle() {
    if ($("desk-order-form") || desk.idleLoading) { return; }
    desk.idleLoading = true;
    fetch(root.dataset.idleUrl, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      desk.idleLoading = false;
      if (html === null || desk.phase || $("desk-order-form")) { return; }
      fill($("desk-order"), html);
      // The last caller's panel goes with the call.
      $("desk-pop").innerHTML = "";
      $("desk-pop").appendChild($("desk-no-call-template").content.cloneNode(true));
    }).catch(function () { desk.idleLoading = false; });
  }

  function command(action, target) {
    if (!desk.call) { return; }
    post(url(root.dataset.commandUrl, desk.call), {action: action, target: target || ""})
      .then(function (r) {
        if (!r.ok) { say(r.json.error, "error"); return; }
        desk.commands[r.json.command] = action;
        $("desk-command-result").textContent = T.sent;
      }).catch(function () { say(T.reconnecting, "error"); });
  }

  function toggleHold() {
    if (desk.phase === "talking") { command(desk.onHold ? "resume" : "hold"); }
  }

  $("btn-hold").addEventListener("click", toggleHold);
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-command]") : null;
    if (button && !button.disabled) { command(button.dataset.command, button.dataset.target); }
    var emergency = e.target.closest ? e.target.closest("[data-emergency]") : null;
    if (emergency && !emergency.disabled) { confirmEmergency(emergency.dataset.emergency); }
  });

  var dialog = $("desk-emergency-dialog");
  function confirmEmergency(number) {
    dialog.dataset.number = number;
    $("desk-emergency-text").textContent = T.confirm_emergency.replace("%(number)s", number);
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }
  $("btn-emergency-confirm").addEventListener("click", function () {
    dialog.close();
    command("emergency", dialog.dataset.number);
  });
  $("btn-emergency-cancel").addEventListener("click", function () { dialog.close(); });

  // --- knowledge answers into the reply ----------------------------------------------------
  // <button class="kb-insert" data-insert-into="id" data-answer="text">: one click puts the
  // answer into that field (after what is already written), ready for "answer and close".
  function insertAnswer(button) {
    var field = $(button.dataset.insertInto || "");
    if (!field) { return; }
    var text = button.dataset.answer || "";
    var before = field.value.replace(/\s+$/, "");
    field.value = before ? before + "\n" + text : text;
    field.dispatchEvent(new Event("input", {bubbles: true}));
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
    button.classList.add("used");
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button.kb-insert") : null;
    if (button) { insertAnswer(button); }
    var helpButton = e.target.closest ? e.target.closest("[data-show-help]") : null;
    if (helpButton) { toggleHelp(true); }
  });

  // --- events -------------------------------------------------------------------------------
  function handle(ev) {
    switch (ev.kind) {
      case "snapshot":
        snapshot(ev);
        break;
      case "agent_state":
        if (stale(ev.at)) { break; }
        if (ev.state !== "ringing" && ev.state !== "talking" && ev.state !== "wrap_up" &&
            (ev.action === "caller_gone" || ev.action === "no_answer")) {
          say(ev.action === "caller_gone" ? T.gone : T.missed, "error");
          clearCall();
        }
        applyState(ev.state, ev.reason, ev.at, ev.wrap_up_until);
        break;
      case "call_offered":
        // The offer claims the agent without an agent_state event: it is the ringing state.
        desk.call = ev.call;
        desk.answeredAt = null;
        $("desk-command-result").textContent = "";
        $("desk-call-timer").textContent = "00:00";
        loadCall(ev.call);
        applyState("ringing", "", ev.at, null);
        break;
      case "call_answered":
        desk.call = ev.call;
        desk.answeredAt = parse(ev.at);
        setPhase("talking");
        break;
      case "call_ended":
        setPhase("wrap_up");
        say(T.ended, "info");
        break;
      case "call_updated":
        callUpdated(ev);
        break;
      case "command_done":
        commandDone(ev);
        break;
    }
    // Other panels (the chats) listen for the events they care about.
    document.dispatchEvent(new CustomEvent("desk:event", { detail: ev }));
  }
  desk.handle = handle; // tests replay events in a chosen order

  // The gateway reports the call's legs as parties: {role, label, mode}; the caller and the
  // agent are always there, "consult" is the person consulted, "party" a third party of a
  // three-way call, "monitor" a supervisor listening, whispering or barged in.
  function callUpdated(ev) {
    if (ev.on_hold !== null && ev.on_hold !== undefined) { desk.onHold = !!ev.on_hold; }
    if (Array.isArray(ev.parties)) {
      var of = function (role) { return ev.parties.filter(function (p) { return p.role === role; }); };
      desk.consulting = of("consult").length > 0 || !!ev.consulting;
      desk.conference = of("party").length > 0;
      desk.parties = of("party").map(function (p) { return p.label; });
      desk.monitors = of("monitor").map(function (p) {
        return p.label + (T.modes[p.mode] ? " (" + T.modes[p.mode] + ")" : "");
      });
    } else if ("consulting" in ev) {
      desk.consulting = !!ev.consulting;
    }
    renderCall();
  }

  function commandDone(ev) {
    var action = ev.action || desk.commands[ev.command];
    delete desk.commands[ev.command];
    var result = $("desk-command-result");
    result.textContent = (ev.ok ? T.done : T.failed) + (ev.result ? ": " + ev.result : "");
    result.dataset.ok = ev.ok ? "1" : "0";
    if (!ev.ok) { say(result.textContent, "error"); return; }
    if (action === "hold") { desk.onHold = true; }
    if (action === "resume") { desk.onHold = false; }
    if (action === "consult") { desk.consulting = true; }
    if (action === "complete_transfer" || action === "cancel_consult") { desk.consulting = false; }
    if (action === "conference") { desk.conference = true; desk.consulting = false; }
    renderCall();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    desk.socket = socket;
    socket.onopen = function () {
      desk.retry = 0;
      $("desk-ws").dataset.connected = "1";
      if ($("desk-message").textContent === T.reconnecting) { say(""); }
    };
    socket.onmessage = function (m) {
      try { handle(JSON.parse(m.data)); } catch (err) { console.error(err); }
    };
    socket.onclose = function (e) {
      $("desk-ws").dataset.connected = "0";
      if (e.code === 4403) { return; } // not allowed: reconnecting will not help
      say(T.reconnecting, "error");
      desk.retry = Math.min(desk.retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, desk.retry));
    };
  }

  // --- keyboard -----------------------------------------------------------------------------
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return el.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && ["checkbox", "radio", "button", "submit"].indexOf(el.type) < 0);
  }
  var help = $("desk-help");
  function toggleHelp(open) { help.hidden = open === undefined ? !help.hidden : !open; }
  $("btn-help").addEventListener("click", function () { toggleHelp(true); });
  $("btn-help-close").addEventListener("click", function () { toggleHelp(false); });

  function submitOrder(buttonId) {
    var form = $("desk-order-form");
    if (form) { form.requestSubmit($(buttonId)); }
  }
  // Alt+N: on a call, the order form (or another order for the same call); without one, the
  // staff's new-order page in its own tab, so the desk keeps receiving calls.
  function newOrder() {
    var another = $("btn-order-another");
    if (another) { another.click(); return; }
    var title = $("id_title");
    if ($("desk-order-form") && title) { title.focus(); return; }
    var link = $("desk-new-order");
    if (link) { link.click(); }
  }

  document.addEventListener("keydown", function (e) {
    var handled = true;
    if (e.key === "F2") { setState("ready"); }
    else if (e.key === "F3") { setState("not_ready"); }
    else if (e.key === "F4") { toggleHold(); }
    else if (e.key === "F6") {
      var details = $("desk-transfer");
      if (details) { details.open = true; $("desk-transfer-q").focus(); }
    }
    else if (e.key === "F8") { if (desk.phase === "talking") { command("hangup"); } }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { submitOrder("btn-order-save"); }
    else if (e.altKey && e.code === "KeyK") {
      var kb = $("desk-kb-q");
      if (kb) { kb.focus(); kb.select(); }
    }
    else if (e.altKey && e.code === "KeyN") { newOrder(); }
    else if (e.altKey && e.code === "KeyS") { submitOrder("btn-order-save"); }
    else if (e.altKey && e.code === "KeyA") { submitOrder("btn-order-answer"); }
    else if (e.altKey && /^Digit[1-9]$/.test(e.code)) {
      var hit = document.querySelectorAll("#desk-kb-results [data-testid=kb-hit]")[Number(e.code.slice(5)) - 1];
      var insert = hit ? hit.querySelector("button.kb-insert") : null;
      if (insert) { insertAnswer(insert); } else { handled = false; }
    }
    else if (e.key === "Escape" && !help.hidden) { toggleHelp(false); }
    else if (e.key === "?" && !typing(e.target) && !e.ctrlKey && !e.altKey) { toggleHelp(); }
    else { handled = false; }
    if (handled) { e.preventDefault(); }
  });

  snapshot(initial);
  connect();
})();
