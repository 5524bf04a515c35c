"""Celery tasks of the profiling app: thin callers of profiling.services.suggestions.

The nightly goal review (CELERY_BEAT_SCHEDULE "profiling-reprofile-due", 02:30): one task finds the
due cases and sends them on in chunks; each chunk is re-profiled by whichever worker takes it.
Both are idempotent: a chunk re-checks which of its cases are still due, and a suggestion's
`dedupe_key` keeps a second run (or a redelivered chunk) from adding anything.
Only a transient database error is retried; anything else is a bug to see in the log.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from profiling.model.runtime import NoActiveModelError, model_active
from profiling.services.suggestions import reprofile_batch, reprofile_find_due

logger = logging.getLogger(__name__)

CHUNK = 2000


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def profiling_reprofile_due(self) -> int:
    """Find the due cases and send one `profiling_reprofile_batch` per chunk; returns how many.

    The chunks go to the queue this task came from, so operators who route the goal review to
    workers of its own (celery -Q) keep all of it there.
    """
    try:
        model_active()
    except NoActiveModelError:
        logger.warning("Goal review: no active profiling model, nothing re-profiled.")
        return 0
    case_ids = reprofile_find_due()
    queue = (self.request.delivery_info or {}).get("routing_key")
    options = {"queue": queue} if queue else {}
    for start in range(0, len(case_ids), CHUNK):
        profiling_reprofile_batch.apply_async(args=[case_ids[start : start + CHUNK]], **options)
    logger.info("Goal review: %d due cases sent in chunks of %d.", len(case_ids), CHUNK)
    return len(case_ids)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=4 * 60,
    time_limit=5 * 60,
)
def profiling_reprofile_batch(case_ids: list[int]) -> int:
    """Re-profile the cases of one chunk that are still due; returns the suggestions written."""
    return reprofile_batch(case_ids=case_ids)
