"""Writes: the AI's suggestions, the human decision on them, strategies into the plan, re-profiling.

AI suggests, a human decides (GDPR Art. 22, EU AI Act): a suggestion never changes the case's
customer group; only `suggestion_decide`, a named person's decision, does. Every suggestion is
logged with the model version, the rule set, the exact inputs, the profile version, the
probability with its range, the factors and the strategies; suggestions and decisions are
append-only (the models refuse changes, PostgreSQL refuses UPDATE by trigger).

Interactive (`suggestion_create`, the case page and the API) and batch (`reprofile_batch`, the
nightly goal review on the Celery workers) predict through the same runtime
(profiling.model.runtime.predict_explain), segment with the same rules and rank with the same
catalogue. The batch keeps per-row Python work small and writes in bulk: 100,000 customers must
be re-profiled within a minute on two cores.
"""

import datetime
import json
import logging

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from threadpoolctl import ThreadpoolController

from audit.models import AuditAction
from audit.services import AuditContext, audit_record, audit_record_many
from cases.models import (
    Case,
    CaseEvent,
    CustomerGroup,
    Phase,
    PlanStatus,
    PlanStep,
    StepResponsible,
)
from cases.selectors import case_visible_to
from cases.services.plans import StepInput, plan_draft_create, plan_steps_add
from jobcenter.exceptions import ApplicationError, ConflictError
from profiling.explanations import feature_label, percent
from profiling.model.features import FEATURE_BY_NAME, row_from_profile
from profiling.model.runtime import (
    MAX_MISSING_REQUIRED,
    NoActiveModelError,
    ProfileIncompleteError,
    missing_inputs,
    model_active,
    predict_explain,
)
from profiling.models import (
    ActionStrategy,
    DecisionOutcome,
    ProfilingDecision,
    ProfilingSuggestion,
    SuggestionTrigger,
)
from profiling.rules import segment_for
from profiling.selectors import profile_of
from profiling.services.segments import rule_set_current
from profiling.strategies import strategies_rank

logger = logging.getLogger(__name__)

# The model predicts on one thread. HistGradientBoosting parallelises each tree with OpenMP; for
# one row, or with one worker process per core, the threads only synchronise on every tree:
# measured on two busy cores, 31 ms instead of 9 ms for one customer, 0.86 s instead of 0.2 s for
# 2,000. The controller is made once (threadpoolctl's own limits cost ~4 ms per call).
_THREADPOOLS = ThreadpoolController()


def _one_thread():
    return _THREADPOOLS.limit(limits=1, user_api="openmp")


SUGGESTION_OBJECT = "profiling_suggestion"
DECISION_OBJECT = "profiling_decision"
PROFILE_OBJECT = "profile"
TOP_FACTORS = 3  # per direction: up to three inputs that raise and three that lower the chances
MIN_EFFECT = 0.01  # log-odds; an input that moves the chances less is not worth a line
BATCH_SIZE = 2000
# The timeline kind of an AI suggestion. cases.models.CaseEvent.Kind is to get AI_SUGGESTION
# ("AI suggestion"); until then the value is stored as it is and the timeline shows it raw.
SUGGESTION_EVENT = getattr(CaseEvent.Kind, "AI_SUGGESTION", "ai_suggestion")
STRATEGY_FIELDS = ("code", "name", "conditions", "addresses", "groups", "priority", "active")


class SuggestionNotFoundError(ApplicationError):
    """No such case, suggestion or strategy for this user (another team's case looks the same)."""

    status_code = 404


