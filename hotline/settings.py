"""Django settings. Every value comes from the environment with a safe default (see .env.example)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dj_database_url

from hotline.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_float,
    env_host_port,
    env_int,
    env_int_at_least,
    env_list,
    env_networks,
    env_numbers,
    env_port_range,
    env_str,
    env_time,
    secret_from_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("HOTLINE_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("HOTLINE_DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused below outside DEBUG
# The key: HOTLINE_SECRET_KEY, else the file HOTLINE_SECRET_KEY_FILE (created once, random, 0600:
# what `make run` uses for the demo), else the development key, which only DEBUG accepts.
SECRET_KEY = env_str("HOTLINE_SECRET_KEY", "")
if not SECRET_KEY and env_str("HOTLINE_SECRET_KEY_FILE", ""):
    SECRET_KEY = secret_from_file(env_str("HOTLINE_SECRET_KEY_FILE", ""))
if not SECRET_KEY:
    if not DEBUG and not env_bool("HOTLINE_ALLOW_DEV_SECRET", False):
        raise ConfigError(
            "HOTLINE_SECRET_KEY (or HOTLINE_SECRET_KEY_FILE) must be set in production "
            "(or set HOTLINE_DEBUG=1 / HOTLINE_ALLOW_DEV_SECRET=1 for development and tests)"
        )
    SECRET_KEY = _DEV_SECRET
# `testserver` (Django's test client) is added by hotline/settings_test.py only.
ALLOWED_HOSTS = env_list("HOTLINE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("HOTLINE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    # Listed so the API docs serve Swagger UI from our static files (without it django-ninja
    # loads it from a CDN with an inline script, which the content security policy blocks).
    "ninja",
    "hotline.web",
    "django_tasks",
    "django_tasks_db",
    "hotline.directory",
    "hotline.orders",
    "hotline.api",
    "hotline.knowledge",
    "hotline.insight",
    "hotline.triage",
    "hotline.intake",
    "hotline.contactcentre",
    "hotline.outreach",
    "hotline.voice",
    "hotline.desk",
    "hotline.portal",
    "hotline.worker",
    "hotline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so static files carry the policy too.
    "hotline.web.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Idle timeout, then the second factor and an expired password before any other page.
    "hotline.portal.security_middleware.LoginSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused (locked-out) login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hotline.urls"
ASGI_APPLICATION = "hotline.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hotline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'hotline.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db), conn_max_age=env_int("HOTLINE_DB_CONN_MAX_AGE", 0)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while the worker writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("HOTLINE_TEST_SQLITE", "")
# Under ASGI Django serves each request on a thread of its own, so persistent connections
# (CONN_MAX_AGE > 0) pile up, one per request, until PostgreSQL refuses clients (measured by
# bench/intake.py). A pool (psycopg-pool) of this many connections per process fixes that.
_DB_POOL_SIZE = env_int("HOTLINE_DB_POOL", 0)
if _DB_POOL_SIZE > 0 and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": _DB_POOL_SIZE, "timeout": 10,
    }
# Threads per web process that run requests (hotline.web.handler), each with its own database
# connection: at most this many requests of one process are served at once. More threads than
# cores fight over the GIL: bench/intake.py measured 174 orders/s with 4, 140 with 8 (2 workers).
HOTLINE_WEB_THREADS = env_int_at_least("HOTLINE_WEB_THREADS", 4, 1)
# The new-order INSERT (hotline.orders.inserts) as a server-side prepared statement, parsed and
# planned once per connection. Off behind a connection pooler that cannot keep prepared
# statements (pgbouncer before 1.21 in transaction mode).
HOTLINE_DB_PREPARED_INSERTS = env_bool("HOTLINE_DB_PREPARED_INSERTS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Login security (等保 2.0 level 3; see hotline/directory/security.py). django-axes counts
# failed logins per account and per client address (either one locks); its backend comes first
# so a locked-out login is refused before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("HOTLINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("HOTLINE_LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hotline.portal.security_views.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# The client address is REMOTE_ADDR as the ASGI server sets it (uvicorn rewrites it from
# forwarded headers only for HOTLINE_TRUSTED_PROXIES); axes must not read those headers itself,
# or anyone could pick a fresh address per guess.
AXES_CLIENT_IP_CALLABLE = "hotline.directory.security.client_address"
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_IPWARE_PROXY_COUNT = None
# The lockouts are managed on the security administrator's page, not in the Django admin
# (三员分立: the system administrator must not unlock accounts or read login records).
AXES_ENABLE_ADMIN = False
OTP_TOTP_ISSUER = env_str("HOTLINE_OTP_ISSUER", "12345")

HOTLINE_PASSWORD_MIN_LENGTH = env_int("HOTLINE_PASSWORD_MIN_LENGTH", 12)
HOTLINE_PASSWORD_MIN_CLASSES = env_int("HOTLINE_PASSWORD_MIN_CLASSES", 3)
HOTLINE_PASSWORD_HISTORY = env_int("HOTLINE_PASSWORD_HISTORY", 5)
HOTLINE_PASSWORD_MAX_AGE_DAYS = env_int("HOTLINE_PASSWORD_MAX_AGE_DAYS", 90)
HOTLINE_IDLE_TIMEOUT_MINUTES = env_int("HOTLINE_IDLE_TIMEOUT_MINUTES", 30)
if not 1 <= HOTLINE_PASSWORD_MIN_CLASSES <= 4:
    raise ConfigError("HOTLINE_PASSWORD_MIN_CLASSES must be 1 to 4 (of lower, upper, digit, symbol)")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": HOTLINE_PASSWORD_MIN_LENGTH}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "hotline.directory.security.CharacterClassesValidator",
     "OPTIONS": {"min_classes": HOTLINE_PASSWORD_MIN_CLASSES}},
    {"NAME": "hotline.directory.security.PasswordHistoryValidator",
     "OPTIONS": {"keep": HOTLINE_PASSWORD_HISTORY}},
]

LANGUAGE_CODE = env_str("HOTLINE_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "hotline" / "locale"]
TIME_ZONE = env_str("HOTLINE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("HOTLINE_MEDIA_ROOT", str(DATA_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
HOTLINE_MAX_ATTACHMENT_BYTES = env_int("HOTLINE_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
# Uploaded photos are decoded and re-encoded (metadata dropped): a bound on the pixels decoded.
HOTLINE_MAX_IMAGE_PIXELS = env_int("HOTLINE_MAX_IMAGE_PIXELS", 40_000_000)
# Spreadsheet imports (hotline/core/spreadsheets.py): the upload and what its zip unpacks to.
HOTLINE_IMPORT_MAX_BYTES = env_int("HOTLINE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
HOTLINE_IMPORT_MAX_UNPACKED_BYTES = env_int("HOTLINE_IMPORT_MAX_UNPACKED_BYTES", 50 * 1024 * 1024)

SESSION_COOKIE_HTTPONLY = True
# A session ends with the browser, and after HOTLINE_IDLE_TIMEOUT_MINUTES without activity
# (hotline.portal.security_middleware); the cookie's own age is only the outer bound.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# HOTLINE_HTTPS=1: the site is reached over HTTPS only (directly or through a TLS proxy listed
# in HOTLINE_TRUSTED_PROXIES, whose X-Forwarded-Proto uvicorn believes): cookies only over TLS,
# HSTS, and plain-HTTP requests redirected. SECURE_PROXY_SSL_HEADER stays unset on purpose: the
# scheme comes from the ASGI server, which trusts forwarded headers from those proxies only.
HOTLINE_HTTPS = env_bool("HOTLINE_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("HOTLINE_SECURE_COOKIES", HOTLINE_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HOTLINE_HTTPS
SECURE_HSTS_SECONDS = env_int("HOTLINE_HSTS_SECONDS", 365 * 24 * 3600) if HOTLINE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HOTLINE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HOTLINE_HSTS_PRELOAD", True)
# Leaving the preload list out is a deliberate choice, not an oversight for `check --deploy`.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
X_FRAME_OPTIONS = "DENY"
# Every response (pages, the API, static files, errors) carries this Content-Security-Policy
# (hotline.web.security.ContentSecurityPolicyMiddleware): scripts and styles from our own files
# only, no inline code; the desk's and wallboard's websockets to this host.
HOTLINE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],  # plus ws(s):// of the request's host, added per request
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

TASKS = {
    "default": {
        "BACKEND": env_str("HOTLINE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Websockets (the agent desk, the wallboard). Each web process tails the desk's event outbox
# itself (hotline.desk.fanout), so the in-memory layer is right even with several processes.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Working time of the hotline's departments, used to count deadlines in working hours.
HOTLINE_WORK_PERIODS = env_str("HOTLINE_WORK_PERIODS", "09:00-12:00,13:30-17:30")
# How long before a deadline the worker sends a reminder (催办), in working hours.
HOTLINE_REMIND_BEFORE_HOURS = env_int("HOTLINE_REMIND_BEFORE_HOURS", 4)
# Urgent orders (limits in clock hours) are reminded this many minutes before a deadline.
HOTLINE_URGENT_REMIND_BEFORE_MINUTES = env_int("HOTLINE_URGENT_REMIND_BEFORE_MINUTES", 15)
# Working days an order may stay overdue before it is escalated to leaders.
HOTLINE_ESCALATE_AFTER_DAYS = env_int("HOTLINE_ESCALATE_AFTER_DAYS", 2)
# Seconds between the scheduler's deadline sweeps.
HOTLINE_SWEEP_SECONDS = env_int_at_least("HOTLINE_SWEEP_SECONDS", 60, 1)

# Category classifier (hotline.triage): where trained models are kept, how often the scheduler
# retrains on the centre's own orders, and what a training set needs.
HOTLINE_TRIAGE_MODEL_DIR = Path(env_str("HOTLINE_TRIAGE_MODEL_DIR", str(DATA_DIR / "models")))
HOTLINE_TRIAGE_RETRAIN_HOURS = env_int("HOTLINE_TRIAGE_RETRAIN_HOURS", 24)
HOTLINE_TRIAGE_MIN_ORDERS = env_int("HOTLINE_TRIAGE_MIN_ORDERS", 50)
HOTLINE_TRIAGE_MIN_PER_CATEGORY = env_int("HOTLINE_TRIAGE_MIN_PER_CATEGORY", 5)
HOTLINE_TRIAGE_MAX_ORDERS = env_int("HOTLINE_TRIAGE_MAX_ORDERS", 200000)
# A hot-issue report computed this many seconds ago still serves the same view (0 = always new).
HOTLINE_HOT_ISSUES_REFRESH_SECONDS = env_int("HOTLINE_HOT_ISSUES_REFRESH_SECONDS", 600)
# The standing topics behind the hot issues (hotline/insight/topics.py): how far back they
# reach (a 92-day range plus its 28-day baseline), how often they are clustered again in full,
# and how often the orders since are added.
HOTLINE_HOT_ISSUES_HORIZON_DAYS = env_int("HOTLINE_HOT_ISSUES_HORIZON_DAYS", 120)
HOTLINE_HOT_ISSUES_EPOCH_SECONDS = env_int("HOTLINE_HOT_ISSUES_EPOCH_SECONDS", 21600)
HOTLINE_HOT_TOPICS_SECONDS = env_int("HOTLINE_HOT_TOPICS_SECONDS", 60)
# Assessment (考核): how often the worker scores the recent months again (late call-back answers
# change them), and how many months back, the current one included.
HOTLINE_ASSESSMENT_SCORING_SECONDS = env_int("HOTLINE_ASSESSMENT_SCORING_SECONDS", 3600)
HOTLINE_ASSESSMENT_RESCORE_MONTHS = env_int_at_least(
    "HOTLINE_ASSESSMENT_RESCORE_MONTHS", 2, 1, "the current month is always scored")

# How often the order rollups of the reports read the new order history (0 = never; then
# `manage.py rebuild_rollups --orders` is the only way they change).
HOTLINE_ROLLUP_SECONDS = env_int("HOTLINE_ROLLUP_SECONDS", 60)

# How often the call statistics' rollups catch up with the calls (0: never; the big screen
# and the reports then show what the last refresh or `rebuild_rollups --calls` wrote).
HOTLINE_CALL_ROLLUP_SECONDS = env_int("HOTLINE_CALL_ROLLUP_SECONDS", 60)
# Days the personal-data access log is kept (等保 level 3 asks for at least six months; the
# database itself refuses to delete younger rows, see orders migration 0005).
HOTLINE_ACCESS_LOG_RETENTION_DAYS = env_int_at_least(
    "HOTLINE_ACCESS_LOG_RETENTION_DAYS", 180, 180, "the access log is kept at least six months")
# The order list's Excel export: up to this many rows it is built while the browser waits, above
# it in the worker with a progress bar (openpyxl writes ~2,000 rows a second here); no export
# holds more than the maximum.
HOTLINE_ORDER_EXPORT_INLINE_ROWS = env_int_at_least("HOTLINE_ORDER_EXPORT_INLINE_ROWS", 2000, 1)
HOTLINE_ORDER_EXPORT_MAX_ROWS = env_int_at_least("HOTLINE_ORDER_EXPORT_MAX_ROWS", 200_000, 1)

# Proxies (load balancers) whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or
# networks. Empty (the default): those headers are ignored entirely, since anyone can send them
# (hotline.launcher starts uvicorn accordingly; hotline.core.clientaddr reads the address).
HOTLINE_TRUSTED_PROXIES = env_networks("HOTLINE_TRUSTED_PROXIES", [])
# The secret that keys acceptance numbers (hotline.orders.numbering); empty: derived from the
# SECRET_KEY. Changing either changes future numbers only; issued numbers stay valid.
HOTLINE_NUMBER_KEY = env_str("HOTLINE_NUMBER_KEY", "")
if HOTLINE_NUMBER_KEY and len(HOTLINE_NUMBER_KEY) < 32:
    raise ConfigError("HOTLINE_NUMBER_KEY must be at least 32 characters (or empty)")

# One cache shared by every process (the look-up failure counters must be): the database cache
# on the embedded default (its table is created by migration api 0003), Redis in production
# (HOTLINE_CACHE_URL=redis://host:6379/1). The database cache deletes a third of its entries
# when it holds more than MAX_ENTRIES: set high, so that flooding it with keys cannot wipe the
# counters.
_CACHE_URL = env_str("HOTLINE_CACHE_URL", "")
CACHES: dict[str, dict[str, object]]
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _CACHE_URL,
        "KEY_PREFIX": env_str("HOTLINE_CACHE_PREFIX", "hotline"),
    }}
elif _CACHE_URL:
    raise ConfigError(f"HOTLINE_CACHE_URL={_CACHE_URL!r}: use redis://..., or leave it empty")
else:
    CACHES = {"default": {
        "BACKEND": "hotline.core.cache.DatabaseCache",
        "LOCATION": "hotline_cache",
        "KEY_PREFIX": env_str("HOTLINE_CACHE_PREFIX", "hotline"),
        "OPTIONS": {"MAX_ENTRIES": env_int("HOTLINE_CACHE_MAX_ENTRIES", 1_000_000)},
    }}
# Per-process caches of API tokens, districts and categories (hotline.core.refcache): a change
# takes effect at once in the process that made it and within this many seconds in the others
# (a revoked token too). 0 turns them off.
HOTLINE_REFERENCE_CACHE_SECONDS = env_int_at_least("HOTLINE_REFERENCE_CACHE_SECONDS", 5, 0)
# Citizens' status look-ups (the /status/ page and GET /api/v1/public/orders/{number}), failures
# counted in fixed windows per client address, per acceptance number and per phone number
# (hotline.orders.lookup_limits); past any limit look-ups are refused until the window ends.
HOTLINE_LOOKUP_WINDOW_SECONDS = env_int_at_least("HOTLINE_LOOKUP_WINDOW_SECONDS", 900, 1)
HOTLINE_LOOKUP_FAILURES_PER_ADDRESS = env_int_at_least("HOTLINE_LOOKUP_FAILURES_PER_ADDRESS", 10, 1)
HOTLINE_LOOKUP_FAILURES_PER_NUMBER = env_int_at_least("HOTLINE_LOOKUP_FAILURES_PER_NUMBER", 5, 1)
HOTLINE_LOOKUP_FAILURES_PER_PHONE = env_int_at_least("HOTLINE_LOOKUP_FAILURES_PER_PHONE", 10, 1)
# Citizen portal (/citizen/): anonymous requests allowed; days after closing a citizen may ask
# to reopen; SMS codes and submissions per phone and per client address in an hour.
HOTLINE_PORTAL_ANONYMOUS = env_bool("HOTLINE_PORTAL_ANONYMOUS", True)
HOTLINE_PORTAL_REOPEN_DAYS = env_int_at_least("HOTLINE_PORTAL_REOPEN_DAYS", 7, 0)
HOTLINE_PORTAL_CODES_PER_PHONE = env_int_at_least("HOTLINE_PORTAL_CODES_PER_PHONE", 5, 1)
HOTLINE_PORTAL_CODES_PER_ADDRESS = env_int_at_least("HOTLINE_PORTAL_CODES_PER_ADDRESS", 20, 1)
HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS = env_int_at_least(
    "HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS", 10, 1)
HOTLINE_PORTAL_MAX_FILES = env_int_at_least("HOTLINE_PORTAL_MAX_FILES", 5, 0)

# Voice gateway (hotline.voice.gateway.config_from_settings; docs/voice.md "Limits"): incoming calls
# one process holds, and what one source address may hold and start (0 = that limit off), so
# that one address cannot take the whole line. Calls through the trusted SIP proxies (Kamailio,
# a carrier's SBC) count against the caller below the proxy in the Via chain, never the proxy.
HOTLINE_SIP_MAX_CALLS = env_int_at_least("HOTLINE_SIP_MAX_CALLS", 300, 1)
HOTLINE_SIP_SOURCE_CALLS = env_int_at_least("HOTLINE_SIP_SOURCE_CALLS", 10, 0)
HOTLINE_SIP_SOURCE_UNCONFIRMED = env_int_at_least("HOTLINE_SIP_SOURCE_UNCONFIRMED", 5, 0)
HOTLINE_SIP_SOURCE_RATE = env_int_at_least("HOTLINE_SIP_SOURCE_RATE", 20, 0)
HOTLINE_SIP_SOURCE_BURST = env_int_at_least("HOTLINE_SIP_SOURCE_BURST", 40, 0)
HOTLINE_SIP_TRUSTED_PROXIES = env_networks("HOTLINE_SIP_TRUSTED_PROXIES", [])
# Failed REGISTERs for one extension, from any addresses, within the lock time lock it for that
# long (0 failures = no lock); the same 403 as a wrong password, even for the right one.
HOTLINE_SIP_EXTENSION_MAX_FAILURES = env_int_at_least("HOTLINE_SIP_EXTENSION_MAX_FAILURES", 20, 0)
HOTLINE_SIP_EXTENSION_LOCK_SECONDS = env_int_at_least("HOTLINE_SIP_EXTENSION_LOCK_SECONDS", 600, 1)

# The voice gateway process (python -m hotline.voice.server; docs/voice.md): where it serves
# SIP (UDP) and media, what it announces to peers (empty: the SIP host), the IVR flow file
# (empty: the packaged default), straight to a person, the agents' queues (off: a caller asking
# for a person leaves a call-back request), the SIP trunk for department and emergency numbers,
# its name on the calls it holds (empty: host name and SIP port), the digest realm and
# algorithms for agents' phones, the prompts' speech (empty: espeak-ng when installed, else
# tones) and the hold music file (empty: built in).
HOTLINE_SIP_BIND = env_host_port("HOTLINE_SIP_BIND", "127.0.0.1:5060", 5060)
HOTLINE_RTP_PORTS = env_port_range("HOTLINE_RTP_PORTS", "20000-20999")
HOTLINE_RTP_HOST = env_str("HOTLINE_RTP_HOST", "")
HOTLINE_SIP_ADVERTISE = env_str("HOTLINE_SIP_ADVERTISE", "")
HOTLINE_IVR_FLOW = env_str("HOTLINE_IVR_FLOW", "")
HOTLINE_IVR_DIRECT = env_bool("HOTLINE_IVR_DIRECT", False)
HOTLINE_ACD = env_bool("HOTLINE_ACD", True)
HOTLINE_SIP_TRUNK = (env_host_port("HOTLINE_SIP_TRUNK", "", 5060)
                     if env_str("HOTLINE_SIP_TRUNK", "").strip() else None)
HOTLINE_GATEWAY_ID = env_str("HOTLINE_GATEWAY_ID", "")
# Called numbers (fax DIDs) the gateway answers with its T.30 terminal: the pages become a fax
# contact. With a trunk, the gateway also sends the replies queued to go out by fax.
HOTLINE_FAX_NUMBERS = env_numbers("HOTLINE_FAX_NUMBERS")
HOTLINE_SIP_REALM = env_str("HOTLINE_SIP_REALM", "hotline")
HOTLINE_SIP_DIGEST = [name.upper() for name in env_list("HOTLINE_SIP_DIGEST", ["MD5"])]
HOTLINE_TTS = env_choice("HOTLINE_TTS", "", ["", "espeak", "tone"])
# The voice gateway's event loop: asyncio's own, or uvloop (when installed). asyncio by
# default: under load uvloop left the IVR's database saves late (bench/README.md).
HOTLINE_VOICE_LOOP = env_choice("HOTLINE_VOICE_LOOP", "asyncio", ["asyncio", "uvloop"])
HOTLINE_HOLD_MUSIC = env_str("HOTLINE_HOLD_MUSIC", "").strip()

# Email (hotline.intake.email; README "Email channel"): the SMTP receiver `make run` starts, the
# domains it takes mail for, the hotline's own address (its Reply-To carries each order's
# token), the relay outbound mail goes through (smtp://user:password@host:port, smtps:// for
# TLS on connect, ?starttls=1; empty: mail is written to the log) and an IMAP mailbox the
# worker polls instead of (or besides) the receiver (hotline.intake.email.imap:
# imaps://user:password@host:993/INBOX, imap://...:143/INBOX[?starttls=1], ?cafile= for a
# private CA; empty: none), how often, and the folder a taken mail is moved to (empty: it stays,
# marked read).
HOTLINE_SMTP_LISTEN = env_host_port("HOTLINE_SMTP_LISTEN", "127.0.0.1:2525", 2525)
HOTLINE_MAIL_DOMAINS = [d.lower() for d in env_list("HOTLINE_MAIL_DOMAINS", ["hotline.localhost"])]
HOTLINE_MAIL_FROM = env_str("HOTLINE_MAIL_FROM", f"12345@{HOTLINE_MAIL_DOMAINS[0]}")
DEFAULT_FROM_EMAIL = HOTLINE_MAIL_FROM
HOTLINE_SMTP_RELAY = env_str("HOTLINE_SMTP_RELAY", "")
HOTLINE_IMAP_URL = env_str("HOTLINE_IMAP_URL", "").strip()
HOTLINE_IMAP_POLL_SECONDS = env_int_at_least("HOTLINE_IMAP_POLL_SECONDS", 60, 1)
HOTLINE_IMAP_DONE_FOLDER = env_str("HOTLINE_IMAP_DONE_FOLDER", "").strip()
if HOTLINE_IMAP_URL:
    from hotline.env import imap_account

    # A malformed URL stops the start, not the first poll.
    imap_account(HOTLINE_IMAP_URL, done_folder=HOTLINE_IMAP_DONE_FOLDER)
HOTLINE_MAX_INBOUND_BYTES = env_int_at_least("HOTLINE_MAX_INBOUND_BYTES", 30 * 1024 * 1024, 1024)
if HOTLINE_SMTP_RELAY:
    from hotline.env import smtp_relay_settings

    vars().update(smtp_relay_settings(HOTLINE_SMTP_RELAY))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# SMS (hotline.intake.sms; README "SMS channel"): the provider (log: written to the log; http: a
# gateway's HTTP API at HOTLINE_SMS_HTTP_URL with HOTLINE_SMS_HTTP_KEY; smpp: an operator's SMSC
# over SMPP 3.4), the secret that signs the HTTP gateway's webhooks (inbound messages, delivery
# reports), the hotline's SMS number and how many messages one phone may get in an hour.
HOTLINE_SMS_PROVIDER = env_choice("HOTLINE_SMS_PROVIDER", "log", ["log", "http", "smpp"])
HOTLINE_SMS_HTTP_URL = env_str("HOTLINE_SMS_HTTP_URL", "")
HOTLINE_SMS_HTTP_KEY = env_str("HOTLINE_SMS_HTTP_KEY", "")
HOTLINE_SMS_WEBHOOK_SECRET = env_str("HOTLINE_SMS_WEBHOOK_SECRET", "")
HOTLINE_SMS_PER_PHONE_HOUR = env_int_at_least("HOTLINE_SMS_PER_PHONE_HOUR", 10, 1)
# SMPP (hotline.intake.sms.smpp): the operator's SMSC, the account it gave the hotline (SMPP
# 3.4 caps a system_id at 15 characters and a password at 8) and the source address messages
# go out from. `make run` starts the receiver (receipts, citizens' messages) only with smpp.
HOTLINE_SMPP_HOST = env_str("HOTLINE_SMPP_HOST", "").strip()
HOTLINE_SMPP_PORT = env_int("HOTLINE_SMPP_PORT", 2775)
HOTLINE_SMPP_SYSTEM_ID = env_str("HOTLINE_SMPP_SYSTEM_ID", "")
HOTLINE_SMPP_PASSWORD = env_str("HOTLINE_SMPP_PASSWORD", "")
HOTLINE_SMPP_SOURCE = env_str("HOTLINE_SMPP_SOURCE", "12345").strip()
if not 0 < HOTLINE_SMPP_PORT < 65536:
    raise ConfigError(f"HOTLINE_SMPP_PORT={HOTLINE_SMPP_PORT} is not a port number (1-65535)")
if len(HOTLINE_SMPP_SYSTEM_ID) > 15 or len(HOTLINE_SMPP_PASSWORD) > 8:
    raise ConfigError("HOTLINE_SMPP_SYSTEM_ID may have at most 15 characters and "
                      "HOTLINE_SMPP_PASSWORD at most 8 (SMPP 3.4)")
if not 0 < len(HOTLINE_SMPP_SOURCE) <= 20:
    raise ConfigError(f"HOTLINE_SMPP_SOURCE={HOTLINE_SMPP_SOURCE!r}: 1 to 20 characters")
if HOTLINE_SMS_PROVIDER == "smpp" and not HOTLINE_SMPP_HOST:
    raise ConfigError("HOTLINE_SMS_PROVIDER=smpp needs HOTLINE_SMPP_HOST (the SMSC's address)")

# Open311 GeoReport v2 (/open311/; README "Open311"): the jurisdiction_id clients name, who to
# ask for a key, and how many calls one key may make a minute.
HOTLINE_OPEN311_JURISDICTION = env_str("HOTLINE_OPEN311_JURISDICTION", "12345.localhost")
HOTLINE_OPEN311_CONTACT = env_str("HOTLINE_OPEN311_CONTACT", "12345 hotline centre")
HOTLINE_OPEN311_PER_KEY_MINUTE = env_int_at_least("HOTLINE_OPEN311_PER_KEY_MINUTE", 600, 1)

# WeChat official account push (hotline.intake.wechat): the Token of the account's server
# configuration (empty: every push is refused with 403), and for safe mode the EncodingAESKey
# and the AppID.
HOTLINE_WECHAT_TOKEN = env_str("HOTLINE_WECHAT_TOKEN", "")
HOTLINE_WECHAT_AES_KEY = env_str("HOTLINE_WECHAT_AES_KEY", "")
HOTLINE_WECHAT_APPID = env_str("HOTLINE_WECHAT_APPID", "")

# Days back the duplicate detection looks for similar open orders (hotline.triage.similar).
HOTLINE_SIMILAR_WINDOW_DAYS = env_int_at_least("HOTLINE_SIMILAR_WINDOW_DAYS", 30, 1)
# The least relevance score (hotline/knowledge/relevance.py) a knowledge entry needs to be
# suggested to an agent or read by the IVR; the "not what I need" feedback tells how to tune it.
HOTLINE_KB_MIN_SCORE = env_float("HOTLINE_KB_MIN_SCORE", 2.0)
# The hotline's number as the citizens' pages show it.
HOTLINE_PUBLIC_NUMBER = env_str("HOTLINE_PUBLIC_NUMBER", "12345")
# The password `manage.py duty_account` gives, for scripted installs (empty: it asks).
HOTLINE_DUTY_PASSWORD = env_str("HOTLINE_DUTY_PASSWORD", "")
# The demo (`make run`): the demo users' password and the demo SIP extensions' password.
HOTLINE_DEMO_PASSWORD = env_str("HOTLINE_DEMO_PASSWORD", "") or "demo12345"
HOTLINE_DEMO_SIP_PASSWORD = env_str("HOTLINE_DEMO_SIP_PASSWORD", "") or "demo-sip-12345"

# Web chat (hotline/contactcentre/chat.py): chats one agent holds at once; a citizen not seen
# for this many seconds while waiting has left (the chat is closed as abandoned).
HOTLINE_CHAT_CAPACITY = env_int_at_least("HOTLINE_CHAT_CAPACITY", 3, 1)
HOTLINE_CHAT_IDLE_SECONDS = env_int_at_least("HOTLINE_CHAT_IDLE_SECONDS", 120, 10)

# Outbound calls (hotline/outreach): no call between these local times, at most this many
# attempts to one number a day (every purpose together), attempts per call by default.
HOTLINE_OUTREACH_QUIET_START = env_time("HOTLINE_OUTREACH_QUIET_START", "21:00")
HOTLINE_OUTREACH_QUIET_END = env_time("HOTLINE_OUTREACH_QUIET_END", "08:00")
HOTLINE_OUTREACH_DAILY_CAP = env_int_at_least("HOTLINE_OUTREACH_DAILY_CAP", 3, 1)
HOTLINE_OUTREACH_MAX_ATTEMPTS = env_int_at_least("HOTLINE_OUTREACH_MAX_ATTEMPTS", 3, 1)
# Surveys and notifications (hotline/outreach/surveys.py, notifications.py): the address
# citizens open links at (the survey page), how many notices and survey messages one citizen
# gets in 24 hours at most, and the handlers an inbound SMS is offered to before it becomes an
# order (dotted paths; a survey's digit reply is the survey's, not a new order).
HOTLINE_PUBLIC_URL = env_str("HOTLINE_PUBLIC_URL", "http://127.0.0.1:8000")
HOTLINE_NOTICES_PER_CITIZEN_DAY = env_int_at_least("HOTLINE_NOTICES_PER_CITIZEN_DAY", 8, 1)
HOTLINE_SMS_REPLY_HANDLERS = env_list("HOTLINE_SMS_REPLY_HANDLERS",
                                      ["hotline.outreach.surveys.take_sms_reply",
                                       "hotline.outreach.bookings.take_sms_reply"])
# Days the preference link in a mail (change how we reach you, unsubscribe) stays valid.
HOTLINE_PREFERENCE_LINK_DAYS = env_int_at_least("HOTLINE_PREFERENCE_LINK_DAYS", 180, 1)

# Appointments (预约服务): the SMS reminder goes this many hours before the slot (outside the
# quiet hours: a reminder due at night goes when they end, or in the evening before for an
# early slot); bookings a phone may ask for per hour on the public pages.
HOTLINE_APPOINTMENT_REMINDER_HOURS = env_int_at_least("HOTLINE_APPOINTMENT_REMINDER_HOURS", 24, 1)
HOTLINE_APPOINTMENT_BOOKINGS_PER_ADDRESS = env_int_at_least(
    "HOTLINE_APPOINTMENT_BOOKINGS_PER_ADDRESS", 10, 1)
# Partners (the 96180 model): dissatisfied ratings since registration or the last reinstatement
# that suspend a partner automatically (seed 001: three).
HOTLINE_PARTNER_SUSPEND_AFTER = env_int_at_least("HOTLINE_PARTNER_SUSPEND_AFTER", 3, 1)
# Days a citizen's partner rating link stays valid.
HOTLINE_PARTNER_RATING_DAYS = env_int_at_least("HOTLINE_PARTNER_RATING_DAYS", 30, 1)

# Campaigns and polls (issue 13 items 6-7): the address citizens open poll links at (sent by
# SMS and email), and how many poll answers one client address may send an hour.
HOTLINE_PUBLIC_URL = env_str("HOTLINE_PUBLIC_URL", "http://127.0.0.1:8000")
HOTLINE_POLL_ANSWERS_PER_ADDRESS = env_int_at_least("HOTLINE_POLL_ANSWERS_PER_ADDRESS", 20, 1)

HOTLINE_LOG_LEVEL = env_choice("HOTLINE_LOG_LEVEL", "INFO",
                               ["debug", "info", "warning", "error", "critical"]).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": HOTLINE_LOG_LEVEL},
}
