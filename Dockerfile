# crm-dq: slim image, non-root, uvloop + httptools (uvicorn[standard]) so TCP_NODELAY is set with --workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CRM_DQ_WORKERS=2 DATABASE_URL=sqlite:////srv/data/crm-dq.sqlite3
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && useradd --system --uid 10001 --home /srv crmdq && mkdir -p /srv/data && chown crmdq /srv/data
USER crmdq
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["sh", "-c", "exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${CRM_DQ_WORKERS} --loop uvloop --http httptools --no-server-header"]
