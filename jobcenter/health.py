"""/healthz: is the database reachable, is the broker reachable? 200 or 503 naming what failed.

No login (container and load-balancer probes call it) and no TLS redirect (SECURE_REDIRECT_EXEMPT
in settings.production). The answer names only the kind of failure; the details, which may name
hosts and users, go to the log.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # Any failure means "not reachable"; the probe must answer, not raise.
        logger.warning("Health check: database not reachable: %r", exc)
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        with redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
        ) as client:
            client.ping()
    except Exception as exc:
        logger.warning("Health check: broker not reachable: %r", exc)
        return type(exc).__name__
    return None


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    db_error = _check_database()
    broker_error = _check_broker()
    database: dict = {"ok": db_error is None, "vendor": connection.vendor}
    broker: dict = {
        "ok": broker_error is None,
        "mode": "redis" if settings.REDIS_URL else "in-process",
    }
    if db_error:
        database["error"] = db_error
    if broker_error:
        broker["error"] = broker_error
    ok = db_error is None and broker_error is None
    body = {"status": "ok" if ok else "fail", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if ok else 503)
