"""All of koronto's settings, read from the environment (see .env.example).

With nothing set, koronto runs on the embedded default: SQLite under var/, kombu's filesystem
broker, a file-based cache shared by every process, the sandbox payment provider and the console
SMS backend. Setting KORONTO_ENV=production turns the safety checks on: a missing SECRET_KEY or
vending-key encryption key stops start-up with a message saying which one.
"""

import json as _json
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.brokers import amqp_settings, is_amqp, redis_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("KORONTO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
PRODUCTION = env.str("KORONTO_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=False)

# Development keys are generated per checkout and kept under var/, so nothing secret is committed.
_DEV_SECRETS = VAR_DIR / "dev-secrets.env"


def _dev_secret(name: str) -> str:
    """A per-checkout random secret for development; production must set the variable."""
    import secrets

    if _DEV_SECRETS.exists():
        # django-environ reads the file into os.environ (a variable already set wins), so the web server,
        # the worker and beat started from here all see the same secrets.
        environ.Env.read_env(_DEV_SECRETS)
    value = env.str(name, default="")
    if not value:
        value = os.environ[name] = secrets.token_urlsafe(48)
        with os.fdopen(os.open(_DEV_SECRETS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a") as out:
            out.write(f"{name}={value}\n")
    return value


def _required_secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} is not set. Production mode (KORONTO_ENV=production) refuses to start without it; "
            f"see .env.example."
        )
    return _dev_secret(name)


SECRET_KEY = _required_secret("SECRET_KEY")
# Encrypts vending keys at rest (AES-256-GCM; any string, stretched with SHA-256). Losing it means
# re-entering every vending key, so production keeps it in a secret store, never in the database.
VENDING_KEY_ENCRYPTION_KEY = _required_secret("VENDING_KEY_ENCRYPTION_KEY")
# The last segment of every webhook URL; a request with another value gets 404.
WEBHOOK_SECRET = _required_secret("WEBHOOK_SECRET")
# Rotation without downtime: the old secret, still accepted while the providers move to the new one
# (vending/webhooksecret.py). Empty: only WEBHOOK_SECRET is accepted.
WEBHOOK_SECRET_PREVIOUS = env.str("WEBHOOK_SECRET_PREVIOUS", default="")
# A webhook body longer than this is not read past it: its head is kept in a flagged row (vending/webhookbody.py).
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=65536)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DEMO_MODE = env.bool("DEMO_MODE", default=not PRODUCTION)

INSTALLED_APPS = [
    "backoffice.apps.KorontoAdminConfig",  # django.contrib.admin with koronto's site (backoffice/site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "vending",
    "ussd",
    "backoffice",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vending.api.middleware.ApiJsonErrorsMiddleware",  # no HTML error page under /api/ (vending/api/errors.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "backoffice.security.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
# Provider callbacks under /hooks/ answer gateways, not browsers (no session, user, message or CSRF cookie, no
# static file): config/wsgi.py serves them through this shorter list (config/hooks_wsgi.py; issue 18).
HOOKS_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'koronto.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so a Celery worker started by an end-to-end test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that polls the socket instead of sending SELECT 1.
        DATABASES["default"]["ENGINE"] = "config.postgresql"
        if env.bool("DB_PREPARED_STATEMENTS", default=True):
            # Server-side binding lets psycopg prepare a statement the fifth time a connection runs it, so
            # Postgres stops planning the hot statements (the quote, the saved meters, a purchase's inserts) on
            # every request: Postgres's CPU per USSD hop halves (docs/BENCHMARKS.md, USSD).
            # Behind a transaction-pooling PgBouncer older than 1.21, set DB_PREPARED_STATEMENTS=0.
            DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Short socket timeouts: with Redis down or hung, a USSD hop must still answer well within the aggregator's
# few seconds ("please try again", ussd/views/ussd.py), not wait on the OS default.
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT_SECONDS", default=0.3),
    "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=0.5),
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="koronto"),
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    # USSD sessions must survive a hop landing on another process, so not locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # The default (300 entries, then cull a third at random) would drop live USSD sessions and
            # rate-limit counts; expired entries are still removed on read.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }

# --- Celery -----------------------------------------------------------------------------------
# The filesystem broker's folder; end-to-end tests give their worker a private one.
_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
# CELERY_BROKER_URL picks the broker explicitly (amqp://… for RabbitMQ, redis://… for a Redis of its own);
# without it the broker is REDIS_URL's server, and without that the filesystem broker (no server).
_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL
if is_amqp(_BROKER_URL):
    globals().update(amqp_settings(_BROKER_URL))
elif _BROKER_URL:
    # Unacknowledged (acks_late) messages come back after the visibility timeout; tests of redelivery shorten it.
    globals().update(
        redis_settings(
            _BROKER_URL,
            visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
            restore_interval=env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
            restore_throttle=env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
        )
    )
else:
    for sub in ("out", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),  # else kombu writes ./control in the working dir
        "store_processed": False,
    }
