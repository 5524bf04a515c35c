"""`manage.py profiling_train`: train a model version from a CSV history or synthetic history.

    python manage.py profiling_train --csv history.csv [--activate]
    python manage.py profiling_train --synthetic 50000 [--seed 1] [--independent] [--activate]

The new version is a candidate; `--activate` switches it on at once (as the system, logged like an
admin's activation). Without it an admin compares and activates it on the AI models page.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError
from profiling.model.csvdata import CsvDataError, read_labelled_csv
from profiling.model.history import demo_history, independent_history
from profiling.model.train import model_train
from profiling.models import ModelSource
from profiling.services.models import model_version_activate

MAX_SYNTHETIC = 1_000_000


def error_lines(error: ApplicationError) -> str:
    """The message and, for a bad file, every line-numbered problem below it."""
    lines = [error.message]
    problems = error.extra.get("errors") or []
    if problems and problems != [error.message]:
        lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Train a profiling model version from a labelled CSV history (--csv) or from synthetic "
        "history (--synthetic N). The version is stored as a candidate; --activate switches it on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--csv", metavar="FILE", help="labelled CSV (see the README)")
        source.add_argument(
            "--synthetic", type=int, metavar="N", help="N customers of synthetic history"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the data and the fit")
        parser.add_argument(
            "--independent",
            action="store_true",
            help="with --synthetic: the independent generator instead of the demo generator",
        )
        parser.add_argument(
            "--activate", action="store_true", help="activate the new version right away"
        )
        parser.add_argument(
            "--reason", default="", help="reason recorded with --activate (optional)"
        )

    def handle(self, *args, **options) -> None:
        seed = options["seed"]
        try:
            if options["csv"]:
                path = Path(options["csv"])
                data = read_labelled_csv(path)
                source, name = ModelSource.CSV, path.name
            else:
                n = options["synthetic"]
                if not 1 <= n <= MAX_SYNTHETIC:
                    raise CommandError(f"--synthetic must be between 1 and {MAX_SYNTHETIC}.")
                generator = independent_history if options["independent"] else demo_history
                data = generator(n=n, seed=seed)
                label = "independent generator" if options["independent"] else "demo generator"
                source, name = ModelSource.SYNTHETIC, f"{label}, {n} customers, seed {seed}"
            self.stdout.write(f"Training on {len(data)} rows ({name}) ...")
            version = model_train(data=data, source=source, source_name=name, seed=seed)
            if options["activate"]:
                reason = options["reason"] or "profiling_train --activate"
                version = model_version_activate(
                    ctx=AuditContext.system(), version_id=version.pk, reason=reason
                )
        except CsvDataError as error:
            raise CommandError(error_lines(error)) from error
        except ApplicationError as error:
            raise CommandError(error_lines(error)) from error
        self.stdout.write(summary(version))


def _fmt(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summary(version) -> str:
    m = version.metrics
    lines = [
        f"Model version {version.number} ({version.status}): {version.rows} rows, "
        f"base rate {_fmt(version.base_rate, 3)}, fingerprint {version.data_fingerprint[:16]}",
        f"  held-out rows {m.get('n')}: AUC {_fmt(m.get('auc'))}, ECE {_fmt(m.get('ece'))}, "
        f"Brier {_fmt(m.get('brier'))}",
        f"  max group ECE {_fmt(m.get('max_group_ece'))}, AUC gap {_fmt(m.get('auc_gap'))}, "
        f"fpr ratio sex {_fmt(m.get('fpr_ratio_sex'), 3)}, "
        f"citizenship {_fmt(m.get('fpr_ratio_citizenship'), 3)}",
    ]
    if m.get("oracle_auc") is not None:
        lines.append(
            f"  oracle AUC {_fmt(m.get('oracle_auc'))}, AUC ratio {_fmt(m.get('auc_ratio'))}"
        )
    if version.status != "active":
        lines.append("Not active: an admin compares and activates it under AI models.")
    return "\n".join(lines)
