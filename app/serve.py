"""`python -m app.serve [uvicorn options]`: serve `app.main:app`, preparing the Prometheus multiprocess dir.

With several workers each one writes its metric values to files in `PROMETHEUS_MULTIPROC_DIR`, and a scrape
sums them. Files left by an earlier run would be summed in too, so the directory is emptied (its `*.db` files;
the directory itself may be a volume) before uvicorn starts any worker. With `--workers` above 1 and no
directory set, a fresh temporary one is made. Then uvicorn replaces this process, so signals reach it.

    python -m app.serve --host 0.0.0.0 --port 8000 --workers 4 --loop uvloop --http httptools

`--workers` defaults to `CRM_DQ_WORKERS` (then uvicorn's own `WEB_CONCURRENCY`, then 1).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from app.metrics import MULTIPROC_ENV

APP = "app.main:app"


def worker_count(args: list[str], environ: MutableMapping[str, str]) -> int:
    """The `--workers` uvicorn will run, adding the option from `CRM_DQ_WORKERS` when it is not given."""
    for n, arg in enumerate(args):
        if arg == "--workers" and n + 1 < len(args):
            return int(args[n + 1])
        if arg.startswith("--workers="):
            return int(arg.split("=", 1)[1])
    if environ.get("CRM_DQ_WORKERS"):
        args += ["--workers", environ["CRM_DQ_WORKERS"]]
        return int(environ["CRM_DQ_WORKERS"])
    return int(environ.get("WEB_CONCURRENCY") or 1)


def prepare_metrics_dir(workers: int, environ: MutableMapping[str, str]) -> Path | None:
    """Empty (or make) the multiprocess directory and export it to the workers; None for one plain process."""
    configured = environ.get(MULTIPROC_ENV)
    if not configured and workers <= 1:
        return None
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="crm-dq-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    environ[MULTIPROC_ENV] = str(path)
    return path


def main(argv: list[str] | None = None) -> None:
    """Prepare the metrics directory, then exec uvicorn with the given options."""
    args = list(sys.argv[1:] if argv is None else argv)
    workers = worker_count(args, os.environ)
    prepare_metrics_dir(workers, os.environ)
    os.execv(sys.executable, [sys.executable, "-m", "uvicorn", APP, *args])


if __name__ == "__main__":
    main()
