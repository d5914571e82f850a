"""The benchmark of the site at 1,000, 10,000 and 100,000 clinics, against the floor of the same run.

Usage: ``make bench`` (``BENCH_ARGS="--sizes 1000 --duration 5 --repeats 1"`` for a quick look), or
``.venv/bin/python bench/run.py --help``. In a temporary directory and a scratch PostgreSQL database
of its own (a SQLite file, with fewer clinics, when PostgreSQL on 127.0.0.1:5432 is not reachable)
it migrates, collects the static files, loads the demo content, then for each size:

1. adds clinics in bulk (treatments, specialties, languages, services, accreditations), rebuilds what
   the project derives from them (search text, every ``rebuild_*`` command) and analyses the tables;
2. fetches each page in process through Django's test client: queries (CaptureQueriesContext), the
   HTML's size raw, gzipped (level 6) and with brotli (quality 11), the server time and the part of
   it spent rendering templates;
3. starts gunicorn as deployed (DEBUG off, 2 sync workers, a Redis of its own, the static files
   collected) and drives it with wrk from a separate process: ``--connections`` (16) for
   ``--duration`` s (15), ``--repeats`` (3) rounds, each round the floor (``/robots.txt``: the whole
   middleware stack, no template, no query) then every page; the figures are the medians of the
   rounds, each ratio taken against the floor of its own round. Requests send the headers of a
   browser behind the TLS proxy (Accept-Encoding gzip/brotli, X-Forwarded-Proto https).
   Uncached: gunicorn runs with ``PAGE_CACHE=off``; ``--cache`` adds a run with the page caches on
   and warmed first.

It prints one table (page, size, requests/s, ratio to the floor, p50, p95, queries, HTML sizes),
PASS or FAIL for each target of the performance issue next to it, and a profile of the slowest page
(pyinstrument when installed, else cProfile). Then the inbox over ``--inquiries`` inquiries
(bench/inbox.py) and the write path (bench/delivery.py at 4 clients) run, each in its own scratch
database, and their summaries are added. The exit status is 0 unless something crashed: a missed
target is a FAIL line, not an error. wrk is Debian's package ``wrk`` (``apt-get install wrk``).
"""

import argparse
import cProfile
import gzip
import io
import math
import os
import pstats
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    Gunicorn,
    PrivateRedis,
    ScratchDatabase,
    free_port,
    manage,
    production_env,
)

