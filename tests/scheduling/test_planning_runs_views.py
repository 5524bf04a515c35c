"""The planning pages: list, "plan now", the run with its figures, decisions, htmx partials."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import (
    Appointment,
    PlanningDecision,
    PlanningRun,
    PlanningRunStatus,
)
from scheduling.services_planning import planning_run_execute, planning_run_start
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import (
    calendar_for,
    due_case,
    make_staff,
    planning_settings,
)

TUESDAY = dt.date(2026, 11, 24)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def at_now(db):
    with time_machine.travel(NOW, tick=False) as traveller:
        planning_settings()
        yield traveller


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def proposed(team, team_lead):
    calendar_for(team_lead)
    make_staff(team, "anna")
    cases = [due_case(team, due=TUESDAY) for _ in range(3)]
    run = planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
    return planning_run_execute(run_id=run.pk), cases


@pytest.fixture
def no_sends(monkeypatch):
    from scheduling import tasks

    sent = []
    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", sent.extend)
    return sent


# --- access ------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login(client, proposed):
    run, _cases = proposed
    for url in (
        reverse("scheduling:planning_list"),
        reverse("scheduling:planning_detail", args=[run.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_other_teams_and_admins_get_404(client, proposed, other_caseworker, admin_user):
    run, _cases = proposed
    item = run.items.first()
    for user in (other_caseworker, admin_user):
        login(client, user)
        assert client.get(reverse("scheduling:planning_detail", args=[run.pk])).status_code == 404
        assert (
            client.post(reverse("scheduling:planning_run_approve", args=[run.pk])).status_code
            == 404
        )
        assert (
            client.post(reverse("scheduling:planning_item_approve", args=[item.pk])).status_code
            == 404
        )
    login(client, admin_user)
    assert client.get(reverse("scheduling:planning_list")).status_code == 404
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.PROPOSED


# --- list and start ------------------------------------------------------------------------------------


def test_list_shows_the_team_runs_and_the_start_button_for_the_team_lead(
    client, proposed, team_lead, caseworker
):
    run, _cases = proposed
    page = login(client, team_lead).get(reverse("scheduling:planning_list")).content.decode()
    assert f'id="planning-run-{run.pk}"' in page
    assert 'id="planning-start"' in page
    page = login(client, caseworker).get(reverse("scheduling:planning_list")).content.decode()
    assert f'id="planning-run-{run.pk}"' in page
    assert 'id="planning-start"' not in page


def test_list_queries_do_not_grow_with_the_runs(
    client, team, team_lead, django_assert_max_num_queries
):
    login(client, team_lead)
    for _ in range(3):
        run = planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
        planning_run_execute(run_id=run.pk)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("scheduling:planning_list"))
    assert response.content.decode().count('id="planning-run-') == 3


def test_plan_now_starts_and_executes_a_run(
    client, team, team_lead, django_capture_on_commit_callbacks
):
    make_staff(team, "anna")
    due_case(team, due=TUESDAY)
    login(client, team_lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scheduling:planning_start"))

    run = PlanningRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:planning_detail", args=[run.pk])
    assert run.status == PlanningRunStatus.PROPOSED  # executed by the (eager) worker after commit
    assert run.placed_count == 1


def test_caseworker_cannot_start_a_run(client, caseworker):
    login(client, caseworker)
    response = client.post(reverse("scheduling:planning_start"), follow=True)
    assert not PlanningRun.objects.exists()
    assert 'role="alert"' in response.content.decode() or response.context["messages"]


def test_start_while_running_shows_a_message(client, team, team_lead):
    planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
    login(client, team_lead)
    response = client.post(reverse("scheduling:planning_start"))
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:planning_list")
    assert PlanningRun.objects.count() == 1


# --- the run page ----------------------------------------------------------------------------------------


def test_run_page_shows_figures_chart_and_items_linked_to_the_case(client, proposed, team_lead):
    run, cases = proposed
    page = login(client, team_lead).get(reverse("scheduling:planning_detail", args=[run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for element in ("planning-figures", "planning-chart", "planning-items", "planning-approve-all"):
        assert f'id="{element}"' in html
    for case in cases:
        assert reverse("cases:case_detail", args=[case.pk]) in html
    item = run.items.first()
    assert f'id="planning-item-approve-{item.pk}"' in html
    assert AuditEvent.objects.filter(action="list", detail__run_id=run.pk).count() == 3


def test_a_running_run_shows_progress_and_the_partial_polls(client, team, team_lead):
    run = planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
    login(client, team_lead)
    url = reverse("scheduling:planning_detail", args=[run.pk])
    html = client.get(url).content.decode()
    assert 'id="planning-progress"' in html
    assert 'id="planning-reload"' in html

    fragment = client.get(url + "?fragment=progress", **HTMX)
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<div id="planning-progress"')
    assert "<html" not in fragment.content.decode()

    planning_run_execute(run_id=run.pk)
    done = client.get(url + "?fragment=progress", **HTMX)
    assert done.status_code == 204
    assert done["HX-Refresh"] == "true"


def test_caseworker_sees_no_run_buttons_but_item_buttons(client, proposed, caseworker):
    run, _cases = proposed
    html = (
        login(client, caseworker)
        .get(reverse("scheduling:planning_detail", args=[run.pk]))
        .content.decode()
    )
    assert 'id="planning-approve-all"' not in html
    assert 'id="planning-item-approve-' in html


def test_team_lead_approves_the_run(
    client, proposed, team_lead, no_sends, django_capture_on_commit_callbacks
):
    run, _cases = proposed
    login(client, team_lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scheduling:planning_run_approve", args=[run.pk]))
    assert response.status_code == 302
    client.get(response["Location"])  # shows (and consumes) the success message
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.APPROVED
    assert len(no_sends) == 3
    second = client.post(reverse("scheduling:planning_run_approve", args=[run.pk]), follow=True)
    assert [m.level_tag for m in second.context["messages"]] == ["error"]


def test_caseworker_cannot_approve_or_discard_the_run(client, proposed, caseworker):
    run, _cases = proposed
    login(client, caseworker)
    client.post(reverse("scheduling:planning_run_approve", args=[run.pk]))
    client.post(reverse("scheduling:planning_run_discard", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.PROPOSED


def test_team_lead_discards_the_run(client, proposed, team_lead):
    run, _cases = proposed
    login(client, team_lead).post(reverse("scheduling:planning_run_discard", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.DISCARDED
    # Never approved, never sent: withdrawn, not "cancelled" (the customer was never told).
    assert not Appointment.objects.exists()


def test_caseworker_approves_one_item_with_htmx(
    client, proposed, caseworker, no_sends, django_capture_on_commit_callbacks
):
    run, _cases = proposed
    item = run.items.first()
    login(client, caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scheduling:planning_item_approve", args=[item.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="planning-items"')
    assert 'id="planning-item-message"' in html
    assert f'id="planning-item-approve-{item.pk}"' not in html
    item.refresh_from_db()
    assert item.decision == PlanningDecision.APPROVED
    assert no_sends == [item.appointment_id]


def test_rejecting_without_reason_rerenders_the_items_with_the_error(client, proposed, caseworker):
    run, _cases = proposed
    item = run.items.first()
    login(client, caseworker)
    response = client.post(
        reverse("scheduling:planning_item_reject", args=[item.pk]), {"reason": ""}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="planning-item-error"' in html
    assert f'id="planning-item-reason-{item.pk}"' in html
    assert 'aria-invalid="true"' in html
    item.refresh_from_db()
    assert item.decision == PlanningDecision.PENDING


def test_rejecting_with_reason_without_javascript(client, proposed, caseworker):
    run, _cases = proposed
    item = run.items.first()
    login(client, caseworker)
    response = client.post(
        reverse("scheduling:planning_item_reject", args=[item.pk]), {"reason": "Umzug"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#planning-items")
    item.refresh_from_db()
    assert item.decision == PlanningDecision.REJECTED
    assert item.appointment is None  # the proposal is withdrawn; the item keeps it
    assert item.proposed_start is not None


def test_deciding_an_item_twice_is_a_409_partial(client, proposed, caseworker, no_sends):
    run, _cases = proposed
    item = run.items.first()
    login(client, caseworker)
    client.post(reverse("scheduling:planning_item_approve", args=[item.pk]), **HTMX)
    response = client.post(reverse("scheduling:planning_item_approve", args=[item.pk]), **HTMX)
    assert response.status_code == 409
    assert 'id="planning-item-error"' in response.content.decode()


# --- paging, filter, collapsed rejection --------------------------------------------------------------


def add_items(run, team, count, **fields):
    """`count` more items of `run` for new cases of `team` (not placed unless told otherwise)."""
    from scheduling.models import PlanningRunItem
    from tests.cases.factories import CaseFactory

    fields.setdefault("outcome", "unplaced")
    fields.setdefault("reason", "no_slot_in_window")
    return PlanningRunItem.objects.bulk_create(
        PlanningRunItem(
            run=run,
            case=CaseFactory(team=team),
            due_date=TUESDAY,
            window_start=TUESDAY,
            window_end=TUESDAY,
            **fields,
        )
        for _ in range(count)
    )


def detail(client, run, **params):
    return client.get(reverse("scheduling:planning_detail", args=[run.pk]), params)


def item_ids(response) -> set[int]:
    """The items in the table of a page or fragment (rendered partials carry no context)."""
    return {
        int(pk)
        for pk in re.findall(
            r'<tr class="kern-table__row" id="planning-item-(\d+)"', response.content.decode()
        )
    }


def test_items_are_paged_by_fifty_and_the_links_keep_the_filter(client, proposed, team, team_lead):
    run, _cases = proposed
    add_items(run, team, 60)  # 63 items
    login(client, team_lead)

    first = detail(client, run)
    html = first.content.decode()
    assert html.count('id="planning-item-') - html.count('id="planning-item-list"') >= 50
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.num_pages == 2
    assert 'id="planning-items-next"' in html
    assert f"{reverse('scheduling:planning_detail', args=[run.pk])}?filter=all&amp;page=2" in html
    second = detail(client, run, page=2)
    assert len(second.context["rows"]) == 13
    assert not item_ids(first) & item_ids(second)
    assert detail(client, run, page=99).context["page"].number == 2  # beyond the end: the last
    assert detail(client, run, page="x").context["page"].number == 1

    unplaced = detail(client, run, filter="unplaced", page=2)
    assert len(unplaced.context["rows"]) == 10
    assert "?filter=unplaced&amp;page=1" in unplaced.content.decode()
    # Only the invitations of the page are written to the audit log.
    listed = AuditEvent.objects.filter(action="list", detail__run_id=run.pk)
    before = listed.count()
    detail(client, run, filter="unplaced", page=2)
    assert listed.count() - before == 10


def test_each_filter_shows_its_items_and_the_counts(client, proposed, team, team_lead, caseworker):
    run, _cases = proposed
    placed = list(run.items.order_by("id"))  # three placed, awaiting a decision
    unplaced = add_items(run, team, 2)
    appointment = placed[0].appointment
    placed[0].appointment = None
    placed[0].save(update_fields=["appointment"])
    fallback = add_items(
        run, team, 1, outcome="placed", reason="own_caseworker_full", appointment=appointment
    )
    rejected = add_items(run, team, 1, decision=PlanningDecision.REJECTED, decided_by=caseworker)
    login(client, team_lead)

    expected = {
        "all": {i.pk for i in [*placed, *unplaced, *fallback, *rejected]},
        "unplaced": {i.pk for i in [*unplaced, *rejected]},
        "fallback": {fallback[0].pk},
        "pending": {placed[1].pk, placed[2].pk, fallback[0].pk},
        "rejected": {rejected[0].pk},
    }
    for name, ids in expected.items():
        response = detail(client, run, filter=name)
        assert response.status_code == 200
        assert item_ids(response) == ids, name
        html = response.content.decode()
        assert f'id="planning-filter-{name}" checked' in html
        for other, other_ids in expected.items():
            assert f'id="planning-filter-count-{other}">{len(other_ids)}<' in html
    # An unknown filter shows everything.
    assert item_ids(detail(client, run, filter="nonsense")) == expected["all"]


def test_empty_filter_says_so(client, proposed, team_lead):
    run, _cases = proposed
    html = login(client, team_lead).get(
        reverse("scheduling:planning_detail", args=[run.pk]), {"filter": "rejected"}
    )
    assert 'id="planning-items-empty"' in html.content.decode()
    assert 'id="planning-item-list"' not in html.content.decode()


def test_htmx_filter_and_page_requests_return_only_the_items(client, proposed, team, team_lead):
    run, _cases = proposed
    add_items(run, team, 60)
    login(client, team_lead)
    url = reverse("scheduling:planning_detail", args=[run.pk])
    response = client.get(url, {"filter": "unplaced", "page": 2}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="planning-items"')
    assert "<html" not in html
    assert 'id="planning-figures"' not in html
    assert 'id="planning-item-filter"' in html
    assert len(item_ids(response)) == 10
    assert "HX-Request" in response["Vary"]
    # Filter form and page links: a plain GET (href/action) beside the hx-get.
    assert f'hx-get="{url}"' in html
    assert f'href="{url}?filter=unplaced&amp;page=1"' in html
    assert f'hx-get="{url}?filter=unplaced&amp;page=1"' in html
    # A history restore or a boosted navigation gets the whole page.
    restore = client.get(url, {"page": 2}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()
    boosted = client.get(url, HTTP_HX_BOOSTED="true", **HTMX)
    assert 'id="planning-figures"' in boosted.content.decode()


def test_page_queries_do_not_grow_with_the_items(
    client, proposed, team, team_lead, django_assert_max_num_queries
):
    run, _cases = proposed
    login(client, team_lead)
    detail(client, run)  # warm caches (session, settings)
    with django_assert_max_num_queries(20) as few:
        detail(client, run)
    add_items(run, team, 120)
    add_items(run, team, 5, decision=PlanningDecision.REJECTED, decided_by=team_lead)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = detail(client, run, page=2)
    assert len(response.context["rows"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_reject_form_is_collapsed_and_opens_on_its_error(client, proposed, caseworker):
    run, _cases = proposed
    first, second = list(run.items.order_by("id"))[:2]
    login(client, caseworker)
    html = detail(client, run).content.decode()
    assert f'<details class="app-inline-form" id="planning-item-reject-details-{first.pk}">' in html
    assert f'id="planning-item-reject-toggle-{first.pk}"' in html
    assert (
        f'<textarea class="kern-form-input__input" name="reason" id="planning-item-reason-{first.pk}"'
        in html
    )

    response = client.post(
        reverse("scheduling:planning_item_reject", args=[first.pk]),
        {"reason": "", "filter": "pending", "page": "1"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="planning-item-reject-details-{first.pk}" open>' in html
    assert f'id="planning-item-reject-details-{second.pk}">' in html
    assert 'id="planning-filter-pending" checked' in html


def test_deciding_keeps_filter_and_page(client, proposed, team, caseworker):
    run, _cases = proposed
    add_items(run, team, 60)
    item = run.items.filter(outcome="placed").first()
    login(client, caseworker)
    response = client.post(
        reverse("scheduling:planning_item_reject", args=[item.pk]),
        {"reason": "Umzug", "filter": "unplaced", "page": "2"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("scheduling:planning_detail", args=[run.pk])
        + "?filter=unplaced&page=2#planning-items"
    )
    item.refresh_from_db()
    assert item.decision == PlanningDecision.REJECTED

    htmx = client.post(
        reverse(
            "scheduling:planning_item_approve",
            args=[run.items.filter(outcome="placed", decision="pending").first().pk],
        ),
        {"filter": "rejected"},
        **HTMX,
    )
    assert htmx.status_code == 200
    assert item_ids(htmx) == {item.pk}
    assert 'id="planning-filter-count-rejected">1<' in htmx.content.decode()
