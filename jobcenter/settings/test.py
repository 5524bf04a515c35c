"""Tests: DATABASE_URL and REDIS_URL as given (CI sets PostgreSQL and Redis), fast hashing."""

from .base import *  # noqa: F403
from .base import CELERY_TASK_ALWAYS_EAGER, env

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_MODE = True
# Services are tested through their callers; tasks run in-process unless a test starts a worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_EAGER", default=True) or CELERY_TASK_ALWAYS_EAGER
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 5
