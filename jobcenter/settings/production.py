"""Production: every secret and host from the environment; a missing one stops the start."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    REDIS_URL,
    SMS_BACKEND_OFF,
    SMS_GATEWAY_URL,
    env,
    env_bool,
    env_int,
    env_site_url,
)

DEBUG = False
DEMO_MODE = False

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must name the host names this installation answers to, "
        "comma-separated (for example jobcenter.example.de)."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# PostgreSQL only: the audit log's append-only trigger and concurrent writers need it.
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must point to PostgreSQL in production "
        "(postgres://user:password@host:5432/name); SQLite is for the demo only."
    )
# A broker is required: in production tasks go to Celery workers, never run inside a web request.
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production (redis://host:6379/0): tasks go to Celery workers."
    )
# A mail relay is required: invitations and notices must not be printed to a log and lost.
if not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL must name the mail relay in production (smtp+tls://user:password@host:587)."
    )
# Customers open the links in letters, e-mails and SMS from outside: they must be absolute, https.
SITE_URL = env_site_url("DJANGO_SITE_URL", default="", https=True)
# SMS reminders are an explicit choice: a gateway, or "off". Never the log backend by default,
# which would make every SMS reminder look planned while none reaches anyone.
SMS_BACKEND = env.str("DJANGO_SMS_BACKEND", default="").strip()
if not SMS_BACKEND:
    raise ImproperlyConfigured(
        "DJANGO_SMS_BACKEND must say how SMS reminders go out in production: "
        "scheduling.sms.HttpSmsBackend (your gateway, with DJANGO_SMS_GATEWAY_URL), the dotted "
        f"path of another scheduling.sms.SmsBackend, or {SMS_BACKEND_OFF} (no SMS reminders)."
    )
if SMS_BACKEND == "scheduling.sms.HttpSmsBackend" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured(
        "DJANGO_SMS_GATEWAY_URL must be set when DJANGO_SMS_BACKEND is scheduling.sms.HttpSmsBackend."
    )

# TLS ends at the reverse proxy in front, which must set X-Forwarded-Proto (and strip it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Container and load-balancer probes call http://.../healthz directly; Django matches without "/".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# `collectstatic` (at image build time) writes hashed, compressed files; whitenoise serves them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
