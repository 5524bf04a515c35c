"""The AI profiling in a real browser: a caseworker asks for a suggestion on the case page, reads
its reasons, takes a strategy into the cooperation plan, overrides the group with a reason (first
forgetting it), and the page stays accessible throughout.

Selectors use ids where they can; the button texts are the German ones a caseworker sees.
"""

import pytest
from django.urls import reverse

from cases.models import CustomerGroup, PlanStep
from profiling.models import ProfilingDecision, ProfilingSuggestion
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in, screenshot
from tests.cases.factories import CaseFactory, CustomerFactory
from tests.profiling.factories import profile_with_version
from tests.profiling.test_suggestions import TEST_STRATEGY, make_model, make_rules, make_strategy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def profiled_case(team, caseworker):
    make_model()
    make_rules()
    make_strategy()
    case = CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Aylin", last_name="Kaya"),
        caseworker=caseworker,
    )
    profile_with_version(customer=case.customer)
    return case


def test_caseworker_asks_overrides_and_plans(page, live_server, caseworker, profiled_case):
    log_in(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{reverse('cases:case_detail', args=[profiled_case.pk])}")
    card = page.locator("#ai-profiling")
    assert card.locator("#ai-profiling-heading").is_visible()
    assert_accessible(page)

    # Ask: the card comes back in place (htmx), with the probability, the group and the reasons.
    card.locator("form button[type=submit]").first.click()
    page.locator("#ai-latest-heading").wait_for()
    suggestion = ProfilingSuggestion.objects.get()
    assert page.url.endswith(reverse("cases:case_detail", args=[profiled_case.pk]))
    probability = page.locator("[data-testid=ai-probability]").inner_text()
    assert probability == f"{round(suggestion.probability * 100)} %"
    assert page.locator("[data-testid=ai-raising] li").count() >= 1
    assert page.locator("[data-testid=ai-lowering] li").count() >= 1
    # The explanation for the customer is folded away until asked for.
    accordion = card.locator("details.kern-accordion")
    assert accordion.get_attribute("open") is None
    accordion.locator("summary").click()
    assert accordion.get_attribute("open") is not None
    assert_accessible(page)
    screenshot(page, "suggestion_card")

    # A strategy into the cooperation plan with one click.
    card.locator(f"#ai-strategy-{TEST_STRATEGY} form button").click()
    page.locator(f"#ai-strategy-{TEST_STRATEGY} .kern-badge--success").wait_for()
    assert PlanStep.objects.get().description == "An einem Bewerbungscoaching teilnehmen."
    assert card.locator(
        f"a[href='{reverse('cases:plan_detail', args=[profiled_case.pk])}']"
    ).count()

    # Override without a reason: the error is at the field, nothing is decided.
    other = next(g for g in CustomerGroup.values if g != suggestion.suggested_group)
    page.check("#id_ai_decision_1")
    page.select_option("#id_ai_group", other)
    page.locator("form[hx-post$='/profiling/decision/'] button[type=submit]").click()
    error = page.locator("#id_ai_reason_error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert page.locator("#id_ai_reason").get_attribute("aria-invalid") == "true"
    assert not ProfilingDecision.objects.exists()
    assert_accessible(page)

    # With a reason: decided, the group set, the decision shown with who decided.
    page.check("#id_ai_decision_1")
    page.select_option("#id_ai_group", other)
    page.fill("#id_ai_reason", "Kinderbetreuung erst ab dem Sommer gesichert.")
    page.check(f"#ai-profiling input[value='{TEST_STRATEGY}']")
    page.locator("form[hx-post$='/profiling/decision/'] button[type=submit]").click()
    page.locator("[data-testid=ai-decision]").wait_for()
    decision = ProfilingDecision.objects.get()
    assert decision.outcome == "overridden"
    assert decision.strategies == [TEST_STRATEGY]
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == other
    assert "Kinderbetreuung erst ab dem Sommer gesichert." in card.inner_text()
    assert_accessible(page)
    assert_only_local_requests(page, live_server)
    screenshot(page, "suggestion_decided")
