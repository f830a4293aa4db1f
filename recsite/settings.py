"""Settings, read only from environment variables (see .env.example).

The defaults are the embedded set-up: SQLite, a Celery broker on the local
filesystem, artifacts under ``var/``. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and DEBUG=false.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import plotly

from recsite import security
from recsite.env import envbool, envfloat, envint, envlist, envstr
from recsite.staticfiles import add_headers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

# DEBUG is off unless asked for (`make run` sets DEBUG=true); HTTPS=true declares a production site behind TLS.
DEBUG = envbool("DEBUG", False)
HTTPS = envbool("HTTPS", False)
SECRET_KEY = security.secret_key(envstr("SECRET_KEY", ""), debug=DEBUG, https=HTTPS, var_dir=VAR_DIR)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# Transport security: with HTTPS=true cookies travel only over TLS, browsers are told to use HTTPS for a year
# (HSTS), plain HTTP is redirected, and the proxy's X-Forwarded-Proto says whether a request came over TLS.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and envbool("SECURE_HSTS_PRELOAD", True)  # false: not on browsers' preload lists
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/"]  # the load balancer's probes speak plain HTTP inside the network
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = security.CONTENT_SECURITY_POLICY  # scripts only from this site: recsite/security.py

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "axes",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.api.middleware.RequestIdMiddleware",  # /api/ only: request.request_id and X-Request-Id
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "dashboard.api.middleware.ApiProblemMiddleware",  # /api/ only: Django's own errors as problem+json
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "dashboard.middleware.CatalogAccessMiddleware",  # pages under c/<catalog>/: only members of that catalog
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its page
]

# Login throttling: 5 wrong passwords for one user name from one address lock that pair out for 15 minutes
# (an admin lifts it early with `manage.py axes_reset_username NAME`).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envfloat("LOGIN_LOCKOUT_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 1 if HTTPS else 0)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "recsite.urls"
WSGI_APPLICATION = "recsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.navigation",
                "csp.context_processors.nonce",
            ],
            "builtins": ["dashboard.templatetags.privacy"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web and worker write to one file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    # A transaction that reads and then writes would fail at once ("database is locked") while a background
    # thread (impressions, online state) writes: take the write lock at BEGIN, waiting for it.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _throttle_cache(url: str) -> dict[str, str]:
    """THROTTLE_CACHE_URL → a cache: ``locmem://`` (each process counts alone) or ``redis://…`` (shared)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    raise ValueError(f"THROTTLE_CACHE_URL={url!r} must start with locmem:// or redis://")


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    },
    # API rate-limit counters: one increment and one read per request, so never the file cache. The embedded
    # default counts per process (in memory); production sets THROTTLE_CACHE_URL=redis://… to count across them.
    "throttle": _throttle_cache(envstr("THROTTLE_CACHE_URL", "locmem://")),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# plotly.min.js is served from the pinned plotly package itself: no CDN, no copy.
STATICFILES_DIRS = [("plotly", Path(plotly.__file__).parent / "package_data")]
WHITENOISE_ADD_HEADERS_FUNCTION = add_headers
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
ARTIFACTS_DIR = Path(envstr("ARTIFACTS_DIR", str(VAR_DIR / "artifacts")))
# Product pictures (fetched by the worker): the CLIP model folder the image signal uses (empty: no image
# signal), the fetch limits, and host:port pairs exempt from the public-address check.
IMAGE_MODEL_DIR = envstr("IMAGE_MODEL_DIR", "")
IMAGE_MAX_BYTES = envint("IMAGE_MAX_BYTES", 5 * 1024 * 1024)
IMAGE_FETCH_TIMEOUT_S = envfloat("IMAGE_FETCH_TIMEOUT_S", 10.0)
IMAGE_FETCH_ALLOWED_HOSTS = envlist("IMAGE_FETCH_ALLOWED_HOSTS", [])

