"""Lighthouse (mobile) on the main public pages, against a production-like server.

Usage: ``make audit`` (or ``.venv/bin/python bench/lighthouse.py --languages en ar --runs 1``). It
starts the site as deployed, in a temporary directory: DEBUG off, a scratch SQLite database migrated
and loaded with the demo content, the static files collected (WhiteNoise serves them, compressed and
with far-future cache headers), gunicorn on a free port. Then it runs Lighthouse (an npm tool, fetched
by ``npx`` into npm's cache, never into the project) in Debian's Chromium on each page with the mobile
form factor and its simulated slow 4G, and prints the four scores per page and the audits that cost
points. With ``--runs`` above 1 each page's scores are the median of the runs.

Exit status 1 when a score is under ``--minimum`` (95). Needs ``npx`` (Node 18 or later) and
Chromium (CHROME_PATH, by default /usr/bin/chromium).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Gunicorn, free_port, manage, production_env

LIGHTHOUSE = "lighthouse@12.8.2"  # the last release that runs on Node 20 (13.x needs Node 22)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "home": "/",
    "clonus": "/conditions/clonus/",
    "directory": "/clinics/",
    "clinic": "/clinics/hanbit-neuroscience-hospital/",
    "doctor": "/clinics/hanbit-neuroscience-hospital/doctors/kim-ji-hoon/",
    "comparison": (
        "/clinics/compare/?clinic=hanbit-neuroscience-hospital&clinic=seoul-riverside-rehabilitation-hospital"
        "&clinic=jeju-seaside-recovery-hospital&condition=clonus"
    ),
    "travel guide": "/plan-your-trip/",
}
# Kept out of search engines on purpose (every choice of clinics is one more address of the same
# content): Lighthouse's "page is blocked from indexing" audit is left out of their SEO score.
NOT_INDEXED = {"comparison"}


class Site:
    """gunicorn with DEBUG off over a scratch SQLite database with the demo content."""

    def __init__(self, folder, port):
        self.folder = folder
        self.port = port
        self.url = f"http://localhost:{port}"
        self.env = production_env(
            folder,
            site_url=self.url,
            database_url=f"sqlite:///{folder / 'db.sqlite3'}",
            allowed_hosts="localhost,127.0.0.1",
        )
        self.log = folder / "gunicorn.log"
        self.server = Gunicorn(self.env, port, self.log, workers=2)

    def start(self):
        manage(self.env, "migrate", "--noinput")
        manage(self.env, "load_demo")
        manage(self.env, "collectstatic", "--noinput")
        self.server.start()

    def stop(self):
        self.server.stop()


def lighthouse(url, report_path, chrome_path, skip_audits=()):
    """One Lighthouse run; returns its JSON report."""
    command = [
        shutil.which("npx") or "npx",
        "--yes",
        LIGHTHOUSE,
        url,
        "--form-factor=mobile",
        "--chrome-flags=--headless --no-sandbox --disable-gpu",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        f"--output-path={report_path}",
        "--quiet",
    ]
    if skip_audits:
        command.append(f"--skip-audits={','.join(skip_audits)}")
    env = {**os.environ, "CHROME_PATH": chrome_path}
    for attempt in range(3):  # a trace is now and then lost (NO_NAVSTART, NO_FCP): run again
        report_path.unlink(missing_ok=True)
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode == 0 and report_path.exists():
            report = json.loads(report_path.read_text())
            if not report.get("runtimeError"):
                return report
        print(f"  (Lighthouse failed on {url}, attempt {attempt + 1})", file=sys.stderr, flush=True)
    sys.exit(f"Lighthouse failed on {url}:\n{result.stdout}{result.stderr}")


def scores_of(report):
    return {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}


def costly_audits(report):
    """The audits that cost points: weighted ones scored under 1, with what Lighthouse says of them."""
    lines = []
    for name in CATEGORIES:
        for reference in report["categories"][name]["auditRefs"]:
            audit = report["audits"][reference["id"]]
            if audit["score"] is None or audit["score"] >= 1 or audit["scoreDisplayMode"] in ("informative",):
                continue
            if reference.get("weight", 0) == 0 and name != "performance":
                continue
            value = f" — {audit['displayValue']}" if audit.get("displayValue") else ""
            items = (audit.get("details") or {}).get("items")
            items = items if isinstance(items, list) else []
            where = []
            for item in items[:3]:
                node = item.get("node") if isinstance(item, dict) else None
                if node and node.get("snippet"):
                    where.append(node["snippet"][:100])
                elif isinstance(item, dict) and item.get("url"):
                    where.append(str(item["url"])[:100])
            detail = f" [{'; '.join(where)}]" if where else ""
            lines.append(f"{name}: {audit['id']} ({audit['score']:.2f}){value}{detail}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=["en", "ar"])
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median is shown")
    parser.add_argument("--minimum", type=int, default=95)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (reports, log)")
    options = parser.parse_args()
    chrome_path = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chrome_path).exists():
        sys.exit("Chromium is needed (apt-get install chromium), or set CHROME_PATH")
    if not shutil.which("npx"):
        sys.exit("npx is needed (apt-get install npm)")

    folder = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    site = Site(folder, free_port())
    rows, problems = [], {}
    try:
        started = time.monotonic()
        site.start()
        print(
            f"gunicorn, DEBUG off, demo content; ready in {time.monotonic() - started:.0f} s; "
            f"{LIGHTHOUSE}, mobile"
        )
        for language in options.languages:
            for page in options.pages:
                path = f"/{language}{PAGES[page]}"
                runs = []
                for run in range(options.runs):
                    report = lighthouse(
                        f"{site.url}{path}",
                        folder / f"{page}-{language}-{run}.json",
                        chrome_path,
                        skip_audits=["is-crawlable"] if page in NOT_INDEXED else [],
                    )
                    runs.append(report)
                scores = {
                    name: round(statistics.median(scores_of(report)[name] for report in runs))
                    for name in CATEGORIES
                }
                benchmark = statistics.median(report["environment"]["benchmarkIndex"] for report in runs)
                rows.append((path, scores, benchmark))
                problems[path] = costly_audits(runs[-1])
                print(
                    f"  {path}: " + ", ".join(f"{name} {score}" for name, score in scores.items()), flush=True
                )
    finally:
        site.stop()
        if options.keep:
            print(f"reports and the gunicorn log are in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    width = max(len(path) for path, _, _ in rows)
    print()
    print(f"{'page':<{width}}  " + "  ".join(f"{name:>14}" for name in CATEGORIES) + "  host benchmark")
    for path, scores, benchmark in rows:
        print(
            f"{path:<{width}}  "
            + "  ".join(f"{scores[name]:>14}" for name in CATEGORIES)
            + f"  {benchmark:>14.0f}"
        )
    print(
        "(host benchmark: Lighthouse's benchmarkIndex of this machine during the run; under about 1000 the "
        "4× CPU slowdown of its mobile profile overstates the blocking time: see --runs)"
    )
    print()
    for path, lines in problems.items():
        if lines:
            print(f"{path} loses points on:")
            for line in lines:
                print(f"  {line}")
    low = [
        (path, name, score)
        for path, scores, _ in rows
        for name, score in scores.items()
        if score < options.minimum
    ]
    if low:
        print(
            f"\nUNDER {options.minimum}: " + ", ".join(f"{path} {name} {score}" for path, name, score in low)
        )
        return 1
    print(f"\nOK: every score is {options.minimum} or more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
