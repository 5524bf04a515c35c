"""The Celery application: `celery -A jobcenter worker` and `celery -A jobcenter beat`.

Configuration comes from the Django settings (CELERY_* names, see settings.base): the broker is
REDIS_URL; without it, and only then, tasks run in-process. The periodic tasks are
CELERY_BEAT_SCHEDULE. Tasks live in each app's tasks.py and are found by autodiscovery.
"""

import os

from celery import Celery

# Same default as jobcenter.wsgi: a worker started without DJANGO_SETTINGS_MODULE gets the
# production settings, which refuse to start without their variables, never the demo's.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobcenter.settings.production")

app = Celery("jobcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
