# The Labeler image: the web app and the Celery worker run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LABELER_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml manage.py ./
COPY labeler labeler
COPY projects projects
COPY workers workers
COPY exports exports
COPY frontend frontend
RUN pip install .

# Static files are collected into the image; this key exists only for this build step.
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 labeler \
    && mkdir -p /app/var/media \
    && chown -R labeler:labeler /app/var

USER labeler
EXPOSE 8000
CMD ["python", "-m", "labeler.launcher", "web"]
