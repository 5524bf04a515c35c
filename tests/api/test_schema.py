"""The OpenAPI schema at /api/schema/ and the docs at /api/docs/."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from tests.api.conftest import PERSONAS, api_client

OPERATIONS = {
    ("/api/v1/auth/token/", "post"): {"200", "400", "429"},
    ("/api/v1/cases/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/", "get"): {"200", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/claim/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/cases/{case_id}/cooperation-plan/", "get"): {"200", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/cooperation-plan/", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/", "patch"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/agree/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/pdf/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/cooperation-plan/steps/", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/steps/{step_id}/", "patch"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/steps/{step_id}/", "delete"): {
        "204",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/steps/{step_id}/progress/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/cooperation-plan/versions/{plan_id}/", "get"): {
        "200",
        "401",
        "403",
        "404",
    },
    ("/api/v1/cases/{case_id}/notes/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/notes/", "post"): {"201", "400", "401", "403", "404", "409"},
    ("/api/v1/cases/{case_id}/notes/{note_id}/", "get"): {"200", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/notes/{note_id}/checklist/", "patch"): {
        "200",
        "400",
        "401",
        "403",
        "404",
    },
    ("/api/v1/cases/{case_id}/release/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/cases/{case_id}/transition/", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/api/v1/customers/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/customers/{customer_id}/", "get"): {"200", "401", "403", "404"},
    ("/api/v1/customers/{customer_id}/profile/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/customers/{customer_id}/profile/", "put"): {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/customers/{customer_id}/profile/", "patch"): {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/customers/{customer_id}/profile/versions/", "get"): {
        "200",
        "400",
        "401",
        "403",
        "404",
    },
    ("/api/v1/note-templates/", "get"): {"200", "401"},
    ("/api/v1/tags/", "get"): {"200", "400", "401", "404"},
    # The AI profiling (issue 4).
    ("/api/v1/cases/{case_id}/profiling/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/profiling/", "post"): {"201", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/profiling/decision/", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/profiling/{suggestion_id}/strategies/{code}/plan/", "post"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/models/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/models/{number}/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/models/{number}/activate/", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/api/v1/segments/", "get"): {"200", "401"},
    ("/api/v1/segments/rules/", "get"): {"200", "401"},
    ("/api/v1/segments/rules/", "post"): {"201", "400", "401", "403", "409"},
    ("/api/v1/segments/rules/preview/", "post"): {"200", "400", "401", "403"},
    # Invitations (issue 5).
    ("/api/v1/planning-runs/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/planning-runs/", "post"): {"201", "400", "401", "403", "409"},
    ("/api/v1/planning-runs/{run_id}/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/planning-runs/{run_id}/approve/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-runs/{run_id}/discard/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-items/{item_id}/approve/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-items/{item_id}/reject/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/contact-agreement/hold/lift/", "post"): {
        "200",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/group-sessions/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/group-sessions/", "post"): {"201", "400", "401", "403", "409"},
    ("/api/v1/group-sessions/{session_id}/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/group-sessions/{session_id}/cancel/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/cases/{case_id}/contact-agreement/", "get"): {"200", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/contact-agreement/", "put"): {"200", "400", "401", "403", "404"},
    ("/api/v1/cases/{case_id}/appointments/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/appointments/{appointment_id}/cancel/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
    },
    ("/api/v1/appointments/{appointment_id}/outcome/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/missed-appointment-reviews/{review_id}/decide/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    # Appointments by hand and call-back requests (scheduling/apis_appointments.py).
    ("/api/v1/cases/{case_id}/appointments/", "post"): {"201", "400", "401", "403", "404", "409"},
    ("/api/v1/appointments/{appointment_id}/move/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    ("/api/v1/callback-requests/{callback_id}/handle/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
    # Staff calendars and absences (scheduling/apis_calendars.py).
    ("/api/v1/calendar/", "get"): {"200", "400", "401"},
    ("/api/v1/calendar/", "patch"): {"200", "400", "401"},
    ("/api/v1/calendar/consent/", "post"): {"200", "400", "401"},
    ("/api/v1/calendar/feed-token/", "post"): {"200", "401"},
    ("/api/v1/calendar/sync/", "post"): {"200", "202", "400", "401"},
    ("/api/v1/calendar/upload/", "post"): {"200", "400", "401", "415"},
    ("/api/v1/calendar/upload/", "delete"): {"200", "401"},
    ("/api/v1/calendar/absences/", "get"): {"200", "400", "401", "404"},
    ("/api/v1/calendar/absences/", "post"): {"201", "400", "401"},
    ("/api/v1/calendar/absences/{absence_id}/", "delete"): {"204", "401", "404"},
    ("/api/v1/staff/{user_id}/absences/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/staff/{user_id}/absences/", "post"): {"201", "400", "401", "403", "404"},
    ("/api/v1/staff/{user_id}/absences/{absence_id}/", "delete"): {"204", "401", "403", "404"},
    ("/api/v1/staff/{user_id}/calendar/", "get"): {"200", "400", "401", "403", "404"},
}


@pytest.fixture
def schema(db) -> dict:
    response = api_client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/cases/" in target.read_text()


def test_every_operation_and_its_errors_are_documented(schema):
    documented = {
        (path, method): set(operation["responses"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert documented == OPERATIONS

    for (path, method), codes in OPERATIONS.items():
        responses = schema["paths"][path][method]["responses"]
        for code in codes - {"200", "201", "202", "204"}:  # 202: a sync sent to a worker
            content = responses[code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, code)
            assert responses[code]["description"], (path, code)


def test_error_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["extra", "message"]
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["extra"]["type"] == "object"


def test_error_headers_are_documented(schema):
    cases = schema["paths"]["/api/v1/cases/"]["get"]["responses"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "WWW-Authenticate" in cases["401"]["headers"]
    assert "Retry-After" in token["429"]["headers"]


def test_lists_document_the_page_envelope(schema):
    components = schema["components"]["schemas"]
    for path, item in (
        ("/api/v1/cases/", "CaseListItem"),
        ("/api/v1/customers/", "CustomerListItem"),
    ):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"count", "next", "previous", "results"}
        assert page["properties"]["results"]["items"] == {"$ref": f"#/components/schemas/{item}"}
        params = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert params["page_size"]["maximum"] == 100
        assert params["page"]["minimum"] == 1


def test_case_filters_are_documented(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert set(params) == {
        "phase",
        "customer_group",
        "overdue",
        "q",
        "queue",
        "due",
        "page",
        "page_size",
    }
    assert "none" in params["customer_group"]["schema"]["enum"]
    assert params["overdue"]["schema"]["type"] == "boolean"


def test_security_schemes(schema):
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert token.get("security", []) in ([], [{}])
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/cases/"]["get"]["security"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_schema_and_docs_are_readable_by_everyone(as_persona, persona):
    client = as_persona(persona)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_docs_use_local_assets_only(db):
    response = api_client().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"https?://[^\s\"'<>]+", html)
    assert external == [], f"the docs page must not load from other hosts: {external}"
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [ref for ref in references if ref.startswith("/static/")]
    assert references == assets, "every script, style and icon comes from /static/"
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"
    assert '"validatorUrl": null' in html
