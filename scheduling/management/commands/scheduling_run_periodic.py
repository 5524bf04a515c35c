"""`manage.py scheduling_run_periodic [--only reminders|unsent|sync|planning|reprofile]`: run the beat
schedule's jobs once, now (scheduling.periodic). For the demo, which has no beat, and for scripts
and tests; with a broker, what a job sends on (a sync per staff member, a run per team) goes to the
workers."""

from django.core.management.base import BaseCommand

from scheduling.periodic import JOB_NAMES, periodic_job_run, periodic_jobs

# What each job's result (its task's return value) counts.
RESULT_WORDS = {
    "reminders": "{} reminders sent",
    "sync": "{} shared calendars read",
    "planning": "{} planning runs made",
    "reprofile": "{} cases re-profiled",
}


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of the beat schedule once, now: send the reminders that are due, "
        "read the shared staff calendars, plan every team's due invitations, re-profile the due "
        "cases. --only picks some (repeatable)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            choices=sorted(JOB_NAMES),
            help="run only this job (repeat for several)",
        )

    def handle(self, *args, only, **options):
        for job in periodic_jobs(only):
            result = periodic_job_run(job)
            words = RESULT_WORDS.get(job.name, "{}").format(result)
            self.stdout.write(f"{job.name} ({job.describe()}, {job.task}): {words}")
