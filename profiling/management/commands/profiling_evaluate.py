"""`manage.py profiling_evaluate`: score a labelled CSV with the active (or a given) model version.

    python manage.py profiling_evaluate --csv history.csv --json [--version 3]

Prints AUC, ECE, Brier, n and the fairness figures per audited attribute and value
(profiling.model.evaluation), with the lowest threshold of the customer group rules in force.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobcenter.exceptions import ApplicationError
from profiling.management.commands.profiling_train import error_lines
from profiling.model.csvdata import read_labelled_csv
from profiling.model.train import MIN_GROUP_SIZE, model_evaluate
from profiling.models import ModelStatus, ModelVersion


class Command(BaseCommand):
    help = (
        "Evaluate a model version (the active one unless --version) on a labelled CSV file: "
        "AUC, ECE, Brier and fairness figures per sex, citizenship, disability and age band."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version N` names a model version; it replaces Django's own --version (its release).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", metavar="FILE", required=True, help="labelled CSV")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--version", type=int, metavar="N", help="model version number")
        parser.add_argument(
            "--min-group-size",
            type=int,
            default=MIN_GROUP_SIZE,
            help="groups with fewer customers are shown but left out of the ratios",
        )

    def handle(self, *args, **options) -> None:
        from profiling.model.estimator import artefact_loads

        number = options["version"]
        versions = ModelVersion.objects.all()
        version = (
            versions.filter(number=number).first()
            if number is not None
            else versions.filter(status=ModelStatus.ACTIVE).first()
        )
        if version is None:
            raise CommandError(
                f"There is no model version {number}."
                if number is not None
                else "No model version is active. Name one with --version N."
            )
        try:
            estimator = artefact_loads(version.artefact, version.artefact_sha256)
            data = read_labelled_csv(Path(options["csv"]), features=estimator.features)
            result = model_evaluate(
                estimator=estimator, data=data, min_group_size=options["min_group_size"]
            )
        except ApplicationError as error:
            raise CommandError(error_lines(error)) from error
        result = {"model_version": version.number, "data_fingerprint": data.fingerprint, **result}
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self.stdout.write(text_summary(result))


def _fmt(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def text_summary(result: dict) -> str:
    lines = [
        f"Model version {result['model_version']} on {result['n']} rows: "
        f"AUC {_fmt(result['auc'])}, ECE {_fmt(result['ece'])}, Brier {_fmt(result['brier'])}, "
        f"base rate {_fmt(result['base_rate'], 3)}",
        f"Lowest threshold {_fmt(result['lowest_threshold'], 2)}; fpr ratio sex "
        f"{_fmt(result.get('fpr_ratio_sex'), 3)}, citizenship "
        f"{_fmt(result.get('fpr_ratio_citizenship'), 3)}; AUC gap {_fmt(result.get('auc_gap'))}",
    ]
    for attribute, values in result["by_group"].items():
        for value, f in values.items():
            lines.append(
                f"  {attribute}={value}: n {f['n']}, AUC {_fmt(f['auc'])}, ECE {_fmt(f['ece'])}, "
                f"below threshold among positives {_fmt(f['below_threshold_share_of_positives'], 3)}"
            )
    return "\n".join(lines)
