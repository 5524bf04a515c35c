"""Re-profiling (the goal review): which cases are due, the batch, idempotency, the pending flag in
the work queue, the Celery tasks in-process and a real worker against Redis and PostgreSQL."""
# ruff: noqa: F811 - the fixtures come from test_suggestions

import datetime
import time
import uuid

import pytest
import redis
import time_machine
from celery import Celery
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import Case, CustomerGroup, Phase
from jobcenter.celery import app
from profiling import tasks
from profiling.model.features import row_from_profile
from profiling.models import (
    ModelStatus,
    Profile,
    ProfilingSuggestion,
    SuggestionTrigger,
)
from profiling.services import profile_update
from profiling.services import suggestions as suggestion_services
from profiling.services.suggestions import (
    _ROW_FIELDS,
    _row,
    reprofile_batch,
    reprofile_find_due,
    suggestion_create,
)
from tests.cases.factories import CaseFactory
from tests.profiling.factories import VALID, profile_with_version
from tests.profiling.test_suggestions import (  # noqa: F401 - fixtures
    ai,
    ctx_of,
    make_model,
    make_rules,
    make_strategy,
)
from tests.test_celery import celery_command, redis_reachable, start, stop
from tests.test_settings import production_env

WORKER_REDIS_URL = "redis://127.0.0.1:6379/15"  # as tests/test_celery.py: queues of their own


def profiled(team, **fields) -> Case:
    case = CaseFactory(team=team, **fields)
    profile_with_version(customer=case.customer)
    return case


@pytest.fixture
def due_cases(ai, team, caseworker):
    """One case for each reason to be due or not."""
    today = timezone.localdate()
    new = profiled(team)
    fresh = profiled(team)
    suggestion_create(ctx=ctx_of(caseworker), case_id=fresh.pk)
    changed = profiled(team)
    suggestion_create(ctx=ctx_of(caseworker), case_id=changed.pk)
    profile_update(
        ctx=AuditContext.system(),
        customer_id=changed.customer_id,
        data={**VALID, "motivation": "low"},
        expected_version=1,
    )
    review = profiled(team, review_due=today - datetime.timedelta(days=2))
    reviewed = profiled(team, review_due=today - datetime.timedelta(days=2))
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10)):
        suggestion_create(ctx=ctx_of(caseworker), case_id=review.pk)
    suggestion_create(ctx=ctx_of(caseworker), case_id=reviewed.pk)  # after the review date
    closed = profiled(team, phase=Phase.CLOSED)
    no_profile = CaseFactory(team=team)
    return {
        "new": new,
        "fresh": fresh,
        "changed": changed,
        "review": review,
        "reviewed": reviewed,
        "closed": closed,
        "no_profile": no_profile,
    }


def _names(cases: dict, ids) -> set[str]:
    by_pk = {case.pk: name for name, case in cases.items()}
    return {by_pk[pk] for pk in ids}


# --- which cases are due --------------------------------------------------------------------------


def test_due_are_new_changed_and_reviewed_cases(due_cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        due = reprofile_find_due()
    assert _names(due_cases, due) == {"new", "changed", "review"}
    assert due == sorted(due)


def test_the_review_date_counts_only_when_it_has_come(ai, team, caseworker):
    today = timezone.localdate()
    case = profiled(team, review_due=today + datetime.timedelta(days=5))
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10)):
        suggestion_create(ctx=ctx_of(caseworker), case_id=case.pk)
    assert reprofile_find_due() == []
    assert reprofile_find_due(today=today + datetime.timedelta(days=5)) == [case.pk]


# --- the batch ------------------------------------------------------------------------------------


def test_the_batch_writes_one_suggestion_per_due_case(due_cases, caseworker):
    before = ProfilingSuggestion.objects.count()
    due = reprofile_find_due()

    written = reprofile_batch(case_ids=due)

    assert written == 3
    assert ProfilingSuggestion.objects.count() == before + 3
    triggers = {
        name: ProfilingSuggestion.objects.filter(case=due_cases[name]).first().trigger
        for name in ("new", "changed", "review")
    }
    assert triggers == {
        "new": SuggestionTrigger.FIRST,
        "changed": SuggestionTrigger.PROFILE_CHANGED,
        "review": SuggestionTrigger.REVIEW_DUE,
    }
    changed = ProfilingSuggestion.objects.filter(case=due_cases["changed"]).first()
    assert changed.profile_version == 2
    assert changed.inputs["motivation"] == "low"
    assert changed.requested_by is None
    assert reprofile_find_due() == []


def test_twice_adds_nothing(due_cases):
    due = reprofile_find_due()
    assert reprofile_batch(case_ids=due) == 3
    count = ProfilingSuggestion.objects.count()

    assert reprofile_batch(case_ids=due) == 0
    assert ProfilingSuggestion.objects.count() == count


