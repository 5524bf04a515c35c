"""/healthz: is the database reachable, is the broker reachable? 200 or 503 naming what failed."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_error = _check_database()
    broker_error = _check_broker()
    body = {
        "status": "ok" if not (db_error or broker_error) else "fail",
        "database": {"ok": db_error is None, "vendor": connection.vendor},
        "broker": {
            "ok": broker_error is None,
            "mode": "redis" if settings.REDIS_URL else "in-process",
        },
    }
    if db_error:
        body["database"]["error"] = db_error
    if broker_error:
        body["broker"]["error"] = broker_error
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
