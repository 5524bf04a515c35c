"""Celery tasks of the scheduling app: thin callers of scheduling.services.

`scheduling_calendars_sync` (CELERY_BEAT_SCHEDULE "scheduling-calendars-sync", every 15 minutes)
sends one `scheduling_calendar_sync` per staff member who agreed to share their calendar, so the
workers read the calendars side by side and a server that hangs until its timeout delays only its
own users. A failing calendar (server down, wrong password, bad data) is recorded on that calendar
by the service and stops no other. Idempotent: a second run replaces the same busy times again.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from jobcenter.exceptions import ApplicationError
from scheduling.models import StaffCalendar
from scheduling.services import calendar_sync, staff_calendar_sync_due_user_ids

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
    try:
        calendar_sync(user_id=user_id)
    except StaffCalendar.DoesNotExist:
        return "skipped"
    except ApplicationError as error:
        # Not retried: the status and message are on the calendar; the next run tries again.
        logger.info("Calendar sync of user %s: %s", user_id, error.message)
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
