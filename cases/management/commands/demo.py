"""`make demo`: migrate, seed a synthetic jobcenter if the database is empty, print the logins, serve.

While it serves without a broker, the beat schedule's periodic jobs (reminders, calendar sync,
nightly planning, re-profiling) run in a background thread of this process
(scheduling.periodic.PeriodicRunner); `manage.py scheduling_run_periodic` runs them at once. The
links in letters, e-mails and SMS start with the address served (`--addr`), unless
DJANGO_SITE_URL says otherwise.
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cases.models import Customer

# Served on every interface: the links name this machine's loopback address instead (customers of
# the demo are on this machine; DJANGO_SITE_URL names another address).
_WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 - compared, not bound


def site_url_for(addr: str) -> str:
    """The demo's own address as an absolute URL: "127.0.0.1:8011" -> "http://127.0.0.1:8011",
    "8011" (runserver's port-only form) -> "http://127.0.0.1:8011"."""
    host, _sep, port = addr.rpartition(":")
    if not _sep or "]" in port:  # port only, or a bare IPv6 address in brackets
        host, port = (addr, "8000") if "]" in addr else ("", addr)
    host = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Run the demo: migrate, seed synthetic data if empty, print the demo logins, serve."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument(
            "--customers", type=int, default=3000, help="customers to seed when empty"
        )
        parser.add_argument("--seed", type=int, default=2030)
        parser.add_argument(
            "--no-serve", action="store_true", help="set up and print, but do not serve"
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="do not run the periodic jobs (reminders, calendar sync, planning) while serving",
        )

    def handle(self, *args, addr, customers, seed, no_serve, no_periodic, **options):
        if not getattr(settings, "DEMO_MODE", False):
            raise CommandError("The demo runs only with demo settings (jobcenter.settings.demo).")
        # The links in letters, e-mails and SMS: the address served, unless DJANGO_SITE_URL is set.
        if not os.environ.get("DJANGO_SITE_URL"):
            settings.SITE_URL = site_url_for(addr)
        call_command("migrate", interactive=False, verbosity=0)
        if Customer.objects.exists():
            self.stdout.write("Database already holds data; not seeding again.")
        else:
            call_command("seed_demo", customers=customers, seed=seed, stdout=self.stdout)
        # Without a broker there is no beat: this process keeps its schedule while it serves.
        periodic = not no_serve and not no_periodic and not settings.REDIS_URL
        self._banner(addr, periodic=periodic, periodic_off=no_periodic)
        if no_serve:
            return
        runner = None
        if periodic:
            from scheduling.periodic import PeriodicRunner

            runner = PeriodicRunner()
            runner.start()
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            if runner is not None:
                runner.stop()

    def _banner(self, addr: str, *, periodic: bool = False, periodic_off: bool = False) -> None:
        from scheduling.periodic import periodic_jobs

        db = settings.DATABASES["default"]
        broker = (
            f"Celery broker: {settings.REDIS_URL}"
            if settings.REDIS_URL
            else "Celery tasks run in-process (no broker; set REDIS_URL to use a worker)."
        )
        jobs = ", ".join(f"{job.name} {job.describe()}" for job in periodic_jobs())
        if periodic:
            schedule = f"Periodic jobs run in this process while it serves: {jobs}."
        elif settings.REDIS_URL:
            schedule = f"Periodic jobs ({jobs}): run `celery -A jobcenter beat` beside the worker."
        elif periodic_off:
            schedule = f"Periodic jobs are off (--no-periodic): {jobs}."
        else:
            schedule = f"Periodic jobs run while the demo serves: {jobs}."
        lines = [
            "",
            "=" * 72,
            f"Jobcenter demo at http://{addr}/",
            f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}",
            broker,
            schedule,
            "Run them now: manage.py scheduling_run_periodic [--only reminders|unsent|sync|planning|reprofile]",
            f"Links in letters, e-mails and SMS: {settings.SITE_URL}/ (DJANGO_SITE_URL to change)",
            "Demo logins (password: demo):",
            "  caseworker  - caseworker of Team 1 (work queue, cases)",
            "  teamlead    - team lead of Team 1",
            "  admin       - administrator (configures, reads no case contents)",
            f"API docs: http://{addr}/api/docs/   Health: http://{addr}/healthz",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))
