# The production image. Web (gunicorn), Celery worker and Celery beat all run from it;
# docker-compose.yml chooses the command. Settings: jobcenter.settings.production, every secret and
# host from the environment at run time (see .env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=jobcenter.settings.production

# An unprivileged user with a fixed id, so the ownership of volumes is predictable.
RUN groupadd --system --gid 10001 jobcenter \
    && useradd --system --uid 10001 --gid jobcenter --home-dir /app --shell /usr/sbin/nologin jobcenter

WORKDIR /app

# Dependencies in a layer of their own, rebuilt only when the pins change: the direct ones named in
# pyproject.toml at the versions of requirements.lock, no dev dependencies.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/requirements.txt \
    && pip install -c requirements.lock -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself. Editable, so the code runs from /app, where templates/, static/ and locale/
# sit beside the packages (settings.BASE_DIR); an installed copy in site-packages would lose them.
COPY . .
RUN pip install --no-deps -c requirements.lock -e .

# Static files, hashed and compressed, into the image; whitenoise serves them. The variables exist
# for this one command, because the production settings refuse to load without them; nothing runs
# with them.
RUN DJANGO_SECRET_KEY=build-time-collectstatic-only-never-used-by-a-running-container \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    EMAIL_URL=dummymail:// \
    DJANGO_SITE_URL=https://build.invalid \
    DJANGO_SMS_BACKEND=off \
    python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown jobcenter:jobcenter var/media

USER jobcenter

EXPOSE 8000

CMD ["gunicorn", "jobcenter.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--error-logfile", "-"]
