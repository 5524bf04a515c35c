"""Property-based tests of the API against its own OpenAPI schema (schemathesis).

Every operation is called with generated valid and invalid input: no 5xx, every status code
documented, every body and header as the schema says.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cases.models import CustomerGroup, Phase
from organisation.services import token_issue
from tests.cases.factories import CaseEventFactory, CaseFactory

TOKEN_OPERATION = "auth_token_create"
# A write may refuse a body the schema allows, for rules a schema cannot say: a date in the past
# where the future is needed, an outdated lock_version, a first plan draft without a goal. So
# "valid data is accepted" is checked for reads only; every other check runs for writes too.
READ_METHODS = {"GET"}

# One test per operation; its data and token are made once and shared by its examples.
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    # The same examples on every run: CI must not pass or fail by chance.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go straight to the WSGI app, whose request signals close the database connection
    (and with it the test's transaction) on PostgreSQL. Django's test client unhooks them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(caseworker, team, other_team) -> dict:
    """A caseworker whose team has a few cases in different states, and a case they must not see."""
    CaseFactory(team=team, caseworker=caseworker, customer_group=CustomerGroup.POTENTIAL)
    CaseFactory(team=team, phase=Phase.PLANNING, customer_group=CustomerGroup.MARKET_NEAR)
    CaseFactory(team=team, phase=Phase.CLOSED)
    CaseEventFactory(case=CaseFactory(team=team, phase=Phase.REVIEW), actor=caseworker)
    CaseFactory(team=other_team)
    return {"Authorization": f"Token {token_issue(user=caseworker).key}"}


# Loaded once at collection, from the schema the app serves (reading it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.exclude(operation_id=TOKEN_OPERATION).parametrize()
@HYPOTHESIS
def test_read_operations(case, auth_header):
    excluded = [] if case.method.upper() in READ_METHODS else [positive_data_acceptance]
    case.call_and_validate(headers=auth_header, excluded_checks=excluded)


@schema.include(operation_id=TOKEN_OPERATION).parametrize()
@HYPOTHESIS
def test_token_operation(case):
    # Generated usernames and passwords are valid input yet wrong credentials: 400 is right here.
    # Failures count towards lockouts of generated usernames only, never the personas'.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