FLOOR = ("floor /robots.txt", "/robots.txt")
PAGES = [
    ("home", "/en/"),
    ("directory", "/en/clinics/"),
    ("clinic page", "/en/clinics/hanbit-neuroscience-hospital/"),
    ("clonus en", "/en/conditions/clonus/"),
    ("clonus ar", "/ar/conditions/clonus/"),
    ("clonus ko", "/ko/conditions/clonus/"),
    ("search rehabilitation", "/en/clinics/?q=rehabilitation"),
    ("request form", "/en/inquiries/new/"),
]
CLONUS = ("clonus en", "clonus ar", "clonus ko")
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br", "X-Forwarded-Proto": "https"}
# wrk's summary, in microseconds, on one line the harness reads back.
WRK_SCRIPT = """
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["X-Forwarded-Proto"] = "https"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write, e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""
LANGUAGES = ["en", "ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]


# --- The data -------------------------------------------------------------------------------------


def load_demo_content():
    from clinics.demo.loader import load as load_clinics
    from conditions.demo.loader import load as load_conditions

    load_conditions()
    load_clinics()


def add_clinics(start, stop, batch_size=5_000):
    """Bench clinics numbered ``start`` to ``stop - 1``, with their rows, in bulk; returns their ids."""
    from django.db import transaction

    from clinics.models import (
        Accreditation,
        City,
        Clinic,
        ClinicLanguage,
        ClinicService,
        ClinicTreatment,
        Service,
    )
    from conditions.models import Specialty, Treatment

    rng = random.Random(42 + start)
    treatments = list(Treatment.objects.all())
    specialties = list(Specialty.objects.all())
    cities = [city.value for city in City]
    services = [service.value for service in Service]
    ids = []
    first = start
    while first < stop:
        # A small first batch, then statistics: PostgreSQL plans its foreign-key checks once per
        # session, and plans made while the tables were nearly empty scan them whole on every row.
        size = batch_size if first > start else min(batch_size, 1_000)
        with transaction.atomic():
            clinics = Clinic.objects.bulk_create(
                Clinic(
                    slug=f"bench-{number:06d}",
                    name_en=f"Bench Clinic {number}",
                    name_ko=f"벤치 병원 {number}",
                    name_ru=f"Клиника {number}",
                    legal_name_ko=f"벤치병원{number}",
                    kind="clinic",
                    city=rng.choice(cities),
                    address_ko="서울",
                    address_en="Seoul",
                    foreign_patient_registration_number=f"B-{number:06d}",
                    is_published=rng.random() > 0.05,
                )
                for number in range(first, min(first + size, stop))
            )
            ClinicTreatment.objects.bulk_create(
                ClinicTreatment(clinic=clinic, treatment=treatment)
                for clinic in clinics
                for treatment in rng.sample(treatments, 3)
            )
            Clinic.specialties.through.objects.bulk_create(
                Clinic.specialties.through(clinic=clinic, specialty=specialty)
                for clinic in clinics
                for specialty in rng.sample(specialties, 2)
            )
            ClinicLanguage.objects.bulk_create(
                ClinicLanguage(clinic=clinic, language=language, role="coordinator")
                for clinic in clinics
                for language in rng.sample(LANGUAGES, 2)
            )
            ClinicService.objects.bulk_create(
                ClinicService(clinic=clinic, service=rng.choice(services)) for clinic in clinics
            )
            Accreditation.objects.bulk_create(
                Accreditation(clinic=clinic, kind="koiha", valid_until="2099-01-01")
                for clinic in clinics
                if clinic.pk % 3 == 0
            )
        ids.extend(clinic.pk for clinic in clinics)
        if first == start:
            analyse()
        first += size
    return ids


def rebuild_derived(clinic_ids):
    """What the project derives from clinics and their rows, which bulk inserts skip: the search text
    of the new clinics, then every ``rebuild_*`` command the project offers (the match table…)."""
    from django.core.management import call_command, get_commands

    from clinics.models import Clinic
    from clinics.services import clinics_refresh_search_text

    if clinic_ids:
        # Inserted last, so every clinic from the first new id on is new (and no list of ids that
        # SQLite could not take as parameters).
        clinics_refresh_search_text(clinics=Clinic.objects.filter(pk__gte=min(clinic_ids)))
    done = ["search text"]
    for name in sorted(get_commands()):
        if name.startswith("rebuild_") and name != "rebuild_search_text":
            call_command(name, verbosity=0, stdout=io.StringIO())
            done.append(name)
    return done


def fill(count):
    """The demo content and ``count`` bench clinics, with everything derived from them rebuilt."""
    load_demo_content()
    rebuild_derived(add_clinics(0, count))


def analyse():
    from django.db import connection

    with connection.cursor() as cursor:
        # As autovacuum would have done on a live database (statistics, visibility map).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- In process -----------------------------------------------------------------------------------


class TemplateTime:
    """Counts the time spent rendering templates (the outermost rendering, includes and the form
    widgets' templates inside it; the queries a template runs count too)."""

    def __init__(self):
        self.seconds = 0.0
        self._depth = 0

    def __enter__(self):
        from django.template import base

        self._base, self._render = base, base.Template.render
        timer, render = self, base.Template.render

        def timed_render(template, context):
            if timer._depth:
                return render(template, context)
            timer._depth += 1
            begin = time.perf_counter()
            try:
                return render(template, context)
            finally:
                timer.seconds += time.perf_counter() - begin
                timer._depth -= 1

        base.Template.render = timed_render
        return self

    def __exit__(self, *exc_info):
        self._base.Template.render = self._render


def in_process(client, path, budget_seconds=5.0, most=20):
    """Server time (median ms) of a few requests and the part of it spent in templates, then one
    request's queries and HTML sizes."""
    import brotli
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, template_timings = [], []
    started = time.monotonic()
    while len(timings) < most and (len(timings) < 3 or time.monotonic() - started < budget_seconds):
        with TemplateTime() as templates:
            begin = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - begin) * 1000)
        template_timings.append(templates.seconds * 1000)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code} in process")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    html = response.content
    return {
        "server_ms": statistics.median(timings),
        "templates_ms": statistics.median(template_timings),
        "queries": len(queries),
        "raw": len(html),
        "gzip": len(gzip.compress(html, compresslevel=6)),
        "brotli": len(brotli.compress(html)),
    }


