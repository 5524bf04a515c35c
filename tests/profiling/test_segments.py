"""Customer group configuration: the versioned rules with their preview, the group settings, the
strategy catalogue; through the services, the admins' rules page, the API and the Django admin."""

import threading

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation

from audit.models import AuditAction, AuditEvent
from audit.services import AuditContext
from cases.models import Phase
from organisation.models import User
from profiling.models import ActionStrategy, SegmentConfig, SegmentRuleSet
from profiling.rules import RulesError, rules_fingerprint, rules_validate
from profiling.services.segments import (
    SegmentConfigInvalidError,
    SegmentRulesConflictError,
    rule_set_current,
    rule_set_preview,
    rule_set_save,
    segment_config_update,
)
from tests.api.conftest import PERSONAS
from tests.cases.factories import CaseFactory
from tests.organisation.factories import AdminFactory
from tests.profiling.factories_ai import (
    ModelVersionFactory,
    SuggestionFactory,
    segment_defaults_install,
)

PAGE = reverse("profiling:segment_rules")
SUBMIT = reverse("profiling:segment_rules_submit")
RULES_API = "/api/v1/segments/rules/"
PREVIEW_API = "/api/v1/segments/rules/preview/"
SEGMENTS_API = "/api/v1/segments/"


@pytest.fixture(autouse=True)
def defaults(db):
    """Rules version 1 and the group settings of migration 0006."""
    return segment_defaults_install()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _ctx(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def _market_near_from(threshold: float) -> list[dict]:
    """Rules version 1 with another threshold for market-near."""
    rules = [dict(rule) for rule in rule_set_current().rules]
    rules[0]["min_probability"] = threshold
    return rules


@pytest.fixture
def suggestions(team):
    """Open cases with suggestions at known probabilities, plus cases the preview must skip."""
    model = ModelVersionFactory()

    def suggest(case, probability, **inputs):
        return SuggestionFactory(
            case=case,
            model_version=model,
            probability=probability,
            inputs={**SuggestionFactory.inputs.function(), **inputs},
        )

    moving = CaseFactory(team=team)
    suggest(moving, 0.35)  # potential now, market-near from 30 %
    suggest(CaseFactory(team=team), 0.05)  # administrative either way
    suggest(CaseFactory(team=team), 0.55)  # market-near either way
    # Only the latest suggestion of a case counts: once 35 %, now 20 %.
    changed = CaseFactory(team=team)
    old = suggest(changed, 0.35)
    latest = suggest(changed, 0.20)
    assert latest.created_at >= old.created_at
    # A closed case and an open case without a suggestion are not compared.
    suggest(CaseFactory(team=team, phase=Phase.CLOSED), 0.35)
    CaseFactory(team=team)
    return moving


# --- services: the rules ---------------------------------------------------------------------------


def test_the_starter_rules_are_version_1_and_valid(defaults):
    current = rule_set_current()
    assert current.version == 1
    assert rules_validate(current.rules) == current.rules
    assert [rule["group"] for rule in current.rules] == [
        "market_near",
        "administrative",
        "administrative",
        "potential",
    ]
    assert current.rules[0]["min_probability"] == 0.40
    assert current.rules[1]["max_probability"] == 0.10


def test_the_starter_group_settings():
    configs = {config.group: config for config in SegmentConfig.objects.all()}
    assert set(configs) == {"market_near", "potential", "administrative"}
    assert [group for group, c in configs.items() if c.fixed_caseworker] == ["potential"]
    assert configs["potential"].contact_cadence_days == 28
    assert configs["administrative"].channels[0] == "letter"
    assert configs["market_near"].channels[0] == "digital"


def test_preview_counts_who_would_move(suggestions):
    preview = rule_set_preview(rules=_market_near_from(0.30))
    assert preview == {
        "compared": 4,
        "moving": 1,
        "moves": {"potential->market_near": 1},
        "by_group_before": {"market_near": 1, "potential": 2, "administrative": 1},
        "by_group_after": {"market_near": 2, "potential": 1, "administrative": 1},
        "current_version": 1,
    }


def test_preview_with_conditions_on_the_inputs(team):
    model = ModelVersionFactory()
    SuggestionFactory(
        case=CaseFactory(team=team),
        model_version=model,
        probability=0.25,
        inputs={**SuggestionFactory.inputs.function(), "motivation": "low", "health": "some"},
    )
    rules = rule_set_current().rules
    rules[2] = dict(rules[2], conditions=[{"field": "motivation", "op": "eq", "value": "low"}])
    assert rule_set_preview(rules=rules)["moves"] == {"potential->administrative": 1}


def test_preview_reads_numbers_and_yes_no_inputs(team):
    model = ModelVersionFactory()
    for months, licence in ((6, 0), (6, 1), (40, 0)):
        SuggestionFactory(
            case=CaseFactory(team=team),
            model_version=model,
            probability=0.25,
            inputs={
                **SuggestionFactory.inputs.function(),
                "work_months_5y": months,
                "driving_licence": licence,
            },
        )
    rules = rule_set_current().rules
    rules[2] = dict(
        rules[2],
        conditions=[
            {"field": "work_months_5y", "op": "lt", "value": 12},
            {"field": "driving_licence", "op": "eq", "value": 0},
        ],
    )
    preview = rule_set_preview(rules=rules)
    assert preview["moves"] == {"potential->administrative": 1}


def test_preview_needs_few_queries_however_many_cases(team, django_assert_max_num_queries):
    model = ModelVersionFactory()
    for probability in (0.1, 0.2, 0.3, 0.35, 0.45, 0.6) * 5:
        SuggestionFactory(case=CaseFactory(team=team), model_version=model, probability=probability)
    rules = _market_near_from(0.30)
    with django_assert_max_num_queries(2):
        preview = rule_set_preview(rules=rules)
    assert preview["compared"] == 30
    assert preview["moving"] == 10  # 30 % and 35 %: the lower bound is inclusive


def test_preview_refuses_bad_rules():
    rules = _market_near_from(0.3)
    rules[2]["group"] = "unknown"
    with pytest.raises(RulesError, match="Rule 3: unknown customer group 'unknown'"):
        rule_set_preview(rules=rules)


def test_save_creates_a_new_version_with_its_preview_and_an_audit_row(admin_user, suggestions):
    before = rule_set_current()
    rule_set = rule_set_save(
        ctx=_ctx(admin_user),
        rules=_market_near_from(0.30),
        note="Mehr Kundinnen digital betreuen",
        expected_version=1,
    )
    assert rule_set.version == 2
    assert rule_set.created_by == admin_user
    assert rule_set.note == "Mehr Kundinnen digital betreuen"
    assert rule_set.moves["moves"] == {"potential->market_near": 1}
    assert rule_set_current() == rule_set
    # The old version is kept as it was.
    before.refresh_from_db()
    assert before.rules[0]["min_probability"] == 0.40
    event = AuditEvent.objects.get(object_type="segment_rule_set")
    assert event.action == AuditAction.CREATE
    assert event.actor == admin_user
    assert event.object_id == "2"
    assert event.detail["moving"] == 1
    assert event.customer_id is None


def test_save_refuses_when_someone_saved_in_between(admin_user):
    rule_set_save(ctx=_ctx(admin_user), rules=_market_near_from(0.3), note="a", expected_version=1)
    with pytest.raises(SegmentRulesConflictError) as raised:
        rule_set_save(
            ctx=_ctx(admin_user), rules=_market_near_from(0.5), note="b", expected_version=1
        )
    assert raised.value.status_code == 409
    assert raised.value.extra == {"current_version": 2, "expected_version": 1}
    assert "now version 2" in raised.value.message
    assert SegmentRuleSet.objects.count() == 2


def test_save_needs_a_reason_and_a_change(admin_user):
    with pytest.raises(Exception, match="Give a reason for the change."):
        rule_set_save(
            ctx=_ctx(admin_user), rules=_market_near_from(0.3), note=" ", expected_version=1
        )
    with pytest.raises(Exception, match="rules of version 1 already"):
        rule_set_save(
            ctx=_ctx(admin_user), rules=rule_set_current().rules, note="x", expected_version=1
        )
    with pytest.raises(RulesError):
        rule_set_save(ctx=_ctx(admin_user), rules=[], note="x", expected_version=1)
    assert SegmentRuleSet.objects.count() == 1
    assert not AuditEvent.objects.filter(object_type="segment_rule_set").exists()


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_only_admins_change_the_configuration(request, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        rule_set_save(ctx=_ctx(user), rules=_market_near_from(0.3), note="x", expected_version=1)
    with pytest.raises(PermissionDenied):
        segment_config_update(
            ctx=_ctx(user),
            group="potential",
            service_model="x",
            contact_cadence_days=14,
            channels=["phone"],
            fixed_caseworker=True,
        )
    assert SegmentRuleSet.objects.count() == 1


# --- services: the group settings ------------------------------------------------------------------


def test_group_settings_change_with_an_audit_row(admin_user):
    config = segment_config_update(
        ctx=_ctx(admin_user),
        group="market_near",
        service_model="Digital zuerst.",
        contact_cadence_days=56,
        channels=["video", "digital"],
        fixed_caseworker=False,
    )
    config.refresh_from_db()
    assert config.contact_cadence_days == 56
    assert config.channels == ["video", "digital"]
    event = AuditEvent.objects.get(object_type="segment_config")
    assert event.action == AuditAction.UPDATE
    assert event.detail["group"] == "market_near"
    assert event.detail["changed"]["contact_cadence_days"] == [84, 56]
    assert set(event.detail["changed"]) == {"service_model", "contact_cadence_days", "channels"}


def test_unchanged_group_settings_write_nothing(admin_user):
    config = SegmentConfig.objects.get(group="potential")
    segment_config_update(
        ctx=_ctx(admin_user),
        group="potential",
        service_model=config.service_model,
        contact_cadence_days=config.contact_cadence_days,
        channels=config.channels,
        fixed_caseworker=config.fixed_caseworker,
    )
    assert not AuditEvent.objects.filter(object_type="segment_config").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"channels": []}, "channels", "Choose at least one channel."),
        ({"channels": ["fax"]}, "channels", "Unknown channel: fax."),
        ({"channels": ["phone", "phone"]}, "channels", "Name each channel only once."),
        ({"contact_cadence_days": 0}, "contact_cadence_days", "from 1 to 365"),
        ({"contact_cadence_days": 366}, "contact_cadence_days", "from 1 to 365"),
        ({"service_model": "  "}, "service_model", "Describe the service model"),
    ],
)
def test_bad_group_settings_are_refused(admin_user, changes, field, message):
    values = {
        "service_model": "Hybrid",
        "contact_cadence_days": 28,
        "channels": ["in_person"],
        "fixed_caseworker": True,
        **changes,
    }
    with pytest.raises(SegmentConfigInvalidError) as raised:
        segment_config_update(ctx=_ctx(admin_user), group="potential", **values)
    assert message in raised.value.extra["fields"][field][0]
    assert SegmentConfig.objects.get(group="potential").contact_cadence_days == 28


