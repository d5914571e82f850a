"""Server-time benchmark: 10,000 clinics; condition page, filtered directory and search.

Usage: ``make bench`` (SQLite) or ``DATABASE_URL=postgres://… make bench``. It creates a scratch test
database, fills it, times requests through Django's test client and prints median and p95 in ms.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_portal.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

CLINICS = int(os.environ.get("BENCH_CLINICS", 10_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))


def fill(count):
    from clinics.demo.loader import load as load_clinics
    from clinics.models import (
        Accreditation,
        City,
        Clinic,
        ClinicLanguage,
        ClinicService,
        ClinicTreatment,
        Service,
    )
    from clinics.services import clinics_rebuild_search_text
    from conditions.demo.loader import load as load_conditions
    from conditions.models import Specialty, Treatment

    load_conditions()
    load_clinics()
    rng = random.Random(42)
    treatments = list(Treatment.objects.all())
    specialties = list(Specialty.objects.all())
    cities = [city.value for city in City]
    languages = ["en", "ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]
    clinics = Clinic.objects.bulk_create(
        Clinic(
            slug=f"bench-{number:05d}",
            name_en=f"Bench Clinic {number}",
            name_ko=f"벤치 병원 {number}",
            name_ru=f"Клиника {number}",
            legal_name_ko=f"벤치병원{number}",
            kind="clinic",
            city=rng.choice(cities),
            address_ko="서울",
            address_en="Seoul",
            is_published=rng.random() > 0.05,
        )
        for number in range(count)
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
        for language in rng.sample(languages, 2)
    )
    ClinicService.objects.bulk_create(
        ClinicService(clinic=clinic, service=rng.choice([service.value for service in Service]))
        for clinic in clinics
    )
    Accreditation.objects.bulk_create(
        Accreditation(clinic=clinic, kind="koiha", valid_until="2099-01-01") for clinic in clinics[::3]
    )
    clinics_rebuild_search_text()


def measure(client, path, params):
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(path, params)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main():
    # No setup_test_environment(): its instrumented template rendering would inflate the figures.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        start = time.perf_counter()
        fill(CLINICS)
        print(f"{connection.vendor}: loaded {CLINICS:,} clinics in {time.perf_counter() - start:.1f} s")
        client = Client(HTTP_HOST="localhost")
        cases = [
            ("condition page /en/conditions/clonus/", "/en/conditions/clonus/", {}),
            (
                "condition page, filtered (ru, Seoul)",
                "/ru/conditions/clonus/",
                {"city": "seoul", "language": "ru"},
            ),
            (
                "directory filtered (city, specialty, language)",
                "/en/clinics/",
                {"city": "busan", "specialty": "neurology", "language": "ru"},
            ),
            ("directory search 'bench clinic 12'", "/en/clinics/", {"q": "bench clinic 12"}),
            ("directory search '벤치 병원'", "/ko/clinics/", {"q": "벤치 병원"}),
        ]
        print(f"{'case':50} {'median ms':>10} {'p95 ms':>10}")
        for label, path, params in cases:
            client.get(path, params)  # warm up
            median, p95 = measure(client, path, params)
            print(f"{label:50} {median:10.1f} {p95:10.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
