"""The `crm-dq` console script as a subprocess: exports scored in-process and against `crm-dq serve`."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_uvicorn import free_port, wait_until_healthy

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CLI = Path(sys.executable).parent / "crm-dq"
KEY = "cli-key-5e0b77"
SF_COLUMNS = ["Id", "AccountId", "FirstName", "LastName", "Email", "Phone", "Title", "Department",
              "MailingCity", "MailingCountry", "OwnerId", "CreatedDate"]
FIRST = ["Ann", "Bob", "Cara", "Dmitri", "Eve", "Farid", "Gwen", "Hiro", "Ines", "Jon", "Kemal", "Lise"]
LAST = ["Smith", "Okafor", "Lee", "Nguyen", "Brown", "Ivanova", "Garcia", "Muller", "Rossi", "Kowalski"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    return env | extra


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, cwd=ROOT, env=env or clean_env(),
                          timeout=240)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Salesforce contacts export (Data Loader column names), 300 rows, every 7th email broken."""
    path = tmp_path_factory.mktemp("export") / "contacts.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SF_COLUMNS)
        for i in range(300):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            email = "broken@" if i % 7 == 0 else f"{first.lower()}.{last.lower()}{i}@example-{i % 40}.com"
            writer.writerow([f"003X{i:06d}", f"001A{i % 30}", first, last, email, f"+1 415 555 {i:04d}",
                             "VP of Sales" if i % 3 else "", "Sales" if i % 2 else "", "San Francisco", "US",
                             "005U1", "2024-01-10T09:00:00.000+0000"])
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`crm-dq serve` on loopback with an API key required."""
    tmp = tmp_path_factory.mktemp("serve")
    log = tmp / "serve.log"
    port = free_port()
    env = clean_env(CRM_DQ_API_KEYS=KEY, DATABASE_URL=f"sqlite:///{tmp}/crm-dq.sqlite3")
    with log.open("wb") as out:
        proc = subprocess.Popen([str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, proc, log)  # type: ignore[arg-type]
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_score_local_salesforce_csv_to_json(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = run("score", str(export), "--type", "contacts", "--local", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "300/300 records" in done.stderr  # the progress bar
    report = json.loads(out.read_text())
    # /v1/batch's JSON answer (helper-61: the summary was nested one level deeper than README said)
    assert set(report) == {"results", "duplicates", "cross_record", "summary"}
    assert len(report["results"]) == 300 and report["summary"]["totals"]["contacts"] == 300
    first = report["results"][0]
    assert first["record_id"] == "003X000000"
    assert first["source"] == {"system": "salesforce", "object": "Contact"}
    email = next(i for i in first["issues"] if i["rule"] == "contact.email.invalid")
    assert email["source_field"] == "Email"
    broken = sum(1 for r in report["results"] for i in r["issues"] if i["rule"] == "contact.email.invalid")
    assert broken == 43
    # the export's columns are named in the summary too
    summary = report["summary"]
    assert summary["completeness_source_fields"]["contacts"]["title"] == "Title"
    top = summary["top_findings"]
    assert top and all(f["source_field"] == {"email": "Email", "title": "Title", "department": "Department"}
                       .get(f["field"], f["source_field"]) for f in top)
    assert any(f["field"] == "email" and f["source_field"] == "Email" for f in top)
    # a contacts-only export has no accounts to miss: no "account not in this batch" for every row
    assert not [f for f in report["cross_record"] if f["field"] == "account_id"]
    missing_title = next(r for r in report["results"] if "title" in r["completeness"]["missing"])
    assert missing_title["completeness"]["missing_source_fields"]["title"] == "Title"


def test_local_prints_only_the_progress_bar_and_binds_no_metrics_port(export: Path, tmp_path: Path) -> None:
    """--local serves the app in-process over loopback, no test client (whose import warned on stderr)."""
    metrics_port = free_port()
    out = tmp_path / "report.ndjson"
    done = run("score", str(export), "--type", "contacts", "--local", "--out", str(out),
               env=clean_env(CRM_DQ_METRICS_PORT=str(metrics_port), PYTHONWARNINGS="default"))
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("[")] == [
        "crm-dq: read with the Salesforce Contact mapping: 12 of 12 columns recognised (guessed from the "
        "columns; --source to choose)"]
    assert "Warning" not in done.stderr and len(out.read_text().splitlines()) == 301
    with socket.socket() as s:  # the server's CRM_DQ_METRICS_PORT was not taken by the CLI run
        s.bind(("127.0.0.1", metrics_port))


def test_local_with_a_bad_rules_file_fails_with_the_reason(export: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[rules."contact.nope"]\nenabled = false\n')
    done = run("score", str(export), "--type", "contacts", "--local", "--quiet",
               env=clean_env(CRM_DQ_RULES_FILE=str(bad)))
    assert done.returncode == 1 and done.stdout == ""
    assert "contact.nope" in done.stderr and "Traceback" not in done.stderr


def test_score_hubspot_json_export_to_stdout_ndjson() -> None:
    export = FIXTURES / "hubspot" / "companies_batch_read.json"
    done = run("score", str(export), "--type", "accounts", "--local", "--quiet")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["record_id"] == "512" and lines[0]["source"]["system"] == "hubspot"
    assert lines[-1]["type"] == "summary" and done.stderr.count("records") == 0


def test_hubspot_objects_scored_as_leads_are_one_line_pointing_to_contacts() -> None:
    """`--type leads` on a HubSpot export was an AdapterError traceback (and a local server's ClientDisconnect
    traceback): the mappings have no HubSpot lead object, HubSpot's leads being an object of their own."""
    done = run("score", str(FIXTURES / "hubspot" / "contact.json"), "--type", "leads", "--local", "--quiet")
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("crm-dq:") and "--type contacts" in done.stderr
    done = run("score", str(FIXTURES / "hubspot" / "contact.json"), "--type", "contacts", "--local", "--quiet")
    assert done.returncode == 0 and json.loads(done.stdout.splitlines()[0])["record_type"] == "contact"


