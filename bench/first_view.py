"""What the first view of the clonus page costs a phone: every resource and the bytes it took on the wire.

Usage: ``make bench-first-view`` (or ``.venv/bin/python bench/first_view.py --languages en ar ko ru``).
It starts the site as deployed, as ``bench/lighthouse.py`` does (gunicorn, DEBUG off, the demo content,
the static files collected and served compressed by WhiteNoise), then opens the page in each language
in Debian's Chromium with an empty cache and a phone's viewport, and waits until the network is quiet.
For each response it prints the bytes transferred (Chromium's ``encodedDataLength``: headers and the
body as sent, compressed when it was) and the size of the body once decompressed, then the total.

Exit status 1 when a page's total is over ``--budget`` (60 KB, 61,440 bytes).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lighthouse import Site, free_port

PAGE = "/conditions/clonus/"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
}
QUIET_SECONDS = 1.0


def first_view(browser, url):
    """[(url, resource type, transferred bytes, body bytes)] of one page load with an empty cache."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses, finished, last_activity = {}, {}, [time.monotonic()]

    def responded(event):
        response = event["response"]
        responses[event["requestId"]] = (response["url"], event.get("type", ""))
        last_activity[0] = time.monotonic()

    def loaded(event):
        finished[event["requestId"]] = event["encodedDataLength"]
        last_activity[0] = time.monotonic()

    bodies = {}

    def data(event):
        bodies[event["requestId"]] = bodies.get(event["requestId"], 0) + event["dataLength"]

    session.on("Network.responseReceived", responded)
    session.on("Network.loadingFinished", loaded)
    session.on("Network.dataReceived", data)
    page.goto(url, wait_until="load")
    while time.monotonic() - last_activity[0] < QUIET_SECONDS or set(responses) - set(finished):
        page.wait_for_timeout(100)
    context.close()
    return [
        (address, kind, finished[request_id], bodies.get(request_id, 0))
        for request_id, (address, kind) in responses.items()
        if request_id in finished
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=["en", "ar", "ko", "ru"])
    parser.add_argument("--budget", type=int, default=60 * 1024, help="bytes transferred at most")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    folder = Path(tempfile.mkdtemp(prefix="first-view-"))
    site = Site(folder, free_port())
    over = []
    try:
        site.start()
        width = PHONE["viewport"]["width"]
        print(f"gunicorn, DEBUG off, demo content; Chromium with a {width} px phone viewport")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            for language in options.languages:
                path = f"/{language}{PAGE}"
                rows = first_view(browser, f"{site.url}{path}")
                print(f"\n{path}")
                print(f"  {'transferred':>11}  {'body':>8}  {'type':<11} resource")
                for address, kind, transferred, body in rows:
                    name = address.removeprefix(site.url)
                    print(f"  {transferred:>11,}  {body:>8,}  {kind:<11} {name}")
                total = sum(transferred for _, _, transferred, _ in rows)
                print(f"  {total:>11,}  {sum(body for *_, body in rows):>8,}  total ({total / 1024:.1f} KB)")
                if total > options.budget:
                    over.append(f"{path} {total:,} bytes")
            browser.close()
    finally:
        site.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if over:
        print(f"\nOVER {options.budget:,} bytes: " + ", ".join(over))
        return 1
    print(f"\nOK: every first view is under {options.budget:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
