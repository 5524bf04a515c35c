"""The WSGI application for gunicorn (`gunicorn jobcenter.wsgi`). Production settings by default."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobcenter.settings.production")
application = get_wsgi_application()
