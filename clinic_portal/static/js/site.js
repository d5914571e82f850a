// Progressive enhancements only: every page works without JavaScript.
(function () {
  "use strict";

  // Close the language menu with Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.language-switcher[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.language-switcher[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Move the keyboard and screen-reader focus to an error summary, so its list is read first.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();

  // Filter forms marked data-autosubmit apply a change at once, keeping the filters in the URL.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () { form.requestSubmit(); });
  });
})();
