"""`manage.py seed_demo`: write a synthetic jobcenter into an empty database (demo mode only)."""

from time import perf_counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from cases import synthetic
from cases.models import CustomerGroup, Phase

DEMO_MODEL_ROWS = 20_000
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, written only in demo mode


class Command(BaseCommand):
    help = (
        "Seed a synthetic jobcenter (teams, staff, households, customers, profiles, employment "
        "histories, cases with timelines, cooperation plans with steps, case notes) and the demo logins caseworker, teamlead and admin "
        "(password 'demo'). Runs only with DEMO_MODE on and only into a database without customers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=3000, help="number of customers")
        parser.add_argument(
            "--seed", type=int, default=2030, help="random seed; the same seed gives the same data"
        )
        parser.add_argument(
            "--model-rows",
            type=int,
            default=DEMO_MODEL_ROWS,
            help=(
                "train the profiling model on this many rows of the generator's synthetic history, "
                "activate it and let it make suggestions for the open cases (0: no model)"
            ),
        )

    def handle(self, *args, customers: int, seed: int, model_rows: int, **options) -> None:
        if not getattr(settings, "DEMO_MODE", False):
            raise CommandError(
                "seed_demo writes synthetic data and demo logins with a known password, so it runs "
                "only with DEMO_MODE on (jobcenter.settings.demo). Refusing under these settings."
            )
        if not 1 <= customers <= synthetic.MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 1 and {synthetic.MAX_CUSTOMERS}.")

        started = perf_counter()
        data = synthetic.generate(customers=customers, seed=seed, today=timezone.localdate())
        generated = perf_counter()
        try:
            result = synthetic.write(data=data, demo_password=DEMO_PASSWORD)
        except synthetic.SyntheticDataError as error:
            raise CommandError(error.message) from error
        if connection.vendor == "postgresql":
            # After a bulk load: fresh planner statistics, and the search indexes' GIN pending
            # lists merged, or the planner avoids them. VACUUM cannot run inside a transaction
            # (as in tests); ANALYZE alone has to do there.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        finished = perf_counter()
        self._summary(data, result, generate_s=generated - started, write_s=finished - generated)
        self._calendars(seed=seed)
        if model_rows:
            self._model(rows=model_rows, seed=seed)
        self._planning()

    def _calendars(self, *, seed: int) -> None:
        """Staff calendars (shared, with working hours), past contacts and group sessions."""
        from scheduling.synthetic import calendars_write

        started = perf_counter()
        written = calendars_write(seed=seed)
        self.stdout.write(
            f"Calendars: {written.calendars} staff calendars (sharing agreed), {written.absences} "
            f"absences, {written.past_appointments} past appointments, {written.group_sessions} "
            f"group sessions in {perf_counter() - started:.1f} s."
        )

    def _planning(self) -> None:
        """One planning run per team, as the nightly task makes them: proposals that wait for a
        team lead's approval (nothing is sent before a person approves)."""
        from scheduling.services_planning import planning_run_execute, planning_runs_start_periodic

        started = perf_counter()
        runs = [planning_run_execute(run_id=run_id) for run_id in planning_runs_start_periodic()]
        self.stdout.write(
            f"Planning: {len(runs)} runs waiting for approval, "
            f"{sum(run.placed_count for run in runs)} invitations proposed, "
            f"{sum(run.unplaced_count for run in runs)} not placed, "
            f"in {perf_counter() - started:.1f} s."
        )

    def _model(self, *, rows: int, seed: int) -> None:
        """A first model for the demo: trained here on synthetic history, never downloaded.

        Activated by the system, as an admin would after reading its model card; then the goal
        review batch makes a suggestion for every open case with a profile. The customer groups
        the generator assigned stay as they are: where the suggestion differs, the case waits for
        a caseworker's decision in the work queue.
        """
        from audit.services import AuditContext
        from profiling.model.history import demo_history
        from profiling.model.train import model_train
        from profiling.models import ModelSource
        from profiling.services.models import model_version_activate
        from profiling.services.suggestions import reprofile_batch, reprofile_find_due

        started = perf_counter()
        version = model_train(
            data=demo_history(n=rows, seed=seed),
            source=ModelSource.SYNTHETIC,
            source_name=f"demo generator, seed {seed}, {rows} rows",
            seed=seed,
        )
        model_version_activate(
            ctx=AuditContext.system(), version_id=version.pk, reason="demo: first model"
        )
        due = reprofile_find_due()
        written = sum(
            reprofile_batch(case_ids=due[start : start + 2000])
            for start in range(0, len(due), 2000)
        )
        metrics = version.metrics
        self.stdout.write(
            f"Profiling model v{version.number} trained on {rows} synthetic rows and activated "
            f"(AUC {metrics.get('auc')}, ECE {metrics.get('ece')}); {written} suggestions made "
            f"in {perf_counter() - started:.1f} s."
        )

    def _summary(
        self,
        data: synthetic.SyntheticJobcenter,
        result: synthetic.WriteResult,
        *,
        generate_s: float,
        write_s: float,
    ) -> None:
        out = self.stdout.write
        out(
            f"Seeded {data.name} (seed {data.seed}, reference day {data.today:%Y-%m-%d}): "
            + ", ".join(
                f"{count} {name.replace('_', ' ')}" for name, count in result.counts.items()
            )
        )
        out("Per team (customers / open cases / caseworkers):")
        for team, row in data.counts_by_team().items():
            out(f"  {team}: {row['customers']} / {row['open_cases']} / {row['caseworkers']}")
        phases = data.counts_by_phase()
        out("Per phase: " + ", ".join(f"{phase.value} {phases[phase]}" for phase in Phase))
        groups = data.counts_by_group()
        out(
            "Per customer group: "
            + ", ".join(f"{group.value} {groups[group]}" for group in CustomerGroup)
            + f", not yet assigned {groups['']}"
        )
        out(f"Open cases with an overdue goal review: {data.overdue_count()}")
        plans = data.plan_counts()
        out(
            f"Cooperation plans: {plans['agreed']} agreed, {plans['draft']} draft, "
            f"{plans['steps']} steps; open cases with steps overdue: "
            f"{plans['cases_with_steps_overdue']}"
        )
        notes = data.note_counts()
        out(
            f"Case notes: {notes['notes']} ({notes['incomplete']} incomplete), "
            f"{result.counts.get('note_tags', 0)} tag links"
        )
        out(
            "Demo logins (password demo): caseworker and teamlead in "
            f"{data.teams[0].name}, admin without team."
        )
        out(
            f"Took {generate_s + write_s:.1f} s "
            f"(generate {generate_s:.1f} s, write {write_s:.1f} s)."
        )
