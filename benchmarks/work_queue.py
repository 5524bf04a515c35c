"""Latency of the work queue page and the case list API for a caseworker, at 50,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench \\
        .venv/bin/python benchmarks/work_queue.py --customers 50000 --requests 300

Seeds the database first when it holds fewer customers than asked for (emptying it, which is only
done for a database whose name contains "bench", unless --force-flush). Then logs in as the demo
caseworker (django.test.Client, force_login) and requests `/` (cases:work_queue) and
`/api/v1/cases/` with a realistic mix of filters: none, phase, customer group, overdue, only mine,
free text on a name fragment and on a customer-number prefix, later pages; half the page
requests as htmx fragment requests, as the filter form sends them. Each request runs the whole
Django stack in-process (middleware, session, selector, audit rows, template), without a network
or a WSGI server. Prints one JSON object on the last line; the target is p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from time import perf_counter

from _common import (
    add_database_arguments,
    database_label,
    database_name,
    flush,
    latency_summary,
    machine,
    migrate,
    print_result,
    refuse_sqlite,
    seed,
    setup_django,
)

TARGET_P95_MS = 300
WORK_QUEUE_URL = "/"
CASE_LIST_API_URL = "/api/v1/cases/"
PAGE_SIZE = 25


def _request_mix(*, user, rng: random.Random) -> list[tuple[str, dict[str, str], int]]:
    """(label, query parameters, weight): what caseworkers ask for, from the data they can see."""
    from cases.models import Case, CustomerGroup, Phase

    visible = Case.objects.filter(team_id=user.team_id).open()
    open_cases = visible.count()
    customers = list(
        visible.order_by("?").values_list("customer__last_name", "customer__customer_number")[:50]
    )
    name_fragments = sorted({last[:4].lower() for last, _ in customers if len(last) >= 4})
    number_prefixes = sorted({number[:6] for _, number in customers})
    last_page = max(2, min(40, -(-open_cases // PAGE_SIZE)))

    mix: list[tuple[str, dict[str, str], int]] = [("no filter", {}, 20)]
    for phase in (Phase.PROFILING, Phase.PLANNING, Phase.IMPLEMENTATION, Phase.REVIEW):
        mix.append((f"phase={phase}", {"phase": phase}, 4))
    for group in (*CustomerGroup.values, "none"):
        mix.append((f"customer_group={group}", {"customer_group": group}, 3))
    mix.append(("overdue", {"overdue": "on"}, 8))
    mix.append(("overdue+implementation", {"overdue": "on", "phase": Phase.IMPLEMENTATION}, 3))
    mix.append(("mine", {"mine": "on"}, 6))
    for fragment in rng.sample(name_fragments, min(5, len(name_fragments))):
        mix.append(("q=name fragment", {"q": fragment}, 2))
    for prefix in rng.sample(number_prefixes, min(3, len(number_prefixes))):
        mix.append(("q=customer number prefix", {"q": prefix}, 2))
    for page in sorted({2, 3, last_page, *rng.sample(range(2, last_page + 1), 3)}):
        mix.append(("page", {"page": str(page)}, 2))
    mix.append(("potential, page 2", {"customer_group": CustomerGroup.POTENTIAL, "page": "2"}, 2))
    return mix


def _api_params(params: dict[str, str]) -> dict[str, str]:
    """The same question in the API's vocabulary (overdue=true; no 'mine' filter there)."""
    api = {key: value for key, value in params.items() if key != "mine"}
    if "overdue" in api:
        api["overdue"] = "true"
    return api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per endpoint")
    parser.add_argument("--seed", type=int, default=2030)
    add_database_arguments(parser)
    args = parser.parse_args(argv)

    setup_django()
    reason = refuse_sqlite(customers=args.customers, allow_sqlite=args.allow_sqlite)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    migrate()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cases.models import Case, Customer
    from organisation.models import User

    present = Customer.objects.count()
    if present < args.customers:
        if present:
            reason = flush(force=args.force_flush)
            if reason:
                print(reason, file=sys.stderr)
                return 2
        seconds, summary = seed(customers=args.customers, seed=args.seed)
        print(summary, end="")
        print(f"Seeded {args.customers} customers in {seconds:.1f} s.")

    user = User.objects.select_related("team").get(username="caseworker")
    rng = random.Random(args.seed)
    mix = _request_mix(user=user, rng=rng)
    labels, params, weights = zip(*mix, strict=True)
    plan = rng.choices(range(len(mix)), weights=weights, k=args.warmup + args.requests)
    fragments = [rng.random() < 0.5 for _ in plan]

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    timings: dict[str, list[float]] = {"page": [], "api": []}
    by_label: dict[str, list[float]] = defaultdict(list)
    queries = {"page": 0, "api": 0}
    for number, (index, htmx) in enumerate(zip(plan, fragments, strict=True)):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx and params[index] else {}
        for endpoint, url, query in (
            ("page", WORK_QUEUE_URL, params[index]),
            ("api", CASE_LIST_API_URL, _api_params(params[index])),
        ):
            with CaptureQueriesContext(connection) as captured:
                started = perf_counter()
                response = client.get(url, query, **(headers if endpoint == "page" else {}))
                elapsed = perf_counter() - started
            if response.status_code != 200:
                print(f"{endpoint} {url} {query} answered {response.status_code}", file=sys.stderr)
                return 1
            queries[endpoint] = max(queries[endpoint], len(captured))
            if number >= args.warmup:
                timings[endpoint].append(elapsed)
                if endpoint == "page":
                    by_label[labels[index]].append(elapsed)

    print(f"Work queue of {user.team.name} as {user.username}, {args.requests} timed requests:")
    for label, values in sorted(by_label.items()):
        summary = latency_summary("", values)
        print(
            f"  {label:28} n={len(values):3}  p50 {summary['p50_ms']:7.1f} ms  "
            f"p95 {summary['p95_ms']:7.1f} ms  max {summary['max_ms']:7.1f} ms"
        )
    page = latency_summary("", timings["page"])
    api = latency_summary("api_", timings["api"])
    print_result(
        {
            "benchmark": "work_queue",
            "database": database_label(),
            "database_name": database_name(),
            "customers": Customer.objects.count(),
            "team_open_cases": Case.objects.filter(team_id=user.team_id).open().count(),
            "requests": args.requests,
            "warmup": args.warmup,
            **page,
            **api,
            "max_queries_per_page": queries["page"],
            "max_queries_per_api_call": queries["api"],
            "target_p95_ms": TARGET_P95_MS,
            "passed": page["p95_ms"] < TARGET_P95_MS and api["api_p95_ms"] < TARGET_P95_MS,
            "machine": machine(),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
