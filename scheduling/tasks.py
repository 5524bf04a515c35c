"""Celery tasks of the scheduling app: thin callers of scheduling.services.

`scheduling_calendars_sync` (CELERY_BEAT_SCHEDULE "scheduling-calendars-sync", every 15 minutes)
sends one `scheduling_calendar_sync` per staff member who agreed to share their calendar, so the
workers read the calendars side by side and a server that hangs until its timeout delays only its
own users. A failing calendar (server down, wrong password, bad data) is recorded on that calendar
by the service and stops no other. Idempotent: a second run replaces the same busy times again.
"Sync now" sends the same task when a worker exists (scheduling.services.calendar_sync_start).
Each source's fetch has its own deadline; should the task still reach its soft time limit, or fail
unexpectedly, the calendar records an error status with a message (and the page stops waiting).
"""

import logging
import threading
import time
from collections import Counter

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, connections, transaction

from jobcenter.exceptions import ApplicationError
from scheduling.models import StaffCalendar
from scheduling.services import (
    calendar_sync,
    calendar_sync_failed,
    staff_calendar_sync_due_user_ids,
)

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def scheduling_calendars_sync() -> int:
    """Send one sync per consenting staff member; returns how many were sent."""
    user_ids = staff_calendar_sync_due_user_ids()
    for user_id in user_ids:
        scheduling_calendar_sync.delay(user_id)
    logger.info("Calendar sync: %d calendars sent to the workers.", len(user_ids))
    return len(user_ids)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=2 * 60,
    time_limit=3 * 60,
)
def scheduling_calendar_sync(user_id: int) -> str:
    """Sync one staff member's calendar: "ok", "error" (recorded on the calendar) or "skipped"."""
    from django.utils.translation import gettext as _

    try:
        calendar_sync(user_id=user_id)
    except StaffCalendar.DoesNotExist:
        return "skipped"
    except ApplicationError as error:
        # Not retried: the status and message are on the calendar; the next run tries again.
        logger.info("Calendar sync of user %s: %s", user_id, error.message)
        return "error"
    except SoftTimeLimitExceeded:
        logger.warning("Calendar sync of user %s reached the task's time limit.", user_id)
        calendar_sync_failed(
            user_id=user_id,
            message=_(
                "The sync took too long and was stopped; the previous busy times are kept. The "
                "next sync tries again."
            ),
        )
        return "error"
    except OperationalError:
        raise  # the database: retried (autoretry_for)
    except Exception:
        # A bug must not leave the calendar waiting for an outcome: record one, log the detail.
        logger.exception("Calendar sync of user %s failed unexpectedly.", user_id)
        calendar_sync_failed(
            user_id=user_id,
            message=_(
                "The sync stopped because of an unexpected error; the previous busy times are "
                "kept. The details are in the server log."
            ),
        )
        return "error"
    return "ok"


# --- planning runs (services in scheduling.services_planning) ----------------------------------------


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def scheduling_planning_runs_periodic() -> int:
    """Nightly: open one run per team (unless switched off) and send each to a worker."""
    from scheduling.services_planning import planning_runs_start_periodic

    run_ids = planning_runs_start_periodic()
    for run_id in run_ids:
        scheduling_planning_run_execute.delay(run_id)
    return len(run_ids)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
)
def scheduling_planning_run_execute(run_id: int) -> str:
    """Compute one run (status running → proposed, or failed with the error on the run)."""
    from scheduling.services_planning import planning_run_execute

    return planning_run_execute(run_id=run_id).status


# --- invitations and reminders (services_invitations, services_reminders) ----------------------------


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=2 * 60,
    time_limit=3 * 60,
)
def scheduling_invitation_send(appointment_id: int) -> str:
    """Send an approved appointment's invitation; "sent", "failed" or "skipped" (already sent for
    this version, or no longer approved). Idempotent: the service sends once per version."""
    from scheduling.services_invitations import invitation_send_if_due

    return invitation_send_if_due(appointment_id=appointment_id)


