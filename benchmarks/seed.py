"""How long `manage.py seed_demo` takes to write a synthetic jobcenter.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench \\
        .venv/bin/python benchmarks/seed.py --customers 50000

Migrates the database, empties it (only a database whose name contains "bench", unless
--force-flush), seeds it and prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import sys

from _common import (
    add_database_arguments,
    database_label,
    database_name,
    flush,
    machine,
    migrate,
    print_result,
    refuse_sqlite,
    seed,
    setup_django,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2030)
    add_database_arguments(parser)
    args = parser.parse_args(argv)

    setup_django()
    reason = refuse_sqlite(customers=args.customers, allow_sqlite=args.allow_sqlite)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    migrate()
    reason = flush(force=args.force_flush)
    if reason:
        print(reason, file=sys.stderr)
        return 2

    seconds, summary = seed(customers=args.customers, seed=args.seed)
    print(summary, end="")

    from cases.models import CaseEvent, Customer, EmploymentSpell

    print_result(
        {
            "benchmark": "seed",
            "database": database_label(),
            "database_name": database_name(),
            "customers": Customer.objects.count(),
            "employment_spells": EmploymentSpell.objects.count(),
            "case_events": CaseEvent.objects.count(),
            "seed": args.seed,
            "seconds": round(seconds, 1),
            "customers_per_second": round(args.customers / seconds),
            "machine": machine(),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
