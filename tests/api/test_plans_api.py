"""The cooperation plan API: /api/v1/cases/<id>/cooperation-plan/..."""

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import CaseEvent, CooperationPlan, PlanStatus, PlanStep, StepStatus
from tests.api.conftest import PERSONAS
from tests.cases.factories_plans import CooperationPlanFactory, PlanStepFactory

NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def url(name: str, case, *args) -> str:
    return reverse(f"api:{name}", args=[case.pk, *args])


STEP = {"responsible": "customer", "description": "Bewerbungen schreiben", "due_date": "2026-04-01"}


# --- access -----------------------------------------------------------------------------------------

STATUS = {
    "caseworker": 200,
    "team_lead": 200,
    "other_caseworker": 404,
    "admin_user": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_access(as_persona, persona, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    PlanStepFactory(plan=plan)
    client = as_persona(persona)
    for address in (
        url("cooperation-plan", case),
        url("cooperation-plan-version", case, plan.pk),
        url("cooperation-plan-pdf", case),
    ):
        response = client.get(address)
        assert response.status_code == STATUS[persona], address
        if response.status_code != 200:
            assert set(response.json()) == {"message", "extra"}
    if STATUS[persona] != 200:
        assert not AuditEvent.objects.filter(customer_id=case.customer_id).exists()


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user", "anonymous"])
def test_writes_are_refused_for_who_must_not_see(as_persona, persona, case):
    plan = CooperationPlanFactory(case=case)
    step = PlanStepFactory(plan=plan)
    client = as_persona(persona)
    responses = [
        client.post(url("cooperation-plan", case), {"integration_goal": "x"}, format="json"),
        client.patch(
            url("cooperation-plan", case),
            {"lock_version": 0, "integration_goal": "x"},
            format="json",
        ),
        client.post(url("cooperation-plan-steps", case), {"steps": [STEP]}, format="json"),
        client.delete(url("cooperation-plan-step", case, step.pk) + "?lock_version=0"),
        client.post(
            url("cooperation-plan-agree", case),
            {"lock_version": 0, "agreement_note": "x"},
            format="json",
        ),
    ]
    assert {r.status_code for r in responses} == {STATUS[persona]}
    plan.refresh_from_db()
    assert plan.integration_goal != "x"
    assert plan.status == PlanStatus.DRAFT
    assert PlanStep.objects.count() == 1


# --- the flow ---------------------------------------------------------------------------------------


def test_draft_steps_agree_progress_and_new_version(caseworker_client, case):
    client = caseworker_client
    response = client.post(
        url("cooperation-plan", case), {"integration_goal": "Arbeit als Fahrer"}, format="json"
    )
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert (draft["status"], draft["version"], draft["review_date"]) == ("draft", 1, "2026-09-10")

    response = client.post(
        url("cooperation-plan-steps", case),
        {
            "steps": [
                STEP,
                {**STEP, "responsible": "third_party", "responsible_name": "Fahrschule"},
            ]
        },
        format="json",
    )
    assert response.status_code == 201
    steps = response.json()["steps"]
    assert [s["position"] for s in steps] == [1, 2]

    response = client.patch(
        url("cooperation-plan-step", case, steps[0]["id"]),
        {**STEP, "description": "Zehn Bewerbungen", "lock_version": 0},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["lock_version"] == 1

    response = client.delete(url("cooperation-plan-step", case, steps[1]["id"]) + "?lock_version=0")
    assert response.status_code == 204

    response = client.patch(
        url("cooperation-plan", case),
        {"lock_version": 0, "review_date": "2026-08-01"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["lock_version"] == 1

    response = client.post(
        url("cooperation-plan-agree", case),
        {"lock_version": 1, "agreement_note": "Telefonisch vereinbart"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    agreed = response.json()
    assert agreed["status"] == "agreed"
    assert agreed["agreed_by"] == "cw"
    case.refresh_from_db()
    assert case.review_due == datetime.date(2026, 8, 1)

    step_id = agreed["steps"][0]["id"]
    response = client.post(
        url("cooperation-plan-step-progress", case, step_id),
        {"lock_version": 1, "status": "done", "follow_up": "Nachweise liegen vor"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "done"
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STEP_UPDATED).exists()

    response = client.post(url("cooperation-plan", case), {}, format="json")
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["steps"][0]["status"] == "done"

    overview = client.get(url("cooperation-plan", case)).json()
    assert overview["agreed"]["version"] == 1
    assert overview["draft"]["version"] == 2
    assert [v["version"] for v in overview["versions"]] == [2, 1]
    assert overview["pdf_languages"] == ["de"]
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, channel=AuditChannel.API, object_type="cooperation_plan"
    ).exists()


# --- bad input and conflicts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"integration_goal": ""}, "integration_goal"),
        ({"integration_goal": "Arbeit", "review_date": "2026-03-10"}, "review_date"),
        ({"integration_goal": "Arbeit", "review_date": "kein Datum"}, "review_date"),
    ],
)
def test_bad_draft_input_is_400_and_saves_nothing(caseworker_client, case, payload, field):
    response = caseworker_client.post(url("cooperation-plan", case), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not CooperationPlan.objects.exists()


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"responsible": ""}, "responsible"),
        ({"responsible": "third_party"}, "responsible_name"),
        ({"description": ""}, "description"),
        ({"due_date": "2026-03-09"}, "due_date"),
    ],
)
def test_one_bad_step_saves_none(caseworker_client, case, bad, field):
    CooperationPlanFactory(case=case)
    response = caseworker_client.post(
        url("cooperation-plan-steps", case), {"steps": [STEP, {**STEP, **bad}]}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert any(field in str(key) or field in str(value) for key, value in fields.items())
    assert not PlanStep.objects.exists()


def test_stale_lock_version_is_409(caseworker_client, case):
    plan = CooperationPlanFactory(case=case, lock_version=2)
    response = caseworker_client.patch(
        url("cooperation-plan", case), {"lock_version": 1, "integration_goal": "Neu"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["extra"] == {"lock_version": 2}
    plan.refresh_from_db()
    assert plan.integration_goal != "Neu"


def test_second_draft_is_409(caseworker_client, case):
    CooperationPlanFactory(case=case)
    response = caseworker_client.post(
        url("cooperation-plan", case), {"integration_goal": "x"}, format="json"
    )
    assert response.status_code == 409


def test_agree_without_steps_is_400(caseworker_client, case):
    CooperationPlanFactory(case=case)
    response = caseworker_client.post(
        url("cooperation-plan-agree", case),
        {"lock_version": 0, "agreement_note": "ok"},
        format="json",
    )
    assert response.status_code == 400
    assert CooperationPlan.objects.get().status == PlanStatus.DRAFT


def test_editing_an_agreed_step_is_400(caseworker_client, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    response = caseworker_client.patch(
        url("cooperation-plan-step", case, step.pk), {**STEP, "lock_version": 0}, format="json"
    )
    assert response.status_code == 400
    response = caseworker_client.delete(url("cooperation-plan-step", case, step.pk))
    assert response.status_code == 400  # lock_version missing
    assert PlanStep.objects.get().description == step.description


def test_progress_without_change_is_400_and_unknown_step_404(caseworker_client, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    response = caseworker_client.post(
        url("cooperation-plan-step-progress", case, step.pk), {"lock_version": 0}, format="json"
    )
    assert response.status_code == 400
    response = caseworker_client.post(
        url("cooperation-plan-step-progress", case, 987654),
        {"lock_version": 0, "status": "done"},
        format="json",
    )
    assert response.status_code == 404
    assert PlanStep.objects.get().status == StepStatus.OPEN


def test_no_draft_to_patch_is_404(caseworker_client, case):
    response = caseworker_client.patch(
        url("cooperation-plan", case), {"lock_version": 0, "integration_goal": "x"}, format="json"
    )
    assert response.status_code == 404


# --- the PDF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en", "ar", "uk", "tr"])
def test_pdf_in_each_language_is_an_audited_export(caseworker_client, case, lang):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    PlanStepFactory(plan=plan, description="Sprachkurs")
    response = caseworker_client.get(url("cooperation-plan-pdf", case) + f"?lang={lang}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Language"] == lang
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Sprachkurs" in text
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.channel, event.detail["language"]) == (AuditChannel.API, lang)


def test_pdf_bad_language_or_parameter_is_400_and_no_agreed_plan_404(caseworker_client, case):
    CooperationPlanFactory(case=case)
    assert caseworker_client.get(url("cooperation-plan-pdf", case) + "?lang=xx").status_code == 400
    assert caseworker_client.get(url("cooperation-plan-pdf", case) + "?lnag=de").status_code == 400
    assert caseworker_client.get(url("cooperation-plan-pdf", case)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_pdf_when_the_client_accepts_only_pdf(caseworker_client, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    PlanStepFactory(plan=plan)
    address = url("cooperation-plan-pdf", case)
    response = caseworker_client.get(address, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    # An error still comes back in the error shape, as JSON.
    response = caseworker_client.get(address + "?lang=zz", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "extra"}