# Invitations approved together (a whole run: hundreds) go to the workers in batches: one message
# per batch keeps the approving request short (a few broker round trips, not one per invitation),
# and the batches still spread over all workers.
SEND_BATCH_SIZE = 25


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def scheduling_invitations_send(appointment_ids: list[int]) -> dict[str, int]:
    """Send a batch of approved invitations, one after the other, each in its own transaction;
    returns how many were "sent", "failed", "skipped" or raised an "error". Idempotent like the
    single task: a retried batch skips what went out already. A database outage retries the batch;
    any other error of one invitation is logged and the batch goes on."""
    outcomes: Counter[str] = Counter()
    for appointment_id in appointment_ids:
        outcomes[_send_one(appointment_id)] += 1
    return dict(outcomes)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def scheduling_invitations_send_unsent() -> int:
    """Every 10 minutes: approved invitations whose sending was lost go to the workers again, in
    batches; returns how many. Idempotent: the service sends each version once."""
    from scheduling.services_invitations import invitations_unsent_ids

    ids = invitations_unsent_ids()
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        scheduling_invitations_send.delay(ids[start : start + SEND_BATCH_SIZE])
    if ids:
        logger.warning(
            "%d approved invitations had not been sent; sent to the workers now.", len(ids)
        )
    return len(ids)


def _send_one(appointment_id: int) -> str:
    from scheduling.services_invitations import invitation_send_if_due

    try:
        return invitation_send_if_due(appointment_id=appointment_id)
    except (OperationalError, SoftTimeLimitExceeded):
        raise
    except Exception:
        logger.exception("Invitation of appointment %s could not be sent.", appointment_id)
        return "error"


# SQLite has one writer at a time and no queue: a thread that starts its next write at once keeps
# getting the lock while a request waits (its busy handler looks again at most every 100 ms) until
# the request gives up with "database is locked". A pause longer than that between two invitations
# lets the pages write (audit rows, decisions) while the demo sends in the background.
SQLITE_PAUSE_SECONDS = 0.15


def _send_batches_here(batches: list[list[int]]) -> None:
    pause = SQLITE_PAUSE_SECONDS if connections["default"].vendor == "sqlite" else 0
    try:
        for batch in batches:
            for appointment_id in batch:
                _send_one(appointment_id)
                if pause:
                    time.sleep(pause)
    except Exception:
        logger.exception("Sending invitations in the background stopped.")
    finally:
        connections.close_all()


def invitations_send_on_commit(appointment_ids: list[int]) -> None:
    """Have the approved invitations sent once the current transaction commits, in batches.

    With a broker each batch is a task for the workers (`delay_on_commit`): the request returns
    at once. Without one (the demo: tasks run in-process), SCHEDULING_SEND_IN_BACKGROUND (set by
    the demo settings only) sends them in one background thread after the commit, so approving a
    run of hundreds of invitations does not hold the page for minutes while the letters are made;
    the run page shows the progress. Production refuses to start without a broker, and the tests
    keep it off so that the sending has happened when the approving call returns."""
    ids = sorted(appointment_ids)
    batches = [ids[i : i + SEND_BATCH_SIZE] for i in range(0, len(ids), SEND_BATCH_SIZE)]
    if not batches:
        return
    if getattr(settings, "SCHEDULING_SEND_IN_BACKGROUND", False):

        def start() -> None:
            threading.Thread(
                target=_send_batches_here, args=(batches,), name="invitations-send", daemon=True
            ).start()

        transaction.on_commit(start)
        return
    for batch in batches:
        scheduling_invitations_send.delay_on_commit(batch)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=4 * 60,
    time_limit=5 * 60,
)
def scheduling_reminders_send() -> int:
    """Send the reminders whose time has come (rows locked with SKIP LOCKED: each goes once)."""
    from scheduling.services_reminders import reminders_send_due

    return reminders_send_due()
