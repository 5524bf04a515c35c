"""The API clients of tests/api (personas with real tokens), for the profile API tests."""

from tests.api.conftest import _fresh_throttle, as_persona, caseworker_client  # noqa: F401
