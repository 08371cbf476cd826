"""Worker processes that judge chunks of NDJSON lines (`judge_lines`) on every core.

The server process reads the body, absorbs the judged chunks in order and answers; the workers score. One
pool per server process and size, made by the first stream that asks for one (a JSON-only deployment never
starts it) and shut down with the app. Workers are spawned, not forked: the server process runs threads.
Each worker compiles the ruleset the pool was made with once, from the server's own validated rules file
(so it judges by exactly the rules the server loaded); a stream with another ruleset (another app in the
same process, as in tests) sends its rules with every chunk, and workers keep the last few compiled.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

from app.scoring.caches import trim_values
from app.scoring.judge import Judged, JudgeSetup, judge_lines
from app.scoring.ruleset import Ruleset, compile_rules

_KEEP_RULESETS = 4
WORKER_CACHE_ENTRIES = 8192  # per value cache in a worker (`trim_values`); the server's keep their own sizes
_worker_rules: dict[str, Ruleset] = {}  # in a worker: compiled rulesets by version
_payloads: dict[str, bytes] = {}        # in the server: pickled rules files by version
_pools: dict[int, JudgePool] = {}
_lock = threading.Lock()


def rules_payload(rules: Ruleset) -> bytes:
    """The validated rules file and its version, pickled once per version."""
    payload = _payloads.get(rules.version)
    if payload is None:
        payload = _payloads[rules.version] = pickle.dumps((rules.file, rules.version))
    return payload


def _compile(payload: bytes) -> Ruleset:
    import app.scoring.rules  # noqa: F401  (registers every rule, as load_rules does)

    file, version = pickle.loads(payload)
    if version not in _worker_rules:
        if len(_worker_rules) >= _KEEP_RULESETS:
            _worker_rules.pop(next(iter(_worker_rules)))
        # the version hashes the merged TOML the server read; the compiled form depends on the file only
        _worker_rules[version] = dataclasses.replace(compile_rules(file, {}), version=version)
    return _worker_rules[version]


def _start_worker(payload: bytes, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the server shuts us down
    _compile(payload)
    gc.freeze()  # modules and rules live as long as the worker: the collector need not walk them again
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-server", daemon=True).start()


def _exit_with(parent: int) -> None:
    """Leave when the server process is gone (killed: nobody will send the shutdown sentinel)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _judge(version: str, payload: bytes | None, lines: list[bytes | None], first: int,
           setup: JudgeSetup) -> Judged:
    rules = _worker_rules.get(version)
    if rules is None:
        if payload is None:
            raise RuntimeError(f"ruleset {version} is not loaded in this worker")
        rules = _compile(payload)
    judged = judge_lines(lines, first, rules, setup)
    trim_values(WORKER_CACHE_ENTRIES, _worker_rules.values())  # memory stays flat however long the stream
    return judged


class JudgePool:
    """`processes` spawned workers judging chunks; results come back in whatever order they finish."""

    def __init__(self, processes: int, rules: Ruleset) -> None:
        self.processes, self.version = processes, rules.version
        self.executor = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
            initargs=(rules_payload(rules), os.getpid()))
        for _ in range(processes):  # start every worker now, not one per chunk as they come
            self.executor.submit(os.getpid)

    def submit(self, rules: Ruleset, lines: list[bytes | None], first: int,
               setup: JudgeSetup) -> Future[Judged]:
        """Judge one chunk of lines in a worker."""
        payload = None if rules.version == self.version else rules_payload(rules)
        return self.executor.submit(_judge, rules.version, payload, lines, first, setup)

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests)."""
        return sorted(p.pid for p in list(getattr(self.executor, "_processes", {}).values()) if p.pid)

    def shutdown(self) -> None:
        """Stop the workers once their current chunk is done; queued chunks are dropped."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def judge_pool(processes: int, rules: Ruleset) -> JudgePool:
    """This process's pool of `processes` workers, made on first use (or again after a worker died)."""
    with _lock:
        pool = _pools.get(processes)
        if pool is None or getattr(pool.executor, "_broken", False):
            if pool is not None:
                pool.executor.shutdown(wait=False, cancel_futures=True)
            pool = _pools[processes] = JudgePool(processes, rules)
        return pool


def shutdown_pools() -> None:
    """Stop every pool of this process (app shutdown); the next stream starts a new one."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown()
