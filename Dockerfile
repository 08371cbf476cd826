# crm-dq: slim image, non-root, uvloop + httptools (uvicorn[standard]) so TCP_NODELAY is set with --workers.
# `python -m app.serve` empties PROMETHEUS_MULTIPROC_DIR (so /metrics sums the CRM_DQ_WORKERS workers of this
# run only), then execs uvicorn. One container = one instance; scale out with more containers or replicas.
# CRM_DQ_BATCH_PROCESSES: NDJSON scoring processes per worker, so workers x processes stays near the cores
# (2 x 1; 1 scores in a thread of each worker). Raise both together on a bigger machine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CRM_DQ_WORKERS=2 CRM_DQ_BATCH_PROCESSES=1 DATABASE_URL=sqlite:////srv/data/crm-dq.sqlite3 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/crm-dq-metrics
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && useradd --system --uid 10001 --home /srv crmdq && mkdir -p /srv/data && chown crmdq /srv/data
USER crmdq
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", "--no-server-header"]