class SuggestionInputError(ApplicationError):
    """Bad input, with the message of each field in extra["fields"] (shown next to the field)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        first = next(iter(fields.values()))[0]
        super().__init__(first, extra={"fields": fields})
        self.fields = fields


# --- helpers --------------------------------------------------------------------------------------


def _case_for_write(*, ctx: AuditContext, case_id: int) -> Case:
    """The case with customer, household, profile and jobcenter, locked: one query.

    Locked (only the case row: `of=self`) because a suggestion and a decision both set the
    pending flag and the group, and the decision must see the latest suggestion; two of them on
    one case run one after the other.
    """
    try:
        return (
            case_visible_to(user=ctx.actor)
            .select_related("customer__household", "customer__profile", "team__jobcenter")
            .select_for_update(of=("self",))
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise SuggestionNotFoundError(_("There is no case with this number for you.")) from None


def _refuse_closed(case: Case) -> None:
    if case.phase == Phase.CLOSED:
        raise ApplicationError(
            _("The case is closed: the AI makes no more suggestions for it."),
            extra={"code": "case_closed"},
        )


def _group_label(group: str) -> str:
    if not group:
        return _("not yet assigned")
    return str(CustomerGroup(group).label) if group in CustomerGroup.values else group


def _person(ctx: AuditContext):
    return ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None


def _active_model():
    """(ModelVersion, estimator); a missing model is a refusal the card and API can name."""
    try:
        return model_active()
    except NoActiveModelError as error:
        error.extra.setdefault("code", "no_active_model")
        raise


def _incomplete(required: list[str]) -> ProfileIncompleteError:
    return ProfileIncompleteError(
        _(
            "Too little is known for a suggestion: %(inputs)s are not recorded. Complete the "
            "profile first."
        )
        % {"inputs": ", ".join(feature_label(name) for name in required)},
        extra={"code": "profile_incomplete", "missing": required},
    )


def _top_factors(contributions: dict[str, float], inputs: dict) -> list[dict]:
    """Up to TOP_FACTORS inputs that raise and that lower the chances, strongest first."""
    raising = sorted(
        (item for item in contributions.items() if item[1] >= MIN_EFFECT), key=lambda i: -i[1]
    )[:TOP_FACTORS]
    lowering = sorted(
        (item for item in contributions.items() if item[1] <= -MIN_EFFECT), key=lambda i: i[1]
    )[:TOP_FACTORS]
    chosen = sorted(raising + lowering, key=lambda item: -abs(item[1]))
    return [
        {"feature": name, "value": inputs.get(name), "effect": round(effect, 4)}
        for name, effect in chosen
    ]


def _missing(required: list[str], optional: list[str]) -> list[dict]:
    return [{"feature": name, "required": True} for name in required] + [
        {"feature": name, "required": False} for name in optional
    ]


def _missing_ranges(estimator, row: dict, entries: list[dict]) -> None:
    """Per missing input, the range of the probability over its possible values alone."""
    for entry in entries:
        if not entry["required"]:
            continue
        candidates = FEATURE_BY_NAME[entry["feature"]].candidates()
        probabilities = estimator.predict([{**row, entry["feature"]: v} for v in candidates])
        entry["low"] = float(probabilities.min())
        entry["high"] = float(probabilities.max())


def _summary(*, group: str, probability: float, changed: bool, current: str) -> str:
    if changed and current:
        return _(
            "AI suggestion: customer group %(group)s (probability %(probability)s), differs "
            "from the current group %(current)s. A decision is needed."
        ) % {
            "group": _group_label(group),
            "probability": percent(probability),
            "current": _group_label(current),
        }
    if changed:
        return _(
            "AI suggestion: customer group %(group)s (probability %(probability)s). A decision "
            "is needed."
        ) % {"group": _group_label(group), "probability": percent(probability)}
    return _(
        "AI suggestion: customer group %(group)s (probability %(probability)s), the same as "
        "the current group."
    ) % {"group": _group_label(group), "probability": percent(probability)}


# --- one suggestion, on request --------------------------------------------------------------------


@transaction.atomic
def suggestion_create(*, ctx: AuditContext, case_id: int) -> ProfilingSuggestion:
    """The AI reads the customer's profile and suggests a group and strategies, with reasons.

    Refused, with a message that says what to do: a closed case, a customer without a profile
    (record the anamnesis first), no active model, too little known (more than
    MAX_MISSING_REQUIRED inputs missing). Fewer missing inputs give a suggestion that names them
    and the range the probability could take over their possible values.
    """
    case = _case_for_write(ctx=ctx, case_id=case_id)
    _refuse_closed(case)
    customer = case.customer
    profile = profile_of(customer)
    if profile is None:
        raise ApplicationError(
            _(
                "There is no profile for this customer yet. Record the anamnesis on the profile "
                "page first; then the AI can make a suggestion."
            ),
            extra={"code": "no_profile"},
        )
    version, estimator = _active_model()
    row = row_from_profile(
        profile=profile,
        customer=customer,
        region_unemployment_rate=case.team.jobcenter.region_unemployment_rate,
    )
    required, optional = missing_inputs(estimator, row)
    if len(required) > MAX_MISSING_REQUIRED:
        raise _incomplete(required)
    missing = _missing(required, optional)
    with _one_thread():
        prediction = predict_explain(estimator, [row])[0]
        _missing_ranges(estimator, row, missing)
    rule_set = rule_set_current()
    group = segment_for(rules=rule_set.rules, probability=prediction.probability, inputs=row)
    strategies = strategies_rank(
        strategies=ActionStrategy.objects.filter(active=True).only(*STRATEGY_FIELDS),
        inputs=row,
        contributions=prediction.contributions,
        group=group,
    )
    first = not ProfilingSuggestion.objects.filter(case=case).exists()
    changed = group != case.customer_group
    suggestion = ProfilingSuggestion.objects.create(
        case=case,
        customer=customer,
        model_version=version,
        rule_set=rule_set,
        requested_by=_person(ctx),
        trigger=SuggestionTrigger.FIRST if first else SuggestionTrigger.REQUESTED,
        profile_version=profile.version,
        inputs=row,
        missing=missing,
        probability=prediction.probability,
        probability_low=prediction.probability_low,
        probability_high=prediction.probability_high,
        suggested_group=group,
        factors=_top_factors(prediction.contributions, row),
        strategies=strategies,
        changed=changed,
    )
    if case.suggestion_pending != changed:
        case.suggestion_pending = changed
        case.save(update_fields=["suggestion_pending", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        kind=SUGGESTION_EVENT,
        actor=_person(ctx),
        summary=_summary(
            group=group,
            probability=prediction.probability,
            changed=changed,
            current=case.customer_group,
        )[:300],
        data={
            "suggestion_id": suggestion.pk,
            "suggested_group": group,
            "current_group": case.customer_group,
            "model_version": version.number,
            "rule_set_version": rule_set.version,
        },
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.VIEW,
        object_type=PROFILE_OBJECT,
        object_id=customer.pk,
        customer_id=customer.pk,
        detail={"purpose": "ai_suggestion", "profile_version": profile.version},
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=SUGGESTION_OBJECT,
        object_id=suggestion.pk,
        customer_id=customer.pk,
        detail={
            "case_id": case.pk,
            "model_version": version.number,
            "rule_set_version": rule_set.version,
            "suggested_group": group,
            "changed": changed,
            "missing": [entry["feature"] for entry in missing],
        },
    )
    return suggestion


# --- the human decision ----------------------------------------------------------------------------


@transaction.atomic
def suggestion_decide(
    *,
    ctx: AuditContext,
    case_id: int,
    suggestion_id: int,
    accepted: bool,
    group: str,
    reason: str = "",
    strategies: list[str] | None = None,
) -> ProfilingDecision:
    """A person accepts or overrides the latest suggestion; this, and only this, sets the group.

    Only the case's latest suggestion can be decided, and only once (409 otherwise). Overriding
    (a group other than the suggested one) needs a reason; `accepted` must agree with the group.
    The chosen strategies must be among the suggestion's.
    """
    case = _case_for_write(ctx=ctx, case_id=case_id)
    _refuse_closed(case)
    try:
        suggestion = (
            ProfilingSuggestion.objects.filter(case=case, pk=suggestion_id)
            .only("id", "case_id", "suggested_group", "strategies", "created_at")
            .first()
        )
    except (ValueError, TypeError):
        suggestion = None
    if suggestion is None:
        raise SuggestionNotFoundError(_("This case has no such AI suggestion."))
    latest_id = (
        ProfilingSuggestion.objects.filter(case=case)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest_id != suggestion.pk:
        raise ConflictError(
            _(
                "There is a newer AI suggestion for this case. Only the latest one can be "
                "decided: reload the page and decide on it."
            ),
            extra={"code": "not_latest", "latest_suggestion": latest_id},
        )
    earlier = (
        ProfilingDecision.objects.filter(suggestion=suggestion).select_related("decided_by").first()
    )
    if earlier is not None:
        raise ConflictError(
            _("%(name)s already decided on this suggestion on %(day)s.")
            % {
                "name": earlier.decided_by,
                "day": date_format(timezone.localtime(earlier.decided_at), "SHORT_DATETIME_FORMAT"),
            },
            extra={"code": "already_decided", "decision": earlier.pk},
        )

    reason = (reason or "").strip()
    chosen = list(dict.fromkeys(strategies or []))
    errors: dict[str, list[str]] = {}
    overridden = group != suggestion.suggested_group
    if group not in CustomerGroup.values:
        errors["group"] = [_("Choose one of the customer groups.")]
    elif accepted and overridden:
        errors["group"] = [
            _(
                "Accepting the suggestion keeps the suggested group %(group)s. To choose "
                "another group, override the suggestion and give a reason."
            )
            % {"group": _group_label(suggestion.suggested_group)}
        ]
    elif not accepted and not overridden:
        errors["group"] = [
            _("To override the suggestion, choose a group other than the suggested one.")
        ]
    elif overridden and not reason:
        errors["reason"] = [_("Give a reason for choosing another group than the AI suggested.")]
    offered = [item["code"] for item in suggestion.strategies]
    unknown = [code for code in chosen if code not in offered]
    if unknown:
        errors["strategies"] = [
            _("Only the suggested strategies can be chosen; not suggested: %(codes)s.")
            % {"codes": ", ".join(str(code) for code in unknown)}
        ]
    if errors:
        raise SuggestionInputError(errors)

    previous = case.customer_group
    outcome = DecisionOutcome.OVERRIDDEN if overridden else DecisionOutcome.ACCEPTED
    decision = ProfilingDecision.objects.create(
        suggestion=suggestion,
        case=case,
        decided_by=ctx.actor,
        outcome=outcome,
        group=group,
        reason=reason,
        strategies=chosen,
    )
    case.customer_group = group
    case.suggestion_pending = False
    case.save(update_fields=["customer_group", "suggestion_pending", "updated_at"])

    names = {"group": _group_label(group), "previous": _group_label(previous)}
    if overridden:
        summary = _(
            "Customer group set to %(group)s (before: %(previous)s). The AI suggested "
            "%(suggested)s; the suggestion was overridden."
        ) % {**names, "suggested": _group_label(suggestion.suggested_group)}
    elif previous == group:
        summary = _("Customer group %(group)s confirmed; the AI suggestion was followed.") % names
    else:
        summary = (
            _(
                "Customer group set to %(group)s (before: %(previous)s); the AI suggestion was followed."
            )
            % names
        )
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.GROUP_CHANGED,
        actor=ctx.actor,
        summary=summary[:300],
        data={
            "suggestion_id": suggestion.pk,
            "decision_id": decision.pk,
            "outcome": outcome,
            "ai_followed": not overridden,
            "from": previous,
            "to": group,
            "suggested_group": suggestion.suggested_group,
            "reason": reason,
            "strategies": chosen,
        },
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=DECISION_OBJECT,
        object_id=decision.pk,
        customer_id=case.customer_id,
        detail={
            "case_id": case.pk,
            "suggestion_id": suggestion.pk,
            "outcome": outcome,
            "group": [previous, group],
            "strategies": chosen,
        },
    )
    return decision


# --- a strategy into the cooperation plan ---------------------------------------------------------


def _default_goal(case: Case) -> str:
    profile = profile_of(case.customer)
    occupation = (profile.target_occupation or "").strip() if profile is not None else ""
    if occupation:
        return _("Integration into work subject to social insurance as %(occupation)s") % {
            "occupation": occupation
        }
    return _("Integration into work subject to social insurance")


@transaction.atomic
def suggestion_strategy_to_plan(
    *, ctx: AuditContext, case_id: int, suggestion_id: int, code: str
) -> PlanStep:
    """One click: the strategy's step into the draft of the case's cooperation plan.

    Through the plan services, as the plan page does it: without a draft, one is started (the
    first version of the cycle with a goal from the profile, or a new version copying the agreed
    plan). A strategy whose step is already in the draft is refused.
    """
    case = _case_for_write(ctx=ctx, case_id=case_id)
    _refuse_closed(case)
    suggestion = (
        ProfilingSuggestion.objects.filter(case=case, pk=suggestion_id).only("strategies").first()
    )
    if suggestion is None:
        raise SuggestionNotFoundError(_("This case has no such AI suggestion."))
    if code not in [item["code"] for item in suggestion.strategies]:
        raise SuggestionNotFoundError(_("This strategy was not suggested for this case."))
    strategy = ActionStrategy.objects.filter(code=code).first()
    if strategy is None or not strategy.active:
        raise ApplicationError(
            _("This strategy is no longer offered in the catalogue."),
            extra={"code": "strategy_inactive"},
        )
    draft = case.plans.filter(status=PlanStatus.DRAFT).first()
    if draft is None:
        agreed = case.plans.filter(status=PlanStatus.AGREED, cycle=case.cycle).exists()
        draft = plan_draft_create(
            ctx=ctx, case_id=case.pk, integration_goal=None if agreed else _default_goal(case)
        )
    description = strategy.step_text.strip()
    if draft.steps.filter(description=description).exists():
        raise ConflictError(
            _("The step of “%(strategy)s” is already in the draft of the cooperation plan.")
            % {"strategy": strategy.name},
            extra={"code": "already_in_plan"},
        )
    responsible = (
        strategy.step_responsible
        if strategy.step_responsible in StepResponsible.values
        else StepResponsible.CUSTOMER
    )
    due = timezone.localdate() + datetime.timedelta(weeks=strategy.step_due_weeks or 4)
    (step,) = plan_steps_add(
        ctx=ctx,
        case_id=case.pk,
        steps=[
            StepInput(
                responsible=responsible,
                description=description,
                due_date=due,
                responsible_name=strategy.name
                if responsible == StepResponsible.THIRD_PARTY
                else "",
            )
        ],
    )
    return step


def suggestion_strategies_in_draft(*, case: Case, suggestion: ProfilingSuggestion) -> set[str]:
    """The codes of the suggestion's strategies whose step is in the case's draft plan. One query."""
    codes = [item["code"] for item in suggestion.strategies]
    if not codes:
        return set()
    texts = dict(ActionStrategy.objects.filter(code__in=codes).values_list("step_text", "code"))
    in_draft = PlanStep.objects.filter(
        plan__case=case, plan__status=PlanStatus.DRAFT, description__in=list(texts)
    ).values_list("description", flat=True)
    return {texts[text] for text in in_draft if text in texts}


# --- re-profiling: the goal review in batches -----------------------------------------------------

# The profile fields the model rows are built from, with short names (values(), no model objects).
_PROFILE = "customer__profile__"
_ROW_FIELDS = {
    "school": F(f"{_PROFILE}school"),
    "vocational": F(f"{_PROFILE}vocational"),
    "german": F(f"{_PROFILE}german"),
    "work_months_5y": F(f"{_PROFILE}work_months_5y"),
    "months_unemployed": F(f"{_PROFILE}months_unemployed"),
    "months_in_benefit": F(f"{_PROFILE}months_in_benefit"),
    "health": F(f"{_PROFILE}health"),
    "care": F(f"{_PROFILE}care"),
    "driving_licence": F(f"{_PROFILE}driving_licence"),
    "debt": F(f"{_PROFILE}debt"),
    "housing": F(f"{_PROFILE}housing"),
    "motivation": F(f"{_PROFILE}motivation"),
    "target_kldb": F(f"{_PROFILE}target_kldb"),
    "adults": F("customer__household__adults"),
    "children": F("customer__household__children"),
    "rate": F("team__jobcenter__region_unemployment_rate"),
    "version": F(f"{_PROFILE}version"),
}


def _due_cases(*, today: datetime.date):
    """Open cases with a profile whose latest suggestion is missing, older than the goal review
    date that has come, or made on an older version of the profile. One query."""
    latest = ProfilingSuggestion.objects.filter(case=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Case.objects.open()
        .filter(customer__profile__isnull=False)
        .annotate(
            last_at=Subquery(latest.values("created_at")[:1]),
            last_profile_version=Subquery(latest.values("profile_version")[:1]),
        )
        .filter(
            Q(last_at__isnull=True)
            | Q(last_profile_version__lt=F("customer__profile__version"))
            | Q(review_due__lte=today, last_at__date__lt=F("review_due"))
        )
    )


def reprofile_find_due(*, today: datetime.date | None = None) -> list[int]:
    """The ids of the cases the goal review has to re-profile, in id order. One query."""
    today = today or timezone.localdate()
    return list(_due_cases(today=today).order_by("pk").values_list("pk", flat=True))


def _row(values: dict) -> dict:
    """The model inputs of one case, as profiling.model.features.row_from_profile builds them.

    The same mapping, on values() instead of model objects (the batch loads no objects); a test
    checks both agree.
    """
    adults = values["adults"]
    rate = values["rate"]
    return {
        "school": values["school"] or None,
        "vocational": values["vocational"] or None,
        "german": values["german"] or None,
        "work_months_5y": values["work_months_5y"],
        "months_unemployed": values["months_unemployed"],
        "months_in_benefit": values["months_in_benefit"],
        "health": values["health"] or None,
        "care": values["care"] or None,
        "single_parent": None if adults is None else int(adults == 1 and values["children"] > 0),
        "driving_licence": int(bool(values["driving_licence"])),
        "debt": values["debt"] or None,
        "housing": values["housing"] or None,
        "motivation": values["motivation"] or None,
        "region_unemployment_rate": None if rate is None else float(rate),
        "target_kldb": values["target_kldb"] or None,
    }


def _trigger(values: dict) -> str:
    if values["last_at"] is None:
        return SuggestionTrigger.FIRST
    if values["last_profile_version"] < values["version"]:
        return SuggestionTrigger.PROFILE_CHANGED
    return SuggestionTrigger.REVIEW_DUE


_COLUMNS = (
    "case_id",
    "customer_id",
    "model_version_id",
    "rule_set_id",
    "created_at",
    "trigger",
    "profile_version",
    "inputs",
    "missing",
    "probability",
    "probability_low",
    "probability_high",
    "suggested_group",
    "factors",
    "strategies",
    "changed",
    "dedupe_key",
)
_JSON_COLUMNS = frozenset({"inputs", "missing", "factors", "strategies"})


def _suggestions_write(rows: list[dict]) -> list[tuple[int, int]]:
    """Insert the batch's suggestions, leaving out any whose dedupe_key is taken already.

    Returns (id, case id) of the rows written. On PostgreSQL through COPY into a temporary table
    and one INSERT ... ON CONFLICT DO NOTHING RETURNING: four times faster than bulk_create,
    whose UNNEST arrays escape every quote of the JSON columns in Python. Elsewhere (the SQLite
    demo) bulk_create with ignore_conflicts.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _suggestions_copy(rows)
    keys = [row["dedupe_key"] for row in rows]
    existing = set(
        ProfilingSuggestion.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    ProfilingSuggestion.objects.bulk_create(
        [ProfilingSuggestion(**row) for row in rows if row["dedupe_key"] not in existing],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    return list(
        ProfilingSuggestion.objects.filter(dedupe_key__in=keys)
        .exclude(dedupe_key__in=existing)
        .values_list("pk", "case_id")
    )


def _suggestions_copy(rows: list[dict]) -> list[tuple[int, int]]:
    table = ProfilingSuggestion._meta.db_table
    temporary = "profiling_suggestion_batch"
    columns = ", ".join(_COLUMNS)
    # Constants only: no value of a row is ever part of the SQL text.
    create = (
        f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    insert = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temporary} "  # noqa: S608
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, case_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(create)
        with cursor.cursor.copy(f"COPY {temporary} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(row[c]) if c in _JSON_COLUMNS else row[c] for c in _COLUMNS]
                )
        cursor.execute(insert)
        written = [tuple(item) for item in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {temporary}")
    return written


def reprofile_batch(*, case_ids: list[int], today: datetime.date | None = None) -> int:
    """Re-profile those of `case_ids` that are still due; returns how many suggestions it wrote.

    Bulk all the way: one query loads cases, profiles, households and the latest suggestion;
    one predict_explain call covers the batch; the suggestions are written with bulk_create
    (ignore_conflicts on `dedupe_key`, so a second run, or a second worker, adds nothing);
    one UPDATE sets the pending flag where the suggested group differs from the case's group;
    one audit_record_many logs the batch. The group itself is never changed here.
    Rows with too many missing inputs are skipped and counted, never guessed.
    """
    today = today or timezone.localdate()
    case_ids = [int(pk) for pk in case_ids]
    if not case_ids:
        return 0
    try:
        version, estimator = model_active()
    except NoActiveModelError:
        logger.warning("Re-profiling skipped: no active profiling model.")
        return 0
    try:
        rule_set = rule_set_current()
    except ApplicationError:
        logger.warning("Re-profiling skipped: no customer group rules are set up.")
        return 0
    rules = rule_set.rules
    catalogue = list(ActionStrategy.objects.filter(active=True).values(*STRATEGY_FIELDS))
    loaded = list(
        _due_cases(today=today)
        .filter(pk__in=case_ids)
        .order_by("pk")
        .values(
            "id",
            "customer_id",
            "customer_group",
            "review_due",
            "last_at",
            "last_profile_version",
            **_ROW_FIELDS,
        )
    )
    cases, rows, missing = [], [], []
    skipped = 0
    for values in loaded:
        row = _row(values)
        required, optional = missing_inputs(estimator, row)
        if len(required) > MAX_MISSING_REQUIRED:
            skipped += 1
            continue
        cases.append(values)
        rows.append(row)
        missing.append(_missing(required, optional))
    if skipped:
        logger.info("Re-profiling: %d cases skipped, too little known.", skipped)
    if not rows:
        return 0
    with _one_thread():
        predictions = predict_explain(estimator, rows)

    now = timezone.now()
    suggestions, changed_ids, agreeing_ids = [], [], []
    for values, row, prediction, gaps in zip(cases, rows, predictions, missing, strict=True):
        group = segment_for(rules=rules, probability=prediction.probability, inputs=row)
        trigger = _trigger(values)
        review = values["review_due"] if trigger == SuggestionTrigger.REVIEW_DUE else None
        changed = group != values["customer_group"]
        (changed_ids if changed else agreeing_ids).append(values["id"])
        suggestions.append(
            {
                "case_id": values["id"],
                "customer_id": values["customer_id"],
                "model_version_id": version.pk,
                "rule_set_id": rule_set.pk,
                "created_at": now,
                "trigger": trigger,
                "profile_version": values["version"],
                "inputs": row,
                "missing": gaps,
                "probability": prediction.probability,
                "probability_low": prediction.probability_low,
                "probability_high": prediction.probability_high,
                "suggested_group": group,
                "factors": _top_factors(prediction.contributions, row),
                "strategies": strategies_rank(
                    strategies=catalogue,
                    inputs=row,
                    contributions=prediction.contributions,
                    group=group,
                ),
                "changed": changed,
                # The review date only for a goal review: a first suggestion made before the
                # review date must not take the key of the review itself.
                "dedupe_key": (
                    f"{values['id']}:{values['version']}:{review.isoformat() if review else ''}"
                    f":{version.pk}:{rule_set.pk}"
                ),
            }
        )
    customers = {values["id"]: values["customer_id"] for values in cases}
    with transaction.atomic():
        written = _suggestions_write(suggestions)
        if changed_ids:
            Case.objects.filter(pk__in=changed_ids, suggestion_pending=False).update(
                suggestion_pending=True
            )
        if agreeing_ids:
            Case.objects.filter(pk__in=agreeing_ids, suggestion_pending=True).update(
                suggestion_pending=False
            )
        audit_record_many(
            ctx=AuditContext.system(),
            action=AuditAction.CREATE,
            object_type=SUGGESTION_OBJECT,
            items=[(pk, customers[case_id]) for pk, case_id in written],
            detail={
                "batch": True,
                "reads": [PROFILE_OBJECT],
                "model_version": version.number,
                "rule_set_version": rule_set.version,
                "skipped_incomplete": skipped,
            },
        )
    return len(written)
