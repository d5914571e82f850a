"""Clinic Portal settings, driven by environment variables.

DEBUG is off unless the environment turns it on (`make run` does). Production sets at least
SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and SITE_URL. Every variable is listed in the README.
"""

from datetime import date, timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ADMINS = [(address, address) for address in env.list("ADMINS", default=[])]

INSTALLED_APPS = [
    "modeltranslation",  # must precede the admin
    "staff.apps.StaffAdminConfig",  # the Django admin on a site that requires a second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "phonenumber_field",
    "django_countries",
    "clinic_portal",
    "conditions",
    "clinics",
    "inquiries",
    "travel",
    "workspace",
    "operations",
    "django_filters",
    "simple_history",
    "import_export",
    "referrals",
    "staff",  # last: its roles take the permissions of every app above
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (which answers for the static files itself): compresses the pages.
    "clinic_portal.middleware.PageGZipMiddleware",
    # ETag on every page (hashed before compression), and "304 Not Modified" when it still matches:
    # pages with a form never match, their tokens differ on every response (see page_cache.py).
    "django.middleware.http.ConditionalGetMiddleware",
    # Before anything that reads the body (sessions, CSRF): an oversized upload is refused unread.
    "clinic_portal.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "staff.middleware.StaffAccessMiddleware",
    # Records who made each change kept in the content history.
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic_portal.urls"
WSGI_APPLICATION = "clinic_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic_portal.context_processors.languages",
                "clinic_portal.context_processors.fonts",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Our backend creates test databases with a UTF-8 ctype: trigram search and case folding of
    # Korean, Chinese and Cyrillic text need it.
    DATABASES["default"]["ENGINE"] = "clinic_portal.db_backends.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # A hung database must cost a request a few seconds and a 503, not a worker: the server cancels
    # slow statements and lock waits, and ends sessions left idle inside a transaction; keepalives
    # (and the TCP user timeout) drop a connection whose peer has vanished from the network.
    # The site's queries are short: compiling them (JIT) cost more than it saved (measured on the
    # condition page at 100,000 clinics), so it is off unless DATABASE_JIT=on.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options",
        " ".join(
            [
                f"-c {name}={env.int(variable, default=default)}"
                for name, variable, default in (
                    ("statement_timeout", "DATABASE_STATEMENT_TIMEOUT_MS", 5000),
                    ("lock_timeout", "DATABASE_LOCK_TIMEOUT_MS", 3000),
                    ("idle_in_transaction_session_timeout", "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", 15000),
                )
            ]
            + [f"-c jit={'on' if env.bool('DATABASE_JIT', default=False) else 'off'}"]
        ),
    )
    DATABASES["default"]["OPTIONS"].update(
        keepalives=1,
        keepalives_idle=env.int("DATABASE_KEEPALIVES_IDLE", default=10),
        keepalives_interval=3,
        keepalives_count=3,
        tcp_user_timeout=env.int("DATABASE_TCP_USER_TIMEOUT_MS", default=10000),
    )
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis, with a per-process stand-in while Redis is unreachable (see clinic_portal/cache.py).
            "BACKEND": "clinic_portal.cache.RedisWithLocalFallbackCache",
            "LOCATION": REDIS_URL,
            # A Redis that is gone or hung must cost a request a second, not a worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Public pages for visitors without a session (clinic_portal/page_cache.py): in Redis beside the rate
# limits, under their own prefix, so that every application server serves the same version.
CACHES["pages"] = {**CACHES["default"], "KEY_PREFIX": "pages"}
PAGE_CACHE = env.bool("PAGE_CACHE", default=True)
PAGE_CACHE_ALIAS = "pages"
# Each process serves the pages it served last from its own memory for this long after it last read
# the content version, so an edit saved by another process (worker or server) shows within it; at
# most PAGE_CACHE_LOCAL_BYTES of pages per process (page_cache.LocalPages).
PAGE_CACHE_LOCAL_SECONDS = env.float("PAGE_CACHE_LOCAL_SECONDS", default=1.0)
PAGE_CACHE_LOCAL_BYTES = 32 * 1024 * 1024
# Apps whose every change is shown on public pages: a change there starts a new version of them.
PAGE_CACHE_CONTENT_APPS = ["conditions", "clinics", "travel"]

