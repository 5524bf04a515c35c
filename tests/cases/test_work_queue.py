"""The work queue (`/`): who sees it, its filters, paging, htmx fragments, errors and query count."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from cases.models import CustomerGroup, Phase
from cases.views.queue import WORK_QUEUE_PAGE_SIZE
from tests.cases.factories import CaseFactory, CustomerFactory

URL = reverse("cases:work_queue")
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
    response = client.get(URL, {"q": "x"}, HTTP_HX_REQUEST="true")
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
    response = client.get(URL)
    assert response.status_code == 200
    assert case.customer.customer_number in _body(response)
    assert other_case.customer.customer_number not in _body(response)


def test_other_team_caseworker_does_not_see_the_case(client, other_caseworker, case):
    client.force_login(other_caseworker)
    response = client.get(URL)
    assert response.status_code == 200
    assert case.customer.customer_number not in _body(response)


def test_team_lead_sees_team_cases(client, team_lead, case, other_case):
    client.force_login(team_lead)
    response = client.get(URL)
    assert case.customer.customer_number in _body(response)
    assert other_case.customer.customer_number not in _body(response)


def test_listing_is_audited_per_case_shown(client, caseworker, case):
    client.force_login(caseworker)
    client.get(URL)
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert event.actor == caseworker
    assert event.customer_id == case.customer_id


# --- filters -------------------------------------------------------------------------------------


def test_phase_filter(client, caseworker, team):
    planning = CaseFactory(team=team, phase=Phase.PLANNING)
    profiling = CaseFactory(team=team, phase=Phase.PROFILING)
    client.force_login(caseworker)
    response = client.get(URL, {"phase": "planning"}, HTTP_HX_REQUEST="true")
    body = _body(response)
    assert planning.customer.customer_number in body
    assert profiling.customer.customer_number not in body
    assert "<html" not in body


def test_closed_cases_only_with_the_closed_phase(client, caseworker, team):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    client.force_login(caseworker)
    assert closed.customer.customer_number not in _body(client.get(URL))
    assert closed.customer.customer_number in _body(client.get(URL, {"phase": "closed"}))


def test_customer_group_filter(client, caseworker, team):
    potential = CaseFactory(team=team, customer_group=CustomerGroup.POTENTIAL)
    market = CaseFactory(team=team, customer_group=CustomerGroup.MARKET_NEAR)
    client.force_login(caseworker)
    body = _body(client.get(URL, {"customer_group": "potential"}))
    assert potential.customer.customer_number in body
    assert market.customer.customer_number not in body


def test_customer_group_not_yet_assigned(client, caseworker, team):
    unassigned = CaseFactory(team=team, customer_group="")
    grouped = CaseFactory(team=team, customer_group=CustomerGroup.ADMINISTRATIVE)
    client.force_login(caseworker)
    body = _body(client.get(URL, {"customer_group": "none"}))
    assert unassigned.customer.customer_number in body
    assert grouped.customer.customer_number not in body


def test_overdue_filter_and_marker(client, caseworker, team):
    with time_machine.travel(FROZEN_NOW, tick=False):
        today = timezone.localdate()
        overdue = CaseFactory(team=team, review_due=today - datetime.timedelta(days=1))
        due_today = CaseFactory(team=team, review_due=today)
        client.force_login(caseworker)
        body = _body(client.get(URL, {"overdue": "on"}))
    assert overdue.customer.customer_number in body
    assert due_today.customer.customer_number not in body
    # Marked in words, not only in colour (German is the default language).
    assert "überfällig" in body


def test_free_text_matches_name(client, caseworker, team):
    wanted = CaseFactory(team=team, customer=CustomerFactory(last_name="Kowalski"))
    other = CaseFactory(team=team, customer=CustomerFactory(last_name="Schmidt"))
    client.force_login(caseworker)
    body = _body(client.get(URL, {"q": "kowal"}))
    assert wanted.customer.customer_number in body
    assert other.customer.customer_number not in body


def test_free_text_matches_customer_number_prefix(client, caseworker, team):
    wanted = CaseFactory(team=team, customer=CustomerFactory(customer_number="955D123456"))
    other = CaseFactory(team=team, customer=CustomerFactory(customer_number="123D955000"))
    client.force_login(caseworker)
    body = _body(client.get(URL, {"q": "955D"}))
    assert wanted.customer.customer_number in body
    assert other.customer.customer_number not in body


def test_only_my_cases(client, caseworker, team):
    mine = CaseFactory(team=team, caseworker=caseworker)
    queue = CaseFactory(team=team, caseworker=None)
    client.force_login(caseworker)
    body = _body(client.get(URL, {"mine": "on"}))
    assert mine.customer.customer_number in body
    assert queue.customer.customer_number not in body


def test_count_and_phase_summary(client, caseworker, team):
    CaseFactory.create_batch(2, team=team, phase=Phase.PLANNING)
    CaseFactory(team=team, phase=Phase.REVIEW)
    client.force_login(caseworker)
    response = client.get(URL, {"phase": "planning"})
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
    response = client.get(URL, {"phase": "sleeping"}, HTTP_HX_REQUEST="true")
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
    response = client.get(URL, {"phase": "planning", "q": ""})
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

    second = client.get(URL, {"phase": "planning", "page": 2}, HTTP_HX_REQUEST="true")
    assert second.status_code == 200
    # The fragment (no test-client context for partials) holds the last five planning cases.
    body = _body(second)
    assert body.count('<tr class="kern-table__row">') == 5 + 1  # rows plus the header row
    assert "Seite 2 von 2" in body


def test_page_beyond_the_end_shows_the_last_page(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(URL, {"page": 99})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_number_of_queries_does_not_grow_with_the_cases(client, caseworker, team):
    client.force_login(caseworker)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    CaseFactory.create_batch(5, team=team)
    few = count_queries()
    CaseFactory.create_batch(35, team=team, caseworker=caseworker)
    many = count_queries()
    assert many == few