# --- the rules page --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _form_data(rules: list[dict], *, note: str = "", version: int = 1, previewed: str = "") -> dict:
    """What the browser sends: one row per rule in percent, the hidden fields, the reason."""
    from profiling.rules import conditions_format

    data = {
        "rules-TOTAL_FORMS": str(len(rules) + 1),
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "expected_version": str(version),
        "previewed": previewed,
        "note": note,
    }
    for index, rule in enumerate(rules):
        prefix = f"rules-{index}-"

        def percent(value):
            return "" if value is None else f"{value * 100:g}"

        data[prefix + "number"] = str(index + 1)
        data[prefix + "group"] = rule["group"]
        data[prefix + "min_percent"] = percent(rule.get("min_probability"))
        data[prefix + "max_percent"] = percent(rule.get("max_probability"))
        data[prefix + "conditions"] = conditions_format(rule.get("conditions") or [])
    blank = f"rules-{len(rules)}-"
    data.update({blank + "number": str(len(rules) + 1), blank + "group": ""})
    return data


def test_anonymous_is_sent_to_login(client):
    for response in (client.get(PAGE), client.post(SUBMIT, {})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["caseworker", "team_lead", "other_caseworker"])
def test_case_roles_may_not_open_the_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(PAGE).status_code == 403
    data = _form_data(_market_near_from(0.3), note="x")
    assert client.post(SUBMIT, {**data, "action": "preview"}).status_code == 403
    assert SegmentRuleSet.objects.count() == 1


