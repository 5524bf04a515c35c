"""Case notes in a real browser: add a note in the card on the case page, see it flagged, complete it.

The locators use ids, values and the starter data of migration 0005 rather than UI texts, so the
test does not depend on the state of the translation catalogue.
Set BROWSER_SCREENSHOTS=/some/dir to keep screenshots of the pages for a look by eye.
"""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from cases.models import CaseNote, Channel, NoteType
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in,
    screenshot,
)
from tests.cases.factories import CaseFactory, CustomerFactory
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_IDENTITY = "Identität der Gesprächspartnerin/des Gesprächspartners geprüft"
PHONE_CONCERN = "Anliegen festgehalten"
PHONE_RESULT = "Ergebnis und Vereinbarungen festgehalten"


@pytest.fixture(autouse=True)
def _starter_data(db):
    """The templates and tags of migration 0005 (a transactional test before may have flushed them)."""
    migration = importlib.import_module("cases.migrations.0005_note_templates_and_tags")
    migration.create_starter_data(django_apps, None)


@pytest.fixture
def notes_case(team, caseworker):
    return CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Aylin", last_name="Kaya"),
        caseworker=caseworker,
    )


def _is_htmx(response) -> bool:
    return response.request.headers.get("hx-request") == "true"


def test_caseworker_adds_a_note_in_the_card_and_completes_it_later(page, live_server, notes_case):
    log_in(page, live_server, "cw")
    case_url = f"{live_server.url}/cases/{notes_case.pk}/"
    page.goto(case_url)
    card = page.locator("#notes-card")
    assert card.locator(".app-note").count() == 0

    # "Add a note" opens the form inside the card (htmx), starting from the conversation template.
    with page.expect_response(lambda r: "/notes/new/" in r.url and _is_htmx(r)):
        card.locator("#notes-card-form a").click()
    form = page.locator("#note-form")
    form.wait_for()
    assert "Anlass des Gesprächs:" in page.locator("#id_text").input_value()

    # Another type loads its template text, channel and checklist; nothing is saved.
    with page.expect_response(lambda r: "/notes/new/" in r.url and _is_htmx(r)):
        page.locator("#id_note_type").select_option(NoteType.PHONE_CALL)
    page.wait_for_function("document.querySelector('#id_text').value.startsWith('Anruf von/an:')")
    assert page.locator("#id_channel").input_value() == Channel.PHONE
    assert page.get_by_label(PHONE_IDENTITY).is_visible()
    assert CaseNote.objects.count() == 0

    # A date in the future is refused next to the field, in the card.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.locator("#id_occurred_on").fill(tomorrow.isoformat())
    page.locator("#id_text").fill("Anruf von Frau Kaya wegen eines Kita-Platzes.")
    page.get_by_label(PHONE_IDENTITY).check()
    page.get_by_label("Kinderbetreuung").check()
    with page.expect_response(lambda r: "/notes/new/" in r.url) as refused:
        form.locator("button.kern-btn--primary").click()
    assert refused.value.status == 400
    error = page.locator("#id_occurred_on_error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert page.locator("#id_occurred_on").get_attribute("aria-invalid") == "true"
    # What was typed and ticked is still there.
    assert page.get_by_label(PHONE_IDENTITY).is_checked()
    assert page.get_by_label("Kinderbetreuung").is_checked()
    screenshot(page, "note_form_error")
    assert_accessible(page)

    # Saved with one required item unticked: saved, and flagged in the card.
    page.locator("#id_occurred_on").fill(timezone.localdate().isoformat())
    page.get_by_label(PHONE_CONCERN).check()
    with page.expect_response(lambda r: "/notes/new/" in r.url) as saved:
        form.locator("button.kern-btn--primary").click()
    assert saved.value.status == 200
    note_item = card.locator(".app-note")
    note_item.wait_for()
    assert page.url == case_url  # never left the page
    assert page.locator("#note-form").count() == 0
    flag = note_item.locator(".app-note__flag")
    assert PHONE_RESULT in flag.inner_text()
    assert "Kinderbetreuung" in note_item.inner_text()
    assert "Kita-Platzes" in note_item.inner_text()
    note = CaseNote.objects.get()
    assert note.is_incomplete
    assert note.missing_items == [PHONE_RESULT]
    screenshot(page, "notes_card")
    assert_accessible(page)

    # The note page: its author ticks what was missing and the flag clears (htmx).
    note_item.locator(".app-note__link a").click()
    page.wait_for_url(f"{live_server.url}/cases/{notes_case.pk}/notes/{note.pk}/")
    checklist = page.locator("#note-checklist")
    assert checklist.locator(".kern-badge--warning").count() == 1
    checklist.get_by_label(PHONE_RESULT).check()
    with page.expect_response(lambda r: r.url.endswith("/checklist/") and _is_htmx(r)):
        checklist.locator("button.kern-btn--primary").click()
    page.wait_for_function("!document.querySelector('#note-checklist .kern-badge--warning')")
    assert page.locator("#note-checklist .kern-badge--success").count() == 1
    note.refresh_from_db()
    assert note.is_incomplete is False
    screenshot(page, "note_detail")
    assert_accessible(page)

    # The notes page of the case, filtered to incomplete notes: none left.
    page.goto(f"{live_server.url}/cases/{notes_case.pk}/notes/")
    assert page.locator("#note-list-results .app-note").count() == 1
    with page.expect_response(lambda r: "incomplete=on" in r.url and _is_htmx(r)):
        page.locator("#id_incomplete").check()
    page.wait_for_function("document.querySelectorAll('#note-list-results .app-note').length === 0")
    assert "incomplete=on" in page.url
    screenshot(page, "note_list")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_a_note_without_javascript(browser, live_server, notes_case):
    """The same flow as plain forms: the full note page, the template button, POST and redirect."""
    context = browser.new_context(
        locale="de-DE", viewport={"width": 1366, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Benutzername").fill("cw")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(f"{live_server.url}/cases/{notes_case.pk}/")

        page.locator("#notes-card-form a").click()
        page.wait_for_url(f"{live_server.url}/cases/{notes_case.pk}/notes/new/")
        page.locator("#id_note_type").select_option(NoteType.DOCUMENT_RECEIVED)
        with page.expect_navigation():
            page.locator("button[name=action][value=load_template]").click()
        assert page.locator("#id_text").input_value().startswith("Art der Unterlage:")
        assert page.locator("#id_channel").input_value() == Channel.LETTER
        for checkbox in page.locator("#note-form fieldset").first.locator("input").all():
            checkbox.check()
        page.locator("#id_text").fill("Mietvertrag eingegangen, vollständig.")
        page.get_by_label("Wohnen").check()
        screenshot(page, "note_form_nojs")
        with page.expect_navigation():
            page.locator("#note-form button.kern-btn--primary").click()
        assert page.url == f"{live_server.url}/cases/{notes_case.pk}/#notes-heading"
        item = page.locator("#notes-card .app-note")
        assert "Mietvertrag eingegangen" in item.inner_text()
        assert item.locator(".app-note__flag").count() == 0
        note = CaseNote.objects.get()
        assert note.note_type == NoteType.DOCUMENT_RECEIVED
        assert note.is_incomplete is False
        assert list(note.tags.values_list("name", flat=True)) == ["Wohnen"]
    finally:
        context.close()