def test_score_against_a_server_with_an_api_key(served: str, export: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.html"
    remote = ("--type", "contacts", "--url", served, "--api-key", KEY)
    done = run("score", str(export), *remote, "--out", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "contact.email.invalid" in html
    ndjson = tmp_path / "results.ndjson"
    done = run("score", str(export), *remote, "--out", str(ndjson), "--no-duplicates")
    assert done.returncode == 0, done.stderr
    assert len(ndjson.read_text().splitlines()) == 301


def test_a_wrong_api_key_is_reported_without_echoing_it(served: str, export: Path) -> None:
    done = run("score", str(export), "--type", "contacts", "--url", served, "--api-key", "wrong-key-123",
               "--quiet")
    assert done.returncode == 1 and "401" in done.stderr and "wrong-key-123" not in done.stderr + done.stdout


def test_rules_and_mappings_check(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[timeliness]\nstale_days = 45\n')
    assert run("rules", "check", str(good)).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[timeliness]\nstale_dayz = 45\n')
    done = run("rules", "check", str(bad))
    assert done.returncode == 1 and "stale_dayz" in done.stderr
    mapping = tmp_path / "map.toml"
    mapping.write_text('[salesforce.objects.Opportunity.fields]\nBudget__c = "bant.budget"\n')
    assert run("mappings", "check", str(mapping)).returncode == 0
    mapping.write_text('[salesforce.objects.Case]\nrecord_type = "ticket"\nfields = {}\n')
    assert run("mappings", "check", str(mapping)).returncode == 1


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50,000-row Salesforce contacts export with distinct people, every 7th email broken."""
    path = tmp_path_factory.mktemp("big") / "contacts.csv"
    letters = "abcdefghijklmnopqrstuvwxyz"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SF_COLUMNS)
        for i in range(50_000):
            first = FIRST[i % len(FIRST)]
            last = "".join(letters[(i // 26**k + k) % 26] for k in range(4)).title() + "son"
            email = "broken@" if i % 7 == 0 else f"{first.lower()}.{last.lower()}@co{i % 5000}.com"
            writer.writerow([f"003X{i:06d}", f"001A{i % 3000}", first, last, email,
                             f"+1 415 {200 + i % 700} {1000 + i % 9000}", "VP of Sales", "Sales",
                             "San Francisco", "US", "005U1", "2024-01-10T09:00:00.000+0000"])
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("where", ["local", "server"])
def test_a_50000_row_export(where: str, big_export: Path, served: str, tmp_path: Path) -> None:
    out = tmp_path / "results.ndjson"
    target = ["--local"] if where == "local" else ["--url", served, "--api-key", KEY]
    done = run("score", str(big_export), "--type", "contacts", *target, "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "50,000/50,000 records" in done.stderr
    with out.open("rb") as f:
        lines = sum(1 for _ in f)
    assert lines == 50_001
    summary = json.loads(out.read_bytes().rsplit(b"\n", 2)[-2])
    assert summary["type"] == "summary"
    assert summary["summary"]["totals"]["contacts"] == 50_000
    assert summary["summary"]["issues_by_rule"]["contact.email.invalid"] == 7143


def test_local_ignores_a_proxy_in_the_environment(export: Path, tmp_path: Path) -> None:
    """--local talks to its own loopback server directly, whatever HTTP(S)_PROXY says (port 9: discard)."""
    out = tmp_path / "report.ndjson"
    done = run("score", str(export), "--type", "contacts", "--local", "--quiet", "--out", str(out),
               env=clean_env(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                             ALL_PROXY="http://127.0.0.1:9", NO_PROXY=""))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 301


def test_an_unreachable_server_is_one_line_not_a_traceback(export: Path) -> None:
    done = run("score", str(export), "--type", "contacts", "--url", f"http://127.0.0.1:{free_port()}", "--quiet")
    assert done.returncode == 1 and "cannot reach the server" in done.stderr
    assert "Traceback" not in done.stderr


def test_cross_record_findings_name_the_export_column() -> None:
    """name_summary_fields gives a cross-record finding its record's column name (AccountId)."""
    from app.adapters import from_salesforce, load_mappings
    from app.cli import name_summary_fields
    from app.scoring import load_rules

    [adapted] = from_salesforce({"attributes": {"type": "Contact"}, "Id": "003A", "AccountId": "001Z"},
                                load_mappings())
    line = {"cross_record": [{"rule": "contact.account.not_in_batch", "record_type": "contact",
                              "record_id": "003A", "field": "account_id"}], "summary": {}}
    name_summary_fields(line, [adapted], load_rules())
    assert line["cross_record"][0]["source_field"] == "AccountId"


def test_read_rows_takes_csv_exports_as_spreadsheets_save_them(tmp_path: Path) -> None:
    """helper-25's probe: a Windows-1252 export was a 144-line traceback; comma-only rows became contacts;
    cells past the header's columns vanished."""
    from app.cli import read_rows
    path = tmp_path / "export.csv"
    path.write_bytes("Id,FirstName,LastName,Title\r\n003A,José,Müller,CFO\r\n,,,\r\n\r\n"
                     "003B,Ann,Lee,VP, Sales\r\n".encode("cp1252"))
    rows = list(read_rows(path))
    assert [r["Id"] for r in rows] == ["003A", "003B"]
    assert rows[0]["FirstName"] == "José" and rows[0]["LastName"] == "Müller"
    assert rows[1]["Title"] == "VP" and rows[1]["extra_cells"] == [" Sales"]


def test_an_unreadable_export_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    done = run("score", str(tmp_path / "nope.csv"), "--type", "contacts", "--local")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("crm-dq:") and "nope.csv" in done.stderr
    broken = tmp_path / "rows.json"
    broken.write_text("[{oops")
    done = run("score", str(broken), "--type", "contacts", "--local")
    assert done.returncode == 1 and "Traceback" not in done.stderr and "rows.json" in done.stderr
    for body in ('{"accounts": [1, "x"]}', '[{"id": "c1"}, 42]'):  # entries that are no record (helper-49)
        broken.write_text(body)
        done = run("score", str(broken), "--type", "contacts", "--local", "--quiet")
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "is not a JSON object" in done.stderr
    broken.write_text("[]")
    done = run("score", str(broken), "--type", "contacts", "--local", "--out", str(tmp_path / "report.xlsx"))
    assert done.returncode == 2 and ".ndjson" in done.stderr and not (tmp_path / "report.xlsx").exists()


@pytest.mark.parametrize("shape", ["ndjson", "batch_json"])
def test_a_mixed_export_keeps_each_records_own_type_and_now(shape: str, tmp_path: Path) -> None:
    """NDJSON lines naming their type, as /v1/batch takes them, and a /v1/batch body were all scored as
    `--type`'s records (323 'contacts' of which 84 accounts; helper-46). `--now` fixes the clock."""
    records = [{"type": "account", "id": "a1", "name": "Acme", "website": "acme.com", "owner_id": "u1"},
               {"type": "contact", "id": "c1", "account_id": "a1", "first_name": "Ann", "last_name": "Lee",
                "email": "ann@acme.com", "last_verified_at": "2026-11-01"},
               {"type": "opportunity", "id": "o1", "account_id": "a1", "stage": "Proposal", "amount": 5000,
                "close_date": "2026-12-20"}]
    if shape == "ndjson":
        path = tmp_path / "export.ndjson"
        path.write_bytes(b"\n".join(json.dumps(r).encode() for r in records))
    else:
        path = tmp_path / "export.json"
        path.write_text(json.dumps({"accounts": [records[0]], "contacts": [records[1]],
                                    "opportunities": [records[2]]}))
    done = run("score", str(path), "--type", "contacts", "--local", "--quiet", "--no-duplicates",
               "--now", "2027-01-15T12:00:00Z")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(x["record_type"], x["record_id"]) for x in lines[:-1]] == \
        [("account", "a1"), ("contact", "c1"), ("opportunity", "o1")]
    assert lines[-1]["summary"]["totals"] == {"accounts": 1, "contacts": 1, "opportunities": 1, "leads": 0}
    rules = {i["rule"] for x in lines[:-1] for i in x["issues"]}
    assert "opportunity.close_date.past" in rules  # 20 December 2026 is past on --now's 15 January 2027


def test_rows_the_crm_deleted_or_merged_away_are_skipped_and_counted(tmp_path: Path) -> None:
    """Data Loader's 'Export All' holds the recycle bin's rows (IsDeleted) and the records merged away
    (MasterRecordId): they were scored, and a merge's survivor was the duplicate of its own merged-away copy."""
    export = tmp_path / "contacts.csv"
    with export.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Id", "FirstName", "LastName", "Email", "IsDeleted", "MasterRecordId"])
        writer.writerow(["003A", "Priya", "Raghunathan", "priya.r@contoso.com", "false", ""])
        writer.writerow(["003B", "Priya", "Raghunathan", "priya.r@contoso.com", "true", "003A"])
        writer.writerow(["003C", "Old", "Record", "old@contoso.com", "true", ""])
        writer.writerow(["003D", "Sam", "Ortiz", "sam@contoso.com", "false", ""])
    out = tmp_path / "out.ndjson"
    done = run("score", str(export), "--type", "contacts", "--local", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    scored = [r["record_id"] for r in lines if r.get("type") != "summary"]
    assert scored == ["003A", "003D"]
    assert not any(r.get("duplicates") for r in lines if r.get("type") != "summary")
    assert "skipped 2 row(s) the CRM deleted or merged away (MasterRecordId: 1, IsDeleted: 1)" in done.stderr
