"""Claiming and releasing team-queue cases: the services, the race, and the buttons."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import Case, CaseEvent, CustomerGroup, Phase
from cases.services.queue import ClaimRefusedError, case_claim, case_release
from organisation.models import Role
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite locks the whole database. "
    "CI runs this on PostgreSQL.",
)


def _ctx(user) -> AuditContext:
    return AuditContext(actor=user, channel=AuditChannel.API)


@pytest.fixture
def colleague(team):
    return UserFactory(username="colleague", role=Role.CASEWORKER, team=team)


@pytest.fixture
def queue_case(team):
    return CaseFactory(team=team, customer_group=CustomerGroup.MARKET_NEAR)


def _claim_state(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        case.claimed_by_id,
        case.claimed_at,
        CaseEvent.objects.filter(case=case).count(),
        AuditEvent.objects.count(),
    )


# --- services ------------------------------------------------------------------------------------


def test_claim_records_event_and_audit(caseworker, queue_case):
    case_claim(ctx=_ctx(caseworker), case_id=queue_case.pk)
    queue_case.refresh_from_db()
    assert queue_case.claimed_by == caseworker
    assert queue_case.claimed_at is not None
    event = CaseEvent.objects.get(case=queue_case)
    assert (event.kind, event.actor) == (CaseEvent.Kind.CLAIMED, caseworker)
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.object_id) == (AuditAction.UPDATE, str(queue_case.pk))
    assert audit.customer_id == queue_case.customer_id
    assert audit.detail == {"operation": "claim", "claimed_by": "cw"}


def test_second_claim_is_refused_with_the_holder(caseworker, colleague, queue_case):
    case_claim(ctx=_ctx(caseworker), case_id=queue_case.pk)
    before = _claim_state(queue_case)
    with pytest.raises(ClaimRefusedError) as refused:
        case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    assert refused.value.status_code == 409
    assert str(caseworker) in refused.value.message
    assert refused.value.extra == {"claimed_by": "cw"}
    assert _claim_state(queue_case) == before


def test_claiming_twice_yourself_is_refused(caseworker, queue_case):
    case_claim(ctx=_ctx(caseworker), case_id=queue_case.pk)
    with pytest.raises(ClaimRefusedError):
        case_claim(ctx=_ctx(caseworker), case_id=queue_case.pk)


def test_fixed_caseworker_case_cannot_be_claimed(caseworker, colleague, team):
    case = CaseFactory(team=team, caseworker=colleague, customer_group=CustomerGroup.POTENTIAL)
    before = _claim_state(case)
    with pytest.raises(ClaimRefusedError) as refused:
        case_claim(ctx=_ctx(caseworker), case_id=case.pk)
    assert str(colleague) in refused.value.message
    assert _claim_state(case) == before


def test_closed_case_cannot_be_claimed(caseworker, team):
    case = CaseFactory(team=team, phase=Phase.CLOSED)
    with pytest.raises(ClaimRefusedError):
        case_claim(ctx=_ctx(caseworker), case_id=case.pk)


def test_other_team_cannot_claim(other_caseworker, queue_case):
    with pytest.raises(Http404):
        case_claim(ctx=_ctx(other_caseworker), case_id=queue_case.pk)
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None


def test_release_by_the_holder(caseworker, queue_case):
    case_claim(ctx=_ctx(caseworker), case_id=queue_case.pk)
    case_release(ctx=_ctx(caseworker), case_id=queue_case.pk)
    queue_case.refresh_from_db()
    assert (queue_case.claimed_by, queue_case.claimed_at) == (None, None)
    event = CaseEvent.objects.filter(case=queue_case).first()
    assert event.kind == CaseEvent.Kind.RELEASED
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == 2


def test_release_of_someone_elses_claim_is_refused(caseworker, colleague, queue_case):
    case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    before = _claim_state(queue_case)
    with pytest.raises(ClaimRefusedError) as refused:
        case_release(ctx=_ctx(caseworker), case_id=queue_case.pk)
    assert str(colleague) in refused.value.message
    assert _claim_state(queue_case) == before


def test_team_lead_releases_anyones_claim(team_lead, colleague, queue_case):
    case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    case_release(ctx=_ctx(team_lead), case_id=queue_case.pk)
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None
    event = CaseEvent.objects.filter(case=queue_case).first()
    assert event.actor == team_lead
    assert event.data["released"] == "colleague"


def test_release_of_an_unclaimed_case_is_refused(caseworker, queue_case):
    with pytest.raises(ClaimRefusedError):
        case_release(ctx=_ctx(caseworker), case_id=queue_case.pk)


# --- the race, on PostgreSQL with two connections ------------------------------------------------


def _in_thread(results: dict, key: str, start: threading.Barrier | None, func) -> threading.Thread:
    def run() -> None:
        try:
            if start is not None:
                start.wait(timeout=10)
            results[key] = func()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[key] = error
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_caseworkers_claim_at_once_exactly_one_wins(caseworker, colleague, queue_case):
    results: dict = {}
    start = threading.Barrier(2)
    threads = [
        _in_thread(
            results,
            user.username,
            start,
            lambda u=user: case_claim(ctx=_ctx(u), case_id=queue_case.pk),
        )
        for user in (caseworker, colleague)
    ]
    for thread in threads:
        thread.join(timeout=20)

    winners = [name for name, outcome in results.items() if isinstance(outcome, Case)]
    losers = [outcome for outcome in results.values() if isinstance(outcome, ClaimRefusedError)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert losers[0].status_code == 409
    queue_case.refresh_from_db()
    assert queue_case.claimed_by.username == winners[0]
    assert CaseEvent.objects.filter(case=queue_case, kind=CaseEvent.Kind.CLAIMED).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_claim_waits_for_the_row_lock_and_then_sees_the_other_claim(
    caseworker, colleague, queue_case
):
    """The lock is what decides: a claim that starts while another holds the row waits for it."""
    results: dict = {}
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=queue_case.pk)
        waiting = _in_thread(
            results, "colleague", None, lambda: case_claim(ctx=_ctx(colleague), case_id=locked.pk)
        )
        time.sleep(0.5)
        assert waiting.is_alive()  # blocked on the row lock, not reading a stale row
        locked.claimed_by = caseworker
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["claimed_by", "claimed_at"])
    waiting.join(timeout=20)
    assert isinstance(results["colleague"], ClaimRefusedError), results
    queue_case.refresh_from_db()
    assert queue_case.claimed_by == caseworker


# --- buttons on the case page and in the team queue ----------------------------------------------


def _claim_url(case) -> str:
    return reverse("cases:case_claim", args=[case.pk])


def _release_url(case) -> str:
    return reverse("cases:case_release", args=[case.pk])


def test_claim_button_on_the_case_page(client, caseworker, queue_case):
    client.force_login(caseworker)
    page = client.get(reverse("cases:case_detail", args=[queue_case.pk])).content.decode()
    assert f'action="{_claim_url(queue_case)}"' in page
    response = client.post(_claim_url(queue_case), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="case-lifecycle"')
    assert f'action="{_release_url(queue_case)}"' in body
    assert '<section id="case-timeline"' in body
    queue_case.refresh_from_db()
    assert queue_case.claimed_by == caseworker


def test_no_claim_button_for_a_fixed_case(client, caseworker, team):
    case = CaseFactory(team=team, caseworker=caseworker, customer_group=CustomerGroup.POTENTIAL)
    client.force_login(caseworker)
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert _claim_url(case) not in page


def test_claim_without_javascript_redirects(client, caseworker, queue_case):
    client.force_login(caseworker)
    response = client.post(_claim_url(queue_case))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_detail", args=[queue_case.pk])
    response = client.post(_release_url(queue_case), {"next": "/?queue=team"})
    assert response["Location"] == "/?queue=team"
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None


def test_next_must_stay_on_the_site(client, caseworker, queue_case):
    client.force_login(caseworker)
    response = client.post(_claim_url(queue_case), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("cases:case_detail", args=[queue_case.pk])


def test_claim_taken_shows_the_409_message_on_the_page(client, caseworker, colleague, queue_case):
    case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    client.force_login(caseworker)
    response = client.post(_claim_url(queue_case), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="case-claim-error"' in body
    assert 'role="alert"' in body
    assert str(colleague) in body


def test_claim_from_the_team_queue_row(client, caseworker, queue_case):
    client.force_login(caseworker)
    listing = client.get(reverse("cases:work_queue"), {"queue": "team"}).content.decode()
    assert f'hx-post="{_claim_url(queue_case)}"' in listing
    response = client.post(
        _claim_url(queue_case), {"source": "queue", "next": "/?queue=team"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith(f'<tr class="kern-table__row" id="case-row-{queue_case.pk}"')
    assert body.endswith("</tr>")
    assert f'hx-post="{_release_url(queue_case)}"' in body
    assert str(caseworker) in body  # "claimed by ..."


def test_claim_conflict_in_the_row(client, caseworker, colleague, queue_case):
    case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    client.force_login(caseworker)
    response = client.post(_claim_url(queue_case), {"source": "queue"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = response.content.decode()
    assert body.lstrip().startswith("<tr")
    assert 'role="alert"' in body


def test_team_lead_sees_release_for_anyones_claim(client, team_lead, colleague, queue_case):
    case_claim(ctx=_ctx(colleague), case_id=queue_case.pk)
    client.force_login(team_lead)
    response = client.post(_release_url(queue_case), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, queue_case):
    response = client.post(_claim_url(queue_case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_other_team_gets_404(client, other_caseworker, queue_case):
    client.force_login(other_caseworker)
    assert client.post(_claim_url(queue_case)).status_code == 404
    assert client.post(_release_url(queue_case)).status_code == 404
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None
    assert not AuditEvent.objects.exists()


def test_admin_gets_403(client, admin_user, queue_case):
    client.force_login(admin_user)
    assert client.post(_claim_url(queue_case)).status_code == 403
    queue_case.refresh_from_db()
    assert queue_case.claimed_by is None
