"""The profile in a real browser: record it, save a change with htmx, see the history, look at an
earlier date, get a field error, and be refused when someone else saved first.

Selectors use ids and addresses rather than texts, so the test holds in German and English.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.services import AuditContext
from profiling.models import Profile, ProfileVersion
from profiling.services import profile_update
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in, screenshot
from tests.cases.factories import CaseFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_case(team, caseworker):
    return CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Aylin", last_name="Kaya"),
        caseworker=caseworker,
    )


def _fill_new_profile(page) -> None:
    page.select_option("#id_school", "middle")
    page.select_option("#id_vocational", "none")
    page.check("#id_qualification_need_1")
    page.fill("#id_qualification_note", "Ausbildung abgebrochen, Interesse an Pflege")
    page.check("#id_work_experience_need_2")
    page.fill("#id_work_months_5y", "18")
    page.fill("#id_months_unemployed", "14")
    page.fill("#id_months_in_benefit", "14")
    page.fill("#id_target_kldb", "82102")
    page.fill("#id_target_occupation", "Altenpflegehelferin")
    page.select_option("#id_german", "B1")
    page.select_option("#id_language_1_code", "tr")
    page.select_option("#id_language_1_level", "native")
    page.check("#id_language_need_1")
    page.check("#id_health_0")
    page.check("#id_care_2")
    page.fill("#id_care_note", "Zwei Kinder, Kita-Platz fehlt")
    page.check("#id_housing_0")
    page.check("#id_debt_0")
    page.select_option("#id_public_transport", "true")
    page.check("#id_mobility_need_0")
    page.check("#id_digital_1")
    page.check("#id_motivation_2")
    page.fill("#id_own_goals", "Teilzeit in der Pflege")


def test_caseworker_records_and_changes_the_profile(page, live_server, caseworker, new_case):
    log_in(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{reverse('cases:case_detail', args=[new_case.pk])}")
    profile_url = reverse("profiling:profile_detail", args=[new_case.pk])
    page.locator(f"#profile-heading ~ p a[href='{profile_url}']").click()
    page.wait_for_url(f"{live_server.url}{profile_url}")
    assert page.locator("h1").inner_text().endswith("Aylin Kaya")
    assert_accessible(page)

    # A wrong KldB code: the error is next to the field, nothing is saved, the rest stays filled.
    _fill_new_profile(page)
    page.fill("#id_target_kldb", "821")
    page.locator("#profile-form button[type=submit]").click()
    error = page.locator("#id_target_kldb_error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert page.locator("#id_target_kldb").get_attribute("aria-invalid") == "true"
    assert page.locator("#id_care_note").input_value() == "Zwei Kinder, Kita-Platz fehlt"
    assert not Profile.objects.exists()
    screenshot(page, "profile_field_error")

    page.fill("#id_target_kldb", "82102")
    page.locator("#profile-form button[type=submit]").click()
    page.locator("#profile-form .kern-alert--success").wait_for()
    assert page.url.endswith(profile_url)  # htmx: no page load
    assert page.locator("#id_version").input_value() == "1"
    assert page.locator(".app-profile-history li").count() == 1
    profile = Profile.objects.get(customer=new_case.customer)
    assert (profile.care, profile.target_kldb, profile.other_languages) == (
        "high",
        "82102",
        [{"code": "tr", "level": "native"}],
    )

    # A change: debts become a high need; the history shows version 2 first.
    page.check("#id_debt_2")
    page.fill("#id_debt_note", "Schuldnerberatung vereinbart")
    page.locator("#profile-form button[type=submit]").click()
    page.wait_for_function("document.querySelector('#id_version').value === '2'")
    assert page.locator(".app-profile-history li").count() == 2
    assert ProfileVersion.objects.filter(customer=new_case.customer).count() == 2
    screenshot(page, "profile_saved")
    assert_accessible(page)

    # The profile as of today shows version 2, fetched with htmx into its own section.
    page.fill("#id_at", timezone.localdate().isoformat())
    page.locator("#profile-as-of button[type=submit]").click()
    page.locator(".app-profile-as-of__result").wait_for()
    assert "Schuldnerberatung vereinbart" in page.locator("#profile-as-of").inner_text()
    assert_accessible(page)

    # Someone else saves meanwhile: this page's save is refused with the reason, nothing lost.
    profile_update(
        ctx=AuditContext.system(),
        customer_id=new_case.customer_id,
        data={"housing": "some"},
        expected_version=2,
    )
    page.check("#id_health_1")
    page.locator("#profile-form button[type=submit]").click()
    conflict = page.locator("#profile-form .kern-alert--danger[role=alert]")
    conflict.wait_for()
    assert "3" in conflict.inner_text()
    assert page.locator("#id_health_1").is_checked()
    profile.refresh_from_db()
    assert (profile.version, profile.health, profile.housing) == (3, "none", "some")
    screenshot(page, "profile_conflict")
    assert_accessible(page)

    # Back on the case page the card shows the current profile and the timeline the changes.
    page.goto(f"{live_server.url}{reverse('cases:case_detail', args=[new_case.pk])}")
    assert "Altenpflegehelferin" in page.locator("#profile-heading + *").evaluate(
        "el => el.parentElement.innerText"
    )
    screenshot(page, "profile_case_card")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_profile_form_works_without_javascript(browser, live_server, caseworker, new_case):
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, caseworker.username)
        profile_url = reverse("profiling:profile_detail", args=[new_case.pk])
        page.goto(f"{live_server.url}{profile_url}")
        _fill_new_profile(page)
        page.locator("#profile-form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}{profile_url}")
        assert page.locator("main .kern-alert--success").count() == 1
        assert page.locator("#id_version").input_value() == "1"
        page.fill("#id_at", timezone.localdate().isoformat())
        page.locator("#profile-as-of button[type=submit]").click()
        page.locator(".app-profile-as-of__result").wait_for()
        assert "?at=" in page.url
    finally:
        context.close()
