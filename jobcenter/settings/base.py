"""Settings shared by every environment. Values that differ come from the environment."""

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


# Each reader below turns a bad value into ImproperlyConfigured naming the variable, so a typo stops
# the start with a clear message instead of surfacing later as a confusing error or a silent default.


def env_int(name: str, default: int) -> int:
    """Read a whole number from the environment; a bad value stops the start with a clear message."""
    raw = env.str(name, default=str(default))
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no value. Stricter than env.bool, which reads any unknown word (a typo) as False."""
    raw = env.str(name, default="true" if default else "false").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


# The project runs on PostgreSQL; SQLite serves the embedded demo and quick test runs.
_DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")


def env_database(name: str, default: str) -> dict:
    """Read a database URL. The URL is never echoed in the message: it may carry a password."""
    raw = env.str(name, default=default)
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in _DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user:password@host:5432/name "
            f"or sqlite:////path/to/db.sqlite3; got scheme {scheme!r}."
        )
    try:
        config = environ.Env.db_url_config(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}.") from None
    if not config["NAME"]:
        raise ImproperlyConfigured(f"{name} names no database (the path after the host).")
    return config


def env_redis_url(name: str) -> str:
    """Read a Redis URL, or "" when unset."""
    raw = env.str(name, default="")
    if raw and not raw.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            f"{name} must be a Redis URL such as redis://host:6379/0 (or rediss:// for TLS)."
        )
    return raw


def env_email(name: str, default: str) -> dict:
    """Read an e-mail URL (smtp://user:password@host:587, smtp+tls://..., consolemail://)."""
    raw = env.str(name, default=default)
    try:
        config = environ.Env.email_url_config(raw)
    except (ImproperlyConfigured, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be an e-mail URL such as smtp+tls://user:password@host:587 or "
            f"consolemail://; {exc}."
        ) from None
    # Unset parts stay at Django's defaults instead of becoming None.
    return {key: value for key, value in config.items() if value not in (None, "")}


def env_site_url(name: str, default: str, *, https: bool = False) -> str:
    """Read the absolute address of the site (https://termine.example.de, optionally with a path
    prefix), without a trailing slash. Empty, relative or with a query: a clear message."""
    raw = env.str(name, default=default).strip()
    schemes = ("https",) if https else ("http", "https")
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        example = "https://termine.jobcenter.example.de"
        raise ImproperlyConfigured(
            f"{name} must be the absolute {' or '.join(schemes)}:// address customers reach this "
            f"installation at, such as {example} (the links in letters, e-mails and SMS start "
            f"with it); got {raw!r}."
        )
    return raw.rstrip("/")


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(\*\.)?({_LABEL}\.)*{_LABEL}$")


def env_calendar_hosts(name: str) -> list[str]:
    """Host names (`cal.example.de`), wildcards (`*.example.de`) and IP addresses, comma-separated."""
    hosts = [item.strip().lower().rstrip(".") for item in env.list(name, default=[])]
    for host in hosts:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if not _HOST_NAME.match(host):
                raise ImproperlyConfigured(
                    f"{name} must list host names (cal.example.de), wildcards (*.example.de) or "
                    f"IP addresses, comma-separated; {host!r} is none of these."
                ) from None
    return [host for host in hosts if host]


DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
# Earlier secret keys, comma-separated: sessions, signed links and stored credentials made with
# them stay valid while the new key takes over.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "organisation",
    "audit",
    "cases",
    "profiling",
    "scheduling",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jobcenter.middleware.GermanByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jobcenter.middleware.HtmxLoginRedirectMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the locked-out response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and locks out repeated failures (UI and API token alike).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "jobcenter.urls"
WSGI_APPLICATION = "jobcenter.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    }
]

DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
# A kept connection is tested before use, so a restarted database does not fail the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails /healthz and requests within seconds instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # The work queue's short queries cost more to JIT-compile (60-100 ms) than to run (about 15 ms).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's SQLite: a write transaction takes the lock when it begins (IMMEDIATE), so two
    # concurrent writers wait for each other (up to 20 s) instead of failing with "database is
    # locked" halfway; WAL lets the pages read while a planning run or a send is writing.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisation.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A working day at most; an expired session sends the user back to the login page.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
# The languages customers are written to in (ISO 639-1; each needs locale/<code>/ with every
# "customer"-context message translated, and an invitation template): the rebooking page, the
# translation beside the binding German text in letters, e-mails and reminders. A customer whose
# preferred language is not listed gets German. Names and writing direction (ar, fa: right to left)
# come from Django's LANG_INFO. The staff UI stays LANGUAGES (German, English).
CUSTOMER_LANGUAGES = ("de", "en", "uk", "ru", "ar", "tr", "fa", "ro", "pl", "it")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (documents, later). Never served as public URLs: they are customer data.
MEDIA_ROOT = BASE_DIR / "var" / "media"