# A worker reconnects to a broker that went away, for ever (systemd restarts it if it exits anyway);
# publishing from a web request gives up after about a second: the row is the work, and the outbox
# sweep dispatches it once the broker is back (vending.pipeline).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection before and after each task unless this is set
# (then only every N tasks); a new Postgres connection per task cost more than the task. Between those,
# vending.tasks applies Django's own rule as for a web request (CONN_MAX_AGE, health checks, errors).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_ACKS_LATE = False  # opted in per task (money and token tasks), docs/DESIGN.md rule 6
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# WaafiPay's push blocks while the payer types the PIN: it gets its own queue (`-Q celery,payments`).
CELERY_TASK_ROUTES = {"vending.tasks.payment_initiate_task": {"queue": "payments"}}

# --- Health (/healthz) and worker heartbeats (vending/heartbeat.py) --------------------------------
# Each worker writes its heartbeat row this often; /healthz answers 503 when no worker wrote one within
# HEALTHZ_WORKER_STALE_SECONDS.
WORKER_HEARTBEAT_INTERVAL_SECONDS = env.float("WORKER_HEARTBEAT_INTERVAL_SECONDS", default=10.0)
HEALTHZ_WORKER_STALE_SECONDS = env.float("HEALTHZ_WORKER_STALE_SECONDS", default=60.0)

