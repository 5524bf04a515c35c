"""`manage.py profiling_export_synthetic`: write synthetic labelled history as a CSV file.

    python manage.py profiling_export_synthetic --rows 20000 --seed 1 --out history.csv

The file has the documented columns of `profiling_train --csv` (README); `--truth` adds a
`true_probability` column (the generator's oracle), which readers ignore.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiling.model.csvdata import write_csv
from profiling.model.history import demo_history, independent_history

MAX_ROWS = 1_000_000


class Command(BaseCommand):
    help = "Write N customers of synthetic labelled history as CSV (the profiling_train format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, required=True, metavar="N")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", required=True, metavar="FILE")
        parser.add_argument(
            "--independent",
            action="store_true",
            help="the independent generator instead of the demo generator",
        )
        parser.add_argument(
            "--truth", action="store_true", help="add the true probability (true_probability)"
        )

    def handle(self, *args, rows: int, seed: int, out: str, **options) -> None:
        if not 1 <= rows <= MAX_ROWS:
            raise CommandError(f"--rows must be between 1 and {MAX_ROWS}.")
        generator = independent_history if options["independent"] else demo_history
        data = generator(n=rows, seed=seed)
        try:
            written = write_csv(out, data, oracle=data.oracle if options["truth"] else None)
        except OSError as error:
            raise CommandError(f"Cannot write {out}: {error.strerror or error}") from error
        self.stdout.write(
            f"Wrote {written} rows to {out} (base rate {data.base_rate:.3f}, "
            f"fingerprint {data.fingerprint[:16]})."
        )
