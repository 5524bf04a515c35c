"""The Celery wiring: in-process without REDIS_URL, Redis with it, and a real worker round trip."""

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.test_settings import ROOT, clean_env, production_env, run_python

WORKER_REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own for these tests


def test_without_redis_url_tasks_run_in_process():
    result = run_python(
        "from jobcenter.celery import app\n"
        "print(app.conf.task_always_eager, app.conf.broker_url)\n",
        clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo"),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True memory://"


def test_with_redis_url_tasks_go_to_the_broker():
    result = run_python(
        "from jobcenter.celery import app\n"
        "print(app.conf.task_always_eager, app.conf.broker_url)\n"
        "print(app.conf.beat_schedule, app.conf.worker_hijack_root_logger)\n",
        clean_env(DJANGO_SETTINGS_MODULE="jobcenter.settings.demo", REDIS_URL=WORKER_REDIS_URL),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"False {WORKER_REDIS_URL}",
        "{'profiling-reprofile-due': {'task': 'profiling.tasks.profiling_reprofile_due', "
        "'schedule': <crontab: 30 2 * * * (m/h/dM/MY/d)>}, "
        "'scheduling-calendars-sync': {'task': 'scheduling.tasks.scheduling_calendars_sync', "
        "'schedule': <crontab: */15 * * * * (m/h/dM/MY/d)>}, "
        "'scheduling-planning-runs': {'task': "
        "'scheduling.tasks.scheduling_planning_runs_periodic', "
        "'schedule': <crontab: 15 3 * * * (m/h/dM/MY/d)>}, "
        "'scheduling-invitations-send-unsent': {'task': "
        "'scheduling.tasks.scheduling_invitations_send_unsent', "
        "'schedule': <crontab: */10 * * * * (m/h/dM/MY/d)>}, "
        "'scheduling-reminders-send': {'task': 'scheduling.tasks.scheduling_reminders_send', "
        "'schedule': <crontab: */5 * * * * (m/h/dM/MY/d)>}} False",
    ]


@pytest.mark.parametrize("module", ["jobcenter.celery", "jobcenter.wsgi"])
def test_without_a_settings_module_worker_and_web_get_production_settings(module):
    """Never the demo's known secret key: both refuse to start until production is configured."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", f"import {module}\nimport django\ndjango.setup()"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


# A real worker against the real Redis.


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_for_worker():
    if not redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI has it)")
    return WORKER_REDIS_URL


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "jobcenter", *args]


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and celery
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()  # warm shutdown
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.worker
def test_a_worker_runs_a_task_sent_through_redis(redis_for_worker, tmp_path):
    """`celery -A jobcenter worker` as docker-compose.yml runs it, with the production settings.

    The worker stores results in Redis for this test only (the settings keep none). A queue and a
    node name of its own keep it apart from any other worker on the same Redis. The task is
    Celery's built-in `celery.accumulate`, which returns its arguments.
    """
    run = uuid.uuid4().hex[:12]
    queue, node = f"test-{run}", f"test-{run}@localhost"
    env = production_env(REDIS_URL=redis_for_worker)
    worker = start(
        celery_command(
            "--result-backend",
            redis_for_worker,
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            f"--hostname={node}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ),
        env,
        tmp_path / "worker.log",
    )
    client = Celery("client", broker=redis_for_worker, backend=redis_for_worker)
    try:
        result = client.send_task("celery.accumulate", args=(2030, "SGB II"), queue=queue)
        assert result.get(timeout=60) == [2030, "SGB II"], (tmp_path / "worker.log").read_text()
        result.forget()

        # The worker's container health check, against this worker.
        ping = subprocess.run(  # noqa: S603 - our own interpreter and celery
            celery_command("inspect", "ping", f"--destination={node}", "--timeout=10"),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert "pong" in ping.stdout
    finally:
        stop(worker)
        client.close()
        with redis.Redis.from_url(redis_for_worker) as r:
            for key in r.scan_iter(f"*{queue}*"):
                r.delete(key)

    log = (tmp_path / "worker.log").read_text()
    assert "celery.accumulate" in log
    assert "succeeded" in log


@pytest.mark.worker
def test_beat_starts_and_its_health_check_passes(redis_for_worker, tmp_path):
    """`celery -A jobcenter beat` as docker-compose.yml runs it, and deploy/healthcheck.py beat."""
    pidfile = tmp_path / "beat.pid"
    env = production_env(REDIS_URL=redis_for_worker)
    beat = start(
        celery_command(
            "beat",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'schedule'}",
            f"--pidfile={pidfile}",
        ),
        env,
        tmp_path / "beat.log",
    )
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() and beat.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pidfile.exists(), (tmp_path / "beat.log").read_text()

        check = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "deploy/healthcheck.py", "beat", f"--pidfile={pidfile}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert check.returncode == 0, check.stderr
    finally:
        stop(beat)

    assert "beat: Starting" in (tmp_path / "beat.log").read_text()
