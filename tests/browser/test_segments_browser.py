"""The customer group rules page in a real browser: an admin lowers a threshold, sees who would move,
saves, and finds the new version in force and in the history. Also without JavaScript.

Selectors use ids and form names rather than texts, so the test holds in German and English.
"""

import pytest
from django.urls import reverse

from profiling.models import SegmentRuleSet
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in_anywhere,
    screenshot,
)
from tests.cases.factories import CaseFactory
from tests.profiling.factories_ai import (
    ModelVersionFactory,
    SuggestionFactory,
    segment_defaults_install,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def suggested_cases(team):
    """Rules version 1 (emptied by earlier browser tests) and three open cases with suggestions."""
    segment_defaults_install()
    model = ModelVersionFactory()
    for probability in (0.35, 0.05, 0.6):
        SuggestionFactory(case=CaseFactory(team=team), model_version=model, probability=probability)


def _open(page, live_server, admin_user) -> None:
    log_in_anywhere(page, live_server, admin_user.username)
    page.goto(f"{live_server.url}{reverse('profiling:segment_rules')}")


def test_admin_changes_a_threshold_after_the_preview(
    page, live_server, admin_user, suggested_cases
):
    _open(page, live_server, admin_user)
    assert page.locator("h1").count() == 1
    assert page.locator("#segment-settings-heading ~ div tbody tr").count() == 3
    assert page.locator("#id_rules-0-min_percent").input_value() == "40"
    assert_accessible(page)

    # Market-near from 30 % instead of 40 %: the preview shows one customer moving.
    page.fill("#id_rules-0-min_percent", "30")
    page.locator("button[name=action][value=preview]").click()
    preview = page.locator("#segment-preview")
    preview.wait_for()
    moves = page.locator("#segment-moves tbody tr")
    assert moves.count() == 1
    assert moves.locator("td").nth(2).inner_text() == "1"
    assert page.url.endswith(reverse("profiling:segment_rules"))  # htmx: no page load
    assert SegmentRuleSet.objects.count() == 1
    screenshot(page, "segment_rules_preview")
    assert_accessible(page)

    # Saving without a reason: the error is next to the field, nothing saved.
    page.locator("button[name=action][value=save]").click()
    page.locator("#id_note_error").wait_for()
    assert page.locator("#id_note").get_attribute("aria-invalid") == "true"
    assert SegmentRuleSet.objects.count() == 1

    page.fill("#id_note", "Mehr Kundinnen und Kunden digital betreuen")
    page.locator("button[name=action][value=save]").click()
    page.locator("#segment-rules-workspace .kern-alert--success").wait_for()
    assert page.locator("#id_expected_version").input_value() == "2"
    assert page.locator("#segment-current-heading").inner_text().endswith("2")
    history = page.locator("#segment-history tbody tr")
    assert history.count() == 2
    assert "Mehr Kundinnen und Kunden digital betreuen" in history.first.inner_text()
    current = SegmentRuleSet.objects.order_by("-version").first()
    assert (current.version, current.rules[0]["min_probability"]) == (2, 0.3)
    assert current.created_by_id == admin_user.pk
    screenshot(page, "segment_rules_saved")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_changed_rules_need_a_new_preview(page, live_server, admin_user, suggested_cases):
    _open(page, live_server, admin_user)
    page.fill("#id_rules-0-min_percent", "30")
    page.locator("button[name=action][value=preview]").click()
    page.locator("#segment-preview").wait_for()
    # Changed after the preview: saving shows the new preview instead of saving.
    page.fill("#id_rules-0-min_percent", "50")
    page.fill("#id_note", "Test")
    page.locator("button[name=action][value=save]").click()
    page.locator("#segment-rules-workspace .kern-alert--warning").wait_for()
    # The new preview is of the rules as they are now: at 50 % nobody moves.
    assert page.locator("#segment-preview").is_visible()
    assert page.locator("#segment-moves").count() == 0
    assert page.locator("#id_rules-0-min_percent").input_value() == "50"
    assert SegmentRuleSet.objects.count() == 1
    # A condition with a typo: the error is shown next to its row.
    page.fill("#id_rules-2-conditions", "motivation = low; health = severe")
    page.locator("button[name=action][value=preview]").click()
    page.locator("#id_rules-2-conditions_error").wait_for()
    assert "severe" in page.locator("#id_rules-2-conditions_error").inner_text()
    assert_accessible(page)


def test_rules_page_works_without_javascript(browser, live_server, admin_user, suggested_cases):
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    try:
        _open(page, live_server, admin_user)
        page.fill("#id_rules-0-min_percent", "30")
        page.locator("button[name=action][value=preview]").click()
        page.locator("#segment-preview").wait_for()
        page.fill("#id_note", "Ohne JavaScript")
        page.locator("button[name=action][value=save]").click()
        page.wait_for_url(f"{live_server.url}{reverse('profiling:segment_rules')}")
        page.locator("main .kern-alert--success").wait_for()
        assert SegmentRuleSet.objects.order_by("-version").first().version == 2
    finally:
        context.close()
