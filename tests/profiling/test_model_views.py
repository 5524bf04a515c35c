"""The AI model pages and API: everyone on staff reads the model card, only admins switch versions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.services import AuditContext
from profiling.model.estimator import ProfilingEstimator
from profiling.model.history import independent_history
from profiling.model.runtime import model_active
from profiling.model.train import model_card, model_evaluate
from profiling.models import ModelActivation, ModelSource, ModelStatus, ModelVersion
from profiling.services.models import model_version_activate, model_version_store
from tests.profiling.factories_ai import segment_defaults_install

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def fitted():
    data = independent_history(n=3000, seed=31)
    held = independent_history(n=1500, seed=32)
    estimator = ProfilingEstimator.fit(data.rows, data.outcomes, seed=0)
    return data, held, estimator


@pytest.fixture
def make_version(fitted):
    data, held, estimator = fitted
    segment_defaults_install()
    metrics = model_evaluate(estimator=estimator, data=held, min_group_size=100)
    card = model_card(
        estimator=estimator,
        data=data,
        source=ModelSource.SYNTHETIC,
        source_name="independent",
        metrics=metrics,
        fit_rows=len(data),
    )

    def make() -> ModelVersion:
        return model_version_store(
            estimator=estimator,
            data=data,
            source=ModelSource.SYNTHETIC,
            source_name="independent generator",
            metrics=metrics,
            model_card=card,
            actor=None,
        )

    return make


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _list() -> str:
    return reverse("profiling:model_list")


def _detail(number: int) -> str:
    return reverse("profiling:model_detail", args=[number])


def _activate(number: int) -> str:
    return reverse("profiling:model_activate", args=[number])


def _corrupt(version: ModelVersion) -> None:
    damaged = bytearray(version.artefact)
    damaged[len(damaged) // 2] ^= 0xFF
    ModelVersion.objects.filter(pk=version.pk).update(artefact=bytes(damaged))


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, make_version):
    version = make_version()
    for response in (
        client.get(_list()),
        client.get(_detail(version.number)),
        client.post(_activate(version.number), {}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["caseworker", "team_lead", "other_caseworker", "admin_user"])
def test_every_member_of_staff_reads_the_list_and_the_card(client, make_version, persona, request):
    version = make_version()
    client.force_login(request.getfixturevalue(persona))
    listing = client.get(_list())
    assert listing.status_code == 200
    assert f"Version {version.number}" in listing.content.decode()
    page = client.get(_detail(version.number))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Intended use" in html
    assert "Known limits" in html
    assert "cannot have both equal error rates and calibration" in html
    assert 'id="model-group-sex"' in html
    assert "<svg" in html  # the AUC and ECE charts


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_caseworkers_and_team_leads_cannot_activate(client, make_version, persona, request):
    version = make_version()
    client.force_login(request.getfixturevalue(persona))
    page = client.get(_detail(version.number)).content.decode()
    assert "model-activate-form" not in page
    response = client.post(_activate(version.number), {"reason": "try"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE


def test_an_unknown_version_is_a_404(client, caseworker):
    client.force_login(caseworker)
    assert client.get(_detail(99)).status_code == 404


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_status_data_and_key_figures(client, admin_user, make_version):
    first, second = make_version(), make_version()
    model_version_activate(ctx=AuditContext.system(), version_id=first.pk)
    client.force_login(admin_user)
    html = client.get(_list()).content.decode()
    assert "Active: version 1" in html
    assert "independent generator" in html
    assert f"{first.metrics['auc']:.3f}" in html
    assert _detail(second.number) + "#model-activation" in html  # compare and activate


def test_the_list_says_when_no_model_is_active(client, caseworker, make_version):
    make_version()
    client.force_login(caseworker)
    assert "No model is active yet" in client.get(_list()).content.decode()


def test_the_list_needs_the_same_queries_for_more_versions(client, caseworker, make_version):
    make_version()
    client.force_login(caseworker)
    client.get(_list())
    with CaptureQueriesContext(connection) as few:
        client.get(_list())
    for _ in range(4):
        make_version()
    with CaptureQueriesContext(connection) as many:
        client.get(_list())
    assert len(many) == len(few)


# --- activation ----------------------------------------------------------------------------------


def test_the_admin_sees_the_comparison_before_activating(client, admin_user, make_version):
    active, candidate = make_version(), make_version()
    model_version_activate(ctx=AuditContext.system(), version_id=active.pk)
    client.force_login(admin_user)
    html = client.get(_detail(candidate.number)).content.decode()
    assert 'id="model-compare"' in html
    assert "Active version 1" in html
    assert "Activate version 2" in html


def test_the_admin_activates_with_a_reason(client, admin_user, make_version):
    active, candidate = make_version(), make_version()
    model_version_activate(ctx=AuditContext.system(), version_id=active.pk)
    client.force_login(admin_user)
    response = client.post(_activate(candidate.number), {"reason": "Better calibrated"})
    assert response.status_code == 302
    assert response["Location"] == _detail(candidate.number)
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.ACTIVE
    activation = ModelActivation.objects.get(version=candidate)
    assert (activation.by, activation.reason) == (admin_user, "Better calibrated")
    page = client.get(response["Location"]).content.decode()
    assert "Version 2 is now the active model." in page
    assert "replaced version 1" in page


def test_rolling_back_is_offered_for_a_version_that_was_active(client, admin_user, make_version):
    old, new = make_version(), make_version()
    for version in (old, new):
        model_version_activate(ctx=AuditContext.system(), version_id=version.pk)
    client.force_login(admin_user)
    assert "Roll back to version 1" in client.get(_detail(old.number)).content.decode()
    client.post(_activate(old.number), {"reason": "v2 misbehaves"})
    assert ModelActivation.objects.get(version=old, action="rollback").reason == "v2 misbehaves"


def test_a_corrupt_version_is_refused_on_the_page_and_the_active_one_stays(
    client, admin_user, make_version
):
    good, bad = make_version(), make_version()
    model_version_activate(ctx=AuditContext.system(), version_id=good.pk)
    _corrupt(bad)
    client.force_login(admin_user)
    response = client.post(_activate(bad.number), {"reason": "try"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not activated" in html
    assert "checksum does not match" in html
    assert "Version 1 stays active." in html
    assert model_active()[0].pk == good.pk


# --- the API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["caseworker", "team_lead", "admin_user"])
def test_api_staff_read_versions_and_cards(as_persona, persona, make_version):
    version = make_version()
    client = as_persona(persona)
    listing = client.get(reverse("api:model-list"))
    assert listing.status_code == 200
    row = listing.json()["results"][0]
    assert row["number"] == version.number
    assert row["status"] == "candidate"
    assert row["auc"] == version.metrics["auc"]
    detail = client.get(reverse("api:model-detail", args=[version.number]))
    assert detail.status_code == 200
    body = detail.json()
    assert body["metrics"]["by_group"]["sex"]
    assert [s["key"] for s in body["model_card"]["en"]][0] == "intended_use"
    assert body["activations"] == []


def test_api_anonymous_gets_401(as_persona, make_version):
    version = make_version()
    client = as_persona("anonymous")
    assert client.get(reverse("api:model-list")).status_code == 401
    response = client.post(reverse("api:model-activate", args=[version.number]), {}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_api_only_admins_activate(as_persona, persona, make_version):
    version = make_version()
    response = as_persona(persona).post(
        reverse("api:model-activate", args=[version.number]), {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Only administrators activate model versions."
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE


def test_api_admin_activates_and_rolls_back(as_persona, make_version):
    first, second = make_version(), make_version()
    client = as_persona("admin_user")
    url = lambda v: reverse("api:model-activate", args=[v.number])  # noqa: E731
    assert client.post(url(first), {"reason": "start"}, format="json").status_code == 200
    response = client.post(url(second), {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    back = client.post(url(first), {"reason": "back"}, format="json")
    assert back.status_code == 200
    assert back.json()["activations"][0]["action"] == "rollback"
    again = client.post(url(first), {}, format="json")
    assert again.status_code == 409
    assert again.json()["message"] == "Version 1 is already active."


def test_api_corrupt_artefact_is_a_400_and_nothing_changes(as_persona, make_version):
    good, bad = make_version(), make_version()
    model_version_activate(ctx=AuditContext.system(), version_id=good.pk)
    _corrupt(bad)
    response = as_persona("admin_user").post(
        reverse("api:model-activate", args=[bad.number]), {}, format="json"
    )
    assert response.status_code == 400
    assert "checksum does not match" in response.json()["message"]
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == good


def test_api_unknown_version_is_a_404(as_persona):
    client = as_persona("admin_user")
    assert client.get(reverse("api:model-detail", args=[7])).status_code == 404
    response = client.post(reverse("api:model-activate", args=[7]), {}, format="json")
    assert response.status_code == 404
