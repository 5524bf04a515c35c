"""Admins configure case work in /admin/: tags, note templates, case work rules. Nobody reads notes."""

import json

import pytest
from django.conf import settings
from django.test import Client

from cases.models import CasePolicy, NoteTemplate, NoteType, Tag
from organisation.models import User
from organisation.services import admin_grant_configuration_permissions
from tests.cases.factories_notes import CaseNoteFactory, TagFactory

TAGS_URL = "/admin/cases/tag/"
TEMPLATE_URL = "/admin/cases/notetemplate/"
POLICY_URL = "/admin/cases/casepolicy/"


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_client(client, admin_user):
    admin_grant_configuration_permissions(user=admin_user)
    client.force_login(User.objects.get(pk=admin_user.pk))
    return _english(client)


@pytest.fixture
def conversation_template(db) -> NoteTemplate:
    return NoteTemplate.objects.get(note_type=NoteType.CONVERSATION)


def _template_form(template: NoteTemplate, checklist: str) -> dict:
    return {"body": template.body, "checklist": checklist}


# Access


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_case_roles_cannot_configure(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in (TAGS_URL, TEMPLATE_URL, POLICY_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert client.post(f"{TAGS_URL}add/", {"name": "Neu", "active": "on"}).status_code == 302
    assert not Tag.objects.filter(name="Neu").exists()


def test_admin_without_the_permissions_sees_nothing(client, admin_user):
    client.force_login(admin_user)

    for url in (TAGS_URL, TEMPLATE_URL, POLICY_URL):
        assert client.get(url).status_code == 403


def test_case_notes_are_not_in_the_admin(admin_client, caseworker, case):
    CaseNoteFactory(case=case, author=caseworker, text="Vertraulicher Inhalt")

    assert admin_client.get("/admin/cases/casenote/").status_code == 404
    assert "Vertraulicher Inhalt" not in admin_client.get(TAGS_URL).content.decode()


# Tags


def test_admin_lists_searches_and_adds_tags(admin_client):
    response = admin_client.get(TAGS_URL, {"q": "Sprach"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Sprachkurs" in page
    assert "Schulden" not in page

    response = admin_client.post(
        f"{TAGS_URL}add/", {"name": "Pflege von Angehörigen", "description": "", "active": "on"}
    )
    assert response.status_code == 302
    assert Tag.objects.get(name="Pflege von Angehörigen").active is True


def test_admin_deactivates_and_reactivates_tags(admin_client):
    tag = TagFactory(name="Veraltet")

    response = admin_client.post(
        TAGS_URL, {"action": "deactivate", "_selected_action": [tag.pk], "index": 0}
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.active is False

    admin_client.post(TAGS_URL, {"action": "activate", "_selected_action": [tag.pk], "index": 0})
    tag.refresh_from_db()
    assert tag.active is True


def test_tags_cannot_be_deleted(admin_client):
    tag = Tag.objects.get(name="Wohnen")

    assert admin_client.get(f"{TAGS_URL}{tag.pk}/delete/").status_code == 403
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_tag_names_are_unique(admin_client):
    response = admin_client.post(f"{TAGS_URL}add/", {"name": "Wohnen", "active": "on"})

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Tag.objects.filter(name="Wohnen").count() == 1


# Note templates


def test_admin_edits_body_and_checklist(admin_client, conversation_template):
    url = f"{TEMPLATE_URL}{conversation_template.pk}/change/"
    page = admin_client.get(url).content.decode()
    # The checklist is shown as readable JSON with the umlauts as they are.
    assert "Anliegen der Kundin/des Kunden festgehalten" in page

    checklist = [
        {"key": "concern", "label": "Anliegen festgehalten", "required": True},
        {"key": "childcare", "label": "Kinderbetreuung geklärt", "required": False},
    ]
    response = admin_client.post(
        url, {"body": "Neuer Text:\n", "checklist": json.dumps(checklist, ensure_ascii=False)}
    )

    assert response.status_code == 302
    conversation_template.refresh_from_db()
    assert conversation_template.body == "Neuer Text:"
    assert conversation_template.checklist == checklist


@pytest.mark.parametrize(
    ("checklist", "message"),
    [
        ('[{"key": "a", "label": "A", "required": true', "This is not valid JSON."),
        ('{"key": "a"}', "The checklist must be a list"),
        ('[{"key": "a", "label": "A"}]', "Item 1 must have exactly the fields"),
        ('[{"key": "Bad Key", "label": "A", "required": true}]', "Item 1: the key must start"),
        (
            '[{"key": "a", "label": "A", "required": true}, '
            '{"key": "a", "label": "B", "required": false}]',
            "Item 2: the key &quot;a&quot; is used twice.",
        ),
        ('[{"key": "a", "label": " ", "required": true}]', "Item 1: the label must be a text"),
        ('[{"key": "a", "label": "A", "required": "yes"}]', "Item 1: &quot;required&quot; must be"),
    ],
)
def test_invalid_checklist_is_a_form_error(admin_client, conversation_template, checklist, message):
    before = conversation_template.checklist
    url = f"{TEMPLATE_URL}{conversation_template.pk}/change/"

    response = admin_client.post(url, _template_form(conversation_template, checklist))

    assert response.status_code == 200
    assert message in response.content.decode()
    conversation_template.refresh_from_db()
    assert conversation_template.checklist == before


def test_templates_cannot_be_deleted(admin_client, conversation_template):
    response = admin_client.get(f"{TEMPLATE_URL}{conversation_template.pk}/delete/")

    assert response.status_code == 403


def test_an_empty_checklist_is_allowed(admin_client):
    template = NoteTemplate.objects.get(note_type=NoteType.OTHER)

    response = admin_client.post(
        f"{TEMPLATE_URL}{template.pk}/change/", {"body": "", "checklist": ""}
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.checklist == []


# Case work rules


def test_admin_changes_the_rules(admin_client):
    policy = CasePolicy.current()

    response = admin_client.post(
        f"{POLICY_URL}{policy.pk}/change/",
        {"plan_review_months": "4", "profiling_overdue_days": "21"},
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.plan_review_months, policy.profiling_overdue_days) == (4, 21)


def test_rules_out_of_range_are_refused(admin_client):
    policy = CasePolicy.current()

    response = admin_client.post(
        f"{POLICY_URL}{policy.pk}/change/",
        {"plan_review_months": "30", "profiling_overdue_days": "14"},
    )

    assert response.status_code == 200
    assert "The review period is 1 to 24 months." in response.content.decode()
    policy.refresh_from_db()
    assert policy.plan_review_months == 6


def test_the_rules_are_one_row(admin_client):
    CasePolicy.objects.all().delete()
    response = admin_client.post(
        f"{POLICY_URL}add/", {"plan_review_months": "5", "profiling_overdue_days": "10"}
    )
    assert response.status_code == 302
    assert list(CasePolicy.objects.values_list("pk", "plan_review_months")) == [(1, 5)]

    # Once it exists it can be neither added again nor deleted.
    assert admin_client.get(f"{POLICY_URL}add/").status_code == 403
    assert admin_client.get(f"{POLICY_URL}1/delete/").status_code == 403
    assert CasePolicy.objects.count() == 1