# --- Background tasks -----------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# --- Email ----------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic Portal <care@clinicportal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Delivery (inquiries/delivery.py). The lease must outlast the longest SMTP exchange (several
# EMAIL_TIMEOUTs); an email whose worker died is sent again, with the same Message-ID, after it.
EMAIL_LEASE_SECONDS = env.int("EMAIL_LEASE_SECONDS", default=300)
EMAIL_RETRY_HOURS = env.int("EMAIL_RETRY_HOURS", default=48)
EMAIL_RETRY_MAX_DELAY_MINUTES = env.int("EMAIL_RETRY_MAX_DELAY_MINUTES", default=60)
EMAIL_LAG_ALERT_MINUTES = env.int("EMAIL_LAG_ALERT_MINUTES", default=30)
COORDINATOR_EMAILS = env.list("COORDINATOR_EMAILS", default=["coordinators@clinicportal.example"])

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ko", _("Korean")),
    ("ja", _("Japanese")),
    ("zh-hans", _("Simplified Chinese")),
    ("ru", _("Russian")),
    ("ar", _("Arabic")),
    ("mn", _("Mongolian")),
    ("vi", _("Vietnamese")),
]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Date formats of our own where Django's read wrongly in a sentence (clinic_portal/formats).
FORMAT_MODULE_PATH = ["clinic_portal.formats"]
USE_TZ = True
TIME_ZONE = "Asia/Seoul"

MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
JQUERY_UI_URL = "vendor/jquery-ui/jquery-ui.min.js"

# --- Static and media files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
PUBLIC_MEDIA_URL = "/media/"
PUBLIC_MEDIA_ROOT = env.path("PUBLIC_MEDIA_ROOT", default=str(VAR_DIR / "public-media"))
# Medical records: on the local disk under MEDIA_ROOT, written whole or not at all; or, when
# PRIVATE_STORAGE_BUCKET names one, in an S3-compatible bucket (django-storages), private, encrypted
# at rest by the storage service, so that several application servers share them.
PRIVATE_STORAGE_BUCKET = env.str("PRIVATE_STORAGE_BUCKET", default="")
if PRIVATE_STORAGE_BUCKET:
    PRIVATE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PRIVATE_STORAGE_BUCKET,
            "endpoint_url": env.str("PRIVATE_STORAGE_ENDPOINT_URL", default="") or None,
            "region_name": env.str("PRIVATE_STORAGE_REGION", default="") or None,
            "access_key": env.str("PRIVATE_STORAGE_ACCESS_KEY", default="") or None,
            "secret_key": env.str("PRIVATE_STORAGE_SECRET_KEY", default="") or None,
            "location": env.str("PRIVATE_STORAGE_PREFIX", default=""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
            "object_parameters": {
                "ServerSideEncryption": env.str("PRIVATE_STORAGE_ENCRYPTION", default="AES256"),
                **(
                    {"SSEKMSKeyId": env.str("PRIVATE_STORAGE_KMS_KEY_ID")}
                    if env.str("PRIVATE_STORAGE_KMS_KEY_ID", default="")
                    else {}
                ),
            },
        },
    }
else:
    PRIVATE_STORAGE = {"BACKEND": "clinic_portal.storage.PrivateFileSystemStorage"}
STORAGES = {
    "default": PRIVATE_STORAGE,
    "public": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PUBLIC_MEDIA_ROOT, "base_url": PUBLIC_MEDIA_URL},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Private uploads (medical records): stored outside any URL, served only through permission-checked views.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "private-media"))
# /healthz/ready fails below this much free space for medical records.
MEDIA_MIN_FREE_MB = env.int("MEDIA_MIN_FREE_MB", default=1024)
# `manage.py backup` writes the database and MEDIA_ROOT here, keeping the newest BACKUP_KEEP backups.
BACKUP_DIR = env.path("BACKUP_DIR", default=str(VAR_DIR / "backups"))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
# Every erasure is logged here so that a restore can erase again what was erased after its backup.
# Keep it on other storage than the backups: losing both at once would bring erased data back.
ERASURE_LOG = env.path("ERASURE_LOG", default=str(VAR_DIR / "erasure-log.jsonl"))

