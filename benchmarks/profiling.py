"""Accuracy and fairness of the profiling model, against the true probabilities (the oracle).

    .venv/bin/python benchmarks/profiling.py [--train 150000] [--test 100000] [--seed 2030]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench \\
        .venv/bin/python benchmarks/profiling.py --runtime

1. Demo generator: `--train` customers of its synthetic history to fit the model (the method of
   profiling.model.estimator, as `profiling_train` uses it), `--test` other customers (another
   seed) to measure it. The generator knows each customer's true probability, so the best possible
   AUC and the error-rate ratios the true chances themselves give are known.
2. Independent generator (profiling.model.history.independent_history), which the model's method
   was not tuned on: the same, with a fresh model fitted on its own history.
3. With `--runtime`: the Celery batch at 100,000 customers and the interactive latency, from
   benchmarks/_profiling_runtime.py (PostgreSQL and Redis; null when not run or not available).

The lowest threshold and the suggested customer groups come from the customer group rules in
force in the database, or from the starter rules (profiling migration 0006) when there are none.
Fairness figures compare groups of at least `--min-group-size` customers. Prints one JSON object
on its last line; `targets` says which of the issue's numbers are reached.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from time import perf_counter

from _common import add_database_arguments, machine, migrate, print_result, setup_django

# The numbers (issue 4, "Numbers to reach").
MIN_AUC_RATIO = 0.98
MAX_ECE = 0.02
MAX_GROUP_ECE = 0.04
MAX_AUC_GAP = 0.05
MAX_FPR_EXCESS = 1.1
MAX_BATCH_SECONDS = 60
MAX_INTERACTIVE_P95_MS = 200

REPORTED = (
    "n_train",
    "n_test",
    "base_rate",
    "auc",
    "oracle_auc",
    "auc_ratio",
    "ece",
    "oracle_ece",
    "brier",
    "max_group_ece",
    "auc_gap",
    "auc_gap_sex",
    "auc_gap_citizenship",
    "lowest_threshold",
    "below_threshold_share_of_positives",
    "fpr_ratio_sex",
    "fpr_ratio_citizenship",
    "oracle_fpr_ratio_sex",
    "oracle_fpr_ratio_citizenship",
    "fpr_excess_sex",
    "fpr_excess_citizenship",
    "group_shares",
    "demographic_parity",
    "demographic_parity_max",
    "fit_seconds",
    "iterations",
)


def _rules() -> tuple[list[dict], str]:
    """The rules in force, or the starter rules when the database has none (or none is set up)."""
    try:
        from profiling.model.train import current_rules

        rules = current_rules()
        if rules:
            return rules, "database"
    except Exception as error:  # noqa: BLE001 - no database is fine: the starter rules stand in
        print(f"No rules from the database ({type(error).__name__}); using the starter rules.")
    starter = importlib.import_module("profiling.migrations.0006_segment_and_strategy_defaults")
    return list(starter.RULES), "starter rules (migration 0006)"


def _run_generator(
    name: str, generator, *, train_n: int, test_n: int, seed: int, rules, min_group_size: int
) -> tuple[dict, object, object]:
    from profiling.model.estimator import ProfilingEstimator
    from profiling.model.evaluation import evaluate
    from profiling.model.train import lowest_threshold, suggested_groups

    started = perf_counter()
    train = generator(n=train_n, seed=seed)
    test = generator(n=test_n, seed=seed + 1)
    generated = perf_counter()
    print(f"{name}: generated {train_n} + {test_n} customers in {generated - started:.1f} s")
    estimator = ProfilingEstimator.fit(train.rows, train.outcomes, seed=0)
    fitted = perf_counter()
    print(f"{name}: fitted in {fitted - generated:.1f} s ({estimator.params})")
    probabilities = estimator.predict(test.rows)
    metrics = evaluate(
        probabilities=probabilities,
        outcomes=test.outcomes,
        audit=test.audit,
        lowest_threshold=lowest_threshold(rules),
        groups=suggested_groups(rules, probabilities, test.rows),
        oracle=test.oracle,
        min_group_size=min_group_size,
    )
    print(f"{name}: evaluated in {perf_counter() - fitted:.1f} s")
    metrics.update(
        n_train=train_n,
        n_test=test_n,
        fit_seconds=round(fitted - generated, 1),
        iterations=estimator.params.get("iterations"),
    )
    return metrics, estimator, train


def _targets(figures: dict, prefix: str = "") -> dict[str, bool | None]:
    def get(key):
        return figures.get(prefix + key)

    def at_most(key, bound):
        value = get(key)
        return None if value is None else value <= bound

    return {
        f"{prefix}auc_ratio>={MIN_AUC_RATIO}": None
        if get("auc_ratio") is None
        else get("auc_ratio") >= MIN_AUC_RATIO,
        f"{prefix}ece<={MAX_ECE}": at_most("ece", MAX_ECE),
        f"{prefix}max_group_ece<={MAX_GROUP_ECE}": at_most("max_group_ece", MAX_GROUP_ECE),
        f"{prefix}auc_gap<={MAX_AUC_GAP}": at_most("auc_gap", MAX_AUC_GAP),
        f"{prefix}fpr_excess_sex<={MAX_FPR_EXCESS}": at_most("fpr_excess_sex", MAX_FPR_EXCESS),
        f"{prefix}fpr_excess_citizenship<={MAX_FPR_EXCESS}": at_most(
            "fpr_excess_citizenship", MAX_FPR_EXCESS
        ),
    }


def _runtime(enabled: bool) -> dict[str, float | None]:
    """The batch and interactive figures from benchmarks/_profiling_runtime.py, or null."""
    figures: dict[str, float | None] = {"batch_100k_seconds": None, "interactive_p95_ms": None}
    if not enabled:
        return figures
    try:
        from _profiling_runtime import batch_100k_seconds, interactive_p95_ms
    except ImportError as error:
        print(f"Runtime figures not available: {error}")
        return figures
    for key, function in (
        ("batch_100k_seconds", batch_100k_seconds),
        ("interactive_p95_ms", interactive_p95_ms),
    ):
        try:
            figures[key] = function()
        except Exception as error:  # noqa: BLE001 - report the rest; the reason is printed
            print(f"{key} failed: {type(error).__name__}: {error}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=150_000, help="training customers")
    parser.add_argument("--test", type=int, default=100_000, help="test customers")
    parser.add_argument("--independent-train", type=int, help="default: --train")
    parser.add_argument("--independent-test", type=int, help="default: --test")
    parser.add_argument("--skip-independent", action="store_true")
    parser.add_argument("--seed", type=int, default=2030)
    parser.add_argument("--min-group-size", type=int, default=1000)
    parser.add_argument(
        "--runtime",
        action="store_true",
        help="also time the Celery batch and interactive profiling (PostgreSQL, Redis)",
    )
    parser.add_argument(
        "--store",
        action="store_true",
        help="store the demo model as a candidate version in the database (migrates first)",
    )
    add_database_arguments(parser)
    args = parser.parse_args(argv)

    setup_django()
    from profiling.model.history import demo_history, independent_history

    rules, rules_source = _rules()
    print(f"Customer group rules: {rules_source}")
    started = perf_counter()
    result: dict[str, object] = {"benchmark": "profiling", **machine(), "rules": rules_source}

    demo, estimator, train = _run_generator(
        "demo generator",
        demo_history,
        train_n=args.train,
        test_n=args.test,
        seed=args.seed,
        rules=rules,
        min_group_size=args.min_group_size,
    )
    result.update({key: demo.get(key) for key in REPORTED})
    if args.store:
        migrate()
        from profiling.model.train import model_card
        from profiling.models import ModelSource
        from profiling.services.models import model_version_store

        source_name = f"benchmark: demo generator, {args.train} customers, seed {args.seed}"
        card = model_card(
            estimator=estimator,
            data=train,
            source=ModelSource.SYNTHETIC,
            source_name=source_name,
            metrics=demo,
            fit_rows=len(train),
        )
        version = model_version_store(
            estimator=estimator,
            data=train,
            source=ModelSource.SYNTHETIC,
            source_name=source_name,
            metrics={**demo, "evaluated_on": "independent test set of the same generator"},
            model_card=card,
            actor=None,
        )
        result["stored_version"] = version.number
        print(f"Stored as model version {version.number} (candidate).")

    if not args.skip_independent:
        independent, _estimator, _train = _run_generator(
            "independent generator",
            independent_history,
            train_n=args.independent_train or args.train,
            test_n=args.independent_test or args.test,
            seed=args.seed,
            rules=rules,
            min_group_size=args.min_group_size,
        )
        result.update({f"independent_{key}": independent.get(key) for key in REPORTED})

    result.update(_runtime(args.runtime))
    targets = _targets(result)
    if not args.skip_independent:
        targets.update(_targets(result, "independent_"))
    if result["batch_100k_seconds"] is not None:
        targets[f"batch_100k_seconds<={MAX_BATCH_SECONDS}"] = (
            result["batch_100k_seconds"] <= MAX_BATCH_SECONDS
        )
    if result["interactive_p95_ms"] is not None:
        targets[f"interactive_p95_ms<={MAX_INTERACTIVE_P95_MS}"] = (
            result["interactive_p95_ms"] <= MAX_INTERACTIVE_P95_MS
        )
    result["targets"] = targets
    result["all_targets_met"] = all(value is True for value in targets.values())
    result["total_seconds"] = round(perf_counter() - started, 1)
    print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
