"""Writes of the customer group configuration: the rules (versioned), each group's settings, and the
catalogue of action strategies. The rules page, the API and the Django admin call these.

Only administrators configure (a caseworker or team lead gets PermissionDenied, the system may act
without a person). The rules themselves are checked by profiling.rules; every write leaves an audit
row with what changed. Rule sets are never changed: a change is a new version, and before it is
saved the preview says how many customers of open cases would change group.
"""

from bisect import bisect_right
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, Channel, CustomerGroup, StepResponsible
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role
from profiling.model.features import FEATURE_NAMES
from profiling.models import ActionStrategy, ProfilingSuggestion, SegmentConfig, SegmentRuleSet
from profiling.rules import (
    RulesError,
    conditions_validate,
    rules_bounds,
    rules_fields,
    rules_validate,
    segment_for,
)

MIN_CADENCE_DAYS = 1
MAX_CADENCE_DAYS = 365
RULE_SET_HISTORY = 50


class SegmentRulesConflictError(ConflictError):
    """Someone saved a newer version of the rules since the one the change was based on."""


class SegmentConfigInvalidError(ApplicationError):
    """The settings of a group break a rule; `extra["fields"]` holds the messages per field."""


class ActionStrategyInvalidError(ApplicationError):
    """A catalogue entry breaks a rule; `extra["fields"]` holds the messages per field."""


def _require_admin(ctx: AuditContext) -> None:
    actor = ctx.actor
    if actor is None:
        return  # the system: a migration, a command
    if not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators configure the customer groups."))


def _not_set_up() -> ApplicationError:
    return ApplicationError(
        _("No customer group rules have been set up yet (python manage.py migrate does it).")
    )


def _person(ctx: AuditContext):
    return ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None


# --- reads of the configuration (the same for everyone who may see it) -----------------------------


def rule_set_current() -> SegmentRuleSet:
    """The rules in force: the highest version."""
    rule_set = SegmentRuleSet.objects.select_related("created_by").order_by("-version").first()
    if rule_set is None:
        raise _not_set_up()
    return rule_set


def rule_set_list(*, limit: int = RULE_SET_HISTORY) -> list[SegmentRuleSet]:
    """The versions of the rules, newest first."""
    return list(SegmentRuleSet.objects.select_related("created_by").order_by("-version")[:limit])


def segment_config_list() -> list[SegmentConfig]:
    """The settings of the customer groups, in the order of CustomerGroup."""
    order = {group: index for index, group in enumerate(CustomerGroup.values)}
    return sorted(SegmentConfig.objects.all(), key=lambda config: order.get(config.group, 99))


# --- the rules -------------------------------------------------------------------------------------


