"""docker-compose.yml, the Dockerfile and the container health check, read as files.

No container engine runs here; the files are parsed and checked for what a deployment relies on.
"""

import importlib.util
import re
import shlex
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from tests.test_settings import PRODUCTION_ENV, ROOT, production_env, run_manage

APP_SERVICES = ("web", "worker", "beat")
SERVICES = (*APP_SERVICES, "db", "redis")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in "\n".join(lines).replace("\\\n", " ").splitlines() if i.strip()]


def command(service: dict) -> str:
    cmd = service["command"]
    return cmd if isinstance(cmd, str) else shlex.join(cmd)


def healthcheck(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_the_five_services_exist(services):
    assert set(SERVICES) <= set(services)


def test_web_worker_and_beat_run_the_same_image(services):
    builds = {(services[name]["build"], services[name]["image"]) for name in APP_SERVICES}
    assert builds == {(".", "jobcenter:latest")}
    assert services["migrate"]["image"] == "jobcenter:latest"


def test_every_long_running_service_has_a_healthcheck(services):
    for name in SERVICES:
        assert healthcheck(services[name]), name
    assert "deploy/healthcheck.py web" in healthcheck(services["web"])
    assert "pg_isready" in healthcheck(services["db"])
    assert "redis-cli ping" in healthcheck(services["redis"])
    assert "celery -A jobcenter inspect ping" in healthcheck(services["worker"])
    assert "deploy/healthcheck.py beat" in healthcheck(services["beat"])


def test_the_services_use_the_intended_versions(services):
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_app_services_wait_for_healthy_db_and_redis_and_the_migration(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["db"] == {"condition": "service_healthy"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name


def test_migrations_run_once_before_the_app(services):
    migrate = services["migrate"]
    assert command(migrate) == "python manage.py migrate --noinput"
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_commands(services):
    assert re.fullmatch(r"gunicorn jobcenter\.wsgi(:application)? .*", command(services["web"]))
    assert "--bind=0.0.0.0:8000" in command(services["web"])
    assert command(services["worker"]).startswith("celery -A jobcenter worker")
    assert command(services["beat"]).startswith("celery -A jobcenter beat")
    assert "--pidfile=/tmp/celerybeat.pid" in command(services["beat"])


def test_volumes_are_declared_and_mounted(compose, services):
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "media:/app/var/media" in services["web"]["volumes"]


def test_the_environment_comes_from_env_not_from_the_file(services):
    for name in (*APP_SERVICES, "migrate"):
        service = services[name]
        env = service["environment"]
        assert service["env_file"] == [".env"], name
        assert env["DJANGO_SETTINGS_MODULE"] == "jobcenter.settings.production"
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), name
        assert env["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?"), name
        assert env["EMAIL_URL"].startswith("${EMAIL_URL:?"), name
        assert env["DJANGO_SITE_URL"].startswith("${DJANGO_SITE_URL:?"), name
        assert env["DJANGO_SMS_BACKEND"].startswith("${DJANGO_SMS_BACKEND:?"), name
        assert env["DATABASE_URL"] == (
            "postgres://jobcenter:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"
            "@db:5432/jobcenter"
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_env_example_documents_every_required_variable():
    text = (ROOT / ".env.example").read_text()
    required = (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "POSTGRES_PASSWORD",
        "EMAIL_URL",
        "DJANGO_SITE_URL",
        "DJANGO_SMS_BACKEND",
    )
    for variable in required:
        assert re.search(rf"^{variable}=$|^{variable}=\S", text, re.MULTILINE), variable
    # No secret values in the example: the secret lines are empty.
    for variable in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_URL"):
        assert re.search(rf"^{variable}=$", text, re.MULTILINE), variable


def test_dot_env_is_not_committed_nor_copied_into_the_image():
    assert "/.env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()


def test_dockerfile_builds_a_slim_non_root_image(dockerfile, services):
    assert dockerfile[0] == "FROM python:3.11-slim"
    pip_installs = [line for line in dockerfile if "pip install" in line]
    assert pip_installs
    assert all("-c requirements.lock" in line for line in pip_installs)
    assert not any("[dev]" in line for line in pip_installs)
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users == ["jobcenter"]
    assert any("useradd --system --uid 10001" in line for line in dockerfile)
    assert "EXPOSE 8000" in dockerfile
    assert "127.0.0.1:${WEB_PORT:-8000}:8000" in services["web"]["ports"]


def test_dockerfile_collects_static_files_without_a_real_secret(dockerfile):
    collect = next(line for line in dockerfile if "collectstatic --noinput" in line)
    assert collect.startswith("RUN DJANGO_SECRET_KEY=build-time-collectstatic-only")
    # Every variable the production settings require, or the build stops there.
    for variable in PRODUCTION_ENV:
        if variable != "DJANGO_SETTINGS_MODULE":
            assert f"{variable}=" in collect, variable
    env_lines = " ".join(line for line in dockerfile if line.startswith("ENV "))
    assert "SECRET" not in env_lines
    assert "DJANGO_SETTINGS_MODULE=jobcenter.settings.production" in env_lines


def test_dockerfile_starts_gunicorn_like_compose(dockerfile):
    cmd = next(line for line in dockerfile if line.startswith("CMD "))
    assert '"gunicorn", "jobcenter.wsgi:application", "--bind", "0.0.0.0:8000"' in cmd


def test_the_image_can_reach_the_broker_without_dev_dependencies():
    """kombu's Redis transport imports `packaging`, which only the `redis` extra declares; in the dev
    virtualenv pytest brings it, in the image (no dev dependencies) worker and web would fail."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dependency.startswith("celery[redis]==") for dependency in dependencies)
    assert "packaging==" in (ROOT / "requirements.lock").read_text()


def test_collectstatic_succeeds_with_production_settings(tmp_path):
    """What the image build runs: every file referenced from CSS exists, hashing succeeds."""
    (tmp_path / "collect_settings.py").write_text(
        "from jobcenter.settings.production import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="collect_settings", PYTHONPATH=str(tmp_path))

    result = run_manage("collectstatic", "--noinput", env=env)

    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "static" / "staticfiles.json"
    assert manifest.exists()
    assert "admin/css/base.css" in manifest.read_text()


# The container health check script, against a stand-in for /healthz.


def load_healthcheck():
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def healthz_stub():
    """A server answering /healthz with `status`; it records the Host header it saw."""
    seen: dict = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["host"] = self.headers["Host"]
            self.send_response(seen["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["url"] = f"http://127.0.0.1:{server.server_port}/healthz"
    yield seen
    server.shutdown()
    server.server_close()


def test_web_healthcheck_asks_with_an_allowed_host(healthz_stub, monkeypatch):
    healthcheck_module = load_healthcheck()
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", ".jobcenter.example.de, other.example.de")

    assert healthcheck_module.main(["web", "--url", healthz_stub["url"]]) == 0
    assert healthz_stub["host"] == "jobcenter.example.de"


def test_web_healthcheck_fails_on_503_and_on_no_answer(healthz_stub, monkeypatch):
    healthcheck_module = load_healthcheck()
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", PRODUCTION_ENV["DJANGO_ALLOWED_HOSTS"])
    healthz_stub["status"] = 503

    assert healthcheck_module.main(["web", "--url", healthz_stub["url"]]) == 1
    assert healthcheck_module.main(["web", "--url", "http://127.0.0.1:1/healthz"]) == 1


def test_beat_healthcheck_fails_without_a_beat_process(tmp_path):
    healthcheck_module = load_healthcheck()

    assert healthcheck_module.main(["beat", "--pidfile", str(tmp_path / "missing.pid")]) == 1
