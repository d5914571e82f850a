"""Server-time benchmark of the coordinator workspace and the inquiry admin over a million inquiries.

Usage: ``DATABASE_URL=postgres://… make bench-inbox`` (the target of the issue is PostgreSQL);
``make bench-inbox`` alone runs on SQLite with fewer rows. ``BENCH_INQUIRIES`` sets the number of
rows, ``BENCH_REQUESTS`` the requests per case. It creates a scratch test database, fills it with SQL
(most inquiries closed, as after a few years), then times the inbox with each filter, and the
admin's inquiry and email lists with their filters and searches, through Django's test client, and
prints the median and 95th percentile in ms with the number of SQL queries.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_portal.test_settings")
# Dropping a million-row scratch database left by an interrupted run outlasts the site's limit.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "0")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

POSTGRES = connection.vendor == "postgresql"
INQUIRIES = int(os.environ.get("BENCH_INQUIRIES", 1_000_000 if POSTGRES else 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
COORDINATORS = 20
LANGUAGES = ["en", "ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]
# Of every 1000 inquiries: 980 closed (years of history), 20 open, spread over the open statuses.
STATUS_OF_100 = (
    "CASE WHEN n % 1000 < 980 THEN 'closed' WHEN n % 1000 < 988 THEN 'received' "
    "WHEN n % 1000 < 993 THEN 'in_review' WHEN n % 1000 < 996 THEN 'waiting_for_patient' "
    "WHEN n % 1000 < 998 THEN 'with_clinics' ELSE 'answered' END"
)


def fill(count):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clinics.demo.loader import load as load_clinics
    from clinics.models import Clinic
    from conditions.demo.loader import load as load_conditions
    from conditions.models import Condition
    from staff.models import CoordinatorProfile
    from staff.roles import COORDINATOR

    load_conditions()
    load_clinics()
    group = Group.objects.get(name=COORDINATOR)
    users = []
    for number in range(COORDINATORS):
        user = get_user_model().objects.create_user(f"bench{number}", password="x" * 20, is_staff=True)
        user.groups.add(group)
        CoordinatorProfile.objects.create(user=user, languages=[LANGUAGES[number % len(LANGUAGES)]])
        users.append(user.pk)
    conditions = list(Condition.objects.values_list("pk", flat=True))
    clinics = list(Clinic.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        if POSTGRES:
            # Filling takes minutes, far past the site's per-statement limit; the timings keep it.
            cursor.execute("SET statement_timeout = 0")
            _fill_postgres(cursor, count, users, conditions, clinics)
            cursor.execute("RESET statement_timeout")
        else:
            _fill_sqlite(cursor, count, users, conditions, clinics)
    return users[0]


# Names and addresses as varied as real ones (a search term matches few rows, not all of them).
NAME_SQL = "initcap(substr(md5(n::text), 1, 6)) || ' ' || initcap(substr(md5((n * 7)::text), 3, 8))"
EMAIL_SQL = "substr(md5((n * 3)::text), 1, 10) || '@example.com'"


def _fill_postgres(cursor, count, users, conditions, clinics):
    languages = "ARRAY[" + ",".join(f"'{code}'" for code in LANGUAGES) + "]"
    cursor.execute(
        f"""
        INSERT INTO inquiries_inquiry (
            id, reference, status, full_name, email, phone, contact_channel, contact_handle, country,
            language, patient_relation, patient_age, condition_id, symptom_duration, diagnosis,
            medications, message, consent_health_data_at, consent_health_data_text,
            consent_health_data_version, consent_news, follow_up_token_hash, submission_key,
            assigned_to_id, created_at, updated_at, closed_at, first_response_due_at,
            first_responded_at, closing_reason, unread_patient_messages, version, search_text,
            consent_share_text, consent_share_version)
        SELECT gen_random_uuid(),
            'CP-' || lpad((n / 10000)::text, 4, '0') || '-' || lpad((n % 10000)::text, 4, '0'),
            {STATUS_OF_100}, {NAME_SQL}, {EMAIL_SQL}, '', 'email', '', 'KZ',
            ({languages})[1 + n % 8], 'self', 40, (ARRAY{conditions})[1 + n % {len(conditions)}],
            '1_5_years', '', '', 'Bench inquiry', now(), 'consent', '2026-11-01', false,
            md5(n::text) || md5((n + 1)::text), gen_random_uuid(),
            CASE WHEN n % 3 = 0 THEN NULL ELSE (ARRAY{users})[1 + n % {len(users)}] END,
            created, created, CASE WHEN n % 1000 < 980 THEN created + interval '5 days' END,
            created + interval '24 hours',
            CASE WHEN n % 1000 < 980 OR n % 1000 >= 988 THEN created + interval '3 hours' END,
            CASE WHEN n % 1000 < 980 THEN 'booked' ELSE '' END,
            CASE WHEN n % 50 = 0 THEN 1 ELSE 0 END, 1,
            'cp ' || lpad((n / 10000)::text, 4, '0') || ' ' || lpad((n % 10000)::text, 4, '0')
                || ' ' || lower({NAME_SQL}) || ' ' || replace({EMAIL_SQL}, '.', ' '),
            '', ''
        FROM (
            SELECT n, now() - make_interval(mins => ({count} - n) * 2) AS created
            FROM generate_series(1, {count}) AS n
        ) AS numbers
        """
    )
    cursor.execute(
        f"""
        INSERT INTO inquiries_inquiry_preferred_clinics (inquiry_id, clinic_id)
        SELECT id, (ARRAY{clinics})[1 + (hashtext(reference) & 2147483647) % {len(clinics)}]
        FROM inquiries_inquiry
        """
    )
    cursor.execute(OUTGOING_EMAILS_SQL.format(message_id="gen_random_uuid()::text"))
    # As autovacuum would have done on a live database (the visibility map lets index-only scans skip
    # the table).
    cursor.execute("VACUUM ANALYZE")


def _fill_sqlite(cursor, count, users, conditions, clinics):
    import uuid

    from django.utils import timezone

    now = timezone.now()
    statuses = ["closed"] * 980 + ["received"] * 8 + ["in_review"] * 5 + ["waiting_for_patient"] * 3
    statuses += ["with_clinics"] * 2 + ["answered"] * 2
    rows, links = [], []
    for n in range(1, count + 1):
        created = now - timezone.timedelta(minutes=(count - n) * 2)
        status = statuses[n % 1000]
        pk = uuid.uuid4().hex
        reference = f"CP-{n // 10000:04d}-{n % 10000:04d}"
        rows.append(
            (
                pk,
                reference,
                status,
                f"Patient {n}",
                f"patient{n}@example.com",
                "",
                "email",
                "",
                "KZ",
                LANGUAGES[n % 8],
                "self",
                40,
                conditions[n % len(conditions)],
                "1_5_years",
                "",
                "",
                "Bench inquiry",
                now,
                "consent",
                "2026-11-01",
                False,
                f"{n:064d}",
                uuid.uuid4().hex,
                None if n % 3 == 0 else users[n % len(users)],
                created,
                created,
                created + timezone.timedelta(days=5) if status == "closed" else None,
                created + timezone.timedelta(hours=24),
                created + timezone.timedelta(hours=3) if status not in ("received",) else None,
                "booked" if status == "closed" else "",
                1 if n % 50 == 0 else 0,
                1,
                f"cp {n // 10000:04d} {n % 10000:04d} patient {n} patient{n}@example com",
                "",
                "",
            )
        )
        links.append((pk, clinics[n % len(clinics)]))
        if len(rows) == 20_000 or n == count:
            cursor.executemany(
                "INSERT INTO inquiries_inquiry (id, reference, status, full_name, email, phone, "
                "contact_channel, contact_handle, country, language, patient_relation, patient_age, "
                "condition_id, symptom_duration, diagnosis, medications, message, consent_health_data_at, "
                "consent_health_data_text, consent_health_data_version, consent_news, follow_up_token_hash, "
                "submission_key, assigned_to_id, created_at, updated_at, closed_at, first_response_due_at, "
                "first_responded_at, closing_reason, unread_patient_messages, version, search_text, "
                "consent_share_text, consent_share_version) "
                "VALUES (" + ", ".join(["%s"] * 35) + ")",
                rows,
            )
            cursor.executemany(
                "INSERT INTO inquiries_inquiry_preferred_clinics (inquiry_id, clinic_id) VALUES (%s, %s)",
                links,
            )
            rows, links = [], []
    cursor.execute(OUTGOING_EMAILS_SQL.format(message_id="lower(hex(randomblob(16)))"))
    cursor.execute("ANALYZE")


# The admin's email list: one confirmation per inquiry, sent when it came in.
OUTGOING_EMAILS_SQL = """
    INSERT INTO inquiries_outgoingemail (
        inquiry_id, kind, "to", subject, body, message_id, status, failure, attempts, last_error,
        created_at, next_attempt_at, retry_until, task_id, sent_at)
    SELECT id, 'patient_confirmation', email, 'Your request ' || reference, '', {message_id}, 'sent', '',
        1, '', created_at, created_at, created_at, '', created_at
    FROM inquiries_inquiry
