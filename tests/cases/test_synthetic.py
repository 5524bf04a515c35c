"""The synthetic jobcenter: deterministic, complete, plausible, audited, and only in demo mode."""

import datetime
import hashlib
import json
import re
from collections import Counter

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Min, Q
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases import synthetic
from cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    CooperationPlan,
    Customer,
    CustomerGroup,
    EmploymentSpell,
    Household,
    NoteTemplate,
    Phase,
    PlanStatus,
    PlanStep,
    StepResponsible,
    StepStatus,
    Tag,
)
from organisation.models import Role, Team, User
from profiling.models import LanguageLevel, Motivation, Need, Profile, School, Vocational

SEED = 4242
CUSTOMERS = 300
TODAY = datetime.date(2030, 3, 12)
FROZEN = datetime.datetime(2030, 3, 12, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen_time():
    with time_machine.travel(FROZEN, tick=False):
        yield


@pytest.fixture
def seeded(db, frozen_time):
    call_command("seed_demo", customers=CUSTOMERS, seed=SEED, model_rows=0, stdout=_Sink())


class _Sink:
    """Swallows the command's summary; keeps what was written for the assertions."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def _snapshot(data: synthetic.SyntheticJobcenter) -> list[tuple]:
    """What must be identical between two runs with the same seed."""
    return [
        (
            c.customer_number,
            c.first_name,
            c.last_name,
            c.date_of_birth,
            c.nationality,
            c.benefit_since,
            tuple(sorted(vars(c.profile).items(), key=lambda item: item[0])).__repr__(),
            tuple((s.kind, s.kldb, s.start, s.end) for s in c.employment),
            (c.case.phase, c.case.customer_group, c.case.opened_at, c.case.review_due),
            tuple((e.at, e.kind, e.summary, e.actor) for e in c.case.events),
            c.integration_probability,
            repr(c.case.plans),
            repr(c.case.notes),
        )
        for c in data.customers
    ] + [(m.username, m.first_name, m.last_name, m.role, m.team) for m in data.staff]


def _database_digest() -> str:
    """A hash of the written content by natural keys (no primary keys, no auto timestamps)."""
    rows: list = []
    rows += Team.objects.order_by("name").values_list("name")
    rows += User.objects.order_by("username").values_list(
        "username", "first_name", "last_name", "role", "team__name", "is_staff"
    )
    rows += Household.objects.order_by("number").values_list(
        "number", "street", "postal_code", "adults", "children", "youngest_child_age"
    )
    rows += Customer.objects.order_by("customer_number").values_list(
        "customer_number",
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "citizenship",
        "nationality",
        "preferred_language",
        "email",
        "phone",
        "household__number",
        "benefit_since",
        "created_at",
    )
    rows += Profile.objects.order_by("customer__customer_number").values_list(
        "customer__customer_number",
        "school",
        "vocational",
        "german",
        "other_languages",
        "work_months_5y",
        "months_unemployed",
        "months_in_benefit",
        "target_kldb",
        "health",
        "care",
        "housing",
        "debt",
        "digital",
        "motivation",
        "driving_licence",
        "own_goals",
    )
    rows += EmploymentSpell.objects.order_by("customer__customer_number", "start").values_list(
        "customer__customer_number", "kind", "kldb", "occupation", "start", "end"
    )
    rows += Case.objects.order_by("customer__customer_number").values_list(
        "customer__customer_number",
        "team__name",
        "caseworker__username",
        "phase",
        "customer_group",
        "opened_at",
        "phase_since",
        "review_due",
        "closed_at",
    )
    # Primary keys in the data of plan and note entries differ between runs, and so do the tags
    # (a flush, as between the two runs below, removes the tag vocabulary); the rest must not.
    rows += [
        (
            *row[:-1],
            {
                key: value
                for key, value in row[-1].items()
                if not key.endswith("_id") and key != "tags"
            },
        )
        for row in CaseEvent.objects.order_by(
            "case__customer__customer_number", "at", "kind"
        ).values_list(
            "case__customer__customer_number", "at", "kind", "summary", "actor__username", "data"
        )
    ]
    rows += CooperationPlan.objects.order_by("case__customer__customer_number").values_list(
        "case__customer__customer_number",
        "cycle",
        "version",
        "status",
        "integration_goal",
        "review_date",
        "created_at",
        "created_by__username",
        "agreed_at",
        "agreed_by__username",
        "agreement_note",
    )
    rows += PlanStep.objects.order_by(
        "plan__case__customer__customer_number", "position"
    ).values_list(
        "plan__case__customer__customer_number",
        "position",
        "responsible",
        "responsible_name",
        "description",
        "due_date",
        "status",
        "status_changed_at",
        "follow_up",
    )
    # Tags are left out: a flush (as between the two runs below) removes the tag vocabulary.
    rows += CaseNote.objects.order_by("case__customer__customer_number", "created_at").values_list(
        "case__customer__customer_number",
        "author__username",
        "note_type",
        "channel",
        "occurred_on",
        "text",
        "checklist",
        "missing_items",
        "is_incomplete",
        "created_at",
    )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


# --- Determinism ------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_jobcenter():
    first = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=TODAY)
    second = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=TODAY)
    assert _snapshot(first) == _snapshot(second)


def test_another_seed_gives_another_jobcenter():
    first = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=TODAY)
    other = synthetic.generate(customers=CUSTOMERS, seed=SEED + 1, today=TODAY)
    numbers = {c.customer_number for c in first.customers}
    assert numbers != {c.customer_number for c in other.customers}
    assert [c.last_name for c in first.customers] != [c.last_name for c in other.customers]
    assert [vars(c.profile) for c in first.customers] != [vars(c.profile) for c in other.customers]


@pytest.mark.django_db(transaction=True)
def test_seeding_twice_into_an_empty_database_writes_the_same_content(frozen_time):
    call_command("seed_demo", customers=200, seed=SEED, model_rows=0, stdout=_Sink())
    first = _database_digest()
    call_command("flush", interactive=False, verbosity=0)
    assert not Customer.objects.exists()
    call_command("seed_demo", customers=200, seed=SEED, model_rows=0, stdout=_Sink())
    assert _database_digest() == first


# --- Completeness and layout -------------------------------------------------------------------------


def test_every_phase_and_every_group_is_present(seeded):
    assert set(Case.objects.values_list("phase", flat=True)) == set(Phase.values)
    assert set(Case.objects.values_list("customer_group", flat=True)) == {
        *CustomerGroup.values,
        "",
    }
    assert Case.objects.count() == Customer.objects.count() == CUSTOMERS
    assert Profile.objects.count() == CUSTOMERS


def test_open_cases_have_review_dates_and_some_are_overdue(seeded):
    today = timezone.localdate()
    assert not Case.objects.open().filter(review_due__isnull=True).exists()
    assert Case.objects.overdue(today).exists()
    assert Case.objects.open().filter(review_due__gte=today).exists()
    closed = Case.objects.filter(phase=Phase.CLOSED)
    assert closed.exists()
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not Case.objects.open().filter(closed_at__isnull=False).exists()


def test_plans_and_notes_come_from_streams_of_their_own():
    """Adding plans and notes left the rest of the generated jobcenter unchanged."""
    data = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=TODAY)
    new_kinds = {
        CaseEvent.Kind.PLAN_DRAFTED,
        CaseEvent.Kind.PLAN_AGREED,
        CaseEvent.Kind.NOTE_ADDED,
    }
    for customer in data.customers:
        case = customer.case
        kinds = {event.kind for event in case.events}
        assert bool(case.plans) == bool(
            kinds & {CaseEvent.Kind.PLAN_AGREED, CaseEvent.Kind.PLAN_DRAFTED}
        )
        assert len(case.notes) == sum(e.kind == CaseEvent.Kind.NOTE_ADDED for e in case.events)
        assert [e.at for e in case.events] == sorted(e.at for e in case.events)
        assert all(e.kind not in new_kinds or e.ref is not None for e in case.events)


# --- Cooperation plans and case notes -----------------------------------------------------------


def test_cases_that_reached_implementation_have_an_agreed_plan_of_their_cycle(seeded):
    today = timezone.localdate()
    reached = Case.objects.filter(phase__in=(Phase.IMPLEMENTATION, Phase.REVIEW))
    assert reached.exists()
    for case in reached.prefetch_related("plans__steps").select_related("caseworker"):
        plans = list(case.plans.all())
        assert len(plans) == 1
        plan = plans[0]
        assert (plan.status, plan.cycle, plan.version) == (PlanStatus.AGREED, case.cycle, 1)
        assert case.review_due is not None
        assert plan.review_date == case.review_due
        assert plan.agreed_at is not None
        assert case.opened_at < plan.created_at <= plan.agreed_at <= case.phase_since
        assert plan.agreed_by_id == plan.created_by_id
        if case.caseworker_id is not None:
            assert plan.agreed_by_id == case.caseworker_id
        assert plan.agreed_by.team_id == case.team_id
        assert plan.agreed_by.role == Role.CASEWORKER
        assert plan.agreement_note.endswith(".")
        assert plan.integration_goal.endswith(".")
        assert re.search(r"[äöüß]|Aufnahme|Beginn|Berufliche", plan.integration_goal)
        steps = list(plan.steps.all())
        assert 2 <= len(steps) <= 5
        assert [s.position for s in steps] == list(range(1, len(steps) + 1))
        for step in steps:
            assert step.description
            agreed_on = timezone.localdate(plan.agreed_at)
            assert (
                agreed_on
                < step.due_date
                <= max(plan.review_date, agreed_on + datetime.timedelta(days=14))
            )
            assert (step.status == StepStatus.OPEN) == (step.status_changed_at is None)
            if step.status_changed_at is not None:
                assert plan.agreed_at < step.status_changed_at < timezone.now()
            if step.responsible == StepResponsible.THIRD_PARTY:
                assert step.responsible_name
        target = case.customer.profile.target_occupation
        if target and "Orientierung" not in plan.integration_goal:
            assert target in plan.integration_goal
    # Some open steps are past their date, so the work queue's "steps overdue" has cases.
    overdue = PlanStep.objects.filter(
        plan__status=PlanStatus.AGREED,
        plan__case__phase__in=(Phase.IMPLEMENTATION, Phase.REVIEW),
        status=StepStatus.OPEN,
        due_date__lt=today,
    )
    assert overdue.exists()
    assert PlanStep.objects.filter(status=StepStatus.DONE).exists()
    assert PlanStep.objects.filter(status=StepStatus.OPEN, due_date__gte=today).exists()
    share = overdue.values("plan__case").distinct().count() / reached.count()
    assert 0.05 < share < 0.5


def test_cases_in_profiling_have_no_plan_and_some_in_planning_a_draft(seeded):
    assert not CooperationPlan.objects.filter(case__phase=Phase.PROFILING).exists()
    planning = CooperationPlan.objects.filter(case__phase=Phase.PLANNING)
    assert planning.exists()
    assert set(planning.values_list("status", flat=True)) == {PlanStatus.DRAFT}
    assert planning.count() < Case.objects.filter(phase=Phase.PLANNING).count()
    for plan in planning.filter(agreed_at__isnull=False):
        raise AssertionError(f"draft {plan} has an agreement")
    assert (
        not PlanStep.objects.filter(plan__status=PlanStatus.DRAFT)
        .exclude(status=StepStatus.OPEN)
        .exists()
    )
    # Closed cases that got to implementation keep their agreed plan, with nothing left open.
    closed = CooperationPlan.objects.filter(case__phase=Phase.CLOSED)
    assert closed.exists()
    assert set(closed.values_list("status", flat=True)) == {PlanStatus.AGREED}
    assert not PlanStep.objects.filter(
        plan__case__phase=Phase.CLOSED, status=StepStatus.OPEN
    ).exists()


def test_plans_and_steps_pass_the_model_validation(seeded):
    plans = CooperationPlan.objects.order_by("pk")
    assert plans.exists()
    for plan in plans[:: max(1, plans.count() // 40)]:
        plan.full_clean()
        for step in plan.steps.all():
            step.full_clean()
    for note in CaseNote.objects.order_by("pk")[:40]:
        note.full_clean()


def test_cases_have_notes_answered_against_the_templates(seeded):
    today = timezone.localdate()
    notes = CaseNote.objects.select_related("case", "author")
    assert notes.count() >= CUSTOMERS // 2
    templates = {
        note_type: value["checklist"]
        for note_type, value in synthetic.DEFAULT_NOTE_TEMPLATES.items()
    }
    templates.update(dict(NoteTemplate.objects.values_list("note_type", "checklist")))
    per_case = Counter(notes.values_list("case_id", flat=True))
    assert max(per_case.values()) <= 3
    for note in notes:
        assert note.occurred_on < today
        assert note.case.opened_at.date() <= note.occurred_on
        if note.case.closed_at:
            assert note.occurred_on <= note.case.closed_at.date()
        assert note.author.role == Role.CASEWORKER
        assert note.author.team_id == note.case.team_id
        assert note.text.strip()
        items = templates[note.note_type]
        assert set(note.checklist) == {item["key"] for item in items}
        missing = [i["label"] for i in items if i["required"] and not note.checklist[i["key"]]]
        assert note.missing_items == missing
        assert note.is_incomplete == bool(missing)
    incomplete = notes.filter(is_incomplete=True).count() / notes.count()
    assert 0.03 < incomplete < 0.2
    assert len(set(notes.values_list("note_type", flat=True))) >= 4
    # Each note has its timeline entry, with the note's id and what it misses.
    entries = CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE_ADDED)
    assert entries.count() == notes.count()
    note = notes.filter(is_incomplete=True).first()
    entry = entries.get(data__note_id=note.pk)
    assert note.case_id == entry.case_id
    assert "Unvollständig: " in entry.summary
    assert entry.data["missing_items"] == note.missing_items
    assert entry.summary.startswith(f"{synthetic.NOTE_TYPE_LABELS_DE[note.note_type]} vom ")
    agreed = CaseEvent.objects.filter(kind=CaseEvent.Kind.PLAN_AGREED)
    assert agreed.count() == CooperationPlan.objects.filter(status=PlanStatus.AGREED).count()
    assert agreed.first().summary.startswith("Kooperationsplan 1.1 mit der Kundin/dem Kunden")


def test_notes_get_tags_from_the_vocabulary(db, frozen_time):
    # A flushing test before this one may have removed the tags migration 0005 created.
    for name in synthetic.DEFAULT_TAGS:
        Tag.objects.get_or_create(name=name)
    call_command("seed_demo", customers=CUSTOMERS, seed=SEED, model_rows=0, stdout=_Sink())
    tagged = CaseNote.objects.annotate(n=Count("tags")).filter(n__gt=0)
    assert tagged.exists()
    assert not CaseNote.objects.annotate(n=Count("tags")).filter(n__gt=2).exists()
    assert CaseNote.objects.annotate(n=Count("tags")).filter(n=0).exists()


def test_notes_without_a_tag_vocabulary_are_written_untagged(db, frozen_time):
    Tag.objects.all().delete()
    NoteTemplate.objects.all().delete()
    call_command("seed_demo", customers=100, seed=SEED, model_rows=0, stdout=_Sink())
    assert CaseNote.objects.exists()
    assert not CaseNote.tags.through.objects.exists()
    assert CaseNote.objects.filter(is_incomplete=False).exists()


def test_potential_cases_have_a_fixed_caseworker_of_their_team_and_others_none(seeded):
    potential = Case.objects.filter(customer_group=CustomerGroup.POTENTIAL).select_related(
        "caseworker"
    )
    assert potential.exists()
    for case in potential:
        assert case.caseworker is not None
        assert case.caseworker.role == Role.CASEWORKER
        assert case.caseworker.team_id == case.team_id
    assert not (
        Case.objects.exclude(customer_group=CustomerGroup.POTENTIAL)
        .filter(caseworker__isnull=False)
        .exists()
    )


def test_demo_logins_have_their_roles_teams_and_password(seeded, client):
    caseworker = User.objects.get(username="caseworker")
    teamlead = User.objects.get(username="teamlead")
    admin = User.objects.get(username="admin")
    assert caseworker.role == Role.CASEWORKER
    assert teamlead.role == Role.TEAM_LEAD
    assert caseworker.team == teamlead.team
    assert caseworker.team.name.startswith("Team 1 ")
    assert (admin.role, admin.team, admin.is_staff, admin.is_superuser) == (
        Role.ADMIN,
        None,
        True,
        False,
    )
    for user in (caseworker, teamlead, admin):
        assert client.login(request=HttpRequest(), username=user.username, password="demo")
        client.logout()
    assert Case.objects.filter(caseworker=caseworker).exists()


def test_other_staff_cannot_log_in(seeded):
    others = User.objects.exclude(username__in=synthetic.DEMO_USERNAMES)
    assert others.exists()
    assert not any(user.has_usable_password() for user in others)


def test_teams_have_a_lead_and_caseworkers(seeded):
    teams = Team.objects.annotate(
        leads=Count("members", filter=Q(members__role=Role.TEAM_LEAD), distinct=True),
        caseworkers=Count("members", filter=Q(members__role=Role.CASEWORKER), distinct=True),
        case_count=Count("cases", distinct=True),
    )
    assert teams.count() >= 2
    for team in teams:
        assert team.leads == 1
        assert team.caseworkers >= 2
        assert team.case_count > 0
    other = teams.exclude(name__startswith="Team 1 ").first()
    assert other is not None
    assert not User.objects.filter(team=other, username__in=synthetic.DEMO_USERNAMES).exists()


def test_summary_names_counts_and_time(db, frozen_time):
    out = _Sink()
    call_command("seed_demo", customers=120, seed=SEED, model_rows=0, stdout=out)
    assert "Team 1 – " in out.text
    assert "Per phase: profiling" in out.text
    assert "not yet assigned" in out.text
    assert re.search(r"Cooperation plans: \d+ agreed, \d+ draft, \d+ steps", out.text)
    assert re.search(r"Case notes: \d+ \(\d+ incomplete\)", out.text)
    assert re.search(r"Took \d+\.\d s", out.text)


# --- Refusals ---------------------------------------------------------------------------------------


def test_refuses_without_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_demo", customers=50, seed=SEED, model_rows=0, stdout=_Sink())
    assert not Customer.objects.exists()
    assert not User.objects.filter(username__in=synthetic.DEMO_USERNAMES).exists()


def test_write_itself_refuses_without_demo_mode(db, settings):
    settings.DEMO_MODE = False
    data = synthetic.generate(customers=20, seed=SEED, today=TODAY)
    with pytest.raises(synthetic.SyntheticDataError):
        synthetic.write(data=data, demo_password="demo")
    assert not Customer.objects.exists()


def test_refuses_when_customers_exist(seeded):
    with pytest.raises(CommandError, match="already holds customers"):
        call_command("seed_demo", customers=50, seed=SEED + 1, model_rows=0, stdout=_Sink())
    assert Customer.objects.count() == CUSTOMERS


# --- Audit ------------------------------------------------------------------------------------------


def test_every_created_plan_and_note_has_an_audit_row(seeded):
    for object_type, model in (("cooperation_plan", CooperationPlan), ("case_note", CaseNote)):
        rows = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type=object_type)
        assert rows.count() == model.objects.count() > 0
        expected = {
            (str(pk), customer)
            for pk, customer in model.objects.values_list("pk", "case__customer")
        }
        assert set(rows.values_list("object_id", "customer_id")) == expected
        assert set(rows.values_list("channel", flat=True)) == {AuditChannel.SYSTEM}
        assert rows.first().detail == {"source": "seed_demo", "seed": SEED}


def test_every_created_customer_has_an_audit_row(seeded):
    rows = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="customer")
    assert rows.count() == CUSTOMERS
    assert set(rows.values_list("customer_id", flat=True)) == set(
        Customer.objects.values_list("pk", flat=True)
    )
    row = rows.first()
    assert row.channel == AuditChannel.SYSTEM
    assert row.actor is None
    assert row.object_id == str(row.customer_id)
    assert row.detail == {"source": "seed_demo", "seed": SEED}


# --- Plausibility -----------------------------------------------------------------------------------


def test_customers_are_plausible(seeded):
    today = timezone.localdate()
    for customer in Customer.objects.select_related("household"):
        assert 18 <= customer.age_on(today) <= 67
        assert re.fullmatch(r"\d{3}D\d{6}", customer.customer_number)
        assert customer.benefit_since <= today
        assert customer.first_name
        assert customer.last_name
    shared = Household.objects.annotate(n=Count("members")).filter(n__gte=2)
    assert shared.exists()


def test_households_are_plausible(seeded):
    for household in Household.objects.all():
        assert household.adults >= 1
        assert (household.children == 0) == (household.youngest_child_age is None)
        if household.youngest_child_age is not None:
            assert 0 <= household.youngest_child_age <= 17
    assert any(h.is_single_parent for h in Household.objects.all())


def test_single_parents_have_children_and_young_children_mean_care():
    data = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=TODAY)
    single_parents = [h for h in data.households if h.kind == "single_parent"]
    assert single_parents
    for household in single_parents:
        assert household.adults == 1
        assert household.children > 0
    for customer in data.customers:
        household = data.households[customer.household]
        if household.kind == "single_parent" and household.youngest_child_age < 3:
            assert customer.profile.care == Need.HIGH
        if household.children == 0 and household.kind != "family":
            assert customer.profile.care != Need.HIGH


def test_profiles_and_histories_are_consistent(seeded):
    today = timezone.localdate()
    spells: dict[int, list[EmploymentSpell]] = {}
    for spell in EmploymentSpell.objects.all():
        assert spell.end is None or spell.end >= spell.start
        assert re.fullmatch(r"\d{5}", spell.kldb)
        assert spell.occupation
        spells.setdefault(spell.customer_id, []).append(spell)
    assert spells, "somebody has worked"
    for profile in Profile.objects.select_related("customer"):
        case = profile.customer.cases.get()
        as_of = timezone.localdate(case.closed_at) if case.closed_at else today
        history = spells.get(profile.customer_id, [])
        assert 0 <= profile.work_months_5y <= 60
        assert profile.months_unemployed >= 0
        assert profile.months_in_benefit == synthetic.months_between(
            profile.customer.benefit_since, as_of
        )
        assert profile.work_months_5y == synthetic.months_worked(
            history, since=as_of.replace(year=as_of.year - 5), until=as_of
        )
        ended = [s.end for s in history if s.end is not None]
        if ended:
            assert profile.months_unemployed == synthetic.months_between(max(ended), as_of)
        assert all(s.start <= as_of for s in history)
        assert profile.customer.benefit_since <= timezone.localdate(case.opened_at)
        assert profile.german in LanguageLevel.values
        assert profile.school in School.values
        assert profile.vocational in Vocational.values
        assert profile.motivation in Motivation.values
        if profile.target_kldb:
            assert profile.target_occupation


def test_case_timelines_are_ordered_and_german(seeded):
    for case in Case.objects.prefetch_related("events"):
        events = sorted(case.events.all(), key=lambda e: e.at)
        assert len(events) >= 1
        assert events[0].kind == CaseEvent.Kind.OPENED
        assert events[0].at == case.opened_at
        assert events[0].summary.startswith("Fall eröffnet")
        assert all(e.at < timezone.now() for e in events)
        if case.phase == Phase.CLOSED:
            assert events[-1].kind == CaseEvent.Kind.CLOSED
            assert events[-1].at == case.closed_at
        else:
            assert case.phase_since >= case.opened_at
        kinds = Counter(e.kind for e in events)
        if case.customer_group == CustomerGroup.POTENTIAL:
            assert kinds[CaseEvent.Kind.ASSIGNED] == 1


def test_names_follow_nationality():
    data = synthetic.generate(customers=2000, seed=SEED, today=TODAY)
    by_nationality = Counter(c.nationality for c in data.customers)
    assert by_nationality["DE"] > by_nationality["UA"] > 0
    assert {"SY", "TR", "AF", "RO", "PL"} <= set(by_nationality)
    ukrainian = [c.first_name for c in data.customers if c.nationality == "UA"]
    assert set(ukrainian) <= set(synthetic.UKRAINIAN_NAMES["m"] + synthetic.UKRAINIAN_NAMES["f"])
    immigrants = [c for c in data.customers if c.nationality in ("UA", "SY", "AF")]
    assert Counter(c.profile.german for c in immigrants)[LanguageLevel.NATIVE] == 0
    assert all(c.preferred_language for c in data.customers)


# --- The oracle -------------------------------------------------------------------------------------


def test_integration_probability_follows_the_features():
    data = synthetic.generate(customers=50, seed=SEED, today=TODAY)
    base = data.customers[0].profile
    rate = data.region_unemployment_rate

    def p(**changes) -> float:
        profile = synthetic.ProfileRecord(**{**vars(base), **changes})
        return synthetic.integration_probability(profile=profile, region_unemployment_rate=rate)

    assert 0 < p() < 1
    assert p(german="A1") < p(german="B2") < p(german="native") + 1e-9
    assert p(months_unemployed=48) < p(months_unemployed=2)
    assert p(work_months_5y=0) < p(work_months_5y=40)
    assert p(health=Need.HIGH) < p(health=Need.NONE)
    assert p(motivation=Motivation.LOW) < p(motivation=Motivation.HIGH)
    assert p(vocational=Vocational.NONE) < p(vocational=Vocational.APPRENTICESHIP)
    assert synthetic.integration_probability(
        profile=base, region_unemployment_rate=12
    ) < synthetic.integration_probability(profile=base, region_unemployment_rate=4)


def test_integration_probability_reads_a_saved_profile_the_same(seeded):
    profile = Profile.objects.select_related("customer").first()
    record = synthetic.generate(customers=CUSTOMERS, seed=SEED, today=timezone.localdate())
    match = next(
        c for c in record.customers if c.customer_number == profile.customer.customer_number
    )
    assert synthetic.integration_probability(
        profile=profile, region_unemployment_rate=record.region_unemployment_rate
    ) == pytest.approx(match.integration_probability)


def test_groups_follow_the_oracle():
    data = synthetic.generate(customers=2000, seed=SEED, today=TODAY)

    def mean(group: str) -> float:
        values = [
            c.integration_probability for c in data.customers if c.case.customer_group == group
        ]
        return sum(values) / len(values)

    assert mean(CustomerGroup.MARKET_NEAR) > mean(CustomerGroup.POTENTIAL)
    assert mean(CustomerGroup.POTENTIAL) > mean(CustomerGroup.ADMINISTRATIVE)


def test_each_open_case_knows_when_its_next_open_step_is_due(seeded):
    """Case.open_steps_due is what the work queue reads for "steps overdue"."""
    earliest = dict(
        PlanStep.objects.filter(
            plan__status=PlanStatus.AGREED,
            plan__cycle=F("plan__case__cycle"),
            status=StepStatus.OPEN,
        )
        .values_list("plan__case_id")
        .annotate(earliest=Min("due_date"))
    )
    open_cases = Case.objects.exclude(phase="closed")
    assert {case.pk: case.open_steps_due for case in open_cases if case.open_steps_due} == {
        case.pk: earliest[case.pk] for case in open_cases if case.pk in earliest
    }
    assert Case.objects.filter(open_steps_due__lt=TODAY).exists()


def test_past_appointments_never_share_a_staff_members_start_and_lie_in_working_hours(seeded):
    from scheduling.models import Appointment, StaffCalendar

    past = list(Appointment.objects.values_list("staff_id", "start", "end"))
    assert len(past) > 50
    assert len({(staff, start) for staff, start, _end in past}) == len(past)
    ends = {
        calendar.user_id: calendar.working_hours[0]["end"]
        for calendar in StaffCalendar.objects.all()
    }
    tz = timezone.get_default_timezone()
    for staff, start, end in past:
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        assert local_start.weekday() < 5
        assert local_start.strftime("%H:%M") >= "08:00"
        assert local_end.strftime("%H:%M") <= ends[staff]
