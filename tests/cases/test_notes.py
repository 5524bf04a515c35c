"""Case notes: the service rules, the starter data, and the pages (card, form, list, note)."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent, CaseNote, Channel, NoteTemplate, NoteType, Phase, Tag
from cases.services.notes import (
    NoteCaseClosedError,
    NoteCaseNotFoundError,
    NoteNotYoursError,
    NoteValidationError,
    case_note_checklist_update,
    case_note_create,
)
from organisation.models import Role
from tests.cases.factories import CaseFactory
from tests.cases.factories_notes import CaseNoteFactory, NoteTemplateFactory, TagFactory
from tests.organisation.factories import UserFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def client():
    """Messages are asserted in English; the German catalogue is merged separately."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=BERLIN), tick=False):
        yield


@pytest.fixture
def template(db):
    return NoteTemplateFactory(note_type=NoteType.CONVERSATION)


@pytest.fixture
def tags(db):
    return {
        "Bewerbung": TagFactory(name="Bewerbung"),
        "Wohnen": TagFactory(name="Wohnen"),
        "Alt": TagFactory(name="Alt", active=False),
    }


def _ctx(user, channel=AuditChannel.UI) -> AuditContext:
    return AuditContext(actor=user, channel=channel, ip_address="127.0.0.1")


def _create(user, case, **overrides) -> CaseNote:
    values = {
        "note_type": NoteType.CONVERSATION,
        "channel": Channel.IN_PERSON,
        "occurred_on": TODAY,
        "text": "Bewerbungsstrategie besprochen.",
        "tag_names": ["Bewerbung"],
        "checklist": {"concern": True, "next_steps": True},
    }
    values.update(overrides)
    return case_note_create(ctx=_ctx(user), case_id=case.pk, **values)


def _nothing_saved() -> None:
    assert CaseNote.objects.count() == 0
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE_ADDED).exists()
    assert not AuditEvent.objects.filter(object_type="case_note").exists()


# The starter data of migration 0005


def test_every_note_type_has_a_starter_template_with_a_required_item(db):
    templates = {t.note_type: t for t in NoteTemplate.objects.all()}
    assert set(templates) == set(NoteType.values)
    for template in templates.values():
        assert template.body
        assert any(item["required"] for item in template.checklist)
        for item in template.checklist:
            assert set(item) == {"key", "label", "required"}
    labels = [item["label"] for item in templates[NoteType.DOCUMENT_RECEIVED].checklist]
    assert "Frist geprüft und notiert" in labels


def test_starter_tag_vocabulary_is_active(db):
    names = set(Tag.objects.filter(active=True).values_list("name", flat=True))
    assert {"Kinderbetreuung", "Sprachkurs", "Schulden", "Vermittlung"} <= names


# Service: writing a note


def test_complete_note_is_saved_with_tags_timeline_and_audit(caseworker, case, template, tags):
    note = _create(caseworker, case, tag_names=["Wohnen", "Bewerbung", "Wohnen"])

    note.refresh_from_db()
    assert note.author == caseworker
    assert note.is_incomplete is False
    assert note.missing_items == []
    assert note.checklist == {"concern": True, "next_steps": True, "plan_discussed": False}
    assert sorted(note.tags.values_list("name", flat=True)) == ["Bewerbung", "Wohnen"]

    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.NOTE_ADDED)
    assert event.actor == caseworker
    assert event.data["note_id"] == note.pk
    assert event.data["tags"] == ["Bewerbung", "Wohnen"]
    assert "10.03.2026" in event.summary

    audit = AuditEvent.objects.get(object_type="case_note")
    assert audit.action == AuditAction.CREATE
    assert audit.object_id == str(note.pk)
    assert audit.customer_id == case.customer_id
    assert audit.actor == caseworker
    # The audit row names the kind of note, never its text.
    assert "text" not in audit.detail
    assert audit.detail["note_type"] == NoteType.CONVERSATION


def test_note_missing_a_required_item_is_saved_and_flagged(caseworker, case, template, tags):
    note = _create(caseworker, case, checklist={"concern": True, "plan_discussed": True})

    note.refresh_from_db()
    assert note.is_incomplete is True
    assert note.missing_items == ["Nächste Schritte festgehalten"]
    event = CaseEvent.objects.get(kind=CaseEvent.Kind.NOTE_ADDED)
    assert "Nächste Schritte festgehalten" in event.summary
    assert event.data["missing_items"] == ["Nächste Schritte festgehalten"]


