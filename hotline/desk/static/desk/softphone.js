/* The desk's softphone (WebRTC): the agent's calls ring here when their extension is set to it.
 *
 * Registered while the agent is signed in (签入; the desk's own script keeps the state in
 * window.hotlineDesk): the microphone is asked for, a peer connection with the microphone's
 * track and a "control" data channel is offered to the gateway as one complete SDP (ICE
 * gathered first) through the desk's softphone endpoint, and the gateway's answer is read
 * back from it. Ringing, answering, hanging up and the keypad travel on the control channel;
 * hold is the desk's own call command (the call bar's button); mute is local (the track is
 * disabled: the caller hears silence). Without a microphone the desk says so and the rest of
 * the desk works as before. Texts come from the template's data-text-* attributes (translated).
 */
(function () {
  "use strict";
  var root = document.getElementById("softphone");
  if (!root) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var text = function (name) { return root.dataset["text" + name] || ""; };
  var csrfInput = document.querySelector("[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var RETRY_MS = 5000, POLL_MS = 300, GATHER_MS = 5000, ANSWER_WAIT_MS = 20000;

  var phone = {
    status: "off", phase: "", pc: null, channel: null, session: null, stream: null,
    leg: null, muted: false, denied: false, busy: false, retry: null
  };
  window.hotlineSoftphone = phone; // for tests

  function url(template, id) { return template.replace("/0/", "/" + id + "/"); }

  function post(address, data) {
    return fetch(address, {
      method: "POST", body: new URLSearchParams(data || {}), credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"}
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        return {ok: r.ok, status: r.status, json: j};
      });
    });
  }

  function show(el, yes) { el.hidden = !yes; }

  function render() {
    root.dataset.status = phone.status;
    root.dataset.phase = phone.phase;
    var line = {
      off: text("Off"), registering: text("Registering"), ready: text("Ready"),
      no_microphone: phone.denied ? text("MicDenied") : text("NoMic"),
      unsupported: text("Unsupported"), failed: text("Failed")
    }[phone.status] || "";
    if (phone.phase === "ringing") { line = text("Ringing"); }
    if (phone.phase === "talking") { line = phone.muted ? text("Muted") : text("Talking"); }
    $("softphone-status").textContent = line;
    show($("softphone-answer"), phone.phase === "ringing");
    show($("softphone-hangup"), phone.phase === "ringing" || phone.phase === "talking");
    show($("softphone-hold"), phone.phase === "talking");
    show($("softphone-mute"), phone.phase === "talking");
    show($("softphone-keypad"), phone.phase === "talking");
    var mute = $("softphone-mute");
    mute.textContent = phone.muted ? text("Unmute") : text("Mute");
    mute.setAttribute("aria-pressed", phone.muted ? "true" : "false");
  }

  function setStatus(status) { phone.status = status; render(); }

  // --- registering ------------------------------------------------------------------------
  function register() {
    if (phone.busy || phone.pc || phone.status === "no_microphone" ||
        phone.status === "unsupported") { return; }
    if (!window.RTCPeerConnection || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia) { setStatus("unsupported"); return; }
    phone.busy = true;
    setStatus("registering");
    navigator.mediaDevices.getUserMedia({audio: true, video: false}).then(function (stream) {
      phone.stream = stream;
      return connect(stream);
    }, function (error) {
      // NotFoundError: no microphone; NotAllowedError: the user or a policy refused it.
      phone.denied = !!(error && (error.name === "NotAllowedError" || error.name === "SecurityError"));
      phone.busy = false;
      setStatus("no_microphone");
    }).catch(function () { failed(); });
  }

  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") { resolve(); return; }
      var timer = setTimeout(resolve, GATHER_MS); // send what was gathered so far
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  function connect(stream) {
    var pc = new RTCPeerConnection({iceServers: []});
    phone.pc = pc;
    stream.getAudioTracks().forEach(function (track) {
      track.enabled = !phone.muted;
      pc.addTrack(track, stream);
    });
    var channel = pc.createDataChannel("control");
    phone.channel = channel;
    channel.onmessage = function (e) { onMessage(e.data); };
    channel.onopen = function () { phone.busy = false; setStatus("ready"); };
    channel.onclose = function () { if (phone.pc === pc) { failed(); } };
    pc.ontrack = function (e) {
      var audio = $("softphone-audio");
      audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    };
    pc.onconnectionstatechange = function () {
      if (phone.pc === pc && (pc.connectionState === "failed" || pc.connectionState === "closed")) {
        failed();
      }
    };
    return pc.createOffer().then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () { return gathered(pc); }).then(function () {
      return post(root.dataset.registerUrl, {sdp: pc.localDescription.sdp});
    }).then(function (r) {
      if (!r.ok) { throw new Error(r.json.error || String(r.status)); }
      phone.session = r.json.session;
      return waitForAnswer(pc, r.json.session, Date.now() + ANSWER_WAIT_MS);
    });
  }

  function waitForAnswer(pc, session, deadline) {
    return fetch(url(root.dataset.sessionUrl, session), {
      credentials: "same-origin", headers: {"Accept": "application/json"}
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (phone.pc !== pc) { return null; }
      if (j.state === "answered" && j.answer) {
        return pc.setRemoteDescription({type: "answer", sdp: j.answer});
      }
      if (j.state === "failed" || j.state === "closed" || Date.now() > deadline) {
        throw new Error(j.state || "timeout");
      }
      return new Promise(function (resolve) { setTimeout(resolve, POLL_MS); }).then(function () {
        return waitForAnswer(pc, session, deadline);
      });
    });
  }

  function teardown(notify) {
    var pc = phone.pc, session = phone.session;
    phone.pc = null; phone.channel = null; phone.session = null; phone.leg = null;
    phone.phase = ""; phone.busy = false;
    if (pc) { try { pc.close(); } catch (e) { /* already closed */ } }
    if (phone.stream) { phone.stream.getTracks().forEach(function (t) { t.stop(); }); }
    phone.stream = null;
    if (notify && session) { post(url(root.dataset.closeUrl, session)); }
  }

  function failed() {
    teardown(true);
    setStatus("failed");
    clearTimeout(phone.retry);
    phone.retry = setTimeout(function () {
      if (phone.status === "failed") { setStatus("off"); watch(); }
    }, RETRY_MS);
  }

  // --- the call ---------------------------------------------------------------------------
  function send(message) {
    if (phone.channel && phone.channel.readyState === "open") {
      phone.channel.send(JSON.stringify(message));
    }
  }

  function onMessage(raw) {
    var message;
    try { message = JSON.parse(raw); } catch (e) { return; }
    if (!message || typeof message.type !== "string") { return; }
    if (message.type === "ring") {
      phone.leg = message.leg; phone.phase = "ringing";
    } else if (message.type === "connected") {
      // Also a call this desk takes over from the agent's previous page (a reload).
      phone.leg = message.leg; phone.phase = "talking";
    } else if (message.type === "ended" && message.leg === phone.leg) {
      phone.leg = null; phone.phase = "";
      setMuted(false);
    }
    render();
  }

  function setMuted(muted) {
    phone.muted = muted;
    if (phone.stream) { phone.stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; }); }
    render();
  }

  $("softphone-answer").addEventListener("click", function () {
    if (phone.phase === "ringing") { send({type: "answer", leg: phone.leg}); }
  });
  $("softphone-hangup").addEventListener("click", function () {
    if (phone.leg) { send({type: "hangup", leg: phone.leg}); }
  });
  $("softphone-hold").addEventListener("click", function () {
    var hold = $("btn-hold"); // the desk's hold command, so the call's state stays one
    if (hold) { hold.click(); }
  });
  $("softphone-mute").addEventListener("click", function () { setMuted(!phone.muted); });
  $("softphone-keypad").addEventListener("click", function (e) {
    var key = e.target.closest("[data-digit]");
    if (key && phone.phase === "talking") { send({type: "dtmf", leg: phone.leg, digit: key.dataset.digit}); }
  });

  // --- registered while signed in ------------------------------------------------------------
  function watch() {
    var desk = window.hotlineDesk;
    var state = desk ? desk.state : "signed_out";
    if (state && state !== "signed_out") {
      register();
    } else if (phone.pc || phone.status === "ready") {
      teardown(true);
      setStatus("off");
    } else if (phone.status !== "no_microphone" && phone.status !== "unsupported") {
      setStatus("off");
    }
  }
  setInterval(watch, 500);
  window.addEventListener("pagehide", function () {
    if (phone.session && navigator.sendBeacon) {
      var form = new FormData();
      form.append("csrfmiddlewaretoken", csrf);
      navigator.sendBeacon(url(root.dataset.closeUrl, phone.session), form);
    }
  });
  render();
  watch();
})();
