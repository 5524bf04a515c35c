"""The beat schedule without a beat: `manage.py scheduling_run_periodic` runs its jobs once, the
demo keeps its schedule in a background thread while it serves, and sets the site address the links
in letters, e-mails and SMS start with."""

import datetime as dt
import io

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.management.commands.demo import site_url_for
from scheduling import periodic
from scheduling.models import Reminder, ReminderStatus
from scheduling.periodic import PeriodicRunner, periodic_jobs, schedule_describe
from scheduling.services_invitations import invitation_send
from tests.scheduling.test_invitations import START, appointment_make, german_v1_install, staff_make

BERLIN = START.tzinfo
SENT_AT = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
EMAIL_DUE = START - dt.timedelta(hours=48)


@pytest.fixture(autouse=True)
def german_v1(db):
    german_v1_install()


@pytest.fixture
def reminder_due(team):
    """An invitation sent a week ahead; its e-mail reminder is due two days before."""
    staff = staff_make(team)
    appointment = appointment_make(team, staff)
    with time_machine.travel(SENT_AT, tick=False):
        invitation_send(ctx=AuditContext(actor=staff, channel="ui"), appointment_id=appointment.pk)
    mail.outbox.clear()
    return Reminder.objects.get(appointment=appointment, channel="email")


def test_the_jobs_are_the_beat_schedule(settings):
    jobs = periodic_jobs()
    assert [job.entry for job in jobs] == list(settings.CELERY_BEAT_SCHEDULE)
    assert {job.name for job in jobs} == {"reminders", "unsent", "sync", "planning", "reprofile"}
    for job in jobs:
        assert job.task == settings.CELERY_BEAT_SCHEDULE[job.entry]["task"]
        assert job.schedule is settings.CELERY_BEAT_SCHEDULE[job.entry]["schedule"]
    names = [job.name for job in jobs]
    chosen = [job.name for job in periodic_jobs(["sync", "reminders"])]
    assert chosen == [name for name in names if name in ("sync", "reminders")]
    with pytest.raises(ValueError, match="Unknown periodic jobs: nightly"):
        periodic_jobs(["nightly"])


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (crontab(minute="*/5"), "every 5 minutes"),
        (crontab(hour=3, minute=15), "daily at 03:15"),
        (crontab(minute=7), "every hour at minute 7"),
    ],
)
def test_schedules_in_words(schedule, words):
    assert schedule_describe(schedule) == words


def test_the_command_sends_the_reminders_that_are_due(reminder_due):
    out = io.StringIO()
    with time_machine.travel(EMAIL_DUE + dt.timedelta(minutes=1), tick=False):
        call_command("scheduling_run_periodic", only=["reminders"], stdout=out)

    assert "reminders (every 5 minutes, scheduling.tasks.scheduling_reminders_send): 1" in (
        out.getvalue()
    )
    reminder_due.refresh_from_db()
    assert reminder_due.status == ReminderStatus.SENT
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(object_type="reminder", object_id=str(reminder_due.pk))


def test_the_command_without_options_runs_every_job_once(db):
    out = io.StringIO()
    call_command("scheduling_run_periodic", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(" ")[0] for line in lines] == [job.name for job in periodic_jobs()]


def test_the_runner_runs_a_job_when_its_time_has_come(reminder_due):
    with time_machine.travel(EMAIL_DUE - dt.timedelta(minutes=7), tick=False) as clock:
        runner = PeriodicRunner(periodic_jobs(["reminders", "planning"]))
        assert runner.run_due() == []  # nothing due the moment it starts
        clock.move_to(EMAIL_DUE + dt.timedelta(seconds=30))  # the beat's */5 passed at :00
        ran = runner.run_due()
        assert ran == [("reminders", 1)]
        assert runner.run_due() == []  # once per time
        reminder_due.refresh_from_db()
        assert reminder_due.status == ReminderStatus.SENT


def test_a_failing_job_stops_neither_the_others_nor_the_runner(db, monkeypatch):
    calls = []

    def run(job):
        calls.append(job.name)
        if job.name == "sync":
            raise ConnectionError("calendar server down")
        return 0

    monkeypatch.setattr(periodic, "periodic_job_run", run)
    start = dt.datetime(2026, 11, 25, 10, 1, tzinfo=BERLIN)
    with time_machine.travel(start, tick=False) as clock:
        runner = PeriodicRunner(periodic_jobs(["sync", "reminders"]))
        clock.move_to(start + dt.timedelta(minutes=15))
        ran = dict(runner.run_due())
    assert isinstance(ran["sync"], ConnectionError)
    assert ran["reminders"] == 0
    assert set(calls) == {"sync", "reminders"}


def test_the_runner_thread_stops(db):
    runner = PeriodicRunner(periodic_jobs(["reminders"]), interval=0.01)
    runner.start()
    runner.stop()
    runner.join(timeout=5)
    assert not runner.is_alive()


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8011", "http://127.0.0.1:8011"),
        ("8011", "http://127.0.0.1:8011"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000"),  # noqa: S104 - a value, nothing is bound
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_the_demo_links_to_the_address_it_serves(addr, url):
    assert site_url_for(addr) == url


def test_the_demo_sets_the_site_address_and_says_what_runs(case, monkeypatch):
    monkeypatch.setattr(django_settings, "SITE_URL", django_settings.SITE_URL)
    monkeypatch.setattr(django_settings, "REDIS_URL", "")
    monkeypatch.delenv("DJANGO_SITE_URL", raising=False)
    out = io.StringIO()

    call_command("demo", addr="127.0.0.1:8011", no_serve=True, stdout=out)

    assert django_settings.SITE_URL == "http://127.0.0.1:8011"
    banner = out.getvalue()
    assert "Links in letters, e-mails and SMS: http://127.0.0.1:8011/" in banner
    assert "reminders every 5 minutes" in banner
    assert "sync every 15 minutes" in banner
    assert "planning daily at 03:15" in banner
    assert "manage.py scheduling_run_periodic" in banner


def test_the_demo_keeps_a_site_address_given_in_the_environment(case, monkeypatch):
    monkeypatch.setattr(django_settings, "SITE_URL", "https://demo.example.de")
    monkeypatch.setenv("DJANGO_SITE_URL", "https://demo.example.de")

    call_command("demo", addr="127.0.0.1:8011", no_serve=True, stdout=io.StringIO())

    assert django_settings.SITE_URL == "https://demo.example.de"