def test_unanswered_checklist_counts_as_unticked(caseworker, case, template, tags):
    note = _create(caseworker, case, checklist=None)

    assert note.missing_items == ["Anliegen festgehalten", "Nächste Schritte festgehalten"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tag_names": ["Bewerbung", "Gibt es nicht"]}, "tags"),
        ({"tag_names": ["Alt"]}, "tags"),
        ({"occurred_on": TODAY + datetime.timedelta(days=1)}, "occurred_on"),
        ({"text": "   "}, "text"),
        ({"note_type": "chat"}, "note_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"checklist": {"concern": True, "unknown_item": True}}, "checklist"),
        ({"checklist": {"concern": "yes"}}, "checklist"),
        ({"corrects_note_id": 999999}, "corrects_note_id"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(
    caseworker, case, template, tags, overrides, field
):
    with pytest.raises(NoteValidationError) as error:
        _create(caseworker, case, **overrides)

    assert error.value.field == field
    assert error.value.status_code == 400
    assert error.value.extra["fields"][field]
    _nothing_saved()


def test_unknown_tag_ids_are_refused(caseworker, case, template, tags):
    with (
        translation.override("en"),
        pytest.raises(NoteValidationError, match="Unknown or inactive tag"),
    ):
        _create(caseworker, case, tag_names=None, tag_ids=[tags["Alt"].pk])
    _nothing_saved()


def test_tags_by_id(caseworker, case, template, tags):
    note = _create(caseworker, case, tag_names=None, tag_ids=[tags["Wohnen"].pk])

    assert list(note.tags.values_list("name", flat=True)) == ["Wohnen"]


def test_another_teams_case_looks_missing(other_caseworker, case, template, tags):
    with pytest.raises(NoteCaseNotFoundError) as error:
        _create(other_caseworker, case)

    assert error.value.status_code == 404
    _nothing_saved()


def test_admin_cannot_write_notes(admin_user, case, template, tags):
    with pytest.raises(NoteCaseNotFoundError):
        _create(admin_user, case)
    _nothing_saved()


def test_closed_case_takes_no_notes(caseworker, team, template, tags):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)

    with pytest.raises(NoteCaseClosedError) as error:
        _create(caseworker, closed)

    assert error.value.status_code == 409
    _nothing_saved()


def test_correction_is_a_new_note_naming_the_old_one(caseworker, case, template, tags):
    old = _create(caseworker, case, occurred_on=TODAY - datetime.timedelta(days=3))

    new = _create(
        caseworker, case, text="Korrektur: Termin war am Vortag.", corrects_note_id=old.pk
    )

    old.refresh_from_db()
    assert old.text == "Bewerbungsstrategie besprochen."
    event = CaseEvent.objects.get(data__note_id=new.pk)
    assert event.data["corrects_note_id"] == old.pk
    assert "07.03.2026" in event.summary
    audit = AuditEvent.objects.get(object_type="case_note", object_id=str(new.pk))
    assert audit.detail["corrects_note_id"] == old.pk


def test_a_note_of_another_case_cannot_be_corrected(caseworker, team, case, template, tags):
    elsewhere = CaseNoteFactory(case=CaseFactory(team=team), author=caseworker)

    with pytest.raises(NoteValidationError):
        _create(caseworker, case, corrects_note_id=elsewhere.pk)
    assert CaseNote.objects.count() == 1


def test_note_type_without_template_takes_no_checklist(caseworker, case, tags):
    NoteTemplate.objects.filter(note_type=NoteType.OTHER).delete()

    note = _create(caseworker, case, note_type=NoteType.OTHER, checklist={})

    assert note.checklist == {}
    assert note.is_incomplete is False


# Service: answering the checklist again


def test_author_completes_a_flagged_note_and_the_flag_clears(caseworker, case, template, tags):
    note = _create(caseworker, case, checklist={"concern": True})
    assert note.is_incomplete

    case_note_checklist_update(
        ctx=_ctx(caseworker),
        case_id=case.pk,
        note_id=note.pk,
        checklist={"concern": True, "next_steps": True},
    )

    note.refresh_from_db()
    assert note.is_incomplete is False
    assert note.missing_items == []
    audit = AuditEvent.objects.get(object_type="case_note", action=AuditAction.UPDATE)
    assert audit.detail["before"]["is_incomplete"] is True
    assert audit.detail["before"]["missing_items"] == ["Nächste Schritte festgehalten"]
    assert audit.detail["after"]["is_incomplete"] is False


def test_unchanged_checklist_writes_no_audit_row(caseworker, case, template, tags):
    note = _create(caseworker, case)

    case_note_checklist_update(
        ctx=_ctx(caseworker), case_id=case.pk, note_id=note.pk, checklist=note.checklist
    )

    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_only_the_author_answers_the_checklist(caseworker, team_lead, case, template, tags):
    note = _create(caseworker, case, checklist={"concern": True})

    with pytest.raises(NoteNotYoursError) as error:
        case_note_checklist_update(
            ctx=_ctx(team_lead),
            case_id=case.pk,
            note_id=note.pk,
            checklist={"concern": True, "next_steps": True},
        )

    assert error.value.status_code == 403
    note.refresh_from_db()
    assert note.is_incomplete is True
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_answers_to_items_removed_from_the_template_are_kept(caseworker, case, template, tags):
    note = _create(caseworker, case)
    NoteTemplateFactory(
        note_type=NoteType.CONVERSATION,
        checklist=[{"key": "result", "label": "Ergebnis festgehalten", "required": True}],
    )

    case_note_checklist_update(
        ctx=_ctx(caseworker), case_id=case.pk, note_id=note.pk, checklist={"result": False}
    )

    note.refresh_from_db()
    assert note.checklist["concern"] is True
    assert note.checklist["result"] is False
    assert note.missing_items == ["Ergebnis festgehalten"]


def test_other_team_cannot_answer_a_checklist(other_caseworker, caseworker, case, template, tags):
    note = _create(caseworker, case)

    with pytest.raises(NoteCaseNotFoundError):
        case_note_checklist_update(
            ctx=_ctx(other_caseworker), case_id=case.pk, note_id=note.pk, checklist={}
        )


# Pages: access


def _urls(case, note) -> list[tuple[str, str]]:
    return [
        ("get", reverse("cases:note_list", args=[case.pk])),
        ("get", reverse("cases:note_create", args=[case.pk])),
        ("post", reverse("cases:note_create", args=[case.pk])),
        ("get", reverse("cases:note_detail", args=[case.pk, note.pk])),
        ("post", reverse("cases:note_checklist", args=[case.pk, note.pk])),
    ]


def test_anonymous_is_sent_to_the_login(client, case, caseworker):
    note = CaseNoteFactory(case=case, author=caseworker)
    for method, url in _urls(case, note):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_other_team_gets_404_and_admin_403(client, case, caseworker, other_caseworker, admin_user):
    note = CaseNoteFactory(case=case, author=caseworker)
    client.force_login(other_caseworker)
    for method, url in _urls(case, note):
        assert getattr(client, method)(url).status_code == 404
    client.force_login(admin_user)
    for method, url in _urls(case, note):
        assert getattr(client, method)(url).status_code == 403
    assert CaseNote.objects.count() == 1


# Pages: the card on the case page


def test_case_page_shows_the_latest_notes_with_flag_and_tags(client, caseworker, case, tags):
    CaseNoteFactory(
        case=case,
        author=caseworker,
        note_type=NoteType.PHONE_CALL,
        channel=Channel.PHONE,
        text="Rückruf wegen Kita-Platz.",
        is_incomplete=True,
        missing_items=["Ergebnis und Vereinbarungen festgehalten"],
        tags=[tags["Wohnen"]],
    )
    client.force_login(caseworker)

    response = client.get(reverse("cases:case_detail", args=[case.pk]))

    page = response.content.decode()
    assert 'id="notes-card"' in page
    assert "Rückruf wegen Kita-Platz." in page
    assert "incomplete: missing Ergebnis und Vereinbarungen festgehalten" in page
    assert "Wohnen" in page
    assert reverse("cases:note_create", args=[case.pk]) in page


def test_case_page_queries_do_not_grow_with_notes(client, caseworker, case):
    client.force_login(caseworker)
    CaseNoteFactory.create_batch(6, case=case, author=caseworker)
    url = reverse("cases:case_detail", args=[case.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    CaseNoteFactory.create_batch(20, case=case, author=caseworker)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


def test_closed_case_offers_no_new_note(client, caseworker, team):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    client.force_login(caseworker)

    page = client.get(reverse("cases:case_detail", args=[closed.pk])).content.decode()

    assert reverse("cases:note_create", args=[closed.pk]) not in page


# Pages: writing a note


def test_full_form_page_starts_from_the_template(client, caseworker, case, template, tags):
    client.force_login(caseworker)

    response = client.get(reverse("cases:note_create", args=[case.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert "Anlass:" in page
    assert "Nächste Schritte festgehalten" in page
    assert 'value="2026-03-10"' in page
    # Only active tags can be chosen.
    assert 'value="Bewerbung"' in page
    assert 'value="Alt"' not in page


def test_htmx_gets_only_the_form_fragment(client, caseworker, case, template):
    client.force_login(caseworker)

    response = client.get(
        reverse("cases:note_create", args=[case.pk]) + "?inline=1", headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.count('id="note-form"') == 1
    assert 'name="inline" value="1"' in page


def test_choosing_another_type_loads_its_template_and_saves_nothing(
    client, caseworker, case, template, tags
):
    NoteTemplateFactory(
        note_type=NoteType.DOCUMENT_RECEIVED,
        body="Art der Unterlage:\n",
        checklist=[{"key": "deadline", "label": "Frist notiert", "required": True}],
    )
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_create", args=[case.pk]),
        {
            "action": "load_template",
            "note_type": NoteType.DOCUMENT_RECEIVED,
            "channel": Channel.IN_PERSON,
            "occurred_on": "2026-03-09",
            "text": "Anlass:\n\nVereinbarungen:\n",
            "tags": ["Wohnen"],
            "inline": "1",
        },
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#note-form"
    assert "<html" not in page
    assert "Art der Unterlage:" in page
    assert "Frist notiert" in page
    assert "Anliegen festgehalten" not in page
    # The type's usual channel, the date and tags as chosen.
    assert '<option value="letter" selected>' in page
    assert 'value="2026-03-09"' in page
    assert re.search(r'<input[^>]*value="Wohnen"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="Bewerbung"[^>]*checked', page)
    assert CaseNote.objects.count() == 0


def test_text_already_written_survives_a_change_of_type(client, caseworker, case, template):
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_create", args=[case.pk]),
        {"action": "load_template", "note_type": NoteType.PHONE_CALL, "text": "Eigener Text"},
    )

    assert "Eigener Text" in response.content.decode()


def _form_data(**overrides) -> dict:
    data = {
        "note_type": NoteType.CONVERSATION,
        "channel": Channel.IN_PERSON,
        "occurred_on": "2026-03-10",
        "text": "Gespräch geführt.",
        "tags": ["Bewerbung"],
        "check_concern": "on",
        "check_next_steps": "on",
    }
    data.update(overrides)
    return data


def test_inline_save_returns_the_card_with_the_new_note(client, caseworker, case, template, tags):
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_create", args=[case.pk]),
        _form_data(inline="1"),
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<section id="notes-card"')
    assert "Gespräch geführt." in page
    assert "The note is saved." in page
    note = CaseNote.objects.get()
    assert note.is_incomplete is False
    assert list(note.tags.values_list("name", flat=True)) == ["Bewerbung"]
    # The card shows notes: their listing is in the audit log.
    assert AuditEvent.objects.filter(
        object_type="case_note", action=AuditAction.LIST, object_id=str(note.pk)
    ).exists()


def test_save_without_javascript_redirects_to_the_case(client, caseworker, case, template, tags):
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_create", args=[case.pk]), _form_data(check_next_steps="")
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_detail", args=[case.pk]) + "#notes-heading"
    note = CaseNote.objects.get()
    assert note.is_incomplete is True
    follow = client.get(response["Location"]).content.decode()
    assert "incomplete: missing" in follow


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"occurred_on": "2026-03-11"}, "The date cannot be in the future"),
        ({"tags": ["Alt"]}, "Alt"),
        ({"tags": ["Gibt es nicht"]}, "Gibt es nicht"),
        ({"text": ""}, "This field is required."),
    ],
)
def test_bad_input_shows_the_error_next_to_the_field(
    client, caseworker, case, template, tags, overrides, message
):
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_create", args=[case.pk]),
        _form_data(inline="1", **overrides),
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#note-form"
    assert 'role="alert"' in page
    assert message in page
    assert "<html" not in page
    assert CaseNote.objects.count() == 0


def test_closed_case_form_says_so(client, caseworker, team, template):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    client.force_login(caseworker)

    page = client.get(reverse("cases:note_create", args=[closed.pk])).content.decode()
    response = client.post(reverse("cases:note_create", args=[closed.pk]), _form_data())

    assert "no longer" in page
    assert response.status_code == 409
    assert CaseNote.objects.count() == 0


# Pages: the notes of a case, one note


def test_note_list_filters_by_type_tag_and_completeness(client, caseworker, case, tags):
    CaseNoteFactory(case=case, author=caseworker, text="Vermerk-Eins", tags=[tags["Bewerbung"]])
    CaseNoteFactory(
        case=case,
        author=caseworker,
        note_type=NoteType.PHONE_CALL,
        text="Vermerk-Zwei",
        is_incomplete=True,
        missing_items=["Anliegen festgehalten"],
    )
    client.force_login(caseworker)
    url = reverse("cases:note_list", args=[case.pk])

    everything = client.get(url).content.decode()
    flagged = client.get(url, {"incomplete": "on"}).content.decode()
    tagged = client.get(url, {"tag": "Bewerbung"}).content.decode()
    calls = client.get(url, {"note_type": NoteType.PHONE_CALL}).content.decode()

    assert "Vermerk-Eins" in everything
    assert "Vermerk-Zwei" in everything
    assert "Vermerk-Zwei" in flagged
    assert "Vermerk-Eins" not in flagged
    assert "Vermerk-Eins" in tagged
    assert "Vermerk-Zwei" not in tagged
    assert "Vermerk-Zwei" in calls
    assert "Vermerk-Eins" not in calls
    assert AuditEvent.objects.filter(action=AuditAction.LIST, object_type="case_note").count() == 5


def test_note_list_refuses_an_unknown_filter_value(client, caseworker, case):
    client.force_login(caseworker)

    response = client.get(reverse("cases:note_list", args=[case.pk]), {"note_type": "chat"})

    assert response.status_code == 400


def test_note_list_htmx_returns_the_results_fragment(client, caseworker, case):
    CaseNoteFactory(case=case, author=caseworker)
    client.force_login(caseworker)

    response = client.get(
        reverse("cases:note_list", args=[case.pk]), headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert "<html" not in page
    assert page.lstrip().startswith('<section id="note-list-results"')


def test_note_list_queries_do_not_grow_with_notes(client, caseworker, case, tags):
    client.force_login(caseworker)
    url = reverse("cases:note_list", args=[case.pk])
    CaseNoteFactory.create_batch(2, case=case, author=caseworker, tags=[tags["Wohnen"]])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    other_author = UserFactory(team=case.team, role=Role.CASEWORKER)
    CaseNoteFactory.create_batch(
        12, case=case, author=other_author, tags=[tags["Wohnen"], tags["Bewerbung"]]
    )
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


def test_note_page_is_audited_and_lets_the_author_complete_it(client, caseworker, case, template):
    note = CaseNoteFactory(
        case=case,
        author=caseworker,
        checklist={"concern": True, "next_steps": False, "plan_discussed": False},
        missing_items=["Nächste Schritte festgehalten"],
        is_incomplete=True,
    )
    client.force_login(caseworker)

    page = client.get(reverse("cases:note_detail", args=[case.pk, note.pk])).content.decode()
    assert "incomplete: missing Nächste Schritte festgehalten" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="case_note", object_id=str(note.pk)
    ).exists()

    response = client.post(
        reverse("cases:note_checklist", args=[case.pk, note.pk]),
        {"check_concern": "on", "check_next_steps": "on"},
        headers={"HX-Request": "true"},
    )

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="note-checklist"')
    assert "complete" in fragment
    assert "incomplete" not in fragment
    note.refresh_from_db()
    assert note.is_incomplete is False
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="case_note").exists()


def test_checklist_without_javascript_redirects_to_the_note(client, caseworker, case, template):
    note = CaseNoteFactory(case=case, author=caseworker, is_incomplete=True, missing_items=["x"])
    client.force_login(caseworker)

    response = client.post(
        reverse("cases:note_checklist", args=[case.pk, note.pk]),
        {"check_concern": "on", "check_next_steps": "on"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:note_detail", args=[case.pk, note.pk])


def test_someone_else_cannot_complete_the_note(client, caseworker, team_lead, case, template):
    note = CaseNoteFactory(case=case, author=caseworker, is_incomplete=True, missing_items=["x"])
    client.force_login(team_lead)

    page = client.get(reverse("cases:note_detail", args=[case.pk, note.pk])).content.decode()
    response = client.post(
        reverse("cases:note_checklist", args=[case.pk, note.pk]),
        {"check_concern": "on", "check_next_steps": "on"},
    )

    assert "Only the author of the note can answer its checklist." in page
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.is_incomplete is True


def test_cancelling_the_inline_form_brings_back_the_card(client, caseworker, case):
    note = CaseNoteFactory(case=case, author=caseworker, text="Vermerk im Kartenblick")
    client.force_login(caseworker)

    response = client.get(
        reverse("cases:note_card", args=[case.pk]), headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<section id="notes-card"')
    assert "Vermerk im Kartenblick" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, object_type="case_note", object_id=str(note.pk)
    ).exists()


def test_card_is_not_for_other_teams_or_admins(client, case, other_caseworker, admin_user):
    url = reverse("cases:note_card", args=[case.pk])
    client.force_login(other_caseworker)
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).status_code == 403
