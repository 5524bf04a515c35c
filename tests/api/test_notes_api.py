"""The notes API: /api/v1/cases/<id>/notes/..., /api/v1/tags/, /api/v1/note-templates/."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import CaseEvent, CaseNote, Channel, NoteType, Phase
from tests.api.conftest import PERSONAS, token_client
from tests.cases.factories import CaseFactory
from tests.cases.factories_notes import CaseNoteFactory, NoteTemplateFactory, TagFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TODAY = datetime.date(2026, 3, 10)


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


def notes_url(case_id) -> str:
    return reverse("api:case-notes", args=[case_id])


def note_url(case_id, note_id) -> str:
    return reverse("api:case-note-detail", args=[case_id, note_id])


def checklist_url(case_id, note_id) -> str:
    return reverse("api:case-note-checklist", args=[case_id, note_id])


def _body(**overrides) -> dict:
    body = {
        "note_type": NoteType.CONVERSATION,
        "channel": Channel.IN_PERSON,
        "occurred_on": "2026-03-10",
        "text": "Gespräch über Bewerbungen.",
        "tags": ["Bewerbung"],
        "checklist": {"concern": True, "next_steps": True},
    }
    body.update(overrides)
    return body


# --- who may see what ---------------------------------------------------------------------------

CASE_STATUS = {
    "caseworker": 200,
    "team_lead": 200,
    "other_caseworker": 404,
    "admin_user": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_detail_access(as_persona, persona, case, caseworker):
    note = CaseNoteFactory(case=case, author=caseworker)
    client = as_persona(persona)

    for response in (client.get(notes_url(case.pk)), client.get(note_url(case.pk, note.pk))):
        assert response.status_code == CASE_STATUS[persona]
        if response.status_code != 200:
            assert set(response.json()) == {"message", "extra"}
    if CASE_STATUS[persona] != 200:
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_access(as_persona, persona, case, template, tags):
    response = as_persona(persona).post(notes_url(case.pk), _body(), format="json")

    expected = {200: 201}.get(CASE_STATUS[persona], CASE_STATUS[persona])
    assert response.status_code == expected
    assert CaseNote.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_vocabulary_is_for_all_staff(as_persona, persona, tags, template):
    client = as_persona(persona)
    expected = 401 if persona == "anonymous" else 200

    assert client.get(reverse("api:tag-list")).status_code == expected
    assert client.get(reverse("api:note-template-list")).status_code == expected


# --- reading ------------------------------------------------------------------------------------


def test_list_is_paged_filtered_and_audited(caseworker, case, tags):
    client = token_client(caseworker)
    complete = CaseNoteFactory(case=case, author=caseworker, tags=[tags["Bewerbung"]])
    flagged = CaseNoteFactory(
        case=case,
        author=caseworker,
        note_type=NoteType.PHONE_CALL,
        channel=Channel.PHONE,
        occurred_on=TODAY,
        is_incomplete=True,
        missing_items=["Anliegen festgehalten"],
    )
    CaseNoteFactory(case=CaseFactory(team=case.team), author=caseworker)

    response = client.get(notes_url(case.pk))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [flagged.pk, complete.pk]
    first = body["results"][0]
    assert first["is_incomplete"] is True
    assert first["missing_items"] == ["Anliegen festgehalten"]
    assert first["author"]["username"] == "cw"
    assert body["results"][1]["tags"] == ["Bewerbung"]
    audited = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="case_note")
    assert sorted(audited.values_list("object_id", flat=True)) == sorted(
        [str(complete.pk), str(flagged.pk)]
    )
    assert {row.channel for row in audited} == {AuditChannel.API}

    def ids(**params) -> list[int]:
        return [row["id"] for row in client.get(notes_url(case.pk), params).json()["results"]]

    assert ids(incomplete="true") == [flagged.pk]
    assert ids(incomplete="false") == [complete.pk]
    assert ids(tag="Bewerbung") == [complete.pk]
    assert ids(note_type=NoteType.PHONE_CALL) == [flagged.pk]
    assert ids(page_size=1, page=2) == [complete.pk]


@pytest.mark.parametrize(
    "params", [{"note_type": "chat"}, {"incomplete": "maybe"}, {"colour": "red"}, {"page": "0"}]
)
def test_list_refuses_bad_filters(caseworker, case, params):
    response = token_client(caseworker).get(notes_url(case.pk), params)

    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}


def test_list_queries_do_not_grow_with_notes(caseworker, case, tags):
    client = token_client(caseworker)
    CaseNoteFactory.create_batch(2, case=case, author=caseworker, tags=[tags["Wohnen"]])
    with CaptureQueriesContext(connection) as few:
        client.get(notes_url(case.pk))
    CaseNoteFactory.create_batch(10, case=case, author=caseworker, tags=list(tags.values()))
    with CaptureQueriesContext(connection) as many:
        client.get(notes_url(case.pk))

    assert len(many) == len(few)


def test_detail_is_audited(caseworker, case):
    note = CaseNoteFactory(case=case, author=caseworker, text="Vertraulich")

    response = token_client(caseworker).get(note_url(case.pk, note.pk))

    assert response.status_code == 200
    assert response.json()["text"] == "Vertraulich"
    audit = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="case_note")
    assert audit.object_id == str(note.pk)
    assert audit.customer_id == case.customer_id


def test_a_note_of_another_case_is_not_found_here(caseworker, case, team):
    elsewhere = CaseNoteFactory(case=CaseFactory(team=team), author=caseworker)

    response = token_client(caseworker).get(note_url(case.pk, elsewhere.pk))

    assert response.status_code == 404


def test_vocabulary_lists(caseworker, tags, template):
    client = token_client(caseworker)

    all_tags = client.get(reverse("api:tag-list"), {"page_size": 100}).json()
    active = client.get(reverse("api:tag-list"), {"active": "true", "page_size": 100}).json()
    templates = client.get(reverse("api:note-template-list")).json()

    names = [row["name"] for row in all_tags["results"]]
    assert "Alt" in names
    assert "Bewerbung" in names
    assert "Alt" not in [row["name"] for row in active["results"]]
    conversation = next(row for row in templates if row["note_type"] == NoteType.CONVERSATION)
    assert conversation["checklist"][0] == {
        "key": "concern",
        "label": "Anliegen festgehalten",
        "required": True,
    }
    assert {row["note_type"] for row in templates} == set(NoteType.values)


# --- writing ------------------------------------------------------------------------------------


def test_create_returns_the_note_and_writes_timeline_and_audit(caseworker, case, template, tags):
    response = token_client(caseworker).post(notes_url(case.pk), _body(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["is_incomplete"] is False
    assert body["tags"] == ["Bewerbung"]
    assert body["checklist"] == {"concern": True, "next_steps": True, "plan_discussed": False}
    note = CaseNote.objects.get(pk=body["id"])
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.NOTE_ADDED).count() == 1
    audit = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="case_note")
    assert audit.object_id == str(note.pk)
    assert audit.channel == AuditChannel.API


def test_note_missing_a_required_item_is_created_flagged(caseworker, case, template, tags):
    response = token_client(caseworker).post(
        notes_url(case.pk), _body(checklist={"concern": True}), format="json"
    )

    assert response.status_code == 201
    assert response.json()["is_incomplete"] is True
    assert response.json()["missing_items"] == ["Nächste Schritte festgehalten"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tags": ["Gibt es nicht"]}, "tags"),
        ({"tags": ["Alt"]}, "tags"),
        ({"occurred_on": "2026-03-11"}, "occurred_on"),
        ({"occurred_on": "gestern"}, "occurred_on"),
        ({"text": ""}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"note_type": "chat"}, "note_type"),
        ({"checklist": {"unknown": True}}, "checklist"),
        ({"checklist": ["concern"]}, "checklist"),
        ({"corrects_note_id": 424242}, "corrects_note_id"),
    ],
)
def test_bad_input_is_a_400_and_nothing_is_saved(
    caseworker, case, template, tags, overrides, field
):
    response = token_client(caseworker).post(notes_url(case.pk), _body(**overrides), format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert field in body["extra"]["fields"]
    assert CaseNote.objects.count() == 0
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE_ADDED).exists()
    assert not AuditEvent.objects.exists()


def test_unknown_tag_message_names_it(caseworker, case, template, tags):
    response = token_client(caseworker).post(
        notes_url(case.pk), _body(tags=["Bewerbung", "Gibt es nicht"]), format="json"
    )

    assert response.json()["message"] == (
        "Unknown or inactive tag: Gibt es nicht. Choose from the active tags."
    )
    assert response.json()["extra"]["unknown"] == ["Gibt es nicht"]


def test_closed_case_is_a_409(caseworker, team, template, tags):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)

    response = token_client(caseworker).post(notes_url(closed.pk), _body(), format="json")

    assert response.status_code == 409
    assert CaseNote.objects.count() == 0


def test_another_teams_case_is_a_404(caseworker, other_case, template, tags):
    response = token_client(caseworker).post(notes_url(other_case.pk), _body(), format="json")

    assert response.status_code == 404
    assert CaseNote.objects.count() == 0


def test_correction_names_the_corrected_note(caseworker, case, template, tags):
    client = token_client(caseworker)
    old = client.post(notes_url(case.pk), _body(), format="json").json()

    response = client.post(
        notes_url(case.pk), _body(text="Korrektur", corrects_note_id=old["id"]), format="json"
    )

    assert response.status_code == 201
    event = CaseEvent.objects.get(data__note_id=response.json()["id"])
    assert event.data["corrects_note_id"] == old["id"]


# --- the checklist ------------------------------------------------------------------------------


def test_author_completes_the_checklist(caseworker, case, template, tags):
    client = token_client(caseworker)
    note = client.post(notes_url(case.pk), _body(checklist={}), format="json").json()
    assert note["is_incomplete"] is True

    response = client.patch(
        checklist_url(case.pk, note["id"]),
        {"checklist": {"concern": True, "next_steps": True}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["is_incomplete"] is False
    assert response.json()["missing_items"] == []
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="case_note").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("team_lead", 403), ("other_caseworker", 404), ("admin_user", 403), ("anonymous", 401)],
)
def test_only_the_author_answers_the_checklist(as_persona, persona, status, caseworker, case):
    note = CaseNoteFactory(case=case, author=caseworker, is_incomplete=True, missing_items=["x"])

    response = as_persona(persona).patch(
        checklist_url(case.pk, note.pk), {"checklist": {}}, format="json"
    )

    assert response.status_code == status
    note.refresh_from_db()
    assert note.is_incomplete is True
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_checklist_with_an_unknown_item_is_a_400(caseworker, case, template):
    note = CaseNoteFactory(case=case, author=caseworker)

    response = token_client(caseworker).patch(
        checklist_url(case.pk, note.pk), {"checklist": {"nope": True}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"]["unknown"] == ["nope"]
