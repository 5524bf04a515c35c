"""Tests: DATABASE_URL and REDIS_URL as given (CI sets PostgreSQL and Redis), fast hashing."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_MODE = True
# Services are tested through their callers, so tasks run in-process even when REDIS_URL is set;
# tests/test_celery.py starts a real worker in a subprocess of its own.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files straight from the source folders, no `collectstatic` (and no warning about var/static).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
AXES_FAILURE_LIMIT = 5
# The calendar sync tests read a Radicale server on 127.0.0.1, which the guard refuses otherwise.
CALENDAR_ALLOWED_HOSTS = ["127.0.0.1"]
