/* The desk's chats panel: the desk websocket's chat events refresh it (a new or ended chat:
 * the panel; a message: that chat's log), and a knowledge-base answer button puts the answer
 * into the chat's reply box for the agent to read, change and send. */
(function () {
  "use strict";
  document.addEventListener("desk:event", function (e) {
    var ev = e.detail || {};
    if (!window.htmx) { return; }
    if (ev.kind === "chat_offered" || ev.kind === "chat_closed") {
      window.htmx.trigger(document.body, "desk-chats-changed");
    } else if (ev.kind === "chat_message") {
      if (document.getElementById("desk-chat-" + ev.chat)) {
        window.htmx.trigger(document.body, "desk-chat-" + ev.chat);
      } else {
        window.htmx.trigger(document.body, "desk-chats-changed");
      }
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target;
    if (form && form.classList && form.classList.contains("chat-reply") && e.detail.successful) {
      form.reset();
    }
  });
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest(".chat-answer") : null;
    if (!button) { return; }
    var box = document.getElementById("chat-reply-" + button.dataset.chat);
    if (box) { box.value = button.dataset.answer; box.focus(); }
  });
})();
