"""Settings from the environment: production refuses to start without its variables and says which.

Each case starts Django in a subprocess with an environment of its own, so the settings of this
test process stay as they are.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The variables the settings read, besides DJANGO_*; removed from the inherited environment before
# each run, as is every DJANGO_* variable (DJANGO_ALLOW_ASYNC_UNSAFE, say, fails the deploy check).
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SESSION_COOKIE_AGE",
    "API_TOKEN_TTL_HOURS",
    "AXES_FAILURE_LIMIT",
    "JOBCENTER_FEDERAL_STATE",
    "LOG_LEVEL",
)

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "jobcenter.settings.production",
    "DJANGO_SECRET_KEY": "a-test-value-of-more-than-fifty-random-looking-characters-0123456789",
    "DJANGO_ALLOWED_HOSTS": "jobcenter.example.de",
    # check --deploy never connects, so the database need not exist.
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "EMAIL_URL": "smtp+tls://mailer:mail-password@mail.example.de:587",
    "DJANGO_SITE_URL": "https://termine.jobcenter.example.de",
    "DJANGO_SMS_BACKEND": "off",
}


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARIABLES and not k.startswith("DJANGO_")
    }
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a fresh interpreter in the project root."""
    script = "import django\ndjango.setup()\n" + code
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {**PRODUCTION_ENV, **overrides}
    return clean_env(**{k: v for k, v in env.items() if v is not None})


def test_production_passes_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", None),
        ("DJANGO_SECRET_KEY", "too-short"),
        ("DJANGO_ALLOWED_HOSTS", None),
        ("DATABASE_URL", None),  # falls back to SQLite, which production refuses
        ("DATABASE_URL", "sqlite:////tmp/jobcenter.sqlite3"),
        ("REDIS_URL", None),
        ("EMAIL_URL", None),
        ("DJANGO_SITE_URL", None),
        ("DJANGO_SITE_URL", "http://termine.jobcenter.example.de"),  # links customers open: https
        ("DJANGO_SITE_URL", "/scheduling"),
        ("DJANGO_SITE_URL", "termine.jobcenter.example.de"),
        ("DJANGO_SMS_BACKEND", None),
    ],
)
def test_production_refuses_to_start_without(variable, value):
    env = production_env()
    env.pop(variable)
    if value is not None:
        env[variable] = value

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} must" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SESSION_COOKIE_AGE", "abc"),
        ("API_TOKEN_TTL_HOURS", "8h"),
        ("DJANGO_HSTS_SECONDS", "one year"),
        ("DJANGO_SECURE_SSL_REDIRECT", "flase"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(variable, value):
    result = run_manage("check", env=production_env(**{variable: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} must be" in result.stderr
    assert repr(value) in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgress://user:database-password@db:5432/jobcenter",
        "postgres://user:database-password@db:port/jobcenter",
        "postgres://user:database-password@db:5432/",
        "jobcenter",
    ],
)
def test_a_malformed_database_url_stops_the_start_without_echoing_it(url):
    env = clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo", DATABASE_URL=url)

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL" in result.stderr
    assert "database-password" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("REDIS_URL", "127.0.0.1:6379"), ("EMAIL_URL", "mail.example.de")],
)
def test_a_malformed_service_url_stops_the_start(variable, value):
    env = clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo", **{variable: value})

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be" in result.stderr


def test_production_settings_from_the_environment():
    result = run_python(
        "from django.conf import settings as s\n"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['OPTIONS'])\n"
        "print(s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER)\n"
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)\n"
        "print(s.STORAGES['staticfiles']['BACKEND'])\n"
        "print(s.LOGGING['handlers']['console']['stream'])\n"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT)\n",
        production_env(),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "django.db.backends.postgresql {'connect_timeout': 5, 'options': '-c jit=off'}",
        "redis://127.0.0.1:6379/14 False",
        "django.core.mail.backends.smtp.EmailBackend mail.example.de 587 True",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "ext://sys.stdout",
        "False True ['^healthz$']",
    ]


def test_demo_defaults_need_no_environment():
    result = run_python(
        "from django.conf import settings as s\n"
        "print(s.DATABASES['default']['ENGINE'])\n"
        "print(s.EMAIL_BACKEND)\n"
        "print(s.DEBUG, s.DEMO_MODE)\n",
        clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo"),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "django.db.backends.sqlite3",
        "django.core.mail.backends.console.EmailBackend",
        "True True",
    ]


@pytest.mark.parametrize("settings_module", ["jobcenter.settings.demo", "jobcenter.settings.test"])
def test_no_static_files_warning_without_collectstatic(settings_module):
    """Demo and tests serve static files from the source folders; var/static need not exist."""
    result = run_python(
        "import warnings\n"
        "warnings.filterwarnings('error', message='No directory at')\n"
        "from django.test import Client\n"
        "print(Client().get('/static/admin/css/base.css').status_code)\n",
        clean_env(
            DJANGO_SETTINGS_MODULE=settings_module,
            DJANGO_DEBUG="false",
            DJANGO_ALLOWED_HOSTS="testserver",
        ),
    )

    assert result.returncode == 0, result.stderr
    assert "No directory at" not in result.stderr
    assert result.stdout.strip() == "200"


@pytest.mark.parametrize("value", ["/relative", "termine.example.de", "ftp://termine.example.de"])
def test_a_site_url_that_is_not_absolute_stops_every_start(value):
    env = clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo", DJANGO_SITE_URL=value)

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SITE_URL must be the absolute" in result.stderr


def test_the_site_url_keeps_a_path_prefix_and_drops_the_trailing_slash():
    result = run_python(
        "from django.conf import settings; print(settings.SITE_URL, settings.SMS_BACKEND)",
        production_env(DJANGO_SITE_URL="https://www.jobcenter.example.de/termine/"),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://www.jobcenter.example.de/termine", "off"]
