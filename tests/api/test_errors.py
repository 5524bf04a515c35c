"""The error shape {"message", "extra"} for everything under /api/, and only there."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.api.conftest import api_client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/abc/",
        "/api/v1/cases/-1/",
        "/api/v1/customers/1.5/",
        "/api/v1/nothing/",
        "/api/v2/cases/",
        "/api/",
    ],
)
def test_unrouted_api_address_is_json_404(caseworker_client, path):
    response = caseworker_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "message": "There is nothing at this address.",
        "extra": {"path": path},
    }


def test_unrouted_page_stays_html(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_messages_are_german_by_default(case):
    response = APIClient().get("/api/v1/cases/")

    assert response.status_code == 401
    assert response.json() == {"message": "Anmeldedaten fehlen.", "extra": {}}


def test_wrong_method_is_405_in_the_error_shape(caseworker_client):
    response = caseworker_client.put("/api/v1/customers/", {}, format="json")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert set(response.json()) == {"message", "extra"}


def test_token_endpoint_wants_json(db):
    response = api_client().post(
        "/api/v1/auth/token/", "username=cw&password=x", content_type="text/plain"
    )

    assert response.status_code == 415
    assert set(response.json()) == {"message", "extra"}
