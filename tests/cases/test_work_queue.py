"""The work queue (`/`): who sees it, its filters, paging, htmx fragments, errors and query count."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditAction, AuditEvent
from cases.models import CasePolicy, CustomerGroup, Phase, PlanStatus, PlanStep, StepStatus
from cases.selectors import CaseFilters, Queue, case_list_for_user
from cases.views.queue import WORK_QUEUE_PAGE_SIZE
from organisation.models import Role
from tests.cases.factories import CaseFactory, CustomerFactory
from tests.cases.factories_lifecycle import (
    AgreedPlanFactory,
    IncompleteNoteFactory,
    PlanStepFactory,
)
from tests.organisation.factories import UserFactory

URL = reverse("cases:work_queue")
TEAM = {"queue": "team"}
BERLIN = datetime.timezone(datetime.timedelta(hours=1))
FROZEN_NOW = datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN)


def _body(response) -> str:
    return response.content.decode()


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_htmx_request_gets_a_full_page_redirect(client):
    """An expired session must not swap the login page into the results region."""
    response = client.get(URL, {"queue": "team", "q": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_admin_gets_403_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 403
    assert "liest keine Fallinhalte" in _body(response)
    assert not AuditEvent.objects.exists()


def test_caseworker_sees_own_team_cases_only(client, caseworker, case, other_case):
    client.force_login(caseworker)
    response = client.get(URL, TEAM)
    assert response.status_code == 200
    assert case.customer.customer_number in _body(response)
    assert other_case.customer.customer_number not in _body(response)


def test_other_team_caseworker_does_not_see_the_case(client, other_caseworker, case):
    client.force_login(other_caseworker)
    response = client.get(URL, TEAM)
    assert response.status_code == 200
    assert case.customer.customer_number not in _body(response)


def test_team_lead_sees_team_cases(client, team_lead, case, other_case):
    client.force_login(team_lead)
    response = client.get(URL)  # a team lead starts with all cases of the team
    assert case.customer.customer_number in _body(response)
    assert other_case.customer.customer_number not in _body(response)


def test_listing_is_audited_per_case_shown(client, caseworker, case):
    client.force_login(caseworker)
    client.get(URL, TEAM)
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert event.actor == caseworker
    assert event.customer_id == case.customer_id


# --- filters -------------------------------------------------------------------------------------


def test_phase_filter(client, caseworker, team):
    planning = CaseFactory(team=team, phase=Phase.PLANNING)
    profiling = CaseFactory(team=team, phase=Phase.PROFILING)
    client.force_login(caseworker)
    response = client.get(URL, {"queue": "team", "phase": "planning"}, HTTP_HX_REQUEST="true")
    body = _body(response)
    assert planning.customer.customer_number in body
    assert profiling.customer.customer_number not in body
    assert "<html" not in body


def test_closed_cases_only_with_the_closed_phase(client, caseworker, team):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    client.force_login(caseworker)
    assert closed.customer.customer_number not in _body(client.get(URL, TEAM))
    assert closed.customer.customer_number in _body(
        client.get(URL, {"queue": "team", "phase": "closed"})
    )


def test_customer_group_filter(client, caseworker, team):
    potential = CaseFactory(team=team, customer_group=CustomerGroup.POTENTIAL)
    market = CaseFactory(team=team, customer_group=CustomerGroup.MARKET_NEAR)
    client.force_login(caseworker)
    body = _body(client.get(URL, {"queue": "team", "customer_group": "potential"}))
    assert potential.customer.customer_number in body
    assert market.customer.customer_number not in body


def test_customer_group_not_yet_assigned(client, caseworker, team):
    unassigned = CaseFactory(team=team, customer_group="")
    grouped = CaseFactory(team=team, customer_group=CustomerGroup.ADMINISTRATIVE)
    client.force_login(caseworker)
    body = _body(client.get(URL, {"queue": "team", "customer_group": "none"}))
    assert unassigned.customer.customer_number in body
    assert grouped.customer.customer_number not in body


def test_overdue_filter_and_marker(client, caseworker, team):
    with time_machine.travel(FROZEN_NOW, tick=False):
        today = timezone.localdate()
        overdue = CaseFactory(team=team, review_due=today - datetime.timedelta(days=1))
        due_today = CaseFactory(team=team, review_due=today)
        client.force_login(caseworker)
        body = _body(client.get(URL, {"queue": "team", "overdue": "on"}))
    assert overdue.customer.customer_number in body
    assert due_today.customer.customer_number not in body
    # Marked in words, not only in colour (German is the default language).
    assert "überfällig" in body


def test_free_text_matches_name(client, caseworker, team):
    wanted = CaseFactory(team=team, customer=CustomerFactory(last_name="Kowalski"))
    other = CaseFactory(team=team, customer=CustomerFactory(last_name="Schmidt"))
    client.force_login(caseworker)
    body = _body(client.get(URL, {"queue": "team", "q": "kowal"}))
    assert wanted.customer.customer_number in body
    assert other.customer.customer_number not in body


def test_free_text_matches_customer_number_prefix(client, caseworker, team):
    wanted = CaseFactory(team=team, customer=CustomerFactory(customer_number="955D123456"))
    other = CaseFactory(team=team, customer=CustomerFactory(customer_number="123D955000"))
    client.force_login(caseworker)
    body = _body(client.get(URL, {"queue": "team", "q": "955D"}))
    assert wanted.customer.customer_number in body
    assert other.customer.customer_number not in body


def test_only_my_cases(client, caseworker, team):
    mine = CaseFactory(team=team, caseworker=caseworker)
    queue = CaseFactory(team=team, caseworker=None)
    client.force_login(caseworker)
    # The old "only mine" check box (links may still carry it) means the "My cases" tab.
    body = _body(client.get(URL, {"mine": "on"}))
    assert mine.customer.customer_number in body
    assert queue.customer.customer_number not in body


def test_count_and_phase_summary(client, caseworker, team):
    CaseFactory.create_batch(2, team=team, phase=Phase.PLANNING)
    CaseFactory(team=team, phase=Phase.REVIEW)
    client.force_login(caseworker)
    response = client.get(URL, {"queue": "team", "phase": "planning"})
    assert response.context["page"].paginator.count == 2
    counts = {value: count for value, _label, count in response.context["phase_counts"]}
    assert counts[Phase.PLANNING] == 2
    assert counts[Phase.REVIEW] == 1
    assert counts[Phase.PROFILING] == 0
    assert "2 Fälle" in _body(response)


# --- filter errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"phase": "sleeping"}, "phase"),
        ({"customer_group": "vip"}, "customer_group"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filter_is_a_400_with_the_message_next_to_the_field(client, caseworker, params, field):
    client.force_login(caseworker)
    response = client.get(URL, params)
    assert response.status_code == 400
    body = _body(response)
    # The error sits beside its field, which points at it for screen readers.
    assert f'id="id_{field}_error"' in body
    assert f'aria-describedby="id_{field}_error"' in body
    assert 'aria-invalid="true"' in body
    assert 'role="alert"' in body
    assert not AuditEvent.objects.exists()


def test_bad_filter_on_htmx_request_returns_the_fragment_with_the_errors(client, caseworker):
    client.force_login(caseworker)
    response = client.get(URL, {"queue": "team", "phase": "sleeping"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    body = _body(response)
    assert body.lstrip().startswith('<section id="work-queue-results"')
    assert "Phase" in body
    assert 'role="alert"' in body


# --- htmx and paging -----------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results_fragment(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(URL, HTTP_HX_REQUEST="true")
    body = _body(response).strip()
    assert body.startswith('<section id="work-queue-results"')
    assert body.endswith("</section>")
    assert "<html" not in body
    assert 'id="work-queue-filters"' not in body
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in _body(response)


def test_full_page_has_the_filter_form_and_results(client, caseworker, case):
    client.force_login(caseworker)
    body = _body(client.get(URL))
    assert "<html" in body
    assert 'id="work-queue-filters"' in body
    assert 'id="work-queue-results"' in body


def test_paging_keeps_the_filters(client, caseworker, team):
    CaseFactory.create_batch(WORK_QUEUE_PAGE_SIZE + 5, team=team, phase=Phase.PLANNING)
    CaseFactory(team=team, phase=Phase.PROFILING)
    client.force_login(caseworker)
    response = client.get(URL, {"queue": "team", "phase": "planning", "q": ""})
    page = response.context["page"]
    assert page.paginator.num_pages == 2
    assert len(page.object_list) == WORK_QUEUE_PAGE_SIZE
    body = _body(response)
    # The link to page 2 works with and without JavaScript and carries the filter.
    assert 'rel="next"' in body
    next_href = body.split('rel="next"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    next_hx = body.split('rel="next"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0]
    assert next_href == next_hx
    query = parse_qs(urlsplit(next_href.replace("&amp;", "&")).query)
    assert query["phase"] == ["planning"]
    assert query["page"] == ["2"]

    second = client.get(
        URL, {"queue": "team", "phase": "planning", "page": 2}, HTTP_HX_REQUEST="true"
    )
    assert second.status_code == 200
    # The fragment (no test-client context for partials) holds the last five planning cases.
    body = _body(second)
    assert body.count('<tr class="kern-table__row" id="case-row-') == 5
    assert "Seite 2 von 2" in body


def test_page_beyond_the_end_shows_the_last_page(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(URL, {"queue": "team", "page": 99})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_number_of_queries_does_not_grow_with_the_cases(client, caseworker, team):
    client.force_login(caseworker)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    CaseFactory.create_batch(5, team=team, caseworker=caseworker)
    few = count_queries()
    # More cases, and each with something due: the due flags come with the rows, not per row.
    for case in CaseFactory.create_batch(35, team=team, caseworker=caseworker):
        step = PlanStepFactory(plan=AgreedPlanFactory(case=case))
        PlanStep.objects.filter(pk=step.pk).update(
            due_date=timezone.localdate() - datetime.timedelta(days=3)
        )
        IncompleteNoteFactory(case=case)
    many = count_queries()
    assert many == few


def test_team_tab_count_and_due_pages_stay_constant_too(client, team_lead, team):
    client.force_login(team_lead)

    def count_queries(params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, params).status_code == 200
        return len(queries)

    for case in CaseFactory.create_batch(3, team=team):
        IncompleteNoteFactory(case=case)
    few = count_queries({"queue": "team", "due": "notes_incomplete"})
    for case in CaseFactory.create_batch(30, team=team):
        IncompleteNoteFactory(case=case)
    many = count_queries({"queue": "team", "due": "notes_incomplete"})
    assert many == few


# --- tabs: my cases, team queue, all cases -------------------------------------------------------


@pytest.fixture
def queue_cases(team, caseworker, other_team_member):
    """A fixed case of mine, one of a colleague, a free team case, one I claimed, one they did."""
    now = timezone.now()
    return {
        "fixed_mine": CaseFactory(
            team=team, caseworker=caseworker, customer_group=CustomerGroup.POTENTIAL
        ),
        "fixed_colleague": CaseFactory(
            team=team, caseworker=other_team_member, customer_group=CustomerGroup.POTENTIAL
        ),
        "free": CaseFactory(team=team, customer_group=CustomerGroup.MARKET_NEAR),
        "claimed_by_me": CaseFactory(
            team=team,
            customer_group=CustomerGroup.ADMINISTRATIVE,
            claimed_by=caseworker,
            claimed_at=now,
        ),
        "claimed_by_colleague": CaseFactory(
            team=team, customer_group="", claimed_by=other_team_member, claimed_at=now
        ),
    }


@pytest.fixture
def other_team_member(team):
    return UserFactory(username="colleague", role=Role.CASEWORKER, team=team)


def _shown(response, cases: dict) -> set[str]:
    body = _body(response)
    return {name for name, case in cases.items() if case.customer.customer_number in body}


def test_my_cases_is_the_caseworkers_first_tab(client, caseworker, queue_cases):
    client.force_login(caseworker)
    response = client.get(URL)
    assert _shown(response, queue_cases) == {"fixed_mine", "claimed_by_me"}
    assert response.context["active_queue"] == "mine"


def test_team_queue_holds_cases_without_fixed_caseworker(client, caseworker, queue_cases):
    client.force_login(caseworker)
    response = client.get(URL, TEAM)
    assert _shown(response, queue_cases) == {"free", "claimed_by_me", "claimed_by_colleague"}
    # Who claimed a case is shown in the row.
    assert str(queue_cases["claimed_by_colleague"].claimed_by) in _body(response)


def test_team_lead_sees_all_cases_and_the_third_tab(client, team_lead, queue_cases):
    client.force_login(team_lead)
    response = client.get(URL)
    assert _shown(response, queue_cases) == set(queue_cases)
    tabs = {value: count for value, _label, count in response.context["queue_tabs"]}
    assert tabs == {"mine": 0, "team": 3, "all": 5}


def test_caseworker_has_two_tabs_and_all_is_refused(client, caseworker, queue_cases):
    client.force_login(caseworker)
    response = client.get(URL)
    tabs = {value: count for value, _label, count in response.context["queue_tabs"]}
    assert tabs == {"mine": 2, "team": 3}
    logged = AuditEvent.objects.count()
    refused = client.get(URL, {"queue": "all"})
    assert refused.status_code == 400
    assert 'role="alert"' in _body(refused)
    assert AuditEvent.objects.count() == logged


def test_the_tab_stays_in_the_filter_form(client, caseworker, queue_cases):
    client.force_login(caseworker)
    body = _body(client.get(URL, {"queue": "team", "phase": "profiling"}))
    assert '<input type="hidden" name="queue" value="team"' in body


# --- what is due ---------------------------------------------------------------------------------


FROZEN = datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def due_cases(team, caseworker):
    """Built at FROZEN_NOW: one case per kind of due item, and one with nothing due."""
    today = FROZEN.date()
    with time_machine.travel(FROZEN, tick=False):
        review = CaseFactory(
            team=team, phase=Phase.REVIEW, review_due=today - datetime.timedelta(days=10)
        )
        steps = CaseFactory(
            team=team, phase=Phase.IMPLEMENTATION, review_due=today + datetime.timedelta(days=90)
        )
        plan = AgreedPlanFactory(case=steps)
        PlanStepFactory(plan=plan, due_date=today - datetime.timedelta(days=20))
        PlanStepFactory(plan=plan, due_date=today - datetime.timedelta(days=5))
        # Not overdue: done, in the future, or in a superseded plan of an earlier cycle.
        PlanStepFactory(plan=plan, due_date=today + datetime.timedelta(days=5))
        PlanStepFactory(
            plan=plan, due_date=today - datetime.timedelta(days=50), status=StepStatus.DONE
        )
        old_steps = CaseFactory(
            team=team, phase=Phase.PLANNING, cycle=2, review_due=today + datetime.timedelta(days=90)
        )
        old_plan = AgreedPlanFactory(case=old_steps, cycle=1, status=PlanStatus.SUPERSEDED)
        PlanStepFactory(plan=old_plan, due_date=today - datetime.timedelta(days=30))
        profiling = CaseFactory(
            team=team,
            phase=Phase.PROFILING,
            phase_since=FROZEN - datetime.timedelta(days=15),
            review_due=None,
        )
        fresh_profiling = CaseFactory(
            team=team,
            phase=Phase.PROFILING,
            phase_since=FROZEN - datetime.timedelta(days=13),
            review_due=None,
        )
        notes = CaseFactory(
            team=team, phase=Phase.PLANNING, review_due=today + datetime.timedelta(days=60)
        )
        IncompleteNoteFactory(case=notes)
        IncompleteNoteFactory(case=notes, is_incomplete=False, missing_items=[])
        nothing = CaseFactory(
            team=team, phase=Phase.PLANNING, review_due=today + datetime.timedelta(days=1)
        )
    return {
        "review": review,
        "steps": steps,
        "old_steps": old_steps,
        "profiling": profiling,
        "fresh_profiling": fresh_profiling,
        "notes": notes,
        "nothing": nothing,
    }


def _names_in_order(response, cases: dict) -> list[str]:
    by_pk = {case.pk: name for name, case in cases.items()}
    return [by_pk[case.pk] for case in response.context["page"].object_list if case.pk in by_pk]


def test_due_items_per_case_and_urgency_order(client, team_lead, due_cases):
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(team_lead)
        response = client.get(URL)
    # Overdue steps (20 days) before the review (10 days), then profiling, notes, nothing due.
    assert _names_in_order(response, due_cases) == [
        "steps",
        "review",
        "profiling",
        "notes",
        "nothing",
        "old_steps",
        "fresh_profiling",
    ]
    rows = {case.pk: case for case in response.context["page"].object_list}
    assert rows[due_cases["steps"].pk].oldest_overdue_step == FROZEN.date() - datetime.timedelta(
        days=20
    )
    assert rows[due_cases["review"].pk].due_review_due
    assert not rows[due_cases["old_steps"].pk].due_steps_overdue
    assert rows[due_cases["profiling"].pk].due_profiling_overdue
    assert not rows[due_cases["fresh_profiling"].pk].due_profiling_overdue
    assert rows[due_cases["notes"].pk].due_notes_incomplete
    nothing = rows[due_cases["nothing"].pk]
    assert (nothing.due_review_due, nothing.due_steps_overdue, nothing.urgency) == (
        False,
        False,
        3,
    )


def test_due_counts_per_category(client, team_lead, due_cases):
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(team_lead)
        response = client.get(URL)
    counts = {value: count for value, _label, count in response.context["due_counts"]}
    assert counts == {
        "review_due": 1,
        "steps_overdue": 1,
        "profiling_overdue": 1,
        "suggestion_pending": 0,
        "missed_appointment": 0,
        "callback_requested": 0,
        "notes_incomplete": 1,
        "any": 4,
    }


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("steps_overdue", {"steps"}),
        ("review_due", {"review"}),
        ("profiling_overdue", {"profiling"}),
        ("notes_incomplete", {"notes"}),
        ("any", {"steps", "review", "profiling", "notes"}),
    ],
)
def test_due_filter(client, team_lead, due_cases, due, expected):
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(team_lead)
        response = client.get(URL, {"due": due}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = _body(response)
    shown = {name for name, case in due_cases.items() if case.customer.customer_number in body}
    assert shown == expected
    assert body.lstrip().startswith('<section id="work-queue-results"')


def test_profiling_limit_comes_from_the_case_policy(client, team_lead, due_cases):
    CasePolicy.objects.update_or_create(pk=1, defaults={"profiling_overdue_days": 10})
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(team_lead)
        response = client.get(URL, {"due": "profiling_overdue"})
    assert {c.pk for c in response.context["page"].object_list} == {
        due_cases["profiling"].pk,
        due_cases["fresh_profiling"].pk,
    }


def test_unknown_due_filter_is_a_400(client, team_lead):
    client.force_login(team_lead)
    response = client.get(URL, {"due": "tomorrow"})
    assert response.status_code == 400


def test_due_marks_are_shown_in_words(client, team_lead, due_cases):
    with time_machine.travel(FROZEN, tick=False):
        client.force_login(team_lead)
        body = _body(client.get(URL))
    with translation.override("de"):
        for label in ("Goal review due", "Profiling taking long", "Incomplete notes"):
            assert gettext(label) in body
    assert 'data-due="steps_overdue"' in body


def test_due_since_is_the_oldest_of_review_and_steps(team_lead, team):
    today = FROZEN.date()
    with time_machine.travel(FROZEN, tick=False):
        step_older = CaseFactory(team=team, review_due=today - datetime.timedelta(days=10))
        PlanStepFactory(
            plan=AgreedPlanFactory(case=step_older), due_date=today - datetime.timedelta(days=20)
        )
        review_older = CaseFactory(team=team, review_due=today - datetime.timedelta(days=30))
        PlanStepFactory(
            plan=AgreedPlanFactory(case=review_older), due_date=today - datetime.timedelta(days=5)
        )
        rows = list(case_list_for_user(user=team_lead, filters=CaseFilters(queue=Queue.ALL)))
    assert [row.pk for row in rows] == [review_older.pk, step_older.pk]
    assert rows[0].due_since == today - datetime.timedelta(days=30)
    assert rows[1].due_since == today - datetime.timedelta(days=20)
    assert rows[1].oldest_overdue_step == today - datetime.timedelta(days=20)
