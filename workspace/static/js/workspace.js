// Keyboard shortcuts for the coordinator workspace. Progressive enhancement: every action is a
// link or a form that works without JavaScript.
(function () {
  "use strict";

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName));
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-inbox] [data-open]"));
  var current = -1;
  rows.forEach(function (link, index) {
    link.addEventListener("focus", function () { current = index; });
  });

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].focus();
  }

  // Choosing a reply template replaces the composer's text: ask first when there is a draft.
  var picker = document.querySelector("form[data-confirm-replace]");
  if (picker) {
    picker.addEventListener("submit", function (event) {
      var draft = document.querySelector("[data-reply] textarea");
      if (draft && draft.value.trim() && !window.confirm(picker.getAttribute("data-confirm-replace"))) {
        event.preventDefault();
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    var reply = document.querySelector("[data-reply] textarea");
    var take = document.querySelector("form[data-take]");
    var back = document.querySelector("[data-back]");
    var next = document.querySelector("[data-next]");
    var previous = document.querySelector("[data-previous]");
    var handled = true;
    if (event.key === "j" && rows.length) focusRow(current + 1);
    else if (event.key === "k" && rows.length) focusRow(current - 1);
    else if (event.key === "r" && reply) reply.focus();
    else if (event.key === "a" && take) take.requestSubmit();
    else if (event.key === "u" && back) window.location.assign(back.href);
    else if (event.key === "n" && next) window.location.assign(next.href);
    else if (event.key === "p" && previous) window.location.assign(previous.href);
    else handled = false;
    if (handled) event.preventDefault();
  });
})();
