"""Test overrides: fast hashing, in-memory email, tasks run at once, plain static storage."""

import os

# The tests run the development configuration (DEBUG decides only import-time choices here;
# the test runner itself turns DEBUG off while tests run).
os.environ["DEBUG"] = "1"

from clinic_portal.settings import *  # noqa: F403
from clinic_portal.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
# Tests see the pages of the data they made; the page cache's own tests turn it on.
PAGE_CACHE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
SITE_URL = "http://127.0.0.1:8000"
