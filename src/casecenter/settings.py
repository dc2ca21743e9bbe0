"""Django settings, read from environment variables only.

Every setting has a safe default for the embedded mode: SQLite in WAL mode
under a data folder, a generated secret key kept in that folder, localhost only.
Production sets ``DATABASE_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import json
import os
import secrets
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CASECENTER_DATA_DIR", Path.cwd() / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _file_secret(name: str, nbytes: int) -> str:
    """A random secret created once and kept (mode 0600) in the data folder."""
    path = DATA_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _file_secret("secret_key", 50)
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # the admin site, every change on it audited, behind MFA (casecenter.adminsite)
    "casecenter.adminsite.apps.CaseCenterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",  # second factor: TOTP and recovery codes (accounts.mfa)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "casecenter.accounts",
    "casecenter.audit",
    "casecenter.outbox",
    "casecenter.privacy",
    "casecenter.calendars",
    "casecenter.incidents",
    "casecenter.cases",
    "casecenter.supervision",
    "casecenter.measures",
    "casecenter.property",
    "casecenter.portal",
    "casecenter.custody",
    "casecenter.devices",
    "casecenter.exchange",
    "casecenter.dossiers",
    "casecenter.fasttrack",
    "casecenter.meetings",
    "casecenter.assistance",
    "casecenter.web",
    "casecenter.demo",
    "axes",  # lockout after failed logins (accounts.lockout)
]

MIDDLEWARE = [
    "casecenter.ops.requestlog.RequestIdMiddleware",  # first: every log line has the request id
    "casecenter.ops.httpmetrics.RequestMetricsMiddleware",  # latency, open SSE streams (/metrics)
    "casecenter.apicontract.ApiContractCheckMiddleware",  # off unless checking (tests)
    "casecenter.apicontract.ApiErrorsAreJsonMiddleware",  # outermost: /api/ errors are JSON
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/, before any per-request work
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy (browser hardening)
    "casecenter.web.headers.PrivateResponseMiddleware",  # no-store, Permissions-Policy
    "django.contrib.sessions.middleware.SessionMiddleware",
    "casecenter.web.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    # the second factor before anything else, the password change included
    "casecenter.accounts.mfa_middleware.MfaRequiredMiddleware",  # enrol or verify first
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "casecenter.accounts.middleware.SessionPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its page
]

ROOT_URLCONF = "casecenter.urls"
WSGI_APPLICATION = "casecenter.wsgi.application"
ASGI_APPLICATION = "casecenter.asgi.application"

# django-ninja's Swagger UI is served from ninja's own templates and static files
# (no CDN; casecenter.api.LocalSwagger), found here by path: ninja is not an
# installed app, which would import all of ninja and pydantic at every start-up,
# a command line's included (docs/operations.md, "Start-up time").
NINJA_DIR = Path(find_spec("ninja").origin).parent

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
# Embedded default: SQLite in WAL mode. IMMEDIATE transactions take the write
# lock at BEGIN, so two writers queue on busy_timeout instead of failing with
# "database is locked" when a read transaction tries to upgrade.
_default_db = f"sqlite:///{DATA_DIR / 'casecenter.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db), conn_health_checks=True
    )
}
_ON_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# Connections kept open between requests this many seconds (checked before reuse):
# PostgreSQL's connection set-up costs more than a small query; SQLite's is a file open.
DATABASES["default"]["CONN_MAX_AGE"] = int(
    os.environ.get("CASECENTER_DB_CONN_MAX_AGE", "0" if _ON_SQLITE else "60")
)
# Under an ASGI server each request runs in a thread of its own, so a kept
# connection is never reused and only piles up (Django ticket #33497): `casecenter
# serve` sets CASECENTER_DB_POOL on PostgreSQL, a psycopg pool per process instead.
if not _ON_SQLITE and _env_bool("CASECENTER_DB_POOL", False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("CASECENTER_DB_POOL_SIZE", "20")),
        "timeout": 10,
    }
if _ON_SQLITE:
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("CASECENTER_TEST_SQLITE")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------
# What casecenter caches is keyed by what it was made from (the public page's
# facts and timeline: portal.selectors, portal.timeline), so nothing is ever
# invalidated and each process's own memory is a correct cache, on one node or
# many. CASECENTER_CACHE_URL=redis://host:6379/0 shares one between processes and
# nodes instead (it needs the ``redis`` package, and the public page needs Redis up).
_cache_url = os.environ.get("CASECENTER_CACHE_URL", "")
if not _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("CASECENTER_CACHE_ENTRIES", "5000"))},
        }
    }
elif _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "casecenter",
        }
    }
else:
    raise ImproperlyConfigured(
        f"CASECENTER_CACHE_URL: redis://, rediss:// or unix://, not {_cache_url}"
    )

# --- accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
_PASSWORD_VALIDATION = "django.contrib.auth.password_validation"  # noqa: S105 - a module path
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_PASSWORD_VALIDATION}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_PASSWORD_VALIDATION}.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": f"{_PASSWORD_VALIDATION}.CommonPasswordValidator"},
    {"NAME": f"{_PASSWORD_VALIDATION}.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Sessions end after this long without the user doing anything (background
# requests such as the alert stream do not count) and this long after login
# whatever happens (accounts.middleware.SessionPolicyMiddleware).
CASECENTER_SESSION_IDLE_MINUTES = int(os.environ.get("CASECENTER_SESSION_IDLE_MINUTES", "30"))
CASECENTER_SESSION_MAX_HOURS = int(os.environ.get("CASECENTER_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = CASECENTER_SESSION_MAX_HOURS * 3600  # the server-side limit decides
# API bearer tokens stop working this many days after they were issued.
CASECENTER_API_TOKEN_DAYS = int(os.environ.get("CASECENTER_API_TOKEN_DAYS", "90"))
# A break-glass read of a case one is not assigned to lasts this many hours
# (cases.breakglass; the supervisors are alerted at once and review it).
CASECENTER_BREAK_GLASS_HOURS = int(os.environ.get("CASECENTER_BREAK_GLASS_HOURS", "4"))

# Lockout (django-axes): after CASECENTER_LOCKOUT_FAILURES failed logins for one
# account, or from one client address, within the cool-off, logins are refused
# for CASECENTER_LOCKOUT_MINUTES, doubled at each new lockout of the same
# account or address within a week, up to CASECENTER_LOCKOUT_MAX_HOURS.
CASECENTER_LOCKOUT_FAILURES = int(os.environ.get("CASECENTER_LOCKOUT_FAILURES", "5"))
CASECENTER_LOCKOUT_MINUTES = int(os.environ.get("CASECENTER_LOCKOUT_MINUTES", "15"))
CASECENTER_LOCKOUT_MAX_HOURS = int(os.environ.get("CASECENTER_LOCKOUT_MAX_HOURS", "24"))
# The addresses of reverse proxies whose X-Forwarded-For header is believed
# (comma-separated). Empty: the client address is the connection's (REMOTE_ADDR).
CASECENTER_TRUSTED_PROXIES = [
    a.strip() for a in os.environ.get("CASECENTER_TRUSTED_PROXIES", "").split(",") if a.strip()
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = CASECENTER_LOCKOUT_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_COOLOFF_TIME = "casecenter.accounts.lockout.cool_off"
AXES_LOCKOUT_CALLABLE = "casecenter.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "casecenter.accounts.lockout.client_address"
AXES_USERNAME_CALLABLE = "casecenter.accounts.lockout.login_username"
# a refused attempt during a lockout neither counts nor extends it: the user is
# told when to come back, and that time holds
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# each attempt row expires on its own clock: a short cool-off computed for one
# request must not delete the rows of a longer lockout of another account
AXES_USE_ATTEMPT_EXPIRATION = True
# a success does not wipe the address's failures: one address could otherwise
# spray many accounts between logins to its own
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ADMIN = False  # unlocking goes through accounts.services.unlock_account (audited)
AXES_DISABLE_ACCESS_LOG = True  # logins are on the audit log (accounts.signals), not twice
AXES_VERBOSE = False

# --- i18n ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

# --- multi-factor authentication and the admin site (accounts.mfa, adminsite) ---
# Who must pass a second factor (TOTP or a recovery code) after the password:
# these roles, every is_staff/is_superuser user, and anyone who enrolled.
_MFA_ROLES = os.environ.get("CASECENTER_MFA_REQUIRED_ROLES", "admin,legal_affairs,commander")
CASECENTER_MFA_REQUIRED_ROLES = tuple(r.strip() for r in _MFA_ROLES.split(",") if r.strip())
CASECENTER_MFA_REQUIRED_FOR_ALL = _env_bool("CASECENTER_MFA_REQUIRED_FOR_ALL", False)
# The issuer an authenticator app shows beside the account name.
OTP_TOTP_ISSUER = os.environ.get("CASECENTER_MFA_ISSUER", "casecenter")
# After n wrong codes in a row a device refuses codes for factor * 2**(n-1)
# seconds (django-otp's throttling), TOTP and recovery codes alike.
OTP_TOTP_THROTTLE_FACTOR = int(os.environ.get("CASECENTER_MFA_THROTTLE_FACTOR", "1"))
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret or QR code
# Check every /api/ answer against the OpenAPI document and raise on one it
# does not describe (casecenter.apicontract; on in the test suite, off in use;
# it needs the `test` extra's jsonschema).
CASECENTER_API_CHECK_RESPONSES = _env_bool("CASECENTER_API_CHECK_RESPONSES", False)

# The admin site: off with CASECENTER_ADMIN_ENABLED=false; elsewhere with
# CASECENTER_ADMIN_PATH (e.g. "ops-7f3k/"); it needs an MFA-verified staff session.
CASECENTER_ADMIN_ENABLED = _env_bool("CASECENTER_ADMIN_ENABLED", True)
CASECENTER_ADMIN_PATH = os.environ.get("CASECENTER_ADMIN_PATH", "admin/").strip("/") + "/"

# --- static and media ----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# `casecenter serve` collects the static files at start-up under hashed names, with
# gzip and Brotli copies, which WhiteNoise serves with a year's Cache-Control
# (CASECENTER_STATIC_HASHED). Elsewhere (tests, a command) they come unhashed from
# the apps' folders.
CASECENTER_STATIC_HASHED = _env_bool("CASECENTER_STATIC_HASHED", False)
WHITENOISE_USE_FINDERS = not CASECENTER_STATIC_HASHED
WHITENOISE_AUTOREFRESH = False
if not CASECENTER_STATIC_HASHED:
    STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise looks there (and warns when it is missing)
STATICFILES_DIRS = [NINJA_DIR / "static"]  # ninja/swagger-ui-bundle.js and the rest
MEDIA_ROOT = DATA_DIR / "media"
# Dossier files, kept under their SHA-256 (never overwritten): a local folder by
# default; an S3-compatible store with CASECENTER_DOSSIER_STORAGE=
# "storages.backends.s3.S3Storage" (pip install django-storages boto3) and its
# options as JSON in CASECENTER_DOSSIER_STORAGE_OPTIONS, e.g.
# {"bucket_name": "dossiers", "endpoint_url": "https://minio.example:9000"}.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "casecenter.web.staticstorage.HashedStaticStorage"
        if CASECENTER_STATIC_HASHED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    "dossiers": {
        "BACKEND": os.environ.get(
            "CASECENTER_DOSSIER_STORAGE", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": json.loads(os.environ.get("CASECENTER_DOSSIER_STORAGE_OPTIONS", "null"))
        or {"location": str(DATA_DIR / "dossiers")},
    },
}
# The largest file one dossier document may have.
CASECENTER_DOSSIER_MAX_MB = int(os.environ.get("CASECENTER_DOSSIER_MAX_MB", "200"))

# --- browser hardening (docs/security.md "Browser and upload hardening") ---------
# Served over HTTPS (directly or behind a TLS proxy): HSTS for a year unless
# CASECENTER_HSTS_SECONDS says otherwise; plain HTTP (the embedded default): none.
CASECENTER_HTTPS = _env_bool("CASECENTER_HTTPS", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = int(
    os.environ.get("CASECENTER_HSTS_SECONDS", "31536000" if CASECENTER_HTTPS else "0")
)
# X-Forwarded-Proto is believed only behind a named proxy (CASECENTER_TRUSTED_PROXIES,
# which must overwrite the header the client sent).
if CASECENTER_HTTPS and CASECENTER_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No page uses a camera, microphone or location (the scan page reads a hand
# scanner's keystrokes): the browser refuses them to every page.
CASECENTER_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
# django-csp 4: no inline script or style anywhere (web/static/casecenter/page.js
# replaces the inline handlers; styles live in static CSS). The Swagger UI at
# /api/docs needs nothing more (served from ninja's static files, NINJA_DIR).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # icons in the Swagger UI's CSS are data: URIs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Packages (exchange.manifest.verify_zip) are refused before anything is hashed
# when they hold more members or more (declared) bytes than this.
CASECENTER_PACKAGE_MAX_MEMBERS = int(os.environ.get("CASECENTER_PACKAGE_MAX_MEMBERS", "10000"))
CASECENTER_PACKAGE_MAX_TOTAL_MB = int(os.environ.get("CASECENTER_PACKAGE_MAX_TOTAL_MB", "8192"))
# Uploads: the dossier size cap is enforced while the file streams in
# (dossiers.uploads.CappedUploadHandler, first of Django's handlers).
FILE_UPLOAD_HANDLERS = [
    "casecenter.dossiers.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- casecenter ----------------------------------------------------------
# Field-encryption keys (AES-256-GCM), newest first, as "keyid:base64key,..."
# Unset: one key is generated in the data folder (embedded mode only).
CASECENTER_FIELD_KEYS = os.environ.get("CASECENTER_FIELD_KEYS", "")
CASECENTER_DATA_DIR = DATA_DIR

# --- custody area devices (MQTT) -------------------------------------------
CASECENTER_MQTT_URL = os.environ.get("CASECENTER_MQTT_URL", "mqtt://127.0.0.1:1883")
# several `casecenter ingest` share the devices' messages as this MQTT 5 shared
# subscription group (each its own --client-id); empty: one ingester takes them all
CASECENTER_MQTT_SHARE_GROUP = os.environ.get("CASECENTER_MQTT_SHARE_GROUP", "")
# a tracked person in a zone without a confirmed recording longer than this: critical alert
CASECENTER_RECORDING_GRACE_SECONDS = int(os.environ.get("CASECENTER_RECORDING_GRACE_SECONDS", "5"))

# --- event bus (docs/events.md) ----------------------------------------------
# Unset: domain events go to in-process subscribers only. Set (nats://host:4222):
# the outbox relay also publishes each one to NATS JetStream before marking it relayed.
CASECENTER_NATS_URL = os.environ.get("CASECENTER_NATS_URL", "")
# subjects are <prefix>.<aggregate>.<event>; the prefix names this site
CASECENTER_NATS_SUBJECT_PREFIX = os.environ.get(
    "CASECENTER_NATS_SUBJECT_PREFIX", "casecenter.local"
)
CASECENTER_NATS_STREAM = os.environ.get("CASECENTER_NATS_STREAM", "CASECENTER")
CASECENTER_NATS_RETENTION = os.environ.get("CASECENTER_NATS_RETENTION", "limits")
CASECENTER_NATS_MAX_AGE_DAYS = float(os.environ.get("CASECENTER_NATS_MAX_AGE_DAYS", "30"))
CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS = float(
    os.environ.get("CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS", "3600")
)

# --- live push of alerts (supervision.push; docs/operations.md "Live push") -------
# "notify": open pages are fed by PostgreSQL LISTEN/NOTIFY (the default there);
# "poll": each open page asks the database about once a second (SQLite always).
CASECENTER_LIVE_PUSH = os.environ.get("CASECENTER_LIVE_PUSH", "notify").strip().lower()
if CASECENTER_LIVE_PUSH not in {"notify", "poll"}:
    raise ImproperlyConfigured(
        f"CASECENTER_LIVE_PUSH={CASECENTER_LIVE_PUSH!r}: say 'notify' or 'poll'."
    )
# Where each web process LISTENs (a session of its own; set it to the PostgreSQL
# server itself when DATABASE_URL goes through a transaction-mode pooler).
CASECENTER_LIVE_LISTEN_URL = os.environ.get("CASECENTER_LIVE_LISTEN_URL", "")

# --- notifications to parties (portal) -----------------------------------
# The address the public reaches the portal at, for links in SMS and e-mail.
CASECENTER_PUBLIC_URL = os.environ.get("CASECENTER_PUBLIC_URL", "http://127.0.0.1:8000")
# A class with send(phone, text); the default logs instead of sending.
CASECENTER_SMS_BACKEND = os.environ.get(
    "CASECENTER_SMS_BACKEND", "casecenter.portal.sms.LoggingBackend"
)
# --- remote lawyer meetings (meetings) --------------------------------------
# A video-meeting adapter (open/close a session, recording always off); the
# default logs the sessions it would open (docs/meetings.md).
CASECENTER_VIDEO_BACKEND = os.environ.get(
    "CASECENTER_VIDEO_BACKEND", "casecenter.meetings.video.LoggingBackend"
)

# Django's e-mail backends; the default writes each message to a file in the
# data folder (mail/), set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend
# and EMAIL_HOST/EMAIL_PORT/EMAIL_HOST_USER/EMAIL_HOST_PASSWORD for real mail.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "casecenter@localhost")


# --- health, metrics, logs (casecenter.ops; docs/operations.md) ----------------
# /metrics answers only clients in these networks (CIDR, comma-separated; the
# client address as the login lockout sees it, CASECENTER_TRUSTED_PROXIES).
CASECENTER_METRICS_ALLOWED_NETWORKS = [
    n.strip()
    for n in os.environ.get("CASECENTER_METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128").split(",")
    if n.strip()
]
# /readyz waits at most this long for the broker's and the event bus's TCP connect.
CASECENTER_READY_TIMEOUT_SECONDS = float(os.environ.get("CASECENTER_READY_TIMEOUT_SECONDS", "1"))
# Log lines as text (the demo's default) or one JSON object a line, with the request id.
CASECENTER_LOG_FORMAT = os.environ.get("CASECENTER_LOG_FORMAT", "text").strip().lower()
_LOG_FORMATTER = "json" if CASECENTER_LOG_FORMAT == "json" else "timestamped"


def _not_device_traffic(record) -> bool:
    """Device posts arrive several times a second: keep them out of the request log."""
    return "/api/devices/" not in record.getMessage()


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "not_device_traffic": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _not_device_traffic,
        },
        # the QR link's token opens a case: never written to a log
        "hide_portal_tokens": {"()": "casecenter.portal.redact.HideLinkTokens"},
        # the id of the request a line was written during (casecenter.ops.requestlog)
        "request_id": {"()": "casecenter.ops.requestlog.RequestIdFilter"},
    },
    "formatters": {
        # when and how bad, for whoever reads a service's log (the ingester's above all)
        "timestamped": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "casecenter.ops.requestlog.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": _LOG_FORMATTER,
            "filters": ["request_id"],
        },
        "requests": {
            "class": "logging.StreamHandler",
            "filters": ["not_device_traffic", "request_id"],
            **({"formatter": "json"} if _LOG_FORMATTER == "json" else {}),
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # the logging SMS adapter's messages are what the demo shows of SMS: always visible
    "loggers": {
        "casecenter.sms": {"level": "INFO"},
        # the ingester says when it starts, connects, reconnects, rejects and stops
        "casecenter.devices.ingest": {"level": "INFO"},
        "django.server": {
            "handlers": ["requests"],
            "level": "INFO",
            "propagate": False,
            "filters": ["hide_portal_tokens"],
        },
        "django.request": {"filters": ["hide_portal_tokens"]},
        "django.security.csrf": {"filters": ["hide_portal_tokens"]},
    },
}

# The audit log (docs/audit-log.md). The origin names this log in its signed
# checkpoints and is the name of its signing key: one per deployment, stable.
# Set it to a name you own (e.g. "audit.police.example.gov.cn/casecenter").
CASECENTER_AUDIT_ORIGIN = os.environ.get("CASECENTER_AUDIT_ORIGIN", "casecenter.local/audit")
# Where each new signed checkpoint is pushed, outside the database: a list of
# file:///folder URLs and C2SP tlog-witnesses, https://witness.example/prefix#<its
# verifier key> (docs/witness.md), separated by spaces. Empty: none (the checkpoints
# stay in the database and with `audit checkpoint`).
CASECENTER_AUDIT_WITNESSES = os.environ.get("CASECENTER_AUDIT_WITNESSES", "").split()
# As a witness of other organisations' logs (POST /witness/add-checkpoint), this
# casecenter cosigns under this name: its witness key's name, stable, one per deployment.
CASECENTER_AUDIT_WITNESS_NAME = os.environ.get(
    "CASECENTER_AUDIT_WITNESS_NAME", "casecenter.local/witness"
)
# The sequencer: at most this many entries per batch, and this long asleep when idle.
CASECENTER_AUDIT_BATCH = int(os.environ.get("CASECENTER_AUDIT_BATCH", "5000"))
CASECENTER_AUDIT_INTERVAL_SECONDS = float(
    os.environ.get("CASECENTER_AUDIT_INTERVAL_SECONDS", "0.2")
)
# Every batch's signed checkpoint goes to the witnesses; one a minute is kept in the database.
CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS = float(
    os.environ.get("CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS", "60")
)
