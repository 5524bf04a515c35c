"""The periodic jobs of the beat schedule (settings.CELERY_BEAT_SCHEDULE) run in this process.

In production `celery -A jobcenter beat` sends them to the workers. Without a broker (the demo)
nothing would ever send them, so:
- `manage.py scheduling_run_periodic [--only reminders|unsent|sync|planning|reprofile]` runs them once,
  now (for users, scripts and tests);
- `manage.py demo` keeps the beat's schedule in a background thread while it serves
  (`PeriodicRunner`): the same entries at the same times, each run as the task it names, in
  process, as every task of the demo is.

A job is the task of its beat entry, run with `apply()`: in this process, with what it sends on
(one calendar sync per staff member, one planning run per team) going where every task goes, in
process without a broker, to the workers with one.
"""

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# The short names users type, and the beat entry each one stands for.
JOB_NAMES = {
    "reminders": "scheduling-reminders-send",
    "unsent": "scheduling-invitations-send-unsent",
    "sync": "scheduling-calendars-sync",
    "planning": "scheduling-planning-runs",
    "reprofile": "profiling-reprofile-due",
}


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # short name (JOB_NAMES), or the beat entry's own for an entry not listed there
    entry: str  # the key in CELERY_BEAT_SCHEDULE
    task: str  # dotted path of the Celery task
    schedule: Any  # celery.schedules.crontab / schedule

    def describe(self) -> str:
        return schedule_describe(self.schedule)


def periodic_jobs(only: list[str] | None = None) -> list[PeriodicJob]:
    """The beat schedule's jobs, in its order (`only`: these short names)."""
    names = {entry: name for name, entry in JOB_NAMES.items()}
    jobs = [
        PeriodicJob(
            name=names.get(entry, entry),
            entry=entry,
            task=spec["task"],
            schedule=spec["schedule"],
        )
        for entry, spec in settings.CELERY_BEAT_SCHEDULE.items()
    ]
    if only:
        unknown = sorted(set(only) - {job.name for job in jobs})
        if unknown:
            raise ValueError(f"Unknown periodic jobs: {', '.join(unknown)}")
        jobs = [job for job in jobs if job.name in only]
    return jobs


def periodic_job_run(job: PeriodicJob) -> Any:
    """Run the job's task here and now; its result (the task's return value)."""
    return import_string(job.task).apply(throw=True).get()


def schedule_describe(schedule: Any) -> str:
    """A crontab in words: "every 5 minutes", "daily at 03:15"; anything else as Celery says it."""
    if isinstance(schedule, crontab):
        minute, hour = str(schedule._orig_minute), str(schedule._orig_hour)
        rest = (
            schedule._orig_day_of_week,
            schedule._orig_day_of_month,
            schedule._orig_month_of_year,
        )
        if all(str(part) == "*" for part in rest):
            if hour == "*" and minute.startswith("*/"):
                return f"every {minute[2:]} minutes"
            if hour == "*" and minute.isdigit():
                return f"every hour at minute {int(minute)}"
            if hour.isdigit() and minute.isdigit():
                return f"daily at {int(hour):02d}:{int(minute):02d}"
    return str(schedule)


class PeriodicRunner(threading.Thread):
    """The beat in a thread of this process: every `interval` seconds, each job whose schedule is
    due since it last ran (or since the runner started, as celery beat does on its first start)
    runs, one after the other. A failing job is logged and tried again at its next time; it stops
    no other job and not the runner."""

    def __init__(self, jobs: list[PeriodicJob] | None = None, *, interval: float = 20.0) -> None:
        super().__init__(name="periodic-jobs", daemon=True)
        self.jobs = periodic_jobs() if jobs is None else jobs
        self.interval = interval
        started = timezone.now()
        self.last_run: dict[str, dt.datetime] = {job.entry: started for job in self.jobs}
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            close_old_connections()
            try:
                self.run_due()
            finally:
                # This thread's own database connections; the web server's are its own.
                connections.close_all()

    def run_due(self) -> list[tuple[str, Any]]:
        """Run the jobs that are due now; [(name, result or the exception)] of those that ran."""
        ran = []
        for job in self.jobs:
            if self._stopped.is_set():
                break
            if not job.schedule.is_due(self.last_run[job.entry])[0]:
                continue
            self.last_run[job.entry] = timezone.now()
            try:
                result = periodic_job_run(job)
            except Exception as error:  # noqa: BLE001 - logged; the next time comes anyway
                logger.exception("Periodic job %s failed", job.name)
                result = error
            else:
                logger.info("Periodic job %s: %s", job.name, result)
            ran.append((job.name, result))
        return ran
