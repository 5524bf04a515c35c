"""Training a model version: split, fit, evaluate on held-out rows, write the model card, store.

`model_train` is the one entry point (the `profiling_train` command and the benchmark call it).
Nothing is activated here: a new version is a candidate until an admin activates it.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from jobcenter.exceptions import ApplicationError
from profiling.model.csvdata import LabelledData
from profiling.model.evaluation import evaluate
from profiling.model.features import FEATURE_NAMES

MIN_ROWS = 200
MIN_PER_OUTCOME = 20
MIN_GROUP_SIZE = 1000  # the bound: fairness figures for groups with >= 1,000 customers
FALLBACK_LOWEST_THRESHOLD = 0.10  # the starter rules' lowest bound (profiling migration 0006)
NEVER_INPUTS = ("sex", "age", "citizenship", "disability")


class TrainingDataError(ApplicationError):
    """The data are too small or too one-sided to train and check a model on."""


# --- The customer group rules in force ------------------------------------------------------------


def current_rules() -> list[dict] | None:
    """The rules of the customer group rule set in force, or None if there is none yet."""
    rule_set = None
    try:
        from profiling.services.segments import rule_set_current
    except ImportError:
        rule_set_current = None
    if rule_set_current is not None:
        try:
            rule_set = rule_set_current()
        except ApplicationError:
            rule_set = None
    else:
        from profiling.models import SegmentRuleSet

        rule_set = SegmentRuleSet.objects.order_by("-version").first()
    return None if rule_set is None else list(rule_set.rules)


def lowest_threshold(rules: list[dict] | None) -> float:
    """The threshold of the fairness audit: the rules' lowest upper bound (0.10 without rules)."""
    if rules:
        from profiling.rules import rules_lowest_threshold

        threshold = rules_lowest_threshold(rules)
        if threshold is not None:
            return float(threshold)
    return FALLBACK_LOWEST_THRESHOLD


def suggested_groups(
    rules: list[dict] | None, probabilities: np.ndarray, rows: list[dict]
) -> list[str] | None:
    """The customer group the rules would suggest for each row; None without rules."""
    if not rules:
        return None
    from profiling.rules import segment_for

    return [
        segment_for(rules=rules, probability=float(p), inputs=row)
        for p, row in zip(probabilities, rows, strict=True)
    ]


def model_evaluate(
    *,
    estimator,
    data: LabelledData,
    rules: list[dict] | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
    use_rules: bool = True,
) -> dict:
    """`evaluation.evaluate` of an estimator on labelled data, with the rules in force."""
    if use_rules and rules is None:
        rules = current_rules()
    probabilities = estimator.predict(data.rows)
    return evaluate(
        probabilities=probabilities,
        outcomes=data.outcomes,
        audit=data.audit,
        lowest_threshold=lowest_threshold(rules),
        groups=suggested_groups(rules, probabilities, data.rows),
        oracle=data.oracle,
        min_group_size=min_group_size,
    )


# --- Splitting ------------------------------------------------------------------------------------


def check_training_data(data: LabelledData) -> None:
    n = len(data)
    positives = int(np.sum(data.outcomes == 1))
    negatives = n - positives
    if n < MIN_ROWS or min(positives, negatives) < MIN_PER_OUTCOME:
        raise TrainingDataError(
            _(
                "Too little data to train and check a model: %(rows)d rows, %(positives)d who "
                "found work and %(negatives)d who did not. At least %(min_rows)d rows and "
                "%(min_outcome)d of each outcome are needed."
            )
            % {
                "rows": n,
                "positives": positives,
                "negatives": negatives,
                "min_rows": MIN_ROWS,
                "min_outcome": MIN_PER_OUTCOME,
            },
            extra={"rows": n, "positives": positives, "negatives": negatives},
        )


