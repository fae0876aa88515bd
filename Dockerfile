# Production image: gunicorn for web; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app

# Pango for WeasyPrint (SCM report PDFs); a CJK font for Korean text in them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN useradd --system --home /app rcf \
    && mkdir -p var/media var/imports var/exports \
    && SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input \
    && python manage.py compile_translations \
    && chown -R rcf var locale
USER rcf

EXPOSE 8000
# Workers, threads, timeouts: deploy/gunicorn.conf.py (GUNICORN_WORKERS, GUNICORN_THREADS to override).
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "rcf.wsgi:application"]
