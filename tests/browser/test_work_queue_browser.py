"""The caseworker's day in a real browser: log in, filter the work queue with htmx, open a case.

Drives Debian's Chromium through Playwright and checks every page with axe-core (WCAG 2.1 A/AA).
Set BROWSER_SCREENSHOTS=/some/dir to keep screenshots of the pages for a look by eye.
"""

import datetime

import pytest
from django.utils import timezone

from cases.models import CustomerGroup, Phase
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in,
    log_in_anywhere,
    screenshot,
)
from tests.cases.factories import CaseEventFactory, CaseFactory, CustomerFactory, ProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team_cases(team, caseworker):
    today = timezone.localdate()
    wanted = CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Aylin", last_name="Kaya"),
        phase=Phase.PLANNING,
        customer_group=CustomerGroup.POTENTIAL,
        caseworker=caseworker,
        review_due=today - datetime.timedelta(days=2),
    )
    ProfileFactory(customer=wanted.customer)
    CaseEventFactory(case=wanted, summary="Erstgespräch geführt", actor=caseworker)
    CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Jonas", last_name="Kayser"),
        phase=Phase.PROFILING,
    )
    CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Mira", last_name="Kaya"),
        phase=Phase.IMPLEMENTATION,
        customer_group=CustomerGroup.MARKET_NEAR,
    )
    for index in range(30):
        CaseFactory(
            team=team,
            phase=[Phase.PROFILING, Phase.PLANNING, Phase.IMPLEMENTATION, Phase.REVIEW][index % 4],
            customer_group=["", *CustomerGroup.values][index % 4],
            caseworker=caseworker if index % 3 == 0 else None,
            review_due=today + datetime.timedelta(days=index - 5),
        )
    return wanted


def test_login_page_is_accessible_and_the_skip_link_comes_first(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator(".app-skip-link").is_visible()
    screenshot(page, "login")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_caseworker_filters_the_work_queue_and_opens_a_case(page, live_server, team_cases):
    log_in(page, live_server, "cw")
    assert page.get_by_role("heading", level=1).inner_text() == "Arbeitsvorrat"
    results = page.locator("#work-queue-results")
    # A caseworker starts on "My cases": the fixed cases (Aylin and ten more), none claimed yet.
    assert "11 Fälle" in results.inner_text()
    assert (
        page.locator(".app-queue-tabs__link[aria-current=page]")
        .get_attribute("href")
        .endswith("queue=mine")
    )
    screenshot(page, "work_queue")
    assert_accessible(page)

    # Choosing a phase asks htmx for the results fragment only.
    with page.expect_response(
        lambda r: "phase=planning" in r.url and r.request.headers.get("hx-request") == "true"
    ) as planning:
        page.get_by_label("Phase", exact=True).select_option("planning")
    assert planning.value.status == 200
    page.wait_for_function(
        "() => !document.querySelector('#work-queue-results').textContent.includes('Kayser')"
    )
    assert "Aylin" in results.inner_text()
    assert "phase=planning" in page.url  # the filter is in the address bar (bookmark, back button)

    # Typing a name narrows the results as the caseworker types.
    with page.expect_response(lambda r: "q=Kaya" in r.url):
        page.get_by_label("Name oder Kundennummer").fill("Kaya")
    page.wait_for_function(
        "() => document.querySelector('#work-queue-status').textContent.includes('1 Fall')"
    )
    assert "Aylin" in results.inner_text()
    assert "Mira" not in results.inner_text()  # another Kaya, but in another phase
    assert "überfällig" in results.inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Kaya, Aylin").click()
    page.wait_for_url(f"{live_server.url}/cases/{team_cases.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Aylin Kaya"
    assert team_cases.customer.customer_number in page.locator("main").inner_text()
    assert "Erstgespräch geführt" in page.locator("main").inner_text()
    screenshot(page, "case_page")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_pagination_with_htmx_keeps_the_filters(page, live_server, team, team_lead, team_cases):
    CaseFactory.create_batch(25, team=team, phase=Phase.REVIEW)
    log_in(page, live_server, "lead")  # a team lead starts with all cases of the team
    with page.expect_response(lambda r: "phase=review" in r.url):
        page.get_by_label("Phase", exact=True).select_option("review")
    page.wait_for_function(
        "() => document.querySelector('#work-queue-status').textContent.includes('32 Fälle')"
    )
    with page.expect_response(lambda r: "page=2" in r.url) as second:
        page.locator(".app-pagination").get_by_role("link", name="Seite 2").click()
    assert "phase=review" in second.value.url
    assert second.value.request.headers.get("hx-request") == "true"
    page.wait_for_url("**page=2**")
    assert "phase=review" in page.url
    # The link that was used is gone; the focus moves to the new results' heading.
    page.wait_for_function("document.activeElement.id === 'work-queue-results-heading'")
    current = page.locator(".app-pagination [aria-current=page]").inner_text()
    assert current.strip().endswith("2")
    assert page.locator("#work-queue-results tbody tr").count() == 7
    assert set(page.locator("#work-queue-results tbody td:nth-child(3)").all_inner_texts()) == {
        "Zielüberprüfung"
    }

    # Back goes to page 1 as a whole page (htmx keeps no copies of pages with social data).
    page.go_back()
    page.wait_for_function("!location.search.includes('page=2')")
    page.wait_for_selector("h1")
    assert page.get_by_role("heading", level=1).inner_text() == "Arbeitsvorrat"
    assert page.locator("#work-queue-results tbody tr").count() == 25


def test_bad_filter_shows_the_error_next_to_the_field(page, live_server, team_cases):
    log_in(page, live_server, "cw")
    response = page.goto(f"{live_server.url}/?phase=sleeping")
    assert response.status == 400
    error = page.locator("#id_phase_error")
    assert error.is_visible()
    assert "keine gültige Auswahl" in error.inner_text()
    assert page.get_by_label("Phase", exact=True).get_attribute("aria-invalid") == "true"
    screenshot(page, "work_queue_error")
    assert_accessible(page)

    # Choosing a valid phase with htmx clears the stale error beside the field.
    with page.expect_response(lambda r: "phase=planning" in r.url):
        page.get_by_label("Phase", exact=True).select_option("planning")
    page.wait_for_function("() => !document.querySelector('#id_phase_error')")
    assert "Aylin" in page.locator("#work-queue-results").inner_text()


def test_language_switch_to_english(page, live_server, team_cases):
    log_in(page, live_server, "cw")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Work queue"
    screenshot(page, "work_queue_en")
    assert_accessible(page)


def test_admin_lands_in_the_admin_and_gets_a_clear_403_on_the_work_queue(
    page, live_server, admin_user
):
    log_in_anywhere(page, live_server, "admin")
    page.wait_for_url(f"{live_server.url}/admin/")
    response = page.goto(f"{live_server.url}/")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Zugriff verweigert"
    assert "liest keine Fallinhalte" in page.locator("main").inner_text()
    screenshot(page, "forbidden")
    assert_accessible(page)


def test_expired_session_during_htmx_filtering_goes_to_the_login_page(
    page, live_server, team_cases
):
    log_in(page, live_server, "cw")
    page.context.clear_cookies()  # the session is gone, as after the idle timeout
    page.get_by_label("Phase", exact=True).select_option("planning")
    # A full-page navigation to the login form, not the login form swapped into the results.
    page.wait_for_url(lambda url: "/accounts/login/?next=" in url)
    assert page.get_by_role("heading", level=1).inner_text() == "Anmelden"
    assert page.locator("#work-queue-results").count() == 0
