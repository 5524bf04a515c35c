"""Personas shared by every test file, and the CI rule that nothing is skipped."""

import os

import pytest
from django.conf import settings
from django.utils import translation

from organisation.models import Role
from tests.cases.factories import CaseFactory
from tests.organisation.factories import AdminFactory, TeamFactory, UserFactory

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _german_by_default():
    """Every test starts in German, the product's default language.

    A request activates its language on the test's thread and Django leaves it active, so without
    this one test's English request would change the language of the next test's messages.
    """
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def team(db):
    return TeamFactory(name="Team Nord")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Team Süd")


@pytest.fixture
def caseworker(team):
    return UserFactory(username="cw", role=Role.CASEWORKER, team=team)


@pytest.fixture
def team_lead(team):
    return UserFactory(username="lead", role=Role.TEAM_LEAD, team=team)


@pytest.fixture
def other_caseworker(other_team):
    """A caseworker of another team: must never see the cases of `team`."""
    return UserFactory(username="cw_other", role=Role.CASEWORKER, team=other_team)


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="admin")


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


@pytest.fixture
def other_case(other_team):
    return CaseFactory(team=other_team)


def pytest_sessionfinish(session, exitstatus):
    """In CI every test must run: a skipped test fails the run."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI forbids skipped tests; {len(skipped)} were skipped.", red=True)
        session.exitstatus = 1