def profile(client, path, seconds=5.0):
    """Where the time of this page goes, a few requests' worth, as text."""
    requests = 0
    started = time.monotonic()
    try:
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        while requests < 3 or (time.monotonic() - started < seconds and requests < 50):
            client.get(path)
            requests += 1
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        return f"cProfile, {requests} requests, top 25 by cumulative time\n{out.getvalue()}"
    profiler = Profiler()
    with profiler:
        while requests < 3 or (time.monotonic() - started < seconds and requests < 50):
            client.get(path)
            requests += 1
    return f"pyinstrument, {requests} requests\n{profiler.output_text(unicode=True, color=False)}"


# --- Under load -----------------------------------------------------------------------------------


def wrk(port, path, options, script):
    command = [
        shutil.which("wrk"),
        "--threads",
        "1",
        "--connections",
        str(options.connections),
        "--duration",
        f"{options.duration}s",
        "--timeout",
        "30s",
        "--script",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=options.duration + 120)
    match = re.search(r"^BENCH-RESULT (.+)$", result.stdout, re.MULTILINE)
    if not match:
        sys.exit(f"wrk failed on {path}:\n{result.stdout}{result.stderr}")
    requests, duration, socket_errors, bad, *latencies = (int(v) for v in match.group(1).split())
    # No request finished within the run: its latency is unknown, and longer than the run.
    p50, p95, p99, longest = (value / 1000 if requests else math.inf for value in latencies)
    return {
        "rps": requests / (duration / 1e6),
        "errors": socket_errors + bad,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "max": longest,
    }


