"""Container health checks for docker-compose.yml; exit status 0 means healthy.

    python deploy/healthcheck.py web    # GET /healthz answers 200 (database and broker reachable)
    python deploy/healthcheck.py beat   # the beat process lives and the broker answers

The standard library only for `web` (the slim image has no curl). The request carries a host name
from DJANGO_ALLOWED_HOSTS: Django answers 400 to any other, "localhost" included.
"""

import argparse
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
BEAT_PIDFILE = "/tmp/celerybeat.pid"  # noqa: S108 - the container's own /tmp, written by beat
TIMEOUT_SECONDS = 5


def allowed_host() -> str:
    """The first entry of DJANGO_ALLOWED_HOSTS as a host name ('.example.de' allows example.de)."""
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts or hosts[0] == "*":
        return "localhost"
    return hosts[0].lstrip(".")


def check_web(url: str) -> bool:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"Host": allowed_host()})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        print(f"web unhealthy: {exc}", file=sys.stderr)
        return False


def check_beat(pidfile: str) -> bool:
    import redis

    try:
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), 0)
    except (OSError, ValueError) as exc:
        print(f"beat not running: {exc}", file=sys.stderr)
        return False
    try:
        with redis.Redis.from_url(
            os.environ["REDIS_URL"],
            socket_connect_timeout=TIMEOUT_SECONDS,
            socket_timeout=TIMEOUT_SECONDS,
        ) as client:
            client.ping()
    except (KeyError, redis.RedisError) as exc:
        print(f"beat cannot reach the broker: {exc!r}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=["web", "beat"])
    parser.add_argument("--url", default=DEFAULT_URL, help="web: the /healthz URL")
    parser.add_argument("--pidfile", default=BEAT_PIDFILE, help="beat: the pid file")
    args = parser.parse_args(argv)
    healthy = check_web(args.url) if args.service == "web" else check_beat(args.pidfile)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
