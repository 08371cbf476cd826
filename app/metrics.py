"""Prometheus metrics: KPI counters, score histograms, KPI targets and HTTP timing, and their exposition.

One process keeps its own registry. With several uvicorn workers each worker writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode) and every scrape merges them into a fresh
registry, whichever worker answers it. `python -m app.serve` empties that directory before the workers start.

Recording is kept off the scoring core (`app.scoring` never imports this module): the API calls
`record_soon` or a `Tally` with finished reports. Label children are bound once and kept in dicts. In
multiprocess mode every move of a value is a write to the worker's file (about 1.5 µs), so a request moves
only the in-flight gauge at once: its counters and histogram observations (a partial record's too) are summed
in memory (`Tally`, `PendingObservations`) and written at most `COUNT_DELAY_SECONDS` later, each moved value
once.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from app.scoring import RULES, Ruleset
from app.scoring.judge import Counts, add_sums
from app.scoring.registry import RECORD_TYPES, SEVERITIES

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# the classic text format every Prometheus 2.x parses (our names need none of 1.0.0's UTF-8 escaping)
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
SOURCES = ("api", "batch", "webhook")
KPIS = ("completeness", "duplicate_rate", "accuracy", "response_seconds")
# how long a single-record report's counts may wait to be written (`Metrics.record_soon`)
COUNT_DELAY_SECONDS = 0.5
UNMATCHED_ROUTE = "unmatched"  # never a template: templates start with "/"
UNKNOWN_RULE = "unknown"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# 0..100 scores; 25 / 50 / 75 are the default lead-grade floors
SCORE_BUCKETS = (10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 90.0, 95.0, 100.0)
# 2 s is the response-time KPI, so `le="2.0"` is a bucket bound
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")
# `*_created` series exist only in one process (multiprocess mode has none); leave them out everywhere
disable_created_metrics()  # type: ignore[no-untyped-call]


class _TypeChildren:
    """The label children of one record type, bound once."""

    __slots__ = ("scored", "required", "filled", "checked", "valid", "duplicates", "quality", "lead")

    def __init__(self, m: Metrics, record_type: str) -> None:
        self.scored = {s: m.records_scored.labels(record_type, s) for s in SOURCES}
        self.required = m.required_fields.labels(record_type)
        self.filled = m.required_filled.labels(record_type)
        self.checked = m.fields_checked.labels(record_type)
        self.valid = m.fields_valid.labels(record_type)
        self.duplicates = m.duplicate_records.labels(record_type)
        self.quality = m.quality_score.labels(record_type)
        self.lead = m.lead_score.labels(record_type)


class Metrics:
    """The crm_dq_* families and their pre-bound children."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        r = self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.records_scored = PromCounter(
            "crm_dq_records_scored", "Records scored, by record type and source (api, batch, webhook).",
            ["record_type", "source"], registry=r)
        self.required_fields = PromCounter(
            "crm_dq_required_fields", "Required fields judged (completeness ratio = filled / this).",
            ["record_type"], registry=r)
        self.required_filled = PromCounter(
            "crm_dq_required_fields_filled", "Required fields that held a value.", ["record_type"],
            registry=r)
        self.fields_checked = PromCounter(
            "crm_dq_fields_checked", "Format-checked fields present (accuracy ratio = valid / this).",
            ["record_type"], registry=r)
        self.fields_valid = PromCounter(
            "crm_dq_fields_valid", "Format-checked fields that passed their validity rules.",
            ["record_type"], registry=r)
        self.duplicate_records = PromCounter(
            "crm_dq_duplicate_records", "Scored records judged duplicates: a non-survivor member of a batch "
            "duplicate cluster, or a single record that matched the reference index or its candidates.",
            ["record_type"], registry=r)
        self.issues = PromCounter(
            "crm_dq_issues", "Findings by rule id and effective severity.",
            ["record_type", "rule", "severity"], registry=r)
        self.quality_score = Histogram(
            "crm_dq_quality_score", "Record quality score (0-100).", ["record_type"],
            buckets=SCORE_BUCKETS, registry=r)
        self.lead_score = Histogram(
            "crm_dq_lead_score", "Lead score total (0-100).", ["record_type"], buckets=SCORE_BUCKETS,
            registry=r)
        self.kpi_target = Gauge(
            "crm_dq_kpi_target", "KPI targets from the rules file ([kpi]).", ["kpi"],
            multiprocess_mode="mostrecent", registry=r)
        self.http_duration = Histogram(
            "crm_dq_http_request_duration_seconds", "HTTP request duration by route template, method, status",
            ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge(
            "crm_dq_http_requests_in_flight", "HTTP requests being served (summed over live workers).",
            multiprocess_mode="livesum", registry=r)
        self.types = {t: _TypeChildren(self, t) for t in RECORD_TYPES}
        self._issues: dict[tuple[str, str], Any] = {}
        self._http: dict[tuple[str, str, int], PendingObservations] = {}  # request durations not yet written
        self._soon: dict[str, Tally] = {}  # by source: reports counted by `record_soon`, not yet written
        self._soon_lock = threading.Lock()  # a metrics-port thread may write them while the loop adds
        self._soon_timer: asyncio.TimerHandle | None = None
        self._soon_loop: asyncio.AbstractEventLoop | None = None

    def bind(self, rules: Ruleset) -> None:
        """Export the KPI targets and bind (so export at zero) one issue child per enabled rule."""
        for kpi in KPIS:
            self.kpi_target.labels(kpi).set(getattr(rules.file.kpi, kpi))
        for rid in sorted(rules.enabled):
            severity = rules.severity[rid]
            self._issues[(rid, severity)] = self.issues.labels(RULES[rid].record_type, rid, severity)

    def issue_child(self, record_type: str, rule: str, severity: str) -> Any:
        """The bound child of a finding; only registered rule ids and known severities become labels."""
        key = (rule, severity)
        child = self._issues.get(key)
        if child is None:
            rule = rule if rule in RULES else UNKNOWN_RULE
            severity = severity if severity in SEVERITIES else "error"
            child = self._issues[key] = self.issues.labels(record_type, rule, severity)
        return child

    def record_partial(self, report: dict[str, Any]) -> None:
        """A partial record (a HubSpot property-change notification): its findings and format checks count,
        but it is no scored record and judges no completeness (that would count unsent fields as missing).
        Summed with the webhook's other counts and written as `record_soon`'s are (call it on the event loop)."""
        with self._soon_lock:
            tally = self._soon.get("webhook")
            if tally is None:
                tally = self._soon["webhook"] = Tally(self, "webhook")
            tally.add_partial(report)
        self._write_soon_later()

    def record_soon(self, report: dict[str, Any], source: str, duplicate: bool = False) -> None:
        """Count one finished report of a single-record route: summed with the reports of the next
        `COUNT_DELAY_SECONDS` (call it on the event loop) and then written, each moved value once.

        In multiprocess mode every move is a write to this worker's file, about 1.5 µs each, and a contact's
        report moved about fifteen: more than the rest of the metrics on the scoring fast path. A scrape of
        this process writes what waits first (`exposition`); another worker's waits at most the delay, well
        under any scrape interval.
        """
        with self._soon_lock:
            tally = self._soon.get(source)
            if tally is None:
                tally = self._soon[source] = Tally(self, source)
            tally.add(report)
            if duplicate:
                tally.add_duplicates(report["record_type"], 1)
        self._write_soon_later()

    def _write_soon_later(self) -> None:
        """`write_soon` in `COUNT_DELAY_SECONDS` on the running loop, unless it is already due there."""
        loop = asyncio.get_running_loop()
        if self._soon_timer is None or self._soon_loop is not loop:  # none yet, or one on a loop now gone
            self._soon_loop, self._soon_timer = loop, loop.call_later(COUNT_DELAY_SECONDS, self.write_soon)

    def write_soon(self) -> None:
        """Write the counts `record_soon` summed so far (on the event loop: its timer is dropped)."""
        timer, self._soon_timer = self._soon_timer, None
        if timer is not None:
            timer.cancel()
        self._write_waiting()

    def _write_waiting(self) -> None:
        """Write what `record_soon` and `observe_request` summed, from any thread."""
        with self._soon_lock:
            for tally in self._soon.values():
                tally.flush()
            for pending in self._http.values():
                pending.flush()

    def tally(self, source: str) -> Tally:
        """A per-batch accumulator: counters move once per label set when it is flushed."""
        return Tally(self, source)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One finished HTTP request (on the event loop), written with `record_soon`'s counts."""
        key = (route, method, status)
        with self._soon_lock:
            pending = self._http.get(key)
            if pending is None:
                child = self.http_duration.labels(route, method, str(status))
                pending = self._http[key] = PendingObservations(child)
            pending.observe(seconds)
        self._write_soon_later()

    def exposition(self) -> bytes:
        """The text exposition: this registry, or every worker's files merged into a fresh registry."""
        self._write_waiting()  # a metrics-port thread may ask: the loop's timer stays
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        return multiprocess_exposition(self.multiprocess_dir)

    def close(self) -> None:
        """On a worker's orderly exit, write what waits and drop its live gauges (its counters stay)."""
        self.write_soon()
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


class PendingObservations:
    """Observations of one histogram child not yet written: how many fell in each bucket, and their sum.

    `observe` writes the sum and one bucket at once; these are written by `flush`, each bucket that moved
    once, through the child's own values (prometheus_client's `_sum`, `_buckets` and `_upper_bounds`:
    tests/metrics/test_counters.py checks the exposition equals one `observe` per value).
    """

    __slots__ = ("child", "bounds", "counts", "total")

    def __init__(self, child: Any) -> None:
        self.child, self.bounds = child, child._upper_bounds
        self.counts, self.total = [0] * len(self.bounds), 0.0

    def observe(self, amount: float) -> None:
        """As `Histogram.observe`: the first bucket whose upper bound is at least the amount."""
        self.counts[bisect_left(self.bounds, amount)] += 1
        self.total += amount

    def flush(self) -> None:
        """Write what was observed since the last flush."""
        if not any(self.counts):
            return
        self.child._sum.inc(self.total)
        for bucket, n in zip(self.child._buckets, self.counts, strict=True):
            if n:
                bucket.inc(n)
        self.counts, self.total = [0] * len(self.bounds), 0.0


class Tally:
    """Sums of a batch's reports: each counter and histogram bucket moves once per label set on `flush`."""

    def __init__(self, metrics: Metrics, source: str) -> None:
        self.metrics, self.source = metrics, source
        # per type: scored, required, filled, checked, valid, duplicates
        self.counts = {t: [0, 0, 0, 0, 0, 0] for t in RECORD_TYPES}
        self.issues: Counter[tuple[str, str, str]] = Counter()
        self.quality = {t: PendingObservations(c.quality) for t, c in metrics.types.items()}
        self.lead = {t: PendingObservations(c.lead) for t, c in metrics.types.items()}

    def add(self, report: dict[str, Any]) -> None:
        """One scored record of the batch."""
        record_type = report["record_type"]
        add_sums(self.counts[record_type], report)
        self.quality[record_type].observe(report["quality_score"])
        if report["lead_score"] is not None:
            self.lead[record_type].observe(report["lead_score"]["total"])
        issues = self.issues
        for issue in report["issues"]:
            issues[(record_type, issue["rule"], issue["severity"])] += 1

    def merge(self, counts: Counts) -> None:
        """The counts of records judged elsewhere (a stream's worker processes sum them per chunk)."""
        for record_type, sums in counts.sums.items():
            c = self.counts[record_type]
            for n, amount in enumerate(sums):
                c[n] += amount
            quality, lead = self.quality[record_type], self.lead[record_type]
            for score in counts.quality.get(record_type, ()):
                quality.observe(score)
            for total in counts.lead.get(record_type, ()):
                lead.observe(total)
        self.issues.update(counts.findings)

    def add_partial(self, report: dict[str, Any]) -> None:
        """A partial record's format checks and findings (`Metrics.record_partial`), no scored record."""
        record_type = report["record_type"]
        counts, accuracy = self.counts[record_type], report["accuracy"]
        counts[3] += accuracy["checked"]
        counts[4] += accuracy["valid"]
        for issue in report["issues"]:
            self.issues[(record_type, issue["rule"], issue["severity"])] += 1

    def add_finding(self, record_type: str, rule: str, severity: str, times: int = 1) -> None:
        """A finding reported outside a record's report (NDJSON cross-record findings, duplicates)."""
        self.issues[(record_type, rule, severity)] += times

    def add_duplicates(self, record_type: str, records: int) -> None:
        """Records of the type that are non-survivor members of a duplicate cluster."""
        self.counts[record_type][5] += records

    def flush(self) -> None:
        """Move the counters by the sums so far and start again from zero."""
        for record_type, (scored, required, filled, checked, valid, duplicates) in self.counts.items():
            t = self.metrics.types[record_type]
            for child, amount in ((t.scored[self.source], scored), (t.required, required), (t.filled, filled),
                                  (t.checked, checked), (t.valid, valid), (t.duplicates, duplicates)):
                if amount:
                    child.inc(amount)
        for (record_type, rule, severity), n in self.issues.items():
            self.metrics.issue_child(record_type, rule, severity).inc(n)
        for pending in (*self.quality.values(), *self.lead.values()):
            pending.flush()
        self.counts = {t: [0, 0, 0, 0, 0, 0] for t in RECORD_TYPES}
        self.issues = Counter()


def multiprocess_exposition(path: str) -> bytes:
    """Every process's files in `path` merged into a fresh registry (dead workers' live gauges swept first).

    Needs no `Metrics` of its own, so `python -m app.serve` answers a separate metrics port with it.
    """
    sweep_dead_workers(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def sweep_dead_workers(path: str) -> list[int]:
    """Remove the live-gauge files of workers that no longer run; their counters and histograms stay.

    uvicorn restarts a worker that dies but calls no hook, so `mark_process_dead` never runs for a worker
    that was killed: its in-flight gauge would stay in the sum. Only this instance's workers write here.
    """
    dead = set()
    for name in os.listdir(path):
        match = _LIVE_GAUGE_FILE.fullmatch(name)
        if match and not pid_alive(int(match[1])):
            dead.add(int(match[1]))
    for pid in dead:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    return sorted(dead)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (in this PID namespace)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_metrics() -> Metrics:
    """A fresh registry per app in one process; in multiprocess mode one set per process (values live in
    files, and two sets in one process would overwrite each other's values)."""
    if os.environ.get(MULTIPROC_ENV):
        return _process_metrics(os.environ[MULTIPROC_ENV])
    return Metrics()


@lru_cache
def _process_metrics(path: str) -> Metrics:
    os.makedirs(path, exist_ok=True)
    return Metrics()