# --- Time, language -----------------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Africa/Nairobi")
LANGUAGE_CODE = "en"
USE_I18N = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Security (production) ------------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Staff logins (issue 17; backoffice/security.py) ----------------------------------------------
# TOTP second factor for key custodians, finance, vending operators and superusers; on in production.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="koronto")
# Login throttling (django-axes): this many failures for one username from one address locks it out.
AUTHENTICATION_BACKENDS = ["backoffice.security.ThrottledLoginBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Idle timeout: a staff session ends this long after its last request (each request slides it).
SESSION_COOKIE_AGE = env.int("STAFF_IDLE_TIMEOUT_SECONDS", default=1800)
SESSION_SAVE_EVERY_REQUEST = True
# Maker-checker (backoffice/services/approvals.py): a refund above its currency's threshold, and free tokens
# above this many kWh per meter per local day, need a second person of the role.
REFUND_APPROVAL_THRESHOLDS = env.dict(
    "REFUND_APPROVAL_THRESHOLDS", default={"KES": "5000", "USD": "50", "SLSH": "300000"}
)
FREE_TOKEN_APPROVAL_KWH = env.str("FREE_TOKEN_APPROVAL_KWH", default="20")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Logging: never a webhook secret, vending key, PIN or full token (vending/logsafety.py masks them) ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "vending.logsafety.MaskSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
        # runserver's request log, as Django's default but masked.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's defaults give "django" an unmasked console handler (DEBUG) and the admins' mail handler;
        # both would carry request paths (webhook secrets). Its records go to the masked root handler only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Masked at the logger as well, before any handler a deployment adds (e.g. Sentry's).
        "django.request": {"filters": ["mask_secrets"]},
        "django.security": {"filters": ["mask_secrets"]},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- Channels ----------------------------------------------------------------------------------
USSD_SERVICE_CODES = env.list("USSD_SERVICE_CODES", default=["*384*44135#"])
USSD_SESSION_TTL_SECONDS = env.int("USSD_SESSION_TTL_SECONDS", default=300)
# A dropped USSD session can be picked up again when the same phone dials within this window.
USSD_RESUME_WINDOW_SECONDS = env.int("USSD_RESUME_WINDOW_SECONDS", default=120)
# Per phone number, per hour: dials (new USSD sessions) and purchases confirmed over USSD.
USSD_DIALS_PER_HOUR = env.int("USSD_DIALS_PER_HOUR", default=30)
USSD_PURCHASES_PER_HOUR = env.int("USSD_PURCHASES_PER_HOUR", default=5)
# USSD gateway formats beyond the built-in africastalking, json and xml (docs/GATEWAYS.md): a JSON object
# of gateway name -> field names and flag values, served at /hooks/ussd/<name>/<WEBHOOK_SECRET>/.
_USSD_GATEWAY_FORMATS = env.str("USSD_GATEWAY_FORMATS", default="").strip()
try:
    USSD_GATEWAY_FORMATS = _json.loads(_USSD_GATEWAY_FORMATS) if _USSD_GATEWAY_FORMATS else {}
except ValueError as _exc:
    raise ImproperlyConfigured(f"USSD_GATEWAY_FORMATS is not valid JSON: {_exc}") from _exc
# Per phone number, per hour, over SMS: inbound commands, and purchases (BUY). README: Rate limits.
SMS_COMMANDS_PER_HOUR = env.int("SMS_COMMANDS_PER_HOUR", default=15)
SMS_PURCHASES_PER_HOUR = env.int("SMS_PURCHASES_PER_HOUR", default=5)
SMS_SHORTCODE = env.str("SMS_SHORTCODE", default="44135")
DEFAULT_COUNTRY = env.str("DEFAULT_COUNTRY", default="KE")

# --- Africa's Talking (SMS) -----------------------------------------------------------------------
AT_API_BASE_URL = env.str("AT_API_BASE_URL", default="https://api.africastalking.com")
AT_USERNAME = env.str("AT_USERNAME", default="")
AT_API_KEY = env.str("AT_API_KEY", default="")
AT_SENDER_ID = env.str("AT_SENDER_ID", default="")
AT_ENQUEUE = env.bool("AT_ENQUEUE", default=True)

# --- SMS gateways and routing (docs/GATEWAYS.md, "SMS gateways and routing") ------------------------
# Rules "DESTINATION=GATEWAY[:SENDER],FALLBACK[:SENDER]; ..." (first match wins). Empty: the one configured
# gateway (several: all of them in the order africastalking, kannel, hormuud), or the console backend.
SMS_ROUTES = env.str("SMS_ROUTES", default="")
# "+25261=Hormuud,+25277=Hormuud,...": operators by number prefix, before libphonenumber's carrier data (read
# by the SMS routes and by the wallet a caller's number suggests, vending/phones.py).
SMS_OPERATOR_PREFIXES = env.str("SMS_OPERATOR_PREFIXES", default="")
KANNEL_SENDSMS_URL = env.str("KANNEL_SENDSMS_URL", default="")  # http://127.0.0.1:13013/cgi-bin/sendsms
KANNEL_USERNAME = env.str("KANNEL_USERNAME", default="")
KANNEL_PASSWORD = env.str("KANNEL_PASSWORD", default="")
KANNEL_SENDER_ID = env.str("KANNEL_SENDER_ID", default="")
KANNEL_DLR_MASK = env.int("KANNEL_DLR_MASK", default=31)  # 1 delivered + 2 failed + 4 buffered + 8 + 16 SMSC
KANNEL_SMSC = env.str("KANNEL_SMSC", default="")
HORMUUD_SMS_BASE_URL = env.str("HORMUUD_SMS_BASE_URL", default="https://smsapi.hormuud.com")
HORMUUD_SMS_USERNAME = env.str("HORMUUD_SMS_USERNAME", default="")
HORMUUD_SMS_PASSWORD = env.str("HORMUUD_SMS_PASSWORD", default="")
HORMUUD_SMS_SENDER_ID = env.str("HORMUUD_SMS_SENDER_ID", default="")

# --- Payment providers (sandbox unless credentials are set) ------------------------------------------
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
DARAJA_BASE_URL = env.str("DARAJA_BASE_URL", default="https://api.safaricom.co.ke")
DARAJA_CONSUMER_KEY = env.str("DARAJA_CONSUMER_KEY", default="")
DARAJA_CONSUMER_SECRET = env.str("DARAJA_CONSUMER_SECRET", default="")
DARAJA_SHORTCODE = env.str("DARAJA_SHORTCODE", default="")
DARAJA_PASSKEY = env.str("DARAJA_PASSKEY", default="")
DARAJA_TRANSACTION_TYPE = env.str("DARAJA_TRANSACTION_TYPE", default="CustomerPayBillOnline")
DARAJA_CALLBACK_IP_ALLOWLIST = env.list("DARAJA_CALLBACK_IP_ALLOWLIST", default=[])
# Transaction Reversal (refunds, issue 17): the API operator and its password encrypted with Safaricom's
# certificate (the encrypted value, never the password). Empty: refunds are recorded by hand.
DARAJA_INITIATOR = env.str("DARAJA_INITIATOR", default="")
DARAJA_SECURITY_CREDENTIAL = env.str("DARAJA_SECURITY_CREDENTIAL", default="")
WAAFIPAY_BASE_URL = env.str("WAAFIPAY_BASE_URL", default="https://api.waafipay.com/asm")
WAAFIPAY_MERCHANT_UID = env.str("WAAFIPAY_MERCHANT_UID", default="")
WAAFIPAY_API_USER_ID = env.str("WAAFIPAY_API_USER_ID", default="")
WAAFIPAY_API_KEY = env.str("WAAFIPAY_API_KEY", default="")
WAAFIPAY_TIMEOUT_SECONDS = env.float("WAAFIPAY_TIMEOUT_SECONDS", default=180.0)
SANDBOX_APPROVE_DELAY_SECONDS = env.float("SANDBOX_APPROVE_DELAY_SECONDS", default=2.0)
# e-Dahab (Somtel / Dahabshiil; USD and SLSH), docs/GATEWAYS.md: unset = the sandbox pays for "edahab".
EDAHAB_BASE_URL = env.str("EDAHAB_BASE_URL", default="https://edahab.net/api/api")
EDAHAB_API_KEY = env.str("EDAHAB_API_KEY", default="")
EDAHAB_API_SECRET = env.str("EDAHAB_API_SECRET", default="")
EDAHAB_AGENT_CODE = env.str("EDAHAB_AGENT_CODE", default="")
EDAHAB_TIMEOUT_SECONDS = env.float("EDAHAB_TIMEOUT_SECONDS", default=60.0)


def _check_integration(name: str, values: dict[str, str]) -> None:
    """An integration switched on (any of its settings given) but incomplete fails loudly."""
    given = [k for k, v in values.items() if v]
    if given and len(given) != len(values):
        missing = ", ".join(k for k, v in values.items() if not v)
        raise ImproperlyConfigured(f"{name} is partly configured: set {missing} too, or none of them.")


_check_integration("Africa's Talking", {"AT_USERNAME": AT_USERNAME, "AT_API_KEY": AT_API_KEY})
_check_integration(
    "Kannel",
    {"KANNEL_SENDSMS_URL": KANNEL_SENDSMS_URL, "KANNEL_USERNAME": KANNEL_USERNAME, "KANNEL_PASSWORD": KANNEL_PASSWORD},
)
_check_integration(
    "Hormuud SMS", {"HORMUUD_SMS_USERNAME": HORMUUD_SMS_USERNAME, "HORMUUD_SMS_PASSWORD": HORMUUD_SMS_PASSWORD}
)
_check_integration(
    "Daraja",
    {
        "DARAJA_CONSUMER_KEY": DARAJA_CONSUMER_KEY,
        "DARAJA_CONSUMER_SECRET": DARAJA_CONSUMER_SECRET,
        "DARAJA_SHORTCODE": DARAJA_SHORTCODE,
        "DARAJA_PASSKEY": DARAJA_PASSKEY,
    },
)
_check_integration(
    "WaafiPay",
    {
        "WAAFIPAY_MERCHANT_UID": WAAFIPAY_MERCHANT_UID,
        "WAAFIPAY_API_USER_ID": WAAFIPAY_API_USER_ID,
        "WAAFIPAY_API_KEY": WAAFIPAY_API_KEY,
    },
)
_check_integration(
    "e-Dahab",
    {"EDAHAB_API_KEY": EDAHAB_API_KEY, "EDAHAB_API_SECRET": EDAHAB_API_SECRET, "EDAHAB_AGENT_CODE": EDAHAB_AGENT_CODE},
)

# --- Sweeps (Celery beat) ---------------------------------------------------------------------------
SWEEP_PENDING_PAYMENT_AFTER_SECONDS = env.int("SWEEP_PENDING_PAYMENT_AFTER_SECONDS", default=60)
SWEEP_GIVE_UP_AFTER_SECONDS = env.int("SWEEP_GIVE_UP_AFTER_SECONDS", default=1800)
SWEEP_VEND_AFTER_SECONDS = env.int("SWEEP_VEND_AFTER_SECONDS", default=60)
SWEEP_SMS_RESEND_AFTER_SECONDS = env.int("SWEEP_SMS_RESEND_AFTER_SECONDS", default=900)
SWEEP_SMS_MAX_SENDS = env.int("SWEEP_SMS_MAX_SENDS", default=3)
SWEEP_BATCH_SIZE = env.int("SWEEP_BATCH_SIZE", default=100)
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=30)
# Outbox (vending.pipeline): work whose message was lost is dispatched again after this long.
OUTBOX_REDISPATCH_AFTER_SECONDS = env.int("OUTBOX_REDISPATCH_AFTER_SECONDS", default=60)
# A token SMS without any delivery report is resent only after this long (hours: reports can be late,
# and the same token texted twice confuses customers); a reported failure is resent after
# SWEEP_SMS_RESEND_AFTER_SECONDS.
SMS_RESEND_SILENT_AFTER_SECONDS = env.int("SMS_RESEND_SILENT_AFTER_SECONDS", default=6 * 3600)
# A delivery report for a message id we do not know (yet) is applied again until it is this old.
DELIVERY_REPORT_MATCH_WINDOW_SECONDS = env.int("DELIVERY_REPORT_MATCH_WINDOW_SECONDS", default=3600)
# The push waits this long after the purchase commits, so the USSD session has ended (docs/PROTOCOLS.md §6 rule 1).
PURCHASE_PUSH_COUNTDOWN_SECONDS = env.float("PURCHASE_PUSH_COUNTDOWN_SECONDS", default=3.0)
# After an unknown outcome (e.g. a WaafiPay timeout), the first status query comes this much later.
PAYMENT_QUERY_DELAY_SECONDS = env.float("PAYMENT_QUERY_DELAY_SECONDS", default=45.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    f"sweep-{name}": {"task": f"vending.tasks.sweep_{name}_task", "schedule": float(SWEEP_INTERVAL_SECONDS)}
    for name in ("pending_payments", "paid_not_vended", "undelivered_sms", "stuck", "outbox")
}

# --- Partner API (vending/api/, docs/API.md) ------------------------------------------------------------
# Requests per API key (DRF throttle on the default cache), e.g. "1200/min".
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
# How long after a float purchase the agent may still reverse it (before confirming it).
API_REVERSAL_WINDOW_SECONDS = env.int("API_REVERSAL_WINDOW_SECONDS", default=600)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["vending.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["vending.api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["vending.api.auth.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "vending.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "koronto partner API",
    "DESCRIPTION": "Prepaid electricity for agents, banks and aggregators (docs/API.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["vending.api.schema.add_error_responses"],
}
