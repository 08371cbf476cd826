"""The store made ready once it answers: its schema created and, the first time, the index re-keyed.

The schema is created at start-up, or, when the store was down then, by the first `/readyz` or index call
that finds it reachable; re-keying (`rekey.rekey_stale`) starts wherever that first happens (it never
started when the store came back after start-up).
"""

from __future__ import annotations

import threading
from typing import Any

from app.models.store import ensure_schema
from app.scoring.matching.rekey import rekey_stale

_starting = threading.Lock()  # requests in the thread pool may find the schema ready at once


def make_store_ready(state: Any) -> bool:
    """`state.schema_ready`, the schema created first when it was not (blocking: call it off the event
    loop); re-keying is started the first time it is true."""
    if not state.schema_ready:
        state.schema_ready = ensure_schema(state.engine)
    if state.schema_ready:
        start_rekeying(state)
    return bool(state.schema_ready)


def start_rekeying(state: Any) -> None:
    """Start the re-keying thread once per app: keys written another way are rewritten while it serves."""
    with _starting:
        if state.rekey_thread is not None or state.rekey_stop.is_set():
            return
        state.rekey_thread = threading.Thread(
            target=rekey_stale, name="crm-dq-rekey", daemon=True,
            args=(state.engine, state.rules.match_models, state.options.default_region, state.rekey_stop))
        state.rekey_thread.start()


def stop_rekeying(state: Any, timeout: float = 5.0) -> None:
    """Ask the re-keying thread to stop after its chunk and wait a little for it: the engine is disposed
    next, and a chunk cut off by the process ending is rolled back anyway (the next start-up goes on)."""
    with _starting:
        state.rekey_stop.set()
    if state.rekey_thread is not None:
        state.rekey_thread.join(timeout)
