"""Settings, read only from environment variables (see .env.example).

The defaults are the embedded set-up: SQLite, a Celery broker on the local
filesystem, artifacts under ``var/``. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and DEBUG=false.
"""
from __future__ import annotations

from pathlib import Path

import dj_database_url
import plotly

from recsite.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envstr("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise ValueError("SECRET_KEY must be set when DEBUG=false")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

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
]

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
            ],
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
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
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
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
ARTIFACTS_DIR = Path(envstr("ARTIFACTS_DIR", str(VAR_DIR / "artifacts")))

# Uploads: the largest import file accepted, in megabytes, and the size above
# which an import runs on a Celery worker instead of inside the request.
IMPORT_MAX_MB = envint("IMPORT_MAX_MB", 200)
IMPORT_SYNC_MAX_ROWS = envint("IMPORT_SYNC_MAX_ROWS", 2000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
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
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
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
SEARCH_FINETUNE_MIN_PAIRS = envint("SEARCH_FINETUNE_MIN_PAIRS", 50)  # query→click pairs that fine-tune the index
SEARCH_FINETUNE_STEPS = envint("SEARCH_FINETUNE_STEPS", 60)
CELERY_BEAT_SCHEDULE = {
    "training-reap": {"task": "dashboard.training_reap", "schedule": 60.0},
    "autotune-reap": {"task": "dashboard.fusion_autotune_reap", "schedule": 60.0},
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
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

for _folder in (VAR_DIR, MEDIA_ROOT, ARTIFACTS_DIR, STATIC_ROOT):
    _folder.mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith("filesystem://"):
    (VAR_DIR / "broker" / "processed").mkdir(parents=True, exist_ok=True)
