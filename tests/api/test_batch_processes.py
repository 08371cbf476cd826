"""NDJSON streams judged in worker processes (CRM_DQ_BATCH_PROCESSES) answer exactly as in a thread."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.main import create_app
from app.scoring import pool
from app.scoring.rules.cross_record import READ_BATCH_ACCOUNTS
from bench.batch_bench import lines
from tests.conftest import NOW_ISO

NDJSON = {"content-type": "application/x-ndjson"}
MAX_LINE = 64 * 1024


def mixed_body(n: int = 2400) -> bytes:
    """Generated mixed records (duplicates, cross-record links) and lines that are not records."""
    data = lines(n)
    data[5] = b"{not json"
    data[17] = b'{"type": "widget", "id": "w1"}'
    data[23] = b"[1, 2]"
    data[31] = b" "  # a blank line: no answer, not counted
    data[n * 7 // 24] = b'{"type": "contact", "notes": "' + b"x" * (2 * MAX_LINE) + b'"}'  # over the line limit
    # an account, a contact and a lead again: the repeated ids get their line number
    data += [data[n // 60], data[n * 5 // 24], data[n * 5 // 6]]
    return b"\n".join(data) + b"\n"


def settings_for(tmp_path: Path, processes: int, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/p{processes}.sqlite3", batch_processes=processes,
                    max_body_bytes=MAX_LINE, **extra)


def stream(client: TestClient, body: bytes) -> list[bytes]:
    response = client.post(f"/v1/batch?now={NOW_ISO}", content=body, headers=NDJSON)
    assert response.status_code == 200
    return response.content.splitlines()


def without_seconds(value: Any) -> Any:
    """A summary line without its timings (the only values that differ between two runs)."""
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[bytes]]:
    """The same stream answered with 0, 1 and 2 scoring processes."""
    tmp, body = tmp_path_factory.mktemp("processes"), mixed_body()
    found = {}
    for processes in (0, 1, 2):
        with TestClient(create_app(settings_for(tmp, processes))) as client:
            found[processes] = stream(client, body)
    return found


def test_worker_processes_answer_byte_for_byte_as_a_thread(answers: dict[int, list[bytes]]) -> None:
    thread, one, workers = answers[0], answers[1], answers[2]
    assert len(thread) == 2402 + 1
    assert thread[:-1] == one[:-1] == workers[:-1]
    summaries = [without_seconds(orjson.loads(a[-1])) for a in (thread, one, workers)]
    assert summaries[0] == summaries[1] == summaries[2]
    # the summary line is orjson's own rendering of that object, as a single process would send it
    assert orjson.dumps(orjson.loads(workers[-1])) == workers[-1]


def test_the_compared_stream_has_every_kind_of_line(answers: dict[int, list[bytes]]) -> None:
    out = [orjson.loads(line) for line in answers[2]]
    assert [o["line"] for o in out[:-1]] == [n for n in range(2403) if n != 31]
    line = {o["line"]: o for o in out[:-1]}
    assert "not valid JSON" in line[5]["error"]["detail"] and "error" in line[17] and "error" in line[23]
    assert "size limit" in line[700]["error"]["detail"]  # 2400 * 7 // 24
    tail = out[-1]
    assert tail["type"] == "summary" and tail["summary"]["totals"]["contacts"] > 0
    assert all(tail["duplicates"][t]["clusters"] for t in ("accounts", "contacts", "leads"))
    for plural in ("accounts", "contacts", "leads"):  # each repeated record matches its first, under a new id
        assert any(m.endswith(f"#{2400 + n}") for n in range(3) for c in tail["duplicates"][plural]["clusters"]
                   for m in c), plural
    assert {f["rule"] for f in tail["cross_record"]} >= {"opportunity.account.not_in_batch"}
    # batch-scope findings, as a JSON batch counts them: not the record rule the stream's end runs again
    assert tail["summary"]["cross_record_findings"] == len(
        [f for f in tail["cross_record"] if f["rule"] not in READ_BATCH_ACCOUNTS]) > 0
    assert len(tail["summary"]["top_findings"]) == 10 and tail["summary"]["cleanup_tasks"]


def counters(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = client.get("/metrics").text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith("crm_dq_") and "http" not in s.name}


def test_workers_feed_the_counters_as_a_thread_does(tmp_path: Path) -> None:
    body, moved = mixed_body(600), []
    for processes in (0, 2):
        with TestClient(create_app(settings_for(tmp_path, processes))) as client:
            before = counters(client)
            stream(client, body)
            after = counters(client)
            moved.append({k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)})
    assert moved[0] == moved[1]
    scored = sum(v for (name, labels), v in moved[0].items() if name == "crm_dq_records_scored_total")
    assert scored == 600 + 3 - 5  # every record (3 repeated) but the five lines that are not records


def test_a_rules_file_reaches_the_workers(tmp_path: Path) -> None:
    org = tmp_path / "org.toml"
    org.write_text('[rules."contact.email.invalid"]\nenabled = false\n\n'
                   '[rules."lead.owner.missing"]\nseverity = "info"\n')
    body = mixed_body(1200)
    default_app = create_app(settings_for(tmp_path, 2))
    org_app = create_app(settings_for(tmp_path, 2, rules_file=org))
    # both apps in one process share its pool of two workers, made for the rules of the first stream
    with TestClient(default_app) as default, TestClient(org_app) as custom:
        plain = [orjson.loads(line) for line in stream(default, body)]
        assert pool.judge_pool(2, default_app.state.rules).version == default_app.state.rules.version
        tuned = [orjson.loads(line) for line in stream(custom, body)]
    def rules_of(out: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(i["rule"], i["severity"]) for o in out[:-1] for i in o.get("issues", [])}
    assert ("contact.email.invalid", "error") in rules_of(plain)
    assert not any(rule == "contact.email.invalid" for rule, _ in rules_of(tuned))
    assert ("lead.owner.missing", "info") in rules_of(tuned) and ("lead.owner.missing", "warning") in rules_of(plain)
    assert "contact.email.invalid" not in tuned[-1]["summary"]["issues_by_rule"]
    assert {o["rules_version"] for o in tuned[:-1] if "rules_version" in o} == {org_app.state.rules.version}


def worker_pids() -> list[int]:
    return [pid for p in pool._pools.values() for pid in p.pids()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (not yet reaped) counts as gone
        return f.read().split(")")[-1].split()[0] != "Z"


def wait_gone(pids: list[int], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def workers_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(tmp_path, 2))) as client:
        yield client


def test_workers_start_with_the_first_stream_and_stop_with_the_app(tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(tmp_path, 2))) as client:
        assert client.post(f"/v1/batch?now={NOW_ISO}", json={"contacts": [{"id": "c1"}]}).status_code == 200
        assert pool._pools == {}  # JSON batches never start the workers
        stream(client, mixed_body(50))
        pids = worker_pids()
        assert len(pids) == 2 and all(alive(p) for p in pids)
    assert pool._pools == {} and wait_gone(pids)


def test_a_killed_worker_is_replaced_by_the_next_stream(workers_client: TestClient) -> None:
    body = mixed_body(300)
    first = stream(workers_client, body)
    victim = worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_gone([victim])
    deadline = time.monotonic() + 10  # the executor notices the death and marks itself broken
    while not any(getattr(p.executor, "_broken", False) for p in pool._pools.values()):
        assert time.monotonic() < deadline, "the pool never noticed its dead worker"
        time.sleep(0.05)
    again = stream(workers_client, body)
    assert again[:-1] == first[:-1] and victim not in worker_pids()


def test_a_client_that_leaves_mid_stream_leaves_the_workers_working(workers_client: TestClient) -> None:
    body = mixed_body(3000)
    with workers_client.stream("POST", f"/v1/batch?now={NOW_ISO}", content=body, headers=NDJSON) as response:
        for _ in response.iter_lines():
            break
    assert stream(workers_client, mixed_body(100))[-1].startswith(b'{"type":"summary"')


def test_a_worker_killed_mid_stream_loses_no_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A worker that died mid-stream cut the answer off without an error line, and the client waited for the
    rest (helper-46): its chunk and the rest of the stream are judged in a thread, line for line as the
    workers would have."""
    import threading

    body = mixed_body(6000)
    with TestClient(create_app(settings_for(tmp_path, 1))) as client:
        expected = stream(client, body)
    with TestClient(create_app(settings_for(tmp_path, 2))) as client:
        stream(client, mixed_body(50))  # the workers are up
        victim = worker_pids()[0]
        killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
        killer.start()
        try:
            got = stream(client, body)
        finally:
            killer.cancel()
        assert wait_gone([victim])
    assert len(got) == len(expected) and got[:-1] == expected[:-1]
    assert without_seconds(orjson.loads(got[-1])) == without_seconds(orjson.loads(expected[-1]))
    assert "this stream goes on in a thread" in caplog.text  # the worker died while the stream was judged
