"""`make demo`: migrate, seed a synthetic jobcenter if the database is empty, print the logins, serve."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cases.models import Customer


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

    def handle(self, *args, addr, customers, seed, no_serve, **options):
        if not getattr(settings, "DEMO_MODE", False):
            raise CommandError("The demo runs only with demo settings (jobcenter.settings.demo).")
        call_command("migrate", interactive=False, verbosity=0)
        if Customer.objects.exists():
            self.stdout.write("Database already holds data; not seeding again.")
        else:
            call_command("seed_demo", customers=customers, seed=seed, stdout=self.stdout)
        self._banner(addr)
        if not no_serve:
            call_command("runserver", addr, use_reloader=False)

    def _banner(self, addr: str) -> None:
        db = settings.DATABASES["default"]
        broker = (
            f"Celery broker: {settings.REDIS_URL}"
            if settings.REDIS_URL
            else "Celery tasks run in-process (no broker; set REDIS_URL to use a worker)."
        )
        lines = [
            "",
            "=" * 72,
            f"Jobcenter demo at http://{addr}/",
            f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}",
            broker,
            "Demo logins (password: demo):",
            "  caseworker  - caseworker of Team 1 (work queue, cases)",
            "  teamlead    - team lead of Team 1",
            "  admin       - administrator (configures, reads no case contents)",
            f"API docs: http://{addr}/api/docs/   Health: http://{addr}/healthz",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))
