"""The embedded demo: SQLite unless DATABASE_URL is set, tasks in-process unless REDIS_URL is set."""

from .base import *  # noqa: F403
from .base import REDIS_URL, env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="demo-only-insecure-key-never-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
DEMO_MODE = True
# Without a broker the demo runs tasks in-process: approved invitations are then sent by one
# background thread after the commit (scheduling.tasks.invitations_send_on_commit), so approving a
# run of hundreds does not hold the page for minutes while the letters are made.
SCHEDULING_SEND_IN_BACKGROUND = not REDIS_URL

# Static files straight from the source folders, no `collectstatic` (and no warning about var/static).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