# --- Security -------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# No powerful browser feature is used anywhere on the site.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "clinic_portal.views.csrf_failure"
LANGUAGE_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Import and export in the admin (django-import-export) ------------------------------------------
# Importing takes the model's add permission (the clinic admin also asks for change), exporting its
# view permission; an import with an invalid row saves nothing.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True

# --- Staff access ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account or address
    "staff.backends.ModelBackendInOneQuery",
]
LOGIN_URL = "staff:login"
# Pages only staff with a confirmed second factor may open.
STAFF_AREAS = ("/admin/", "/workspace/")
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=10)
STAFF_RECONFIRM_MINUTES = env.int("STAFF_RECONFIRM_MINUTES", default=15)
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_HOURS * 3600
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=730)
OTP_TOTP_ISSUER = "Clinic Portal"
OTP_TOTP_THROTTLE_FACTOR = 1
# Five wrong passwords lock the pair of account and address for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/lockout.html"
AXES_CLIENT_IP_CALLABLE = "clinic_portal.client_ip.client_ip"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SITE_NAME = "Clinic Portal"

# --- The operator: who runs the site and answers for its data (the privacy notice, the about page) --
# Development shows SAMPLE VALUES (the pages say so); with DEBUG off they are empty until set, and a
# system check (clinic_portal.W005) warns while the operator or the privacy contact is missing.
SAMPLE_OPERATOR = {
    "OPERATOR_NAME": "Clinic Portal Sample Operator Co., Ltd.",
    "OPERATOR_ADDRESS": "1 Sample-ro, Jung-gu, Seoul 04500, Republic of Korea",
    "OPERATOR_REGISTRATION_NUMBER": "000-00-00000",
    "OPERATOR_EMAIL": "hello@clinicportal.example",
    "PRIVACY_CONTACT_EMAIL": "privacy@clinicportal.example",
    "DATA_STORAGE_COUNTRY": "KR",
}
OPERATOR_NAME = env.str("OPERATOR_NAME", default=SAMPLE_OPERATOR["OPERATOR_NAME"] if DEBUG else "")
OPERATOR_ADDRESS = env.str("OPERATOR_ADDRESS", default=SAMPLE_OPERATOR["OPERATOR_ADDRESS"] if DEBUG else "")
OPERATOR_REGISTRATION_NUMBER = env.str(
    "OPERATOR_REGISTRATION_NUMBER", default=SAMPLE_OPERATOR["OPERATOR_REGISTRATION_NUMBER"] if DEBUG else ""
)
OPERATOR_EMAIL = env.str("OPERATOR_EMAIL", default=SAMPLE_OPERATOR["OPERATOR_EMAIL"] if DEBUG else "")
# Where patients write to see, correct or erase their data.
PRIVACY_CONTACT_EMAIL = env.str(
    "PRIVACY_CONTACT_EMAIL", default=SAMPLE_OPERATOR["PRIVACY_CONTACT_EMAIL"] if DEBUG else ""
)
# Optional: the data protection officer (name, and how to reach them), shown when set.
DATA_PROTECTION_OFFICER = env.str("DATA_PROTECTION_OFFICER", default="")
# The country (ISO 3166 code) of the servers that hold the data, named in the privacy notice.
DATA_STORAGE_COUNTRY = env.str(
    "DATA_STORAGE_COUNTRY", default=SAMPLE_OPERATOR["DATA_STORAGE_COUNTRY"] if DEBUG else ""
).upper()
# The date of the privacy notice (YYYY-MM-DD): move it on when the notice or a retention period changes.
PRIVACY_NOTICE_DATE = date.fromisoformat(env.str("PRIVACY_NOTICE_DATE", default="2026-11-27"))

# /healthz/ready: the bearer token monitoring sends (without one, only this machine may ask), and how
# old the worker's last heartbeat may be.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env.int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", default=120)

# Panels that higher apps add to the condition and clinic pages, in order: providers
# ``(request, obj) -> dict | None`` (see clinic_portal/panels.py).
CONDITION_PAGE_PANELS = ["clinics.panels.matching_clinics_panel", "inquiries.panels.request_form_panel"]
CLINIC_PAGE_PANELS = ["inquiries.panels.request_form_panel"]
COMPARISON_PAGE_PANELS = ["inquiries.panels.comparison_request_link_panel"]

