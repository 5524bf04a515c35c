"""What every benchmark script shares: Django set-up, the database guard, the machine, the result.

Each script prints whatever it likes and then ONE JSON object on its last line, so a caller can
`tail -n 1 | python -m json.tool` or compare runs.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARK_DB_MARKER = "bench"


def setup_django() -> None:
    """Demo settings (DATABASE_URL from the environment), without DEBUG's per-query bookkeeping."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobcenter.settings.demo")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()


def database_label() -> str:
    from django.db import connection

    return connection.vendor


def database_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-sqlite",
        action="store_true",
        help="run against SQLite anyway (figures are not comparable with PostgreSQL)",
    )
    parser.add_argument(
        "--force-flush",
        action="store_true",
        help=f"allow emptying a database whose name does not contain {BENCHMARK_DB_MARKER!r}",
    )


def refuse_sqlite(*, customers: int, allow_sqlite: bool) -> str | None:
    """A reason to stop, or None. The target figures are for PostgreSQL."""
    if database_label() == "sqlite" and customers >= 10_000 and not allow_sqlite:
        return (
            "This benchmark's figures are for PostgreSQL; DATABASE_URL points to SQLite. Set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench, or pass "
            "--allow-sqlite to run anyway."
        )
    return None


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def flush(*, force: bool) -> str | None:
    """Empty the database (all tables). Only a benchmark database unless forced; returns a reason."""
    from django.core.management import call_command

    name = database_name()
    if BENCHMARK_DB_MARKER not in Path(name).name and not force:
        return (
            f"Refusing to empty database {name!r}: its name does not contain "
            f"{BENCHMARK_DB_MARKER!r}. Use a benchmark database or pass --force-flush."
        )
    call_command("flush", interactive=False, verbosity=0)
    reinstall_starter_data()
    return None


def reinstall_starter_data() -> None:
    """What the data migrations wrote and a flush removed: note templates and tags, the customer
    group rules and settings, the action strategy catalogue (each installs only what is missing)."""
    import importlib

    from django.apps import apps

    for module, function in (
        ("cases.migrations.0005_note_templates_and_tags", "create_starter_data"),
        ("profiling.migrations.0006_segment_and_strategy_defaults", "install_defaults"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


def seed(*, customers: int, seed: int) -> tuple[float, str]:
    """Run seed_demo; return its wall time in seconds and its summary."""
    from time import perf_counter

    from django.core.management import call_command

    out = io.StringIO()
    started = perf_counter()
    # model_rows=0: the seed benchmark measures the data alone; benchmarks/profiling.py trains.
    call_command("seed_demo", customers=customers, seed=seed, model_rows=0, stdout=out)
    return perf_counter() - started, out.getvalue()


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share 0.95 for p95) of unsorted values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def latency_summary(prefix: str, seconds: Sequence[float]) -> dict[str, float]:
    ms = [value * 1000 for value in seconds]
    return {
        f"{prefix}p50_ms": round(percentile(ms, 0.50), 1),
        f"{prefix}p95_ms": round(percentile(ms, 0.95), 1),
        f"{prefix}p99_ms": round(percentile(ms, 0.99), 1),
        f"{prefix}max_ms": round(max(ms), 1),
        f"{prefix}mean_ms": round(sum(ms) / len(ms), 1),
    }


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gb": memory_gb,
        "cpu": cpu,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def print_result(result: dict[str, object]) -> None:
    """The last line of every benchmark: one JSON object."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False), flush=True)