def _latest_suggestion_rows(fields: list[str]) -> list[tuple]:
    """(probability, *inputs named in `fields`) of the latest suggestion of every open case.

    One query. The latest suggestion per case is row 1 of a window over the case's suggestions
    (newest first), which PostgreSQL and SQLite both run without DISTINCT ON; only the inputs
    the rules read are fetched, as text (->>), so no JSON document is decoded in Python.
    """
    inputs = {f"input_{name}": KeyTextTransform(name, "inputs") for name in fields}
    latest = (
        ProfilingSuggestion.objects.filter(case__in=Case.objects.open().values("pk"))
        .annotate(
            newest_first=Window(
                RowNumber(),
                partition_by=[F("case_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            ),
            **inputs,
        )
        .filter(newest_first=1)
        .order_by()
    )
    return list(latest.values_list("probability", *inputs))


def _compare(*, before_rules: list[dict], after_rules: list[dict]) -> dict:
    fields = sorted(rules_fields(before_rules) | rules_fields(after_rules))
    bounds = sorted(set(rules_bounds(before_rules)) | set(rules_bounds(after_rules)))
    groups = list(CustomerGroup.values)
    by_before: Counter = Counter()
    by_after: Counter = Counter()
    moves: Counter = Counter()
    rows = _latest_suggestion_rows(fields)
    # Between two bounds, and for the same values of the inputs the rules read, both rule sets
    # decide alike: evaluate each such combination once (100,000 cases are a few hundred).
    decided: dict[tuple, tuple[str, str]] = {}
    for probability, *values in rows:
        key = (bisect_right(bounds, probability), *values)
        pair = decided.get(key)
        if pair is None:
            row_inputs = dict(zip(fields, values, strict=True))
            pair = decided[key] = (
                segment_for(rules=before_rules, probability=probability, inputs=row_inputs),
                segment_for(rules=after_rules, probability=probability, inputs=row_inputs),
            )
        before, after = pair
        by_before[before] += 1
        by_after[after] += 1
        if before != after:
            moves[f"{before}->{after}"] += 1
    return {
        "compared": len(rows),
        "moving": sum(moves.values()),
        "moves": dict(sorted(moves.items())),
        "by_group_before": {group: by_before[group] for group in groups},
        "by_group_after": {group: by_after[group] for group in groups},
    }


def rule_set_preview(*, rules) -> dict:
    """What the new rules would change, before anything is saved.

    For every open case with a suggestion, the latest suggestion's probability and inputs go
    through the rules in force and the new ones: {"compared", "moving", "moves": {"from->to": n},
    "by_group_before", "by_group_after", "current_version"}. Bad rules: RulesError (400).
    """
    checked = rules_validate(rules)
    current = rule_set_current()
    return {
        **_compare(before_rules=current.rules, after_rules=checked),
        "current_version": current.version,
    }


def _same_rules(stored, checked: list[dict]) -> bool:
    try:
        return rules_validate(stored) == checked
    except RulesError:
        return False


def _conflict(current: SegmentRuleSet, expected_version: int) -> SegmentRulesConflictError:
    who = _("the system")
    if current.created_by is not None:
        who = current.created_by.get_full_name() or current.created_by.get_username()
    when = date_format(timezone.localtime(current.created_at), "SHORT_DATETIME_FORMAT")
    return SegmentRulesConflictError(
        _(
            "The rules were changed in the meantime (now version %(current)d, by %(who)s on "
            "%(when)s); your change was based on version %(expected)d and was not saved. Look at "
            "the current rules and the new preview, then save again."
        )
        % {"current": current.version, "who": who, "when": when, "expected": expected_version},
        extra={"current_version": current.version, "expected_version": expected_version},
    )


@transaction.atomic
def rule_set_save(*, ctx: AuditContext, rules, note: str, expected_version: int) -> SegmentRuleSet:
    """Save the rules as a new version, with the preview of the moves it causes.

    `expected_version` is the version the change was based on; if a newer one was saved in
    between: SegmentRulesConflictError (409), nothing saved. Bad rules: RulesError (400); a reason
    (`note`) is required; rules equal to the current ones are refused (nothing to save).
    """
    _require_admin(ctx)
    checked = rules_validate(rules)
    note = (note or "").strip()
    if not note:
        message = _("Give a reason for the change.")
        raise ApplicationError(message, extra={"fields": {"note": [message]}})
    # Two admins saving at once: the second waits for the lock and then sees the newer version
    # (or, if both read the same one, the unique version number refuses the second insert).
    current = (
        SegmentRuleSet.objects.select_for_update(of=("self",))
        .select_related("created_by")
        .order_by("-version")
    ).first()
    if current is None:
        raise _not_set_up()
    if current.version != expected_version:
        raise _conflict(current, expected_version)
    if _same_rules(current.rules, checked):
        raise ApplicationError(
            _("These are the rules of version %(version)d already; there is nothing to save.")
            % {"version": current.version},
            extra={"current_version": current.version},
        )
    preview = {
        **_compare(before_rules=current.rules, after_rules=checked),
        "current_version": current.version,
    }
    try:
        with transaction.atomic():
            rule_set = SegmentRuleSet.objects.create(
                version=current.version + 1,
                rules=checked,
                created_by=_person(ctx),
                note=note,
                moves=preview,
            )
    except IntegrityError:
        raise _conflict(rule_set_current(), expected_version) from None
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="segment_rule_set",
        object_id=rule_set.version,
        detail={
            "version": rule_set.version,
            "previous_version": current.version,
            "compared": preview["compared"],
            "moving": preview["moving"],
            "moves": preview["moves"],
        },
    )
    return rule_set


# --- the settings of a group -----------------------------------------------------------------------


def segment_config_errors(
    *, service_model, contact_cadence_days, channels, fixed_caseworker=False
) -> dict[str, list[str]]:
    """The messages per field for settings that break a rule; empty when they are fine."""
    errors: dict[str, list[str]] = {}
    if not isinstance(service_model, str) or not service_model.strip():
        errors["service_model"] = [_("Describe the service model of the group.")]
    if (
        type(contact_cadence_days) is not int
        or not MIN_CADENCE_DAYS <= contact_cadence_days <= MAX_CADENCE_DAYS
    ):
        errors["contact_cadence_days"] = [
            _("The contact cadence is a whole number of days from %(min)d to %(max)d.")
            % {"min": MIN_CADENCE_DAYS, "max": MAX_CADENCE_DAYS}
        ]
    if not isinstance(channels, list) or not channels:
        errors["channels"] = [_("Choose at least one channel.")]
    else:
        unknown = [channel for channel in channels if channel not in Channel.values]
        if unknown:
            errors["channels"] = [
                _("Unknown channel: %(channels)s. Possible: %(known)s.")
                % {
                    "channels": ", ".join(str(channel) for channel in unknown),
                    "known": ", ".join(Channel.values),
                }
            ]
        elif len(set(channels)) != len(channels):
            errors["channels"] = [_("Name each channel only once.")]
    if not isinstance(fixed_caseworker, bool):
        errors["fixed_caseworker"] = [_("Say yes or no.")]
    return errors


@transaction.atomic
def segment_config_update(
    *,
    ctx: AuditContext,
    group: str,
    service_model: str,
    contact_cadence_days: int,
    channels: list[str],
    fixed_caseworker: bool,
) -> SegmentConfig:
    """Change the settings of one customer group: service model, cadence, channels, fixed caseworker.

    `channels`: cases.models.Channel values, the first one the default. Invalid settings:
    SegmentConfigInvalidError (400) with the messages per field; nothing changed: nothing written.
    """
    _require_admin(ctx)
    config = SegmentConfig.objects.select_for_update().filter(group=group).first()
    if config is None:
        raise ApplicationError(
            _("There are no settings for the customer group %(group)s.") % {"group": group},
            extra={"group": group},
        )
    errors = segment_config_errors(
        service_model=service_model,
        contact_cadence_days=contact_cadence_days,
        channels=channels,
        fixed_caseworker=fixed_caseworker,
    )
    if errors:
        raise SegmentConfigInvalidError(
            _("The settings were not saved: please correct the marked fields."),
            extra={"fields": errors},
        )
    values = {
        "service_model": service_model.strip(),
        "contact_cadence_days": contact_cadence_days,
        "channels": list(channels),
        "fixed_caseworker": fixed_caseworker,
    }
    changed = {
        name: [getattr(config, name), value]
        for name, value in values.items()
        if getattr(config, name) != value
    }
    if not changed:
        return config
    for name, value in values.items():
        setattr(config, name, value)
    config.full_clean()
    config.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="segment_config",
        object_id=config.pk,
        detail={"group": group, "changed": changed},
    )
    return config


# --- the catalogue of action strategies ------------------------------------------------------------

STRATEGY_FIELDS = (
    "code",
    "name",
    "description",
    "customer_text",
    "conditions",
    "addresses",
    "groups",
    "step_text",
    "step_responsible",
    "step_due_weeks",
    "priority",
    "active",
)


def action_strategy_errors(strategy: ActionStrategy) -> dict[str, list[str]]:
    """The messages per field for the catalogue's own rules (beyond the model field checks)."""
    errors: dict[str, list[str]] = {}
    try:
        strategy.conditions = conditions_validate(strategy.conditions or [])
    except RulesError as error:
        errors["conditions"] = [error.message]
    addresses = strategy.addresses
    if not isinstance(addresses, list) or any(name not in FEATURE_NAMES for name in addresses):
        errors["addresses"] = [
            _("Choose model inputs only: %(known)s.") % {"known": ", ".join(FEATURE_NAMES)}
        ]
    groups = strategy.groups
    if not isinstance(groups, list) or any(group not in CustomerGroup.values for group in groups):
        errors["groups"] = [
            _("Choose customer groups only: %(known)s.")
            % {"known": ", ".join(CustomerGroup.values)}
        ]
    if strategy.step_responsible not in StepResponsible.values:
        errors["step_responsible"] = [
            _("Responsible for the step: one of %(known)s.")
            % {"known": ", ".join(StepResponsible.values)}
        ]
    return errors


@transaction.atomic
def action_strategy_save(*, ctx: AuditContext, strategy: ActionStrategy) -> ActionStrategy:
    """Add or change an entry of the catalogue (the Django admin's form calls this)."""
    _require_admin(ctx)
    before = {}
    if strategy.pk is not None:
        stored = ActionStrategy.objects.select_for_update().filter(pk=strategy.pk).first()
        if stored is not None:
            before = {name: getattr(stored, name) for name in STRATEGY_FIELDS}
    errors = action_strategy_errors(strategy)
    try:
        strategy.full_clean()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ActionStrategyInvalidError(
            _("The action strategy was not saved: please correct the marked fields."),
            extra={"fields": errors},
        )
    after = {name: getattr(strategy, name) for name in STRATEGY_FIELDS}
    changed = [name for name in STRATEGY_FIELDS if not before or before[name] != after[name]]
    if before and not changed:
        return strategy
    strategy.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        object_type="action_strategy",
        object_id=strategy.pk,
        detail={"code": strategy.code, "changed_fields": changed},
    )
    return strategy