def warm_up(port, paths, each=4):
    """A few requests to every page, two at a time: both workers load their code and fill caches."""
    import http.client

    def fetch(path):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}", **BROWSER_HEADERS})
            connection.getresponse().read()
        finally:
            connection.close()

    for path in paths:
        for _ in range(each // 2):
            pair = [threading.Thread(target=fetch, args=(path,)) for _ in range(2)]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join()


def settle(port):
    """Until the requests wrk left queued at its end are served: they would weigh on the next run.

    gunicorn serves its accept queue in order; once two rounds of requests sent after it are
    answered, both workers are past what the previous run left behind."""
    warm_up(port, [FLOOR[1]], each=4)


def under_load(env, folder, options, script, *, cached):
    """{page: {rps, ratio, p50, p95, p99, errors}} for one gunicorn run (medians of the rounds)."""
    port = free_port()
    server_env = {**env, "SITE_URL": f"http://127.0.0.1:{port}"}
    if not cached:
        server_env["PAGE_CACHE"] = "off"
    server = Gunicorn(server_env, port, folder / "gunicorn.log", workers=options.workers, timeout=120)
    server.start()
    try:
        warm_up(port, [FLOOR[1], *(path for _, path in PAGES)])
        rounds = []
        for _ in range(options.repeats):
            floor = wrk(port, FLOOR[1], options, script)
            figures = {FLOOR[0]: floor}
            for label, path in PAGES:
                settle(port)
                figures[label] = wrk(port, path, options, script)
            settle(port)
            for figure in figures.values():
                figure["ratio"] = figure["rps"] / floor["rps"] if floor["rps"] else 0.0
            rounds.append(figures)
    finally:
        server.stop()
    return {
        label: {key: statistics.median(r[label][key] for r in rounds) for key in rounds[0][label]}
        for label in rounds[0]
    }


# --- The report -----------------------------------------------------------------------------------


def kb(size):
    return f"{size / 1024:.1f}"


def latency(value):
    return "none finished within the run" if math.isinf(value) else f"{value:.0f} ms"


def ms(value, width):
    return f"{'—' if math.isinf(value) else f'{value:.1f}':>{width}}"


def print_table(results, cached):
    columns = (
        f"{'page':22} {'clinics':>8} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'server ms':>9} {'templ. ms':>9} {'queries':>7} {'raw KB':>7} {'gzip KB':>7} {'br KB':>6}"
    )
    if cached:
        columns += f" {'warm req/s':>10} {'ratio':>6} {'p95 ms':>7}"
    print(columns)
    print("-" * len(columns))
    for size, pages in results.items():
        for label, row in pages.items():
            load, local = row["uncached"], row.get("in_process", {})
            line = (
                f"{label:22} {size:>8,} {load['rps']:8.1f} {load['ratio']:6.3f} {ms(load['p50'], 8)} "
                f"{ms(load['p95'], 8)} {ms(load['p99'], 8)} "
            )
            if local:
                line += (
                    f"{local['server_ms']:9.1f} {local['templates_ms']:9.1f} {local['queries']:7d} "
                    f"{kb(local['raw']):>7} {kb(local['gzip']):>7} {kb(local['brotli']):>6}"
                )
            else:
                line += f"{'':9} {'':9} {'':7} {'':7} {'':7} {'':6}"
            if cached:
                warm = row["cached"]
                line += f" {warm['rps']:10.1f} {warm['ratio']:6.3f} {ms(warm['p95'], 7)}"
            if load["errors"] or (cached and row["cached"]["errors"]):
                line += "  (errors or timeouts: " + str(int(load["errors"]))
                line += f" / {int(row['cached']['errors'])})" if cached else ")"
            print(line)
        print()


def verdict(ok):
    return "PASS" if ok else "FAIL"


def targets(results, cached):
    """(PASS/FAIL/—, target, what was measured) for each target the benchmark can check."""
    lines = []
    sizes = sorted(results)
    for size in sizes:
        pages = results[size]
        floor_ms = pages[FLOOR[0]]["in_process"]["server_ms"]
        for label in CLONUS:
            ratio = pages[label]["uncached"]["ratio"]
            # What bounds the uncached ratio: the templates alone, against the floor's own server time.
            templates_ms = pages[label]["in_process"]["templates_ms"]
            lines.append(
                (
                    verdict(ratio >= 0.10),
                    f"{label} at {size:,}: ≥ 0.10 of the floor uncached",
                    f"{ratio:.3f} (in process its templates take {templates_ms:.1f} ms, "
                    f"{templates_ms / floor_ms:.0f} × the floor's {floor_ms:.2f} ms)",
                )
            )
            if cached:
                warm = pages[label]["cached"]["ratio"]
                lines.append(
                    (
                        verdict(warm >= 0.50),
                        f"{label} at {size:,}: ≥ 0.50 of the floor, caches warm",
                        f"{warm:.3f}",
                    )
                )
            p95 = pages[label]["uncached"]["p95"]
            lines.append((verdict(p95 < 100), f"{label} at {size:,}: p95 < 100 ms", latency(p95)))
        form = pages["request form"]
        raw, server_ms = form["in_process"]["raw"], form["in_process"]["server_ms"]
        lines.append(
            (verdict(raw < 30 * 1024), f"request form at {size:,}: under 30 KB of HTML", f"{kb(raw)} KB")
        )
        lines.append(
            (
                verdict(server_ms < 30),
                f"request form at {size:,}: under 30 ms (server time)",
                f"{server_ms:.1f} ms",
            )
        )
    if 100_000 in results:
        pages = results[100_000]
        p95 = pages["clonus en"]["uncached"]["p95"]
        lines.append((verdict(p95 < 100), "clonus at 100,000: p95 < 100 ms", latency(p95)))
        if 1_000 in results:
            small = results[1_000]["clonus en"]["uncached"]["p95"]
            lines.append(
                (
                    verdict(p95 <= 1.5 * small),
                    "clonus at 100,000: ≤ 1.5 × its 1,000-clinic p95",
                    f"{p95 / small:.2f} ×",
                )
            )
        for label in ("directory", "search rehabilitation"):
            p95 = pages[label]["uncached"]["p95"]
            local = pages[label]["in_process"]
            lines.append(
                (
                    verdict(p95 < 50),
                    f"{label} at 100,000: p95 < 50 ms",
                    f"{latency(p95)} (in process {local['server_ms']:.1f} ms, {local['templates_ms']:.1f} of "
                    "them in templates)",
                )
            )
    else:
        lines.append(("—", "the targets at 100,000 clinics", "not measured (--sizes)"))
    if len(sizes) > 1:
        for label, _ in PAGES:
            counts = [results[size][label]["in_process"]["queries"] for size in sizes]
            same = len(set(counts)) == 1
            lines.append(
                (
                    verdict(same),
                    f"{label}: the same number of queries at every size",
                    " / ".join(map(str, counts)),
                )
            )
    return lines


def print_targets(lines):
    width = max(len(target) for _, target, _ in lines)
    for mark, target, measured in lines:
        print(f"{mark:4}  {target:<{width}}  {measured}")


# --- The other benchmarks -------------------------------------------------------------------------

INBOX_ROW = re.compile(r"^(?P<label>.+?)\s+(?P<median>[\d.]+)\s+(?P<p95>[\d.]+)\s+(?P<queries>\d+)$")


def run_inbox(database, folder, inquiries):
    """bench/inbox.py in a child process (it makes and drops its own test database)."""
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE",)},
        "DATABASE_URL": database.url
        if database.vendor == "postgresql"
        else f"sqlite:///{folder / 'inbox.sqlite3'}",
        "BENCH_INQUIRIES": str(inquiries),
        "BENCH_REQUESTS": "20",
        # Filling a million rows takes more than the site's statement timeout.
        "DATABASE_STATEMENT_TIMEOUT_MS": "600000",
    }
    for key in ("DEBUG", "SECRET_KEY", "PAGE_CACHE", "REDIS_URL", "STATIC_ROOT", "SITE_URL", "ALLOWED_HOSTS"):
        env.pop(key, None)
    result = subprocess.run(
        [sys.executable, "bench/inbox.py"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    print(result.stdout.rstrip())
    lines = []
    if result.returncode:
        print(f"bench/inbox.py failed ({result.returncode}):\n{result.stderr[-3000:]}")
        lines.append(("FAIL", "inbox benchmark", "crashed"))
    for line in result.stdout.splitlines():
        match = INBOX_ROW.match(line.strip())
        if not match:
            continue
        label, p95, queries = match["label"].strip(), float(match["p95"]), int(match["queries"])
        ok = queries <= 10 and p95 < 150
        if "reference" in label:
            ok = ok and p95 < 20
            wanted = "≤ 10 queries, p95 < 20 ms"
        elif label.startswith("one "):  # a single inquiry's page, not a list: no query budget
            ok = p95 < 150
            wanted = "p95 < 150 ms"
        else:
            wanted = "≤ 10 queries, p95 < 150 ms"
        lines.append(
            (
                verdict(ok),
                f"inbox over {inquiries:,}, {label}: {wanted}",
                f"{queries} queries, p95 {p95:.0f} ms",
            )
        )
    return lines


DELIVERY_SUMMARY = re.compile(
    r"^(posts:|accepted:|stored inquiries:|stored files:|emails written:|emails delivered|duplicates|"
    r"failed emails:|.*drain|OK$|MISMATCH$)"
)


def run_delivery(clients, per_client):
    """bench/delivery.py in a child process (its own stack and scratch database)."""
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE",)}
    result = subprocess.run(
        [sys.executable, "bench/delivery.py", "--clients", str(clients), "--per-client", str(per_client)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    summary = [line for line in result.stdout.splitlines() if DELIVERY_SUMMARY.match(line.strip())]
    for line in summary:
        print(f"  {line}")
    if result.returncode not in (0, 1):
        print(
            f"bench/delivery.py failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
        )
        return [("FAIL", "write path", "crashed")]
    rate = re.search(r"^posts: \d+ in [\d.]+ s \(([\d.]+)/s\)", result.stdout, re.MULTILINE)
    ok = result.stdout.rstrip().endswith("OK")
    lines = [
        (
            verdict(ok),
            "write path: accepted = stored = files = emails, 0 duplicates",
            "OK" if ok else "MISMATCH",
        )
    ]
    drain = re.search(r"([\d.]+)× the busiest second", result.stdout)
    if drain:
        lines.append(
            (
                verdict(float(drain[1]) >= 2),
                "email: delivered at ≥ 2 × the busiest second's writes",
                f"{drain[1]} ×",
            )
        )
    if rate:
        lines.append(
            (
                verdict(float(rate[1]) >= 90),
                f"write path: ≥ 90 inquiries/s at {clients} clients",
                f"{rate[1]}/s",
            )
        )
    return lines


# --- The run --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="clinic counts (default 1000 10000 100000; SQLite 1000)"
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of wrk runs; the medians are shown")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the machine has 2 cores)")
    parser.add_argument("--cache", action="store_true", help="also measure with the page caches on and warm")
    parser.add_argument(
        "--inquiries",
        type=int,
        help="inquiries for the inbox benchmark (default 1,000,000; SQLite 100,000; 0 skips)",
    )
    parser.add_argument(
        "--delivery",
        type=int,
        default=25,
        metavar="PER_CLIENT",
        help="requests per client of the write path (0 skips)",
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    # Ctrl-C (even when started in the background) and a stop from outside both clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="bench-run-"))
    database = ScratchDatabase(folder, prefix="clinic_portal_benchrun")
    redis = PrivateRedis(folder) if PrivateRedis.available() else None
    try:
        if redis:
            redis.start()
        else:
            print("redis-server is not installed: each gunicorn worker caches in its own memory")
        run(folder, database, redis, options)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if redis:
            redis.stop()
        database.drop()
        shutil.rmtree(folder, ignore_errors=True)


def run(folder, database, redis, options):
    postgres = database.vendor == "postgresql"
    sizes = sorted(options.sizes or ([1_000, 10_000, 100_000] if postgres else [1_000]))
    inquiries = options.inquiries if options.inquiries is not None else (1_000_000 if postgres else 100_000)
    env = production_env(
        folder,
        site_url="http://127.0.0.1",
        database_url=database.url,
        REDIS_URL=redis.url if redis else "",
    )
    script = folder / "report.lua"
    script.write_text(WRK_SCRIPT)

    started = time.monotonic()
    # This process reads the same settings as gunicorn, the page caches off (for the query counts).
    # Its own bulk statements may outlast the site's statement timeout (gunicorn keeps it).
    harness_env = {**env, "DATABASE_STATEMENT_TIMEOUT_MS": "0", "DATABASE_LOCK_TIMEOUT_MS": "0"}
    os.environ.update(harness_env, PAGE_CACHE="off")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    load_demo_content()
    manage(harness_env, "db_worker", "--batch", "--no-startup-delay", "--queue-name=*", "--no-reload")
    version = connection.pg_version if postgres else 0
    print(
        f"{'PostgreSQL ' + f'{version // 10000}.{version % 10000}' if postgres else 'SQLite'}, "
        f"gunicorn with {options.workers} workers, DEBUG off, wrk {options.connections} connections × "
        f"{options.duration} s × {options.repeats}; {os.cpu_count()} cores; ready in "
        f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    results = {}
    have = 0
    for size in sizes:
        began = time.monotonic()
        ids = add_clinics(have, size) if size > have else []
        loaded = time.monotonic() - began
        rebuilt = rebuild_derived(ids)
        # Tasks the bulk rows may have queued (a large rebuild is handed to the worker).
        manage(harness_env, "db_worker", "--batch", "--no-startup-delay", "--queue-name=*", "--no-reload")
        analyse()
        have = max(have, size)
        print(
            f"{size:,} clinics: {len(ids):,} added in {loaded:.0f} s, {', '.join(rebuilt)} rebuilt, "
            f"{time.monotonic() - began:.0f} s in all",
            flush=True,
        )
        pages = {FLOOR[0]: {}, **{label: {} for label, _ in PAGES}}
        for label, path in [FLOOR, *PAGES]:
            client.get(path)
            pages[label]["in_process"] = in_process(client, path)
        for label, figures in under_load(env, folder, options, script, cached=False).items():
            pages[label]["uncached"] = figures
        if options.cache:
            if redis:
                redis.flush()
            for label, figures in under_load(env, folder, options, script, cached=True).items():
                pages[label]["cached"] = figures
            if redis:
                redis.flush()
        results[size] = pages
        print_table({size: pages}, options.cache)
        print(
            f"  measured in {time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    print()
    print_table(results, options.cache)
    print(
        "req/s, ratio (to the floor of the same round), p50/p95/p99: wrk against gunicorn, uncached "
        "(PAGE_CACHE=off); server ms (templ. ms: the part of it spent rendering templates, with the "
        "queries they run), queries, sizes: in process, one request (gzip level 6, brotli quality 11)."
    )
    print()
    lines = targets(results, options.cache)
    if options.profile:
        largest = results[sizes[-1]]
        slowest = max(PAGES, key=lambda page: largest[page[0]]["in_process"]["server_ms"])
        print(
            f"Profile of the slowest page, {slowest[0]} {slowest[1]} at {sizes[-1]:,} clinics (in process):"
        )
        print(profile(client, slowest[1]))
    if inquiries:
        print(f"\nThe workspace inbox over {inquiries:,} inquiries (bench/inbox.py):", flush=True)
        lines += run_inbox(database, folder, inquiries)
    if options.delivery:
        print("\nThe write path at 4 clients (bench/delivery.py):", flush=True)
        lines += run_delivery(4, options.delivery)
    print("\nTargets of the performance issue:")
    print_targets(lines)
    print(
        "Not measured here: the first view's transfer size (make bench-first-view) and Lighthouse "
        "(make audit)."
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted; everything it started is stopped and the database dropped.")