def stratified_split(
    outcomes: np.ndarray, *, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(fit index, held-out index): `share` of each outcome held out, the same for a seed."""
    rng = np.random.default_rng([seed, 4242])
    held = np.zeros(len(outcomes), dtype=bool)
    for label in (0, 1):
        index = np.flatnonzero(outcomes == label)
        take = max(1, round(len(index) * share))
        held[rng.choice(index, size=take, replace=False)] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


# --- The model card -------------------------------------------------------------------------------


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _section(key: str, title: str, paragraphs: list[str], facts=None) -> dict:
    return {"key": key, "title": title, "paragraphs": paragraphs, "facts": facts or []}


def _card_sections(
    *, estimator, data: LabelledData, source: str, source_name: str, metrics: dict, fit_rows: int
) -> list[dict]:
    from profiling.models import ModelSource

    synthetic = source == ModelSource.SYNTHETIC
    intended = _section(
        "intended_use",
        _("Intended use"),
        [
            _(
                "The model estimates the probability that a customer in basic income support "
                "(SGB II) takes up work subject to social insurance within 12 months. The "
                "estimate is a suggestion for the caseworker, together with the factors behind "
                "it and a suggested customer group."
            ),
            _(
                "It never decides on its own: only the caseworker's decision sets the customer "
                "group, and it can always be overridden with a reason (GDPR Art. 22). Profiling "
                "people for access to public services is high-risk under the EU AI Act (Annex "
                "III): every suggestion is logged with this model version and its inputs."
            ),
        ],
    )
    data_section = _section(
        "data",
        _("Data"),
        [
            _(
                "Synthetic history of the demo generator: invented customers whose true "
                "probability is known, so the best possible accuracy can be measured. It "
                "describes no real period and no real people."
            )
            if synthetic
            else _(
                "The jobcenter's own history of customer episodes (CSV). The period is not "
                "recorded in the file; check it against the export before activating."
            ),
            _(
                "%(fit)d rows were used to fit the model and %(held)d held-out rows to "
                "measure it; the figures below are from the held-out rows only."
            )
            % {"fit": fit_rows, "held": metrics["n"]},
        ],
        [
            [_("Source"), str(ModelSource(source).label)],
            [_("Data set"), source_name or "–"],
            [_("Rows"), str(len(data))],
            [_("Period"), _("synthetic, no period") if synthetic else _("not recorded")],
            [_("Share integrated within 12 months"), _pct(data.base_rate)],
            [_("Data fingerprint (SHA-256)"), data.fingerprint],
        ],
    )
    inputs = _section(
        "inputs",
        _("Inputs"),
        [
            _("The model reads these inputs from the profile: %(names)s.")
            % {"names": ", ".join(estimator.features)},
            _(
                "Sex, age, citizenship and disability are never inputs. They are kept only to "
                "check the model for fairness."
            ),
            _(
                "Unknown inputs are allowed: the suggestion then names them and shows the range "
                "the probability could take, which widens with every missing input."
            ),
        ],
    )
    params = ", ".join(f"{key}={value}" for key, value in sorted(estimator.params.items()))
    method = _section(
        "method",
        _("Method"),
        [
            _(
                "Gradient boosting on decision trees (scikit-learn), with its probabilities "
                "calibrated on rows it was not fitted on, so that a probability of 30 percent "
                "means that about 30 of 100 such customers found work."
            ),
            _(
                "The factors shown to caseworkers are the change in the model's estimate when one "
                "input is replaced by its most common value."
            ),
        ],
        [[_("Algorithm"), estimator.algorithm], [_("Parameters"), params]],
    )
    overall = [
        [_("AUC (ranking, 0.5 = chance, 1 = perfect)"), _num(metrics.get("auc"))],
        [_("Calibration error (ECE)"), _num(metrics.get("ece"))],
        [_("Brier score"), _num(metrics.get("brier"))],
        [_("Held-out rows"), str(metrics.get("n"))],
        [_("Share integrated within 12 months"), _pct(metrics.get("base_rate"))],
    ]
    if metrics.get("oracle_auc") is not None:
        overall += [
            [_("AUC of the true probabilities"), _num(metrics.get("oracle_auc"))],
            [_("Share of the best possible AUC reached"), _pct(metrics.get("auc_ratio"))],
        ]
    metrics_section = _section(
        "metrics",
        _("Metrics"),
        [
            _(
                "Measured on the held-out rows, overall and for each value of sex, citizenship, "
                "disability and age band (tables below). Fairness figures compare only groups "
                "with at least %(size)d customers."
            )
            % {"size": metrics.get("min_group_size", MIN_GROUP_SIZE)}
        ],
        overall,
    )
    threshold = metrics.get("lowest_threshold")
    fairness_facts = [
        [_("Lowest threshold of the customer group rules"), _pct(threshold)],
        [
            _("Largest AUC difference between groups (sex, citizenship)"),
            _num(metrics.get("auc_gap")),
        ],
        [_("Largest calibration error of a group"), _num(metrics.get("max_group_ece"))],
    ]
    for attribute, label in (("sex", _("sex")), ("citizenship", _("citizenship"))):
        fairness_facts.append(
            [
                _(
                    "Ratio of the shares below the threshold among those who found work, by %(attribute)s"
                )
                % {"attribute": label},
                _num(metrics.get(f"fpr_ratio_{attribute}"), 2),
            ]
        )
        if metrics.get(f"oracle_fpr_ratio_{attribute}") is not None:
            fairness_facts.append(
                [
                    _("The same ratio with the true probabilities, by %(attribute)s")
                    % {"attribute": label},
                    _num(metrics.get(f"oracle_fpr_ratio_{attribute}"), 2),
                ]
            )
    if metrics.get("demographic_parity_max") is not None:
        fairness_facts.append(
            [
                _("Largest difference in the share of a suggested customer group"),
                _pct(metrics.get("demographic_parity_max")),
            ]
        )
    fairness = _section(
        "fairness",
        _("Fairness"),
        [
            _(
                "Where the share of customers who find work differs between groups, a model "
                "cannot have both equal error rates and calibration within every group "
                "(Kleinberg et al. 2016, Chouldechova 2017)."
            ),
            _(
                "This product keeps calibration within groups: the probability is shown to a "
                "caseworker and must mean the same for every customer, whatever their sex, age, "
                "citizenship or disability. It reports the differences in error rates next to "
                "those the true chances themselves would give, so that a disparity the model "
                "adds of its own becomes visible."
            ),
            _(
                "The error rate reported is the share of customers who did find work but were "
                "put below the lowest threshold of the customer group rules."
            ),
        ],
        fairness_facts,
    )
    limits = _section(
        "limits",
        _("Known limits"),
        [
            _(
                "Trained on history, the model reproduces the disadvantages of the past labour "
                "market: groups who found work less often are estimated lower."
            ),
            _("Not for customers outside basic income support (SGB II)."),
            _(
                "An estimate about customers with similar profiles, not a judgement of a person; "
                "the caseworker knows things the model does not."
            ),
            _(
                "Evaluate it again after changes to the data or the customer group rules; "
                "activate a new version only after comparing it with the active one."
            ),
            _("Missing inputs widen the range of the estimate."),
        ],
    )
    return [intended, data_section, inputs, method, metrics_section, fairness, limits]


def model_card(**kwargs) -> dict:
    """The card in every language of the installation: {"de": [sections], "en": [...]}."""
    card = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            card[code] = _card_sections(**kwargs)
    return card


# --- Training -------------------------------------------------------------------------------------


def model_train(
    *,
    data: LabelledData,
    source: str,
    source_name: str,
    actor=None,
    seed: int = 0,
    holdout_share: float = 0.25,
):
    """Fit on 1 - holdout_share of the rows, measure on the rest, store a candidate version."""
    from profiling.model.estimator import ProfilingEstimator
    from profiling.services.models import model_version_store

    check_training_data(data)
    fit_index, held_index = stratified_split(data.outcomes, share=holdout_share, seed=seed)
    fit_part, held_part = data.subset(fit_index), data.subset(held_index)
    features = tuple(name for name in FEATURE_NAMES if name not in NEVER_INPUTS)
    estimator = ProfilingEstimator.fit(
        fit_part.rows, fit_part.outcomes, features=features, seed=seed
    )
    min_group_size = min(MIN_GROUP_SIZE, max(100, len(held_part) // 10))
    metrics = model_evaluate(estimator=estimator, data=held_part, min_group_size=min_group_size)
    metrics["evaluated_on"] = "holdout"
    metrics["holdout_share"] = holdout_share
    metrics["fit_rows"] = len(fit_part)
    card = model_card(
        estimator=estimator,
        data=data,
        source=source,
        source_name=source_name,
        metrics=metrics,
        fit_rows=len(fit_part),
    )
    return model_version_store(
        estimator=estimator,
        data=data,
        source=source,
        source_name=source_name,
        metrics=metrics,
        model_card=card,
        actor=actor,
    )
