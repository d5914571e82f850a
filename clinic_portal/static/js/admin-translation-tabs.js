/*
 * Two additions to the language tabs of the admin (modeltranslation's tabbed_translation_fields.js,
 * which runs first):
 *
 * - A new inline row opens on the default language (English), not on the tab used last, so that
 *   English text is not typed into another language's field unnoticed.
 * - A language tab whose field is empty while the English field has text is marked, and so is that
 *   language in the language switch next to the page title; the marks follow the typing.
 *
 * The words come from <template id="translation-status-labels"> (no inline scripts under the CSP).
 */
"use strict";
(function () {
  var jQuery = window.jQuery || (window.django && window.django.jQuery);
  if (!jQuery) {
    return;
  }

  function label() {
    var labels = document.getElementById("translation-status-labels");
    return (labels && labels.dataset.missing) || "";
  }

  function isEmpty(field) {
    return field.value.trim() === "";
  }

  // The tabs of one translated field: [{li, anchor, field}], in tab order.
  function tabsOf(container) {
    var tabs = [];
    container.querySelectorAll(":scope > ul > li").forEach(function (li) {
      var anchor = li.querySelector("a[href^='#']");
      var panel = anchor && document.getElementById(anchor.getAttribute("href").slice(1));
      var field = panel && panel.querySelector("input.mt, textarea.mt");
      if (field) {
        tabs.push({ li: li, anchor: anchor, field: field });
      }
    });
    return tabs;
  }

  function marker(anchor) {
    var mark = anchor.querySelector(".translation-missing-mark");
    if (!mark) {
      mark = document.createElement("span");
      mark.className = "translation-missing-mark";
      var dot = document.createElement("span");
      dot.setAttribute("aria-hidden", "true");
      dot.textContent = "•";
      var words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = label();
      mark.append(dot, words);
    }
    return mark;
  }

  // Marks the tabs of one field; answers the languages (tab texts) that lack text.
  function markField(container) {
    var tabs = tabsOf(container);
    var english = tabs.find(function (tab) {
      return tab.field.classList.contains("mt-default");
    });
    var hasSource = english && !isEmpty(english.field);
    var missing = [];
    tabs.forEach(function (tab) {
      var lacks = Boolean(hasSource && tab !== english && isEmpty(tab.field));
      tab.li.classList.toggle("translation-missing", lacks);
      if (!tab.anchor.dataset.language) {
        tab.anchor.dataset.language = tab.anchor.textContent.trim();
        tab.anchor.dataset.title = tab.anchor.title || "";
      }
      var existing = tab.anchor.querySelector(".translation-missing-mark");
      if (lacks) {
        missing.push(tab.anchor.dataset.language);
        if (!existing) {
          tab.anchor.append(marker(tab.anchor));
        }
        tab.anchor.title = tab.anchor.dataset.title + " – " + label();
      } else {
        if (existing) {
          existing.remove();
        }
        tab.anchor.title = tab.anchor.dataset.title;
      }
    });
    return missing;
  }

  function tabContainers(root) {
    // The empty form that new rows are cloned from has no tabs of its own.
    return Array.from(root.querySelectorAll(".ui-tabs")).filter(function (container) {
      return !container.closest(".empty-form") && container.querySelector(":scope > ul > li");
    });
  }

  // The language switch next to the page title: "ko – text missing" while any ko field lacks text.
  function markSwitch(missing) {
    var select = document.getElementById("modeltranslation-main-switch");
    if (!select) {
      return;
    }
    Array.from(select.options).forEach(function (option) {
      if (!option.dataset.language) {
        option.dataset.language = option.textContent.trim();
      }
      var lacks = missing.has(option.dataset.language);
      option.textContent = option.dataset.language + (lacks ? " – " + label() : "");
      option.classList.toggle("translation-missing", lacks);
    });
  }

  function markAll() {
    var missing = new Set();
    tabContainers(document).forEach(function (container) {
      markField(container).forEach(function (language) {
        missing.add(language);
      });
    });
    markSwitch(missing);
  }

  function openOnDefaultLanguage(row) {
    tabContainers(row).forEach(function (container) {
      var index = tabsOf(container).findIndex(function (tab) {
        return tab.field.classList.contains("mt-default");
      });
      if (index >= 0) {
        jQuery(container).tabs("option", "active", index);
      }
    });
  }

  jQuery(function () {
    if (!document.body.classList.contains("change-form") || !jQuery.fn.tabs) {
      return;
    }
    markAll();
    document.addEventListener("input", function (event) {
      if (event.target.classList && event.target.classList.contains("mt")) {
        markAll();
      }
    });
    // Django dispatches "formset:added" before modeltranslation builds the new row's tabs (its click
    // handler runs next): wait for them, then show English and the marks.
    document.addEventListener("formset:added", function (event) {
      var row = event.target;
      window.setTimeout(function () {
        openOnDefaultLanguage(row);
        markAll();
      }, 0);
    });
  });
})();
