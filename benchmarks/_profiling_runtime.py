"""The runtime half of benchmarks/profiling.py: the Celery batch at 100,000 customers and the
interactive profiling latency, both against PostgreSQL and Redis.

batch: the database is seeded with `customers` synthetic customers (seed_demo, only in a database
whose name contains "bench"), a model trained on the demo generator's history is activated, earlier
suggestions are removed (TRUNCATE: the log refuses UPDATE and row deletes), then a real
`celery -A jobcenter worker` with one process per core is started against Redis and
`profiling_reprofile_due` is sent. The clock runs from sending that task until every due case has
its suggestion in the database: finding the due cases, splitting them into batches, the workers
loading profiles, predicting, explaining, segmenting, ranking strategies and writing suggestions,
audit rows and pending flags.

interactive: the demo caseworker POSTs /api/v1/cases/{id}/profiling/ for `requests` cases of the
team, through the whole Django stack in-process (django.test.Client), after a warm-up.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parent.parent
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"
TRAIN_ROWS = 60_000


def ensure_active_model(*, seed: int = 1) -> int:
    """Train on the demo generator's history and activate the result; returns its number."""
    from audit.services import AuditContext
    from profiling.model.history import demo_history
    from profiling.model.train import model_train
    from profiling.models import ModelSource, ModelStatus, ModelVersion
    from profiling.services.models import model_version_activate

    active = ModelVersion.objects.filter(status=ModelStatus.ACTIVE).first()
    if active is not None and active.source == ModelSource.SYNTHETIC:
        return active.number
    data = demo_history(n=TRAIN_ROWS, seed=seed)
    version = model_train(data=data, source=ModelSource.SYNTHETIC, source_name="benchmark")
    model_version_activate(ctx=AuditContext.system(), version_id=version.pk, reason="benchmark")
    return version.number


def clear_suggestions() -> None:
    from django.db import connection

    from cases.models import Case

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE profiling_profilingdecision, profiling_profilingsuggestion RESTART IDENTITY"
        )
    Case.objects.filter(suggestion_pending=True).update(suggestion_pending=False)


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "jobcenter.settings.demo"),
        REDIS_URL=BENCH_REDIS_URL,
        DJANGO_DEBUG="false",
    )
    return env


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "jobcenter", *args]


def batch_seconds(*, concurrency: int | None = None, timeout: float = 600.0) -> dict:
    """Time the re-profiling of every due case through a real worker; returns the figures."""
    import redis
    from celery import Celery

    from profiling.models import ProfilingSuggestion
    from profiling.services.suggestions import reprofile_find_due

    concurrency = concurrency or os.cpu_count() or 2
    due = len(reprofile_find_due())
    node = f"bench-{uuid.uuid4().hex[:8]}@localhost"
    log = REPO / "var" / "benchmark-worker.log"
    log.parent.mkdir(exist_ok=True)
    with redis.Redis.from_url(BENCH_REDIS_URL) as r:
        r.flushdb()
    with log.open("w") as out:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and celery
            _celery(
                "worker",
                f"--concurrency={concurrency}",
                f"--hostname={node}",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=WARNING",
            ),
            cwd=REPO,
            env=_worker_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # A ping sent before the worker listens is lost (broadcast), so ask until it answers.
        deadline = time.monotonic() + 180
        while True:
            ping = subprocess.run(  # noqa: S603 - our own interpreter and celery
                _celery("inspect", "ping", f"--destination={node}", "--timeout=5"),
                cwd=REPO,
                env=_worker_env(),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if ping.returncode == 0:
                break
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {ping.stdout}{ping.stderr}; see {log}")
        client = Celery("bench", broker=BENCH_REDIS_URL)
        started = perf_counter()
        client.send_task("profiling.tasks.profiling_reprofile_due")
        written = 0
        while perf_counter() - started < timeout:
            written = ProfilingSuggestion.objects.count()
            if written >= due:
                break
            time.sleep(0.25)
        seconds = perf_counter() - started
        client.close()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
    return {
        "batch_due_cases": due,
        "batch_suggestions_written": written,
        "batch_concurrency": concurrency,
        "batch_seconds": round(seconds, 1),
    }


def interactive_latencies(*, requests: int = 300, seed: int = 7) -> list[float]:
    """Seconds per POST /api/v1/cases/{id}/profiling/ for the demo caseworker."""
    from django.test import Client

    from cases.models import Case
    from cases.synthetic import DEMO_CASEWORKER
    from organisation.models import User

    user = User.objects.get(username=DEMO_CASEWORKER)
    case_ids = list(
        Case.objects.open()
        .filter(team_id=user.team_id, customer__profile__isnull=False)
        .values_list("pk", flat=True)
    )
    rng = random.Random(seed)
    chosen = [rng.choice(case_ids) for _ in range(requests + 20)]
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    seconds = []
    for index, case_id in enumerate(chosen):
        started = perf_counter()
        response = client.post(f"/api/v1/cases/{case_id}/profiling/")
        elapsed = perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"case {case_id}: {response.status_code} {response.content[:300]!r}")
        if index >= 20:  # warm-up: model loaded, connections open
            seconds.append(elapsed)
    return seconds


# 125,000 customers give about 102,000 open cases with a profile: at least 100,000 to profile.
BATCH_CUSTOMERS = 125_000
BATCH_MIN_DUE = 100_000


def _prepare(customers: int = BATCH_CUSTOMERS) -> None:
    """Migrate, seed when the database holds fewer customers (only a "bench" database), model."""
    from _common import database_label, flush, migrate, reinstall_starter_data, seed

    from cases.models import Customer

    if database_label() != "postgresql":
        raise RuntimeError("the runtime figures are for PostgreSQL: set DATABASE_URL")
    migrate()
    if Customer.objects.count() < customers:
        reason = flush(force=False)
        if reason:
            raise RuntimeError(reason)
        seconds, _summary = seed(customers=customers, seed=2030)
        print(f"Seeded {customers} customers in {seconds:.1f} s.")
    reinstall_starter_data()  # a database seeded by benchmarks/seed.py was flushed before
    print(f"Active model: v{ensure_active_model()}")


def batch_100k_seconds() -> float:
    """Seconds for 100,000 customers through the Celery batch path (see the module docstring)."""
    _prepare()
    clear_suggestions()
    figures = batch_seconds()
    print("Batch:", figures)
    if figures["batch_suggestions_written"] < figures["batch_due_cases"]:
        raise RuntimeError(f"not every due case got its suggestion: {figures}")
    if figures["batch_due_cases"] < BATCH_MIN_DUE:
        raise RuntimeError(f"fewer than {BATCH_MIN_DUE} cases were due: {figures}")
    return figures["batch_seconds"]


def interactive_p95_ms() -> float:
    """95th percentile in ms of one interactive profiling through the API."""
    from _common import percentile

    _prepare()
    seconds = interactive_latencies()
    p95 = round(percentile([s * 1000 for s in seconds], 0.95), 1)
    print(f"Interactive: {len(seconds)} requests, p95 {p95} ms")
    return p95
