"""`python -m app.serve [uvicorn options]`: serve `app.main:app`, preparing the Prometheus multiprocess dir.

With several workers each one writes its metric values to files in `PROMETHEUS_MULTIPROC_DIR`, and a scrape
sums them. Files left by an earlier run would be summed in too, so the directory is emptied (its `*.db` files;
the directory itself may be a volume) before uvicorn starts any worker. With `--workers` above 1 and no
directory set, a fresh temporary one is made. Then uvicorn replaces this process, so signals reach it.

    python -m app.serve --host 0.0.0.0 --port 8000 --workers 4 --loop uvloop --http httptools

`--workers` defaults to `CRM_DQ_WORKERS` (then uvicorn's own `WEB_CONCURRENCY`, then 1). uvicorn's access
log is off unless `--access-log` is given: its lines hold the raw path and query string (an email in
`/v1/index/contacts/{id}`); the app writes its own line with the route template instead.

With `CRM_DQ_METRICS_PORT` set, `/metrics` leaves the API port: this process binds the metrics port
(`CRM_DQ_METRICS_HOST`, else uvicorn's `--host`, else 127.0.0.1) before any worker starts, then runs uvicorn
in this same process (no exec) and answers scrapes from a thread by merging every worker's files; the
multiprocess directory is used even for one worker, so the thread sees the worker's numbers. Exactly one
listener, whatever the number of workers: the workers are told it is served and bind nothing.

Nothing here imports prometheus_client before the directory is exported: it picks in-memory or file values
once, at import, and with one worker uvicorn serves the app in this very process (an earlier import left the
metrics port's files empty, so it answered an empty body). A temporary directory made here is removed when
uvicorn stops, by a signal too.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app.config import Settings

if TYPE_CHECKING:  # imported at run time only once PROMETHEUS_MULTIPROC_DIR is set (see above)
    from app.metrics_port import MetricsListener

APP = "app.main:app"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # app.metrics's too; not imported from there, see above


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


def without_access_log(args: list[str]) -> list[str]:
    """Add `--no-access-log` unless the caller chose either way: no raw path or query reaches the logs."""
    if "--access-log" in args or "--no-access-log" in args:
        return args
    return [*args, "--no-access-log"]


def uvicorn_host(args: list[str]) -> str:
    """The `--host` uvicorn will bind (its default 127.0.0.1)."""
    for n, arg in enumerate(args):
        if arg == "--host" and n + 1 < len(args):
            return args[n + 1]
        if arg.startswith("--host="):
            return arg.split("=", 1)[1]
    return "127.0.0.1"


def prepare_metrics_dir(workers: int, environ: MutableMapping[str, str], always: bool = False) -> Path | None:
    """Empty (or make) the multiprocess directory and export it to the workers; None for one plain process
    (unless `always`: a separate metrics port reads the files even of one worker)."""
    configured = environ.get(MULTIPROC_ENV)
    if not configured and workers <= 1 and not always:
        return None
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="crm-dq-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    environ[MULTIPROC_ENV] = str(path)
    return path


def start_metrics_port(settings: Settings, args: list[str], metrics_dir: Path) -> MetricsListener:
    """Bind the metrics port in this process (a taken port stops start-up here) and tell the workers."""
    from app.metrics import multiprocess_exposition
    from app.metrics_port import SERVED_BY_ENV, MetricsListener

    host = settings.metrics_host or uvicorn_host(args)
    assert settings.metrics_port is not None
    listener = MetricsListener(host, settings.metrics_port, lambda: multiprocess_exposition(str(metrics_dir)))
    os.environ[SERVED_BY_ENV] = str(os.getpid())
    return listener.start()


def main(argv: list[str] | None = None) -> None:
    """Prepare the metrics directory, then exec uvicorn with the given options (or, with a separate metrics
    port, serve that port from a thread and run uvicorn in this process)."""
    args = without_access_log(list(sys.argv[1:] if argv is None else argv))
    workers = worker_count(args, os.environ)
    settings = load_settings()
    made_here = not os.environ.get(MULTIPROC_ENV)  # a temporary directory this launcher creates
    metrics_dir = prepare_metrics_dir(workers, os.environ, always=settings.metrics_port is not None)
    if settings.metrics_port is None:  # exec: a temporary directory outlives the server (in the system's tmp)
        os.execv(sys.executable, [sys.executable, "-m", "uvicorn", APP, *args])
    assert metrics_dir is not None
    if made_here:
        remove_on_signal(metrics_dir)
    try:
        serve_with_metrics_port(settings, args, metrics_dir)
    finally:
        if made_here:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def load_settings() -> Settings:
    """The settings, or exit naming the bad variable before any worker starts (no traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        sys.exit(f"crm-dq: {exc}")


def remove_on_signal(path: Path) -> None:
    """Remove `path` when SIGTERM ends this process, then die of the signal as before.

    uvicorn restores this handler once it has shut down and raises the signal it caught again; the default
    handler would end the process before any `finally` ran.
    """
    def handler(signum: int, frame: FrameType | None) -> None:
        shutil.rmtree(path, ignore_errors=True)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, handler)


def serve_with_metrics_port(settings: Settings, args: list[str], metrics_dir: Path) -> None:
    """Bind the metrics port, then run uvicorn in this process until it stops."""
    try:
        listener = start_metrics_port(settings, args, metrics_dir)
    except OSError as exc:
        sys.exit(f"crm-dq: cannot serve /metrics on port {settings.metrics_port}: {exc}")
    print(f"crm-dq: /metrics on http://{listener.host}:{listener.port}/metrics",
          file=sys.stderr, flush=True)
    from uvicorn.main import main as uvicorn_main

    uvicorn_main.main(args=[APP, *args], prog_name="uvicorn")


if __name__ == "__main__":
    main()