# Absolute address of the site, for links in emails; a system check requires it when DEBUG is off.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")

# Consultation inquiries
# Stored requests per address and per mailbox; refused posts count only towards the flood ceiling.
INQUIRY_RATE_PER_IP = env.str("INQUIRY_RATE_PER_IP", default="10/h")
INQUIRY_RATE_PER_EMAIL = env.str("INQUIRY_RATE_PER_EMAIL", default="5/h")
INQUIRY_POST_CEILING_PER_IP = env.str("INQUIRY_POST_CEILING_PER_IP", default="120/h")
LOST_LINK_RATE = env.str("LOST_LINK_RATE", default="5/h")
INQUIRY_RETENTION_DAYS = env.int("INQUIRY_RETENTION_DAYS", default=365)
# An open inquiry with no activity at all (no message, note or change) for this long is erased too.
INQUIRY_ABANDONED_DAYS = env.int("INQUIRY_ABANDONED_DAYS", default=548)
# Coordinators answer a new request within this many hours (the workspace counts down to it).
FIRST_RESPONSE_HOURS = env.int("FIRST_RESPONSE_HOURS", default=24)
# A clinic's link to a shared case works this many days (a coordinator can revoke it sooner).
# Pieces of higher apps on the patient's follow-up page: (request, inquiry, token, state) -> dict | None.
FOLLOW_UP_PAGE_PANELS = ["referrals.offers.follow_up_panel"]
REFERRAL_LINK_DAYS = env.int("REFERRAL_LINK_DAYS", default=14)
# Clinics quote in won; patients also see the estimate in US dollars and their own currency at these
# rates (won per unit), labelled as an estimate with the date of the rates.
EXCHANGE_RATES_KRW = {
    "USD": 1385,
    "EUR": 1500,
    "RUB": 15.2,
    "MNT": 0.40,
    "VND": 0.054,
    "JPY": 9.2,
    "CNY": 191,
    "KZT": 2.7,
    "AED": 377,
    "SAR": 369,
    "EGP": 28,
    "UZS": 0.108,
}
EXCHANGE_RATES_DATE = "2026-11-01"
# How long the link in a notice email opens the conversation; the follow-up link does not expire.
NOTICE_LINK_DAYS = env.int("NOTICE_LINK_DAYS", default=14)
# Valid files of a request that failed validation are held this long for the corrected resubmission.
HELD_UPLOAD_HOURS = env.int("HELD_UPLOAD_HOURS", default=24)
HELD_FILES_PER_IP = env.str("HELD_FILES_PER_IP", default="30/h")
# Behind a proxy, the request header that carries the client address for rate limits (e.g.
# HTTP_X_REAL_IP). The proxy must overwrite that header, and be the only way in: see the README.
CLIENT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
RATELIMIT_IP_META_KEY = "clinic_portal.client_ip.client_ip"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Five files of 10 MB plus the form: larger bodies are refused before they are read.
MAX_REQUEST_BODY_BYTES = 52 * 1024 * 1024

# Server errors are mailed to ADMINS (see clinic_portal/error_reports.py): the same error at most once
# per this many minutes per process; the next email counts the repeats.
ERROR_EMAIL_THROTTLE_MINUTES = env.int("ERROR_EMAIL_THROTTLE_MINUTES", default=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "reportable": {"()": "clinic_portal.error_reports.ReportableErrorFilter"},
        "redact_secrets": {"()": "clinic_portal.error_reports.RedactSecretsFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "error_email": {
            "level": "ERROR",
            "class": "clinic_portal.error_reports.ThrottledAdminEmailHandler",
            "filters": ["require_debug_false", "reportable"],
            "include_html": False,
        },
    },
    "root": {"handlers": ["console", "error_email"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Drops Django's own mail_admins handler, which mails the request's POST data and cookies from
        # inside the request; django.request and django.security errors reach error_email through root.
        "django": {"handlers": [], "propagate": True},
        # Lockouts and failed sign-ins are in the audit trail; axes' own notes on each sign-in are noise.
        "axes": {"level": "WARNING"},
    },
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from clinic_portal.error_reports import init_sentry

    init_sentry(SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production"))