# E-mail (invitations and notices, later). Printed to the console unless EMAIL_URL says otherwise.
vars().update(env_email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="jobcenter@localhost")
# The address customers reach this installation at, e.g. https://termine.jobcenter-musterstadt.de:
# every link in a letter, e-mail or SMS starts with it (never a relative one). Production requires
# it (https); `manage.py demo` sets it from --addr; elsewhere runserver's default address.
SITE_URL = env_site_url("DJANGO_SITE_URL", default="http://127.0.0.1:8000")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS reminders (issue 5): a dotted path to a scheduling.sms.SmsBackend. The default writes each SMS
# to the log and reports it as not delivered (demo, development: the reminder is recorded as "not
# sent: no SMS gateway"). scheduling.sms.HttpSmsBackend POSTs JSON {"to", "text", "sender"} to the
# gateway with a bearer token. "off": no SMS reminders are made at all. Production requires the
# variable to be set (jobcenter/settings/production.py).
SMS_BACKEND_OFF = "off"
SMS_BACKEND = env.str("DJANGO_SMS_BACKEND", default="scheduling.sms.LogSmsBackend").strip()
SMS_GATEWAY_URL = env.str("DJANGO_SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("DJANGO_SMS_GATEWAY_TOKEN", default="")
SMS_SENDER = env.str("DJANGO_SMS_SENDER", default="Jobcenter")
SMS_GATEWAY_TIMEOUT = env_int("DJANGO_SMS_GATEWAY_TIMEOUT", 10)
if SMS_GATEWAY_URL and not SMS_GATEWAY_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("DJANGO_SMS_GATEWAY_URL must be an http(s):// address.")

# Staff calendars (scheduling/urlguard.py): when set, the ONLY hosts the worker fetches CalDAV and
# ICS feeds from; unset, any host except loopback, link-local, multicast and reserved addresses.
CALENDAR_ALLOWED_HOSTS = env_calendar_hosts("DJANGO_CALENDAR_ALLOWED_HOSTS")
# The most the whole fetch of one calendar source (a CalDAV account, an ICS feed) may take, however
# slowly the server sends: connections still open then are cut and the sync reports a timeout.
CALENDAR_FETCH_DEADLINE_SECONDS = env_int("DJANGO_CALENDAR_FETCH_DEADLINE_SECONDS", 20)
if not 1 <= CALENDAR_FETCH_DEADLINE_SECONDS <= 600:
    raise ImproperlyConfigured("DJANGO_CALENDAR_FETCH_DEADLINE_SECONDS must be from 1 to 600.")
# Stored credentials (the CalDAV password) are encrypted with a key derived from this, else from
# SECRET_KEY (scheduling/credentials.py); the fallbacks (and SECRET_KEY_FALLBACKS) still decrypt.
CREDENTIALS_KEY = env.str("DJANGO_CREDENTIALS_KEY", default="")
if CREDENTIALS_KEY and len(CREDENTIALS_KEY) < 32:
    raise ImproperlyConfigured(
        "DJANGO_CREDENTIALS_KEY must be a random value of at least 32 characters "
        "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), or unset."
    )
CREDENTIALS_KEY_FALLBACKS = env.list("DJANGO_CREDENTIALS_KEY_FALLBACKS", default=[])

# Redis: the Celery broker. Without it, and only then, tasks run in-process.
REDIS_URL = env_redis_url("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Worker and beat log through LOGGING below (stdout) instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Periodic tasks, run by `celery -A jobcenter beat`. Each names its service.
from celery.schedules import crontab  # noqa: E402 - only the beat schedule needs it

CELERY_BEAT_SCHEDULE: dict = {
    # The goal review (issue 4): re-profile the due cases at night, in batches on the workers.
    "profiling-reprofile-due": {
        "task": "profiling.tasks.profiling_reprofile_due",
        "schedule": crontab(hour=2, minute=30),
    },
    # Calendars (issue 5): read the busy times of every staff member who shares their calendar.
    "scheduling-calendars-sync": {
        "task": "scheduling.tasks.scheduling_calendars_sync",
        "schedule": crontab(minute="*/15"),
    },
    # Invitations (issue 5): plan every team's due invitations at night (a run waits for approval).
    "scheduling-planning-runs": {
        "task": "scheduling.tasks.scheduling_planning_runs_periodic",
        "schedule": crontab(hour=3, minute=15),
    },
    # Approved invitations whose sending task was lost (a worker killed mid-batch) go out again.
    "scheduling-invitations-send-unsent": {
        "task": "scheduling.tasks.scheduling_invitations_send_unsent",
        "schedule": crontab(minute="*/10"),
    },
    # Reminders are rows; this sends the ones that are due (each exactly once).
    "scheduling-reminders-send": {
        "task": "scheduling.tasks.scheduling_reminders_send",
        "schedule": crontab(minute="*/5"),
    },
}

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Repeated failed logins: five failures for a username from one address lock it for AXES_COOLOFF_TIME (15 minutes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "organisation.views.lockout_response"
AXES_VERBOSE = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisation.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "jobcenter.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth_token": "20/min"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 8)
API_MAX_PAGE_SIZE = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "Jobcenter case management API",
    "DESCRIPTION": (
        "Cases and customers of the active area (SGB II). Every response is scoped to what the "
        "caller may see; every read of customer data is audit-logged. Errors come back as "
        '`{"message": ..., "extra": ...}`. Log in with `POST /api/v1/auth/token/` and send '
        "`Authorization: Token <key>`; the web interface's session works too."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Docs from the app's own static files (jobcenter networks are closed); no online validator.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is validated as written (required fields stay required), so document it so.
    "COMPONENT_SPLIT_PATCH": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CaseEventKindEnum": "cases.models.CaseEvent.Kind",
        "NeedEnum": "profiling.models.Need",
        "LanguageLevelEnum": "profiling.models.LanguageLevel",
        "CustomerGroupEnum": "cases.models.CustomerGroup",
    },
}

# The jobcenter this installation serves.
JOBCENTER_FEDERAL_STATE = env.str("JOBCENTER_FEDERAL_STATE", default="NW")

_LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if _LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {_LOG_LEVEL!r}."
    )

# Everything to stdout, where containers and systemd collect it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
        }
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        # Django's own records go to the root handler only (its defaults would add a second
        # console handler in DEBUG and mail to ADMINS, which is not set).
        "django": {"level": _LOG_LEVEL},
        "axes": {"level": "WARNING"},
    },
}