def test_page_shows_rules_settings_and_history(admin_client):
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rules in force: version 1" in page
    # The rules as editable rows, in percent and in the text syntax.
    assert 'name="rules-0-min_percent" value="40"' in page
    assert 'name="rules-1-max_percent" value="10"' in page
    assert 'value="motivation = low; health = high"' in page
    assert 'name="rules-5-group"' in page  # empty rows to add rules
    # The three groups' settings, each with its change page in the admin.
    for config in SegmentConfig.objects.all():
        assert reverse("admin:profiling_segmentconfig_change", args=[config.pk]) in page
    assert "every 28 days" in page
    assert 'id="segment-history"' in page


def test_preview_shows_who_would_move(admin_client, suggestions):
    rules = _market_near_from(0.30)
    response = admin_client.post(
        SUBMIT, {**_form_data(rules), "action": "preview"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # the fragment only
    assert page.lstrip().startswith('<div id="segment-rules-workspace"')
    assert "Of 4 customers with an open case and a suggestion, 1 would get a different" in page
    assert '<td class="kern-table__cell">Potential</td>' in page
    assert '<td class="kern-table__cell">Market-near</td>' in page
    # The preview is bound to exactly these rules.
    assert f'value="{rules_fingerprint(rules_validate(rules))}"' in page
    assert SegmentRuleSet.objects.count() == 1


def test_save_after_the_preview_creates_a_version(admin_client, admin_user, suggestions):
    rules = _market_near_from(0.30)
    fingerprint = rules_fingerprint(rules_validate(rules))
    data = _form_data(rules, note="Schwelle gesenkt", previewed=fingerprint)
    response = admin_client.post(SUBMIT, {**data, "action": "save"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Version 2 of the rules is in force" in page
    assert "Rules in force: version 2" in page
    assert 'name="expected_version" value="2"' in page
    rule_set = rule_set_current()
    assert rule_set.version == 2
    assert rule_set.created_by == admin_user
    assert rule_set.note == "Schwelle gesenkt"
    assert rule_set.rules[0]["min_probability"] == 0.3
    assert rule_set.moves["moving"] == 1


def test_save_without_htmx_redirects_to_the_page(admin_client):
    rules = _market_near_from(0.45)
    data = _form_data(rules, note="x", previewed=rules_fingerprint(rules_validate(rules)))
    response = admin_client.post(SUBMIT, {**data, "action": "save"})
    assert response.status_code == 303
    assert response["Location"] == PAGE
    assert rule_set_current().version == 2


@pytest.mark.parametrize("previewed", ["", "0" * 32, "stale"])
def test_save_without_a_preview_of_these_rules_shows_the_preview(admin_client, previewed):
    if previewed == "stale":
        previewed = rules_fingerprint(rules_validate(_market_near_from(0.35)))
    rules = _market_near_from(0.30)
    data = _form_data(rules, note="x", previewed=previewed)
    response = admin_client.post(SUBMIT, {**data, "action": "save"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not saved yet: the rules differ from the ones in the last preview." in page
    assert 'id="segment-preview"' in page
    assert SegmentRuleSet.objects.count() == 1
    # Saving again now saves: the preview was shown for exactly these rules.
    data["previewed"] = rules_fingerprint(rules_validate(rules))
    assert admin_client.post(SUBMIT, {**data, "action": "save"}).status_code == 303
    assert rule_set_current().version == 2


def test_save_needs_a_reason(admin_client):
    rules = _market_near_from(0.30)
    data = _form_data(rules, previewed=rules_fingerprint(rules_validate(rules)))
    response = admin_client.post(SUBMIT, {**data, "action": "save"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_note_error"' in page
    assert "Give a reason for the change." in page
    assert SegmentRuleSet.objects.count() == 1


def test_errors_are_shown_next_to_their_rows(admin_client):
    rules = _market_near_from(0.30)
    data = _form_data(rules)
    data["rules-2-conditions"] = "motivation = low; health = severe"
    data["rules-1-min_percent"] = "20"  # above its upper bound of 10 %
    response = admin_client.post(SUBMIT, {**data, "action": "preview"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_rules-2-conditions_error"' in page
    assert "Condition 2 (health = severe): &#x27;severe&#x27; is not a value of health" in page
    assert 'aria-invalid="true"' in page


def test_rule_errors_point_at_the_row(admin_client):
    rules = _market_near_from(0.30)
    data = _form_data(rules)
    data["rules-1-min_percent"] = "20"
    response = admin_client.post(SUBMIT, {**data, "action": "preview"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="rules-1-errors"' in page
    assert "Rule 2: the lower bound 20 % must be below the upper bound 10 %." in page


def test_the_last_rule_must_apply_to_everyone(admin_client):
    data = _form_data(_market_near_from(0.30))
    data["rules-3-conditions"] = "motivation = high"
    response = admin_client.post(SUBMIT, {**data, "action": "preview"})
    assert response.status_code == 400
    assert 'id="rules-3-errors"' in response.content.decode()


def test_a_row_without_a_group_is_an_error_unless_empty(admin_client):
    data = _form_data(_market_near_from(0.30))
    data["rules-4-conditions"] = "motivation = low"
    response = admin_client.post(SUBMIT, {**data, "action": "preview"})
    assert response.status_code == 400
    assert "Choose a customer group for this rule, or empty the row." in response.content.decode()


def test_rules_are_ordered_by_their_position(admin_client):
    rules = rule_set_current().rules
    data = _form_data(rules, note="Reihenfolge")
    data["rules-1-number"], data["rules-2-number"] = "3", "2"  # swap the two administrative rules
    preview = admin_client.post(SUBMIT, {**data, "action": "preview"})
    assert preview.status_code == 200
    swapped = [rules[0], rules[2], rules[1], rules[3]]
    fingerprint = rules_fingerprint(rules_validate(swapped))
    assert f'value="{fingerprint}"' in preview.content.decode()
    data["previewed"] = fingerprint
    assert admin_client.post(SUBMIT, {**data, "action": "save"}).status_code == 303
    assert rule_set_current().rules == rules_validate(swapped)


def test_a_new_rule_in_an_empty_row(admin_client):
    rules = rule_set_current().rules
    data = _form_data(rules, note="Neue Regel")
    data.update(
        {"rules-4-number": "2", "rules-4-group": "potential", "rules-4-conditions": "care = high"}
    )
    expected = [
        rules[0],
        {"group": "potential", "conditions": [{"field": "care", "op": "eq", "value": "high"}]},
        *rules[1:],
    ]
    data["previewed"] = rules_fingerprint(rules_validate(expected))
    assert admin_client.post(SUBMIT, {**data, "action": "save"}).status_code == 303
    assert rule_set_current().rules == rules_validate(expected)


def test_save_conflict_shows_the_new_preview(admin_client, admin_user):
    rule_set_save(ctx=_ctx(admin_user), rules=_market_near_from(0.5), note="a", expected_version=1)
    rules = _market_near_from(0.30)
    data = _form_data(rules, note="b", previewed=rules_fingerprint(rules_validate(rules)))
    response = admin_client.post(SUBMIT, {**data, "action": "save"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The rules were changed in the meantime (now version 2" in page
    assert 'name="expected_version" value="2"' in page
    assert SegmentRuleSet.objects.count() == 2


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_the_rules_and_settings(as_persona, persona):
    client = as_persona(persona)
    expected = 401 if persona == "anonymous" else 200
    rules = client.get(RULES_API)
    segments = client.get(SEGMENTS_API)
    assert rules.status_code == expected
    assert segments.status_code == expected
    if expected == 200:
        assert rules.json()["version"] == 1
        assert rules.json()["lowest_threshold"] == 0.1
        assert rules.json()["rules"][2]["conditions"][0] == {
            "field": "motivation",
            "op": "eq",
            "value": "low",
        }
        assert [item["group"] for item in segments.json()] == [
            "market_near",
            "potential",
            "administrative",
        ]
        assert segments.json()[1]["fixed_caseworker"] is True


@pytest.mark.parametrize("persona", ["caseworker", "team_lead", "other_caseworker", "anonymous"])
def test_only_admins_preview_and_save_through_the_api(as_persona, persona):
    client = as_persona(persona)
    rules = _market_near_from(0.3)
    preview = client.post(PREVIEW_API, {"rules": rules}, format="json")
    save = client.post(
        RULES_API, {"rules": rules, "note": "x", "expected_version": 1}, format="json"
    )
    expected = 401 if persona == "anonymous" else 403
    assert preview.status_code == expected
    assert save.status_code == expected
    assert set(save.json()) == {"message", "extra"}
    assert SegmentRuleSet.objects.count() == 1


def test_api_preview_and_save(as_persona, suggestions):
    client = as_persona("admin_user")
    rules = _market_near_from(0.3)
    preview = client.post(PREVIEW_API, {"rules": rules}, format="json")
    assert preview.status_code == 200
    assert preview.json()["moves"] == {"potential->market_near": 1}
    save = client.post(
        RULES_API, {"rules": rules, "note": "API", "expected_version": 1}, format="json"
    )
    assert save.status_code == 201
    assert save.json()["version"] == 2
    assert save.json()["created_by"] == "admin"
    assert save.json()["moves"]["moving"] == 1
    conflict = client.post(
        RULES_API,
        {"rules": _market_near_from(0.35), "note": "API", "expected_version": 1},
        format="json",
    )
    assert conflict.status_code == 409
    assert conflict.json()["extra"]["current_version"] == 2


def test_api_bad_rules_are_a_400_naming_the_rule(as_persona):
    client = as_persona("admin_user")
    rules = _market_near_from(0.3)
    rules[2]["group"] = "x"
    for response in (
        client.post(PREVIEW_API, {"rules": rules}, format="json"),
        client.post(RULES_API, {"rules": rules, "note": "n", "expected_version": 1}, format="json"),
    ):
        assert response.status_code == 400
        body = response.json()
        assert body["message"].startswith("Rule 3: unknown customer group 'x'")
        assert body["extra"]["fields"]["rules"] == [body["message"]]
        assert body["extra"]["rule"] == 3
    missing = client.post(RULES_API, {"rules": rules}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["extra"]["fields"]) == {"note", "expected_version"}


# --- the Django admin ------------------------------------------------------------------------------

STRATEGY_PERMISSIONS = (
    "add_actionstrategy",
    "change_actionstrategy",
    "view_actionstrategy",
    "change_segmentconfig",
    "view_segmentconfig",
)


@pytest.fixture
def django_admin(client, admin_user):
    admin_user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="profiling", codename__in=STRATEGY_PERMISSIONS
        )
    )
    client.force_login(User.objects.get(pk=admin_user.pk))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _strategy_form(strategy: ActionStrategy, **changes) -> dict:
    data = {
        "name": strategy.name,
        "description": strategy.description,
        "customer_text": strategy.customer_text,
        "conditions": "german <= B1",
        "addresses": list(strategy.addresses),
        "groups": list(strategy.groups),
        "step_text": strategy.step_text,
        "step_responsible": strategy.step_responsible,
        "step_due_weeks": str(strategy.step_due_weeks),
        "priority": str(strategy.priority),
        "active": "on",
    }
    data.update(changes)
    return data


def test_admin_edits_a_strategy_with_conditions_as_text(django_admin, admin_user):
    strategy = ActionStrategy.objects.get(code="sprachkurs")
    url = reverse("admin:profiling_actionstrategy_change", args=[strategy.pk])
    page = django_admin.get(url)
    assert page.status_code == 200
    assert "german &lt;= B1" in page.content.decode()
    response = django_admin.post(
        url, _strategy_form(strategy, conditions="german in A0, A1, A2; motivation != low")
    )
    assert response.status_code == 302
    strategy.refresh_from_db()
    assert strategy.conditions == [
        {"field": "german", "op": "in", "value": ["A0", "A1", "A2"]},
        {"field": "motivation", "op": "ne", "value": "low"},
    ]
    event = AuditEvent.objects.get(object_type="action_strategy")
    assert event.actor == admin_user
    assert event.detail["changed_fields"] == ["conditions"]


def test_admin_strategy_with_bad_conditions_is_not_saved(django_admin):
    strategy = ActionStrategy.objects.get(code="sprachkurs")
    url = reverse("admin:profiling_actionstrategy_change", args=[strategy.pk])
    response = django_admin.post(url, _strategy_form(strategy, conditions="german <= Z9"))
    assert response.status_code == 200
    assert "&#x27;Z9&#x27; is not a value of german" in response.content.decode()
    strategy.refresh_from_db()
    assert strategy.conditions == [{"field": "german", "op": "lte", "value": "B1"}]


def test_admin_strategies_cannot_be_deleted(django_admin):
    strategy = ActionStrategy.objects.get(code="sprachkurs")
    url = reverse("admin:profiling_actionstrategy_delete", args=[strategy.pk])
    assert django_admin.get(url).status_code == 403


def test_admin_changes_group_settings_through_the_service(django_admin, admin_user):
    config = SegmentConfig.objects.get(group="administrative")
    url = reverse("admin:profiling_segmentconfig_change", args=[config.pk])
    assert django_admin.get(url).status_code == 200
    response = django_admin.post(
        url,
        {
            "service_model": config.service_model,
            "contact_cadence_days": "60",
            "default_channel": "digital",
            "other_channels": ["letter", "digital"],
        },
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.contact_cadence_days == 60
    assert config.channels == ["digital", "letter"]
    event = AuditEvent.objects.get(object_type="segment_config")
    assert event.actor == admin_user
    assert event.detail["changed"]["channels"] == [
        ["letter", "digital", "in_person"],
        ["digital", "letter"],
    ]
    bad = django_admin.post(
        url,
        {"service_model": "x", "contact_cadence_days": "400", "default_channel": "digital"},
    )
    assert bad.status_code == 200
    config.refresh_from_db()
    assert config.contact_cadence_days == 60


# --- two admins at once ----------------------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite locks the whole database. "
    "CI runs this on PostgreSQL.",
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_admins_saving_at_once_exactly_one_wins(admin_user):
    other_admin = AdminFactory(username="admin2")
    results: dict = {}
    start = threading.Barrier(2)

    def save(user, threshold) -> None:
        try:
            start.wait(timeout=10)
            results[user.username] = rule_set_save(
                ctx=_ctx(user), rules=_market_near_from(threshold), note="x", expected_version=1
            )
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[user.username] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(admin_user, 0.3)),
        threading.Thread(target=save, args=(other_admin, 0.5)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    winners = [o for o in results.values() if isinstance(o, SegmentRuleSet)]
    losers = [o for o in results.values() if isinstance(o, SegmentRulesConflictError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert list(SegmentRuleSet.objects.values_list("version", flat=True)) == [2, 1]


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_case_roles_cannot_use_the_django_admin_for_strategies(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for name in (
        "admin:profiling_actionstrategy_changelist",
        "admin:profiling_segmentconfig_changelist",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_admin_lists_strategies_and_group_settings(django_admin):
    strategies = django_admin.get(reverse("admin:profiling_actionstrategy_changelist"))
    assert strategies.status_code == 200
    assert "care in some, high" in strategies.content.decode()
    settings_list = django_admin.get(reverse("admin:profiling_segmentconfig_changelist"))
    assert settings_list.status_code == 200
    # One row per group: none can be added or deleted.
    assert django_admin.get(reverse("admin:profiling_segmentconfig_add")).status_code == 403


def test_admin_adds_a_strategy(django_admin, admin_user):
    response = django_admin.post(
        reverse("admin:profiling_actionstrategy_add"),
        {
            "code": "digitalkurs",
            "name": "Digitalkurs",
            "description": "Grundlagen am Computer",
            "customer_text": "Sie lernen den Umgang mit dem Computer.",
            "conditions": "",
            "addresses": [],
            "groups": ["administrative", "potential"],
            "step_text": "Am Digitalkurs teilnehmen.",
            "step_responsible": "customer",
            "step_due_weeks": "6",
            "priority": "5",
            "active": "on",
        },
    )
    assert response.status_code == 302
    strategy = ActionStrategy.objects.get(code="digitalkurs")
    assert (strategy.conditions, strategy.groups) == ([], ["potential", "administrative"])
    event = AuditEvent.objects.get(object_type="action_strategy")
    assert event.action == AuditAction.CREATE