# Uploads: the largest import file accepted, in megabytes, and the size above
# which an import runs on a Celery worker instead of inside the request.
IMPORT_MAX_MB = envint("IMPORT_MAX_MB", 200)
IMPORT_SYNC_MAX_ROWS = envint("IMPORT_SYNC_MAX_ROWS", 2000)
# Limits checked while a file is read (never after): decompressed size, line length, columns, rows;
# an import's attempts (a worker killed mid-import is retried once, then the import fails).
IMPORT_MAX_DECOMPRESSED_MB = envint("IMPORT_MAX_DECOMPRESSED_MB", 1024)
IMPORT_MAX_LINE_KB = envint("IMPORT_MAX_LINE_KB", 1024)
IMPORT_MAX_COLUMNS = envint("IMPORT_MAX_COLUMNS", 1000)
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", 10_000_000)
IMPORT_MAX_ATTEMPTS = envint("IMPORT_MAX_ATTEMPTS", 2)
IMPORT_PREVIEW_GZ_PARQUET_MB = envint("IMPORT_PREVIEW_GZ_PARQUET_MB", 100)  # decompressed in the upload request
# Background jobs: a queued job the broker did not take is sent again after this many seconds (the outbox).
JOB_DISPATCH_GRACE_S = envfloat("JOB_DISPATCH_GRACE_S", 30.0)
JOB_QUEUED_STALE_S = envfloat("JOB_QUEUED_STALE_S", 600.0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads, snapshots, bundles and reports hold shoppers' data: files 0600 and folders 0700 (the process's umask
# too, so artifacts written by the engine are private as well). PRIVATE_FILES=false keeps the system's umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
if envbool("PRIVATE_FILES", True):
    os.umask(0o077)
# Privacy: raw events and uploaded files older than this many days are deleted by the daily retention task
# (0: kept until erased).
RETENTION_DAYS = envint("RETENTION_DAYS", 0)

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://localhost//")  # a host, or kombu warns
# The online state (recent items, trending, co-occurrence): this Redis URL; empty = the broker's Redis server
# when the broker is redis://, else each process's memory (the embedded default).
ONLINE_STATE_URL = envstr("ONLINE_STATE_URL", "")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True  # Celery 5.3+ warns at every start when unset
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
# A broker that is down costs a request about a second, not twenty: the job stays queued in the database and
# the reaper sends it again (dashboard.services.jobs).
CELERY_BROKER_CONNECTION_TIMEOUT = envfloat("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Training jobs: the offline promotion gate (a candidate whose NDCG@10 is lower than the active
# version's by more than this, on the same split, needs an admin override), heartbeats and the reaper.
PROMOTION_MARGIN = envfloat("PROMOTION_MARGIN", 0.01)
TRAINING_HEARTBEAT_S = envfloat("TRAINING_HEARTBEAT_S", 10.0)
TRAINING_STALE_AFTER_S = envfloat("TRAINING_STALE_AFTER_S", 120.0)
TRAINING_MAX_ATTEMPTS = envint("TRAINING_MAX_ATTEMPTS", 2)
# Memory a training job may use, checked against the signals' cost models at launch (0: 80 % of the
# memory available when the job is launched).
TRAINING_MEMORY_BUDGET_MB = envint("TRAINING_MEMORY_BUDGET_MB", 0)
# Text/image models a training job may choose besides the bundled one: Hugging Face model folders on this
# server (comma-separated paths). Forms offer only these; nobody types a path.
TEXT_MODELS = tuple(envlist("TEXT_MODELS", []))
SEARCH_FINETUNE_MIN_PAIRS = envint("SEARCH_FINETUNE_MIN_PAIRS", 50)  # query→click pairs that fine-tune the index
SEARCH_FINETUNE_STEPS = envint("SEARCH_FINETUNE_STEPS", 60)
CELERY_BEAT_SCHEDULE = {
    "training-reap": {"task": "dashboard.training_reap", "schedule": 60.0},
    "autotune-reap": {"task": "dashboard.fusion_autotune_reap", "schedule": 60.0},
    "import-reap": {"task": "dashboard.import_reap", "schedule": 60.0},
}

# The storefront API (/api/v1/): token auth only, one problem+json error shape, per-token throttling.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["dashboard.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["dashboard.api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["dashboard.api.throttles.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "dashboard.api.renderers.JsonOnlyNegotiation",
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PARSER_CLASSES": ["dashboard.api.parsers.StorableJSONParser"],
    "EXCEPTION_HANDLER": "dashboard.api.errors.problem_handler",
    "UNAUTHENTICATED_USER": None,
}
API_THROTTLE_PER_MINUTE = envint("API_THROTTLE_PER_MINUTE", 6000)  # per token, unless the token sets its own
API_EVENTS_MAX_BATCH = envint("API_EVENTS_MAX_BATCH", 1000)
API_IMPRESSION_FLUSH_S = envfloat("API_IMPRESSION_FLUSH_S", 0.5)  # how often buffered impressions are written
SPECTACULAR_SETTINGS = {
    "TITLE": "Fusion storefront API",
    "DESCRIPTION": "Recommendations, search, related items, events and catalog for storefronts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {"EventTypeEnum": "mlcore.data.validate.EVENT_TYPES"},
}
# CORS: only the API, and only for the origins a catalog lists (dashboard.api.cors decides per request).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-request-id"]
CORS_EXPOSE_HEADERS = ["x-request-id", "x-model-version", "retry-after"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},  # axes: a line per login
}

for _folder in (VAR_DIR, MEDIA_ROOT, ARTIFACTS_DIR, STATIC_ROOT):
    _folder.mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith("filesystem://"):
    (VAR_DIR / "broker" / "processed").mkdir(parents=True, exist_ok=True)