"""


def measure(client, path, params):
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(path, params)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, params, response.status_code)
    timings.sort()
    with CaptureQueriesContext(connection) as queries:
        client.get(path, params)
    if os.environ.get("BENCH_PROFILE"):
        for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]:
            print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def main():
    from django.contrib.auth import get_user_model

    from inquiries.models import Inquiry
    from tests.support.staff import signed_in

    # No setup_test_environment(): its instrumented template rendering would inflate the figures.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        start = time.perf_counter()
        coordinator = fill(INQUIRIES)
        print(f"{connection.vendor}: {INQUIRIES:,} inquiries in {time.perf_counter() - start:.0f} s")
        client = signed_in(get_user_model().objects.get(pk=coordinator))
        client.defaults["HTTP_HOST"] = "localhost"
        sample = Inquiry.objects.filter(status="received").order_by("-created_at").first()
        cases = [
            ("inbox, the coordinator's own queue", "/workspace/", {}),
            ("status: received", "/workspace/", {"status": "received"}),
            ("status: closed (most rows)", "/workspace/", {"status": "closed"}),
            ("language: ru", "/workspace/", {"language": "ru"}),
            ("condition: clonus", "/workspace/", {"condition": "clonus"}),
            ("clinic", "/workspace/", {"clinic": "hanbit-neuroscience-hospital"}),
            ("assigned to me", "/workspace/", {"assigned": "me"}),
            ("unassigned", "/workspace/", {"assigned": "none"}),
            ("overdue", "/workspace/", {"overdue": "on"}),
            ("unread patient messages", "/workspace/", {"unread": "on"}),
            ("search: a reference", "/workspace/", {"q": sample.reference}),
            ("search: a name", "/workspace/", {"q": sample.full_name}),
            ("newest first, page 3", "/workspace/", {"assigned": "any", "sort": "newest", "page": "3"}),
            ("one inquiry", f"/workspace/{sample.reference}/", {}),
        ]
        print(f"{'case':40} {'median ms':>10} {'p95 ms':>10} {'queries':>8}")
        for label, path, params in cases:
            client.get(path, params)  # warm up
            median, p95, queries = measure(client, path, params)
            print(f"{label:40} {median:10.1f} {p95:10.1f} {queries:8d}")
        admin = signed_in(
            get_user_model().objects.create_superuser("bench-admin", "admin@example.com", "x" * 20)
        )
        admin.defaults["HTTP_HOST"] = "localhost"
        admin_cases = [
            ("admin: inquiries", "/admin/inquiries/inquiry/", {}),
            ("admin: inquiries, status received", "/admin/inquiries/inquiry/", {"status__exact": "received"}),
            ("admin: inquiries, language ru", "/admin/inquiries/inquiry/", {"language__exact": "ru"}),
            ("admin: inquiries, page 20", "/admin/inquiries/inquiry/", {"p": "20"}),
            ("admin: inquiries, a reference", "/admin/inquiries/inquiry/", {"q": sample.reference}),
            ("admin: inquiries, an email", "/admin/inquiries/inquiry/", {"q": sample.email}),
            ("admin: inquiries, a name", "/admin/inquiries/inquiry/", {"q": sample.full_name}),
            ("admin: emails", "/admin/inquiries/outgoingemail/", {}),
            ("admin: emails, failed", "/admin/inquiries/outgoingemail/", {"status__exact": "failed"}),
        ]
        for label, path, params in admin_cases:
            admin.get(path, params)  # warm up
            median, p95, queries = measure(admin, path, params)
            print(f"{label:40} {median:10.1f} {p95:10.1f} {queries:8d}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