class _Snapshot:
    """The due cases as one worker loaded them, before another wrote its suggestions."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def filter(self, **kwargs):
        return self

    def order_by(self, *fields):
        return self

    def values(self, *fields, **expressions):
        return self.rows


def test_two_workers_on_the_same_cases_add_nothing_twice(due_cases, monkeypatch):
    """Even when the due check lets the same cases through twice, the dedupe key holds."""
    today = timezone.localdate()
    due = reprofile_find_due()
    loaded = list(
        suggestion_services._due_cases(today=today)
        .filter(pk__in=due)
        .order_by("pk")
        .values(
            "id",
            "customer_id",
            "customer_group",
            "review_due",
            "last_at",
            "last_profile_version",
            **_ROW_FIELDS,
        )
    )
    assert reprofile_batch(case_ids=due) == 3
    count = ProfilingSuggestion.objects.count()

    monkeypatch.setattr(suggestion_services, "_due_cases", lambda *, today: _Snapshot(loaded))
    assert reprofile_batch(case_ids=due) == 0
    assert ProfilingSuggestion.objects.count() == count


def test_the_batch_flags_a_different_group_and_never_changes_it(ai, team):
    rules = make_rules([{"group": "potential"}])  # everyone: potential
    differs = profiled(team, customer_group=CustomerGroup.MARKET_NEAR)
    agrees = profiled(team, customer_group=CustomerGroup.POTENTIAL, suggestion_pending=True)
    unassigned = profiled(team)

    assert reprofile_batch(case_ids=[differs.pk, agrees.pk, unassigned.pk]) == 3

    for case, group, pending in (
        (differs, CustomerGroup.MARKET_NEAR, True),
        (agrees, CustomerGroup.POTENTIAL, False),
        (unassigned, "", True),
    ):
        case.refresh_from_db()
        assert (case.customer_group, case.suggestion_pending) == (group, pending)
        suggestion = ProfilingSuggestion.objects.get(case=case)
        assert suggestion.rule_set == rules
        assert suggestion.suggested_group == CustomerGroup.POTENTIAL


def test_the_batch_is_logged_by_the_system(due_cases):
    reprofile_batch(case_ids=reprofile_find_due())

    batch = ProfilingSuggestion.objects.filter(requested_by__isnull=True)
    rows = AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="profiling_suggestion", channel=AuditChannel.SYSTEM
    )
    assert {row.object_id for row in rows} == {str(pk) for pk in batch.values_list("pk", flat=True)}
    assert {row.customer_id for row in rows} == {s.customer_id for s in batch}
    assert all(row.actor is None and row.detail["batch"] for row in rows)


def test_too_little_known_is_skipped_not_guessed(ai, team):
    complete = profiled(team)
    sparse = profiled(team)
    Profile.objects.filter(customer=sparse.customer).update(
        school="", vocational="", german="", health="", motivation=""
    )

    assert reprofile_batch(case_ids=[complete.pk, sparse.pk]) == 1

    assert not ProfilingSuggestion.objects.filter(case=sparse).exists()
    assert reprofile_find_due() == [sparse.pk]  # still due: a person has to complete the profile
    row = AuditEvent.objects.get(object_type="profiling_suggestion")
    assert row.detail["skipped_incomplete"] == 1


def test_a_few_missing_inputs_give_a_range(ai, team):
    case = profiled(team)
    Profile.objects.filter(customer=case.customer).update(motivation="")
    reprofile_batch(case_ids=[case.pk])
    suggestion = ProfilingSuggestion.objects.get(case=case)
    assert suggestion.missing == [{"feature": "motivation", "required": True}]
    assert suggestion.probability_low < suggestion.probability < suggestion.probability_high


def test_batch_and_interactive_agree(ai, team, caseworker):
    case = profiled(team)
    reprofile_batch(case_ids=[case.pk])
    batch = ProfilingSuggestion.objects.get(case=case)
    interactive = suggestion_create(ctx=ctx_of(caseworker), case_id=case.pk)

    assert batch.inputs == interactive.inputs
    assert batch.probability == pytest.approx(interactive.probability)
    assert batch.suggested_group == interactive.suggested_group
    assert batch.factors == interactive.factors
    assert batch.strategies == interactive.strategies


def test_the_batch_rows_are_the_model_rows(ai, team):
    case = profiled(team)
    values = Case.objects.filter(pk=case.pk).values(**_ROW_FIELDS).get()
    profile = Profile.objects.get(customer=case.customer)
    assert _row(values) == row_from_profile(
        profile=profile,
        customer=case.customer,
        region_unemployment_rate=case.team.jobcenter.region_unemployment_rate,
    )


def test_the_batch_queries_do_not_grow_with_the_cases(ai, team, django_assert_max_num_queries):
    cases = [profiled(team) for _ in range(12)]
    reprofile_batch(case_ids=[cases[0].pk])  # the model is loaded
    with django_assert_max_num_queries(12):
        assert reprofile_batch(case_ids=[case.pk for case in cases[1:]]) == 11


def test_without_an_active_model_the_batch_does_nothing(db, team):
    make_rules()
    make_model(status=ModelStatus.CANDIDATE)
    case = profiled(team)
    assert reprofile_batch(case_ids=[case.pk]) == 0
    assert tasks.profiling_reprofile_due.delay().get() == 0
    assert not ProfilingSuggestion.objects.exists()


# --- the work queue -------------------------------------------------------------------------------


def test_a_pending_suggestion_is_due_in_the_work_queue(client, ai, team, team_lead):
    make_rules([{"group": "administrative"}])
    case = profiled(team, customer_group=CustomerGroup.POTENTIAL, phase=Phase.IMPLEMENTATION)
    quiet = profiled(team, phase=Phase.IMPLEMENTATION)
    reprofile_batch(case_ids=[case.pk])
    client.force_login(team_lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("cases:work_queue"), {"due": "suggestion_pending"})

    assert response.status_code == 200
    shown = {row.pk: row for row in response.context["page"].object_list}
    assert set(shown) == {case.pk}
    assert shown[case.pk].urgency == 1
    assert "AI suggestion to decide" in response.content.decode()
    counts = {value: count for value, _label, count in response.context["due_counts"]}
    assert counts["suggestion_pending"] == 1
    assert quiet.pk not in shown
    case.refresh_from_db()
    assert case.customer_group == CustomerGroup.POTENTIAL


# --- the tasks ------------------------------------------------------------------------------------


def test_the_tasks_send_the_due_cases_in_chunks(due_cases, monkeypatch):
    sizes = []
    original = tasks.reprofile_batch

    def counting(*, case_ids):
        sizes.append(len(case_ids))
        return original(case_ids=case_ids)

    monkeypatch.setattr(tasks, "CHUNK", 2)
    monkeypatch.setattr(tasks, "reprofile_batch", counting)

    assert tasks.profiling_reprofile_due.delay().get() == 3

    assert sizes == [2, 1]
    assert reprofile_find_due() == []
    assert tasks.profiling_reprofile_due.delay().get() == 0


def test_the_goal_review_runs_every_night():
    entry = settings.CELERY_BEAT_SCHEDULE["profiling-reprofile-due"]
    assert entry["task"] == "profiling.tasks.profiling_reprofile_due"
    assert entry["schedule"] == crontab(hour=2, minute=30)
    assert entry["task"] in app.tasks
    batch = app.tasks["profiling.tasks.profiling_reprofile_batch"]
    assert (batch.soft_time_limit, batch.time_limit) == (4 * 60, 5 * 60)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reprofiles_through_redis(tmp_path, team):
    """`celery -A jobcenter worker` with the production settings against the test database.

    The data is committed (a transactional test), so the worker's own connection sees it. A queue
    and a node name of their own keep the worker apart from any other on the same Redis; the
    batches follow the finder into that queue.
    """
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs the PostgreSQL test database (CI has it)")
    if not redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI has it)")
    make_model()
    make_rules()
    make_strategy()
    cases = [profiled(team) for _ in range(5)]
    cases[0].customer_group = CustomerGroup.ADMINISTRATIVE
    cases[0].save()
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    run = uuid.uuid4().hex[:12]
    queue, node = f"test-{run}", f"test-{run}@localhost"
    env = production_env(REDIS_URL=WORKER_REDIS_URL, DATABASE_URL=database_url)
    log = tmp_path / "worker.log"
    worker = start(
        celery_command(
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            f"--hostname={node}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ),
        env,
        log,
    )
    client = Celery("client", broker=WORKER_REDIS_URL)
    try:
        client.send_task("profiling.tasks.profiling_reprofile_due", queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and ProfilingSuggestion.objects.count() < len(cases):
            time.sleep(0.5)
        assert ProfilingSuggestion.objects.count() == len(cases), log.read_text()
        # Once more: nothing is due, nothing is added.
        client.send_task("profiling.tasks.profiling_reprofile_due", queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and log.read_text().count("succeeded") < 3:
            time.sleep(0.5)
    finally:
        stop(worker)
        client.close()
        with redis.Redis.from_url(WORKER_REDIS_URL) as r:
            for key in r.scan_iter(f"*{queue}*"):
                r.delete(key)

    text = log.read_text()
    assert "profiling.tasks.profiling_reprofile_batch" in text
    assert text.count("succeeded") >= 3, text
    assert ProfilingSuggestion.objects.count() == len(cases)
    assert set(ProfilingSuggestion.objects.values_list("case_id", flat=True)) == {
        case.pk for case in cases
    }
    cases[0].refresh_from_db()
    assert cases[0].customer_group == CustomerGroup.ADMINISTRATIVE
    assert AuditEvent.objects.filter(
        object_type="profiling_suggestion", channel=AuditChannel.SYSTEM
    ).count() == len(cases)
