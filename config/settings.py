"""Settings for the cross-enforcement system.

One module, read from the environment with strict parsers and embedded defaults that need no
server: SQLite and a filesystem Celery broker for ``make run``; PostgreSQL and Redis when
``DATABASE_URL`` and ``CELERY_BROKER_URL`` are set (tests, docker-compose, production).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# "development" (default: make run, tests) or "production" (HTTPS only, strict cookies, CSP, refuses
# insecure keys); see docs/SECURITY.md.
DJANGO_ENV = env_str("DJANGO_ENV", "development").strip().lower()
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', got {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", False)
_DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY.startswith("dev-only") and env_bool("DJANGO_REQUIRE_SECRET", False):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production")
    if SECRET_KEY.startswith("dev-only") or SECRET_KEY == _DEV_SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value when DJANGO_ENV=production")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters when DJANGO_ENV=production")
    if not env_list("DJANGO_ALLOWED_HOSTS", []):
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_htmx",
    "enforcement",
    "clues",
    "transfers",
    "platforms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "enforcement.middleware.CourtLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "enforcement.middleware.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "enforcement.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# DB_CONN_MAX_AGE > 0 keeps connections open between requests and Celery tasks (docker-compose sets
# 60 s), each checked before reuse (health checks)
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 0)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=DB_CONN_MAX_AGE > 0)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # the covering columns (INCLUDE) of the workbench panels' indexes are a PostgreSQL optimization;
    # SQLite (make run) builds the same indexes without them
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # Web, worker, beat and the stand-in platforms share one file: WAL lets readers and one
    # writer work together; IMMEDIATE transactions plus a busy timeout serialize writers
    # instead of failing them.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: our queries are short index lookups whose plans cost more than the
    # default jit_above_cost at a million cases, and compiling them took longer than running
    # them (the eligible list: 187 ms of JIT for a 90 ms query; docs/PERFORMANCE.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "enforcement.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 minutes idle and 12 hours at most (enforcement.middleware).
SESSION_IDLE_TIMEOUT_S = env_int("SESSION_IDLE_TIMEOUT_S", 30 * 60)
SESSION_ABSOLUTE_TIMEOUT_S = env_int("SESSION_ABSOLUTE_TIMEOUT_S", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_S
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Production hardening (DJANGO_ENV=production; docs/SECURITY.md) -------------------------
# Headers every environment sends (harmless over http).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp, docs/adr/0005-csp.md): only our own scripts, styles and
# images; the templates have no inline scripts or event handlers. Sent in production only.
CSP_DIRECTIVES = {
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
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: Secure, Path=/ and no Domain, so no sibling host can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    INSTALLED_APPS.append("csp")
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
    )
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}

# Failed logins are throttled per username and address (django-axes).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
FILE_UPLOAD_PERMISSIONS = 0o640

# Case documents (案卷材料): size limit and allowed types.
CASE_DOCUMENT_MAX_BYTES = env_int("CASE_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
CASE_DOCUMENT_ALLOWED_EXTENSIONS = env_list(
    "CASE_DOCUMENT_ALLOWED_EXTENSIONS", ["pdf", "ofd", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt"]
)
DATA_UPLOAD_MAX_MEMORY_SIZE = CASE_DOCUMENT_MAX_BYTES + 1024 * 1024

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "enforcement.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "enforcement.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "enforcement.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "交叉执行案件系统 API",
    "DESCRIPTION": "Cross-enforcement case system, REST API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "enforcement.models.CaseStatus",
        "PartyKindEnum": "enforcement.models.PartyKind",
        "CourtLevelEnum": "enforcement.models.CourtLevel",
        "CaseTypeEnum": "enforcement.models.CaseType",
        "ClosingMethodEnum": "enforcement.models.ClosingMethod",
        "DocumentTypeEnum": "enforcement.models.DocumentType",
    },
}

# Thresholds of the cyclic garbage collector in web processes (config.runtime; workers keep the default).
GC_THRESHOLD = tuple(int(n) for n in env_list("GC_THRESHOLD", ["20000", "10", "10"]))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than any task (time limit below) and any countdown, so Redis never hands a task that
    # is still running or waiting to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 3600)}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_S", 300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless told to
# reuse it (it no longer reads CONN_MAX_AGE): with persistent connections, config.celery closes them
# as Django does around a request instead (past CONN_MAX_AGE, broken, or failing a health check).
CELERY_DB_REUSE_MAX = 10**9 if DB_CONN_MAX_AGE > 0 else None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "enforcement.tasks.checkpoint_audit_chains",
        "schedule": env_int("AUDIT_CHECKPOINT_INTERVAL_S", 600),
    },
    # Hourly, so a day's expiries and reminders happen early on that day even after downtime;
    # both tasks are idempotent.
    "measures-expire": {"task": "clues.tasks.expire_measures", "schedule": 3600},
    "measures-remind": {"task": "clues.tasks.remind_expiring_measures", "schedule": 3600},
    "notices-sweep": {"task": "platforms.tasks.sweep_notices", "schedule": env_int("NOTICE_SWEEP_INTERVAL_S", 15)},
    # Transfers: overdue supervision orders, handover/answer/report reminders (idempotent), and
    # file-access grants that ran out (their guardian grant is removed).
    "transfers-flag-overdue": {"task": "transfers.tasks.flag_overdue_orders", "schedule": 3600},
    "transfers-remind": {"task": "transfers.tasks.remind_transfer_deadlines", "schedule": 3600},
    "file-access-expire": {
        "task": "transfers.tasks.expire_file_access",
        "schedule": env_int("FILE_ACCESS_EXPIRE_INTERVAL_S", 60),
    },
    # the same-respondent marks follow a deployment's change of the default thresholds (a no-op
    # otherwise; the web container also runs it at start-up)
    "transfers-follow-trigger-defaults": {"task": "transfers.tasks.follow_trigger_defaults", "schedule": 3600},
}

# --- Domain configuration (configurable rules, see DOMAIN.md) ------------------------------
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY", SECRET_KEY)
ART237_MONTHS = env_int("ART237_MONTHS", 6)
ART237_WARNING_DAYS = env_int("ART237_WARNING_DAYS", 30)
# Active freezes of a case may exceed the outstanding amount by this share (interest and costs).
OVER_FREEZE_MARGIN_RATE = Decimal(env_str("OVER_FREEZE_MARGIN_RATE", "0.10"))
# Days before a measure's expiry when the handling judge is reminded.
MEASURE_REMINDER_DAYS = [int(d) for d in env_list("MEASURE_REMINDER_DAYS", ["30", "15", "7"])]
# Days ahead a scheduled live-seizure visit shows as due.
VISIT_DUE_WARNING_DAYS = env_int("VISIT_DUE_WARNING_DAYS", 3)

# --- Cross-enforcement transfers (DOMAIN.md; thresholds per high court are data, these are defaults) ---
# Triggers: one respondent with this many unfinished cases in at least this many courts.
TRANSFER_TRIGGER_SAME_RESPONDENT_CASES = env_int("TRANSFER_TRIGGER_SAME_RESPONDENT_CASES", 10)
TRANSFER_TRIGGER_SAME_RESPONDENT_COURTS = env_int("TRANSFER_TRIGGER_SAME_RESPONDENT_COURTS", 2)
# Triggers: property undisposed this many months after a verified clue or an active measure.
TRANSFER_TRIGGER_UNDISPOSED_MONTHS = env_int("TRANSFER_TRIGGER_UNDISPOSED_MONTHS", 6)
# Triggers: a case with no timeline entry for this many days is stalled.
TRANSFER_TRIGGER_STALLED_DAYS = env_int("TRANSFER_TRIGGER_STALLED_DAYS", 90)
# A lower court may ask for reconsideration within this many days of the decision.
TRANSFER_RECONSIDERATION_DAYS = env_int("TRANSFER_RECONSIDERATION_DAYS", 5)
# The receiving court registers within this many days of the decision.
TRANSFER_REGISTRATION_DAYS = env_int("TRANSFER_REGISTRATION_DAYS", 7)
# Missing materials are requested and supplied within this many days of acceptance.
TRANSFER_MATERIALS_DAYS = env_int("TRANSFER_MATERIALS_DAYS", 30)
# 执转破: the receiving court answers within this many days of the referral.
TRANSFER_BANKRUPTCY_ANSWER_DAYS = env_int("TRANSFER_BANKRUPTCY_ANSWER_DAYS", 30)
# The receiving court reports progress to the deciding court at this interval (days).
TRANSFER_REPORT_INTERVAL_DAYS = env_int("TRANSFER_REPORT_INTERVAL_DAYS", 30)
# Default time limit of a supervision order (督促执行令) when the decision does not give one.
TRANSFER_SUPERVISE_DEADLINE_DAYS = env_int("TRANSFER_SUPERVISE_DEADLINE_DAYS", 30)
# Days ahead of a handover deadline when a reminder is written.
TRANSFER_REMINDER_DAYS_BEFORE = env_int("TRANSFER_REMINDER_DAYS_BEFORE", 2)
# Recommendation weights (relative): main property's platform court, data controllers' court,
# clue concentration by region, parties' domiciles, open caseload per judge.
TRANSFER_WEIGHT_PROPERTY = env_int("TRANSFER_WEIGHT_PROPERTY", 40)
TRANSFER_WEIGHT_DATA = env_int("TRANSFER_WEIGHT_DATA", 10)
TRANSFER_WEIGHT_CLUE_REGION = env_int("TRANSFER_WEIGHT_CLUE_REGION", 15)
TRANSFER_WEIGHT_DOMICILE = env_int("TRANSFER_WEIGHT_DOMICILE", 20)
TRANSFER_WEIGHT_CASELOAD = env_int("TRANSFER_WEIGHT_CASELOAD", 15)
# File-access grants: default and longest duration in days.
FILE_ACCESS_DEFAULT_DAYS = env_int("FILE_ACCESS_DEFAULT_DAYS", 30)
FILE_ACCESS_MAX_DAYS = env_int("FILE_ACCESS_MAX_DAYS", 90)

# --- Platform notices ------------------------------------------------------------------------
CONNECTOR_SECRET_KEY = env_str("CONNECTOR_SECRET_KEY", "")  # Fernet key; derived from SECRET_KEY if empty
# Connector hosts allowed even though they are loopback, link-local, metadata or this server itself
# (SSRF guard in platforms.transport): the stand-in platforms on 127.0.0.1 in development and tests.
CONNECTOR_ALLOWED_HOSTS = [
    h.lower() for h in env_list("CONNECTOR_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
]
# Base URL platforms call back on (async answers); the callback path is added to it.
CALLBACK_BASE_URL = env_str("CALLBACK_BASE_URL", "http://127.0.0.1:8000")
# Notice kinds that need the bureau head's approval before they are sent.
NOTICE_APPROVAL_KINDS = env_list("NOTICE_APPROVAL_KINDS", ["freeze", "deduct"])
# Query notices per case and platform per hour, and per user per hour (proportionality).
QUERY_RATE_PER_CASE_HOUR = env_int("QUERY_RATE_PER_CASE_HOUR", 10)
QUERY_RATE_PER_USER_HOUR = env_int("QUERY_RATE_PER_USER_HOUR", 300)
# A notice left "sending" this long (a killed worker) is queued again by the sweeper.
NOTICE_SENDING_TIMEOUT_S = env_int("NOTICE_SENDING_TIMEOUT_S", 120)
# A notice a platform accepted (202) whose callback has not come this long after is sent again with
# the same key (the platform answers from its record and calls back again); after the connector's
# max attempts it fails.
NOTICE_CALLBACK_TIMEOUT_S = env_int("NOTICE_CALLBACK_TIMEOUT_S", 3600)
# Retry schedule: exponential from the base, capped, with jitter; waits above the countdown limit
# are left to the sweeper as next_attempt_at.
NOTICE_RETRY_BASE_S = float(env_str("NOTICE_RETRY_BASE_S", "2"))
NOTICE_RETRY_CAP_S = env_int("NOTICE_RETRY_CAP_S", 4 * 3600)
NOTICE_COUNTDOWN_LIMIT_S = env_int("NOTICE_COUNTDOWN_LIMIT_S", 60)
# A delivery task claims its own notices (one request's, one per platform) and, on PostgreSQL,
# takes along other notices waiting for their first send, up to this many in all (0: none;
# docs/adr/0008). A worker sends a claim's notices in parallel with up to NOTICE_SEND_THREADS
# threads (and keeps as many connections per platform host): by default as many as a claim holds.
NOTICE_CLAIM_BATCH = env_int("NOTICE_CLAIM_BATCH", 24)
NOTICE_SEND_THREADS = env_int("NOTICE_SEND_THREADS", max(NOTICE_CLAIM_BATCH, 8))
# A timestamp more than this far from now makes a signed request or callback invalid.
SIGNATURE_TOLERANCE_S = env_int("SIGNATURE_TOLERANCE_S", 300)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
