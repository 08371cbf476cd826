"""The `crm-dq` command: `serve`, `score FILE --type contacts` (CSV, JSON or NDJSON) and `rules check`.

`score` reads Salesforce or HubSpot export columns through the same field mappings as the webhooks, streams
the records as NDJSON to `/v1/batch` (a server with `--url`/`--api-key`, or in-process with `--local`) and
writes the results as NDJSON or JSON, or the data health audit as HTML (`--out report.html`).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

import httpx
import orjson

from app.adapters import (
    Adapted,
    AdapterError,
    Mappings,
    ObjectMap,
    SourceNames,
    adapt_fields,
    annotate,
    choose_mapping,
    from_hubspot,
    from_salesforce,
    load_mappings,
)
from app.adapters.csv_rows import delimiter_of, read_csv_rows
from app.adapters.written import ExportFormats, learn_formats, read_written
from app.client import CrmDqClient, CrmDqError
from app.models.records import PLURALS, RECORD_MODELS

TYPES = {**PLURALS, **{t: t for t in RECORD_MODELS}}


def read_rows(path: Path, delimiter: str | None = None,
              say: Callable[[str], None] | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a CSV (`read_csv_rows`: its delimiter sniffed unless given, a report's footer skipped; `say`
    is told how it was read), NDJSON or JSON export (a list, `records`…)."""
    name = path.name.lower()
    if name.endswith(".csv"):
        yield from read_csv_rows(path, delimiter, say)
    elif name.endswith((".ndjson", ".jsonl")):
        with path.open("rb") as f:
            for line in f:
                if line.strip():
                    yield orjson.loads(line)
    else:
        data = orjson.loads(path.read_bytes())
        if isinstance(data, dict) and any(isinstance(data.get(k), list) for k in PLURALS):
            # a /v1/batch body ({"accounts": […], "contacts": […]}): each record with the type of its list
            rows = [dict(record, type=record_type) if isinstance(record, dict) else record
                    for plural, record_type in PLURALS.items()
                    for record in (data[plural] if isinstance(data.get(plural), list) else [])]
            data = rows
        if isinstance(data, dict):
            key = next((k for k in ("records", "results", "inputs") if isinstance(data.get(k), list)), None)
            data = data[key] if key else [data]
        if not isinstance(data, list):
            data = [data]
        # all read already: an entry that is no record stops the export before any is sent (one line, not a
        # stream cut off mid-way)
        for n, row in enumerate(data):
            if not isinstance(row, dict):
                raise not_a_record(n, row)
        yield from data


def not_a_record(n: int, row: Any) -> AdapterError:
    """An export's row `n` that is no JSON object, said in one line."""
    return AdapterError(f"row {n}", f"row {n} is not a JSON object (a record): {str(row)[:60]!r}")


def adapt_rows(rows: Iterator[dict[str, Any]], record_type: str, source: str, mappings: Mappings,
               say: Callable[[str], None] | None = None,
               formats: ExportFormats | None = None) -> Iterator[Adapted]:
    """Each row as a canonical record: sObjects and HubSpot objects as such, flat rows through the one mapping
    that recognises most of the first row's columns (`choose_mapping`); `say` is told which, and the columns
    it does not map. `formats`: how a CSV export writes its dates and amounts (`learn_formats`), read so."""
    chosen: dict[str, ObjectMap] = {}
    for n, row in enumerate(rows):
        if not isinstance(row, dict):  # a line of an NDJSON export (a JSON export's rows are checked first)
            raise not_a_record(n, row)
        if isinstance(row.get("attributes"), dict):
            yield from from_salesforce(row, mappings, record_type)
        elif isinstance(row.get("properties"), dict):
            yield from from_hubspot(row, mappings, record_type)
        else:
            # a row naming its own type (an NDJSON line as /v1/batch takes it) is of that type: a mixed export
            # scored as --type's was 323 'contacts' with four recognised columns
            own = row.get("type")
            row_type = TYPES.get(own.strip().lower(), record_type) if isinstance(own, str) else record_type
            mapping = chosen.get(row_type)
            if mapping is None:
                choice = choose_mapping([k for k in row if k != "type"], row_type, source, mappings)
                mapping = chosen[row_type] = choice.mapping
                for note in choice.notes() if say else ():
                    say(note if row_type == record_type else f"{row_type} rows (their own type): {note}")
            adapted = adapt_fields({k: v for k, v in row.items() if k != "type"}, mapping, mappings)
            if formats is not None:
                read_written(adapted.record_type, adapted.record, formats)
            yield adapted


def tell(text: str) -> None:
    """A note on stderr (how the export is read), whatever --quiet says: it is no progress."""
    print(f"crm-dq: {text}", file=sys.stderr)


class Progress:
    """A progress bar on stderr (a line per 10% when stderr is not a terminal)."""

    def __init__(self, total: int, out: TextIO = sys.stderr, enabled: bool = True) -> None:
        self.total, self.out, self.enabled, self.done, self.shown = max(total, 1), out, enabled, 0, -1
        self.tty = out.isatty()

    def advance(self, n: int = 1) -> None:
        """Count `n` more records done."""
        self.done += n
        step = self.done * (100 if self.tty else 10) // self.total
        if self.enabled and step != self.shown:
            self.shown = step
            filled = min(30, 30 * self.done // self.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done:,}/{self.total:,} records"
            self.out.write(("\r" + bar) if self.tty else bar + "\n")
            self.out.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.enabled and self.tty:
            self.out.write("\n")


def count_rows(path: Path) -> int:
    """Rows to expect, for the progress bar (lines for CSV and NDJSON)."""
    name = path.name.lower()
    if name.endswith((".csv", ".ndjson", ".jsonl")):
        with path.open("rb") as f:
            lines = sum(1 for line in f if line.strip())
        return lines - 1 if name.endswith(".csv") else lines
    return sum(1 for _ in read_rows(path))


class LocalServerError(RuntimeError):
    """The app served in-process (--local) did not start; uvicorn has logged why."""


class LocalServer:
    """The app served by uvicorn in a thread of this process, on a loopback port the kernel picks (--local).

    The same HTTP path as a real server (streamed NDJSON both ways, the app's lifespan), with no test client:
    a testing utility has no place in a command people run.
    """

    def __init__(self, app: Any, start_timeout: float = 120.0) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                    lifespan="on", timeout_graceful_shutdown=5))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="crm-dq-local", daemon=True)
        self.start_timeout = start_timeout

    def __enter__(self) -> LocalServer:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise LocalServerError("the in-process server did not start (its error is above)")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving (the app's lifespan ends) and release the port."""
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def open_client(args: argparse.Namespace, stack: ExitStack) -> CrmDqClient:
    """A client of the server at --url, or of an app served in this process (--local)."""
    if not args.local:
        return stack.enter_context(CrmDqClient(args.url, api_key=args.api_key))
    from app.config import get_settings
    from app.main import create_app

    logging.getLogger("crm_dq.access").setLevel(logging.WARNING)  # no request lines in a CLI's output
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-dq-"))
    # a throwaway index, and no metrics port: a CLI run must not bind the server's CRM_DQ_METRICS_PORT
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{tmp}/local.sqlite3",
                                                 "metrics_port": None})
    local = stack.enter_context(LocalServer(create_app(settings)))
    # trust_env=False: an HTTP(S)_PROXY of the environment must not receive calls to our own loopback port
    http = httpx.Client(base_url=local.url, trust_env=False, timeout=600.0)
    return stack.enter_context(CrmDqClient(api_key=_first_key(settings), http=http))


def _first_key(settings: Any) -> str | None:
    keys = settings.api_keys.get_secret_value().split(",") if settings.api_keys else []
    return next((k.strip() for k in keys if k.strip()), None)


def name_summary_fields(line: dict[str, Any], adapted: list[Adapted], rules: Any) -> None:
    """The export's column names in the summary line too: each cross-record finding and top finding gets its
    record's `source_field`, and `summary.completeness_source_fields` names the column behind each required
    field (`{"contacts": {"title": "Title", …}}`)."""
    by_id = {str(a.record["id"]): a for a in adapted if a.record.get("id") is not None}
    names: dict[int, SourceNames] = {}

    def of(a: Adapted) -> SourceNames:
        found = names.get(id(a))
        if found is None:
            found = names[id(a)] = SourceNames.of(a, rules)
        return found

    summary: dict[str, Any] = line["summary"] if isinstance(line.get("summary"), dict) else {}
    for entry in [*line.get("cross_record", []), *summary.get("top_findings", [])]:
        record = by_id.get(str(entry.get("record_id"))) if isinstance(entry, dict) else None
        if record is not None and record.record_type == entry.get("record_type"):
            entry["source_field"] = of(record).for_issue(entry)
    first = {a.record_type: a for a in reversed(adapted)}  # the first record of each type
    by_field: dict[str, dict[str, str | None]] = {}
    for plural, fields in summary.get("completeness_by_field", {}).items():
        record = first.get(PLURALS.get(plural, plural))
        if record is not None and isinstance(fields, dict):
            by_field[plural] = {name: of(record).for_requirement(name) for name in fields}
    if summary:
        summary["completeness_source_fields"] = by_field


def cmd_score(args: argparse.Namespace) -> int:
    """`crm-dq score FILE --type contacts`."""
    from app.config import get_settings
    from app.scoring import load_rules

    path, record_type = Path(args.file), TYPES[args.type]
    try:
        delimiter = delimiter_of(args.delimiter)
        mappings = load_mappings(Path(args.mappings) if args.mappings else None)
        rules = load_rules(get_settings().rules_file)  # its requirements name the missing columns
    except (ValueError, OSError) as exc:  # a bad mappings or rules file: say which, no traceback
        print(f"crm-dq: {exc}", file=sys.stderr)
        return 1
    if args.source not in ("auto", *mappings.sources, "canonical"):
        print(f"crm-dq: --source {args.source!r}: one of auto, {', '.join(mappings.sources)}, canonical",
              file=sys.stderr)
        return 2
    progress = Progress(count_rows(path), enabled=not args.quiet)
    adapted: list[Adapted] = []
    formats = None
    if path.name.lower().endswith(".csv"):  # a report's dates and amounts, as its user's locale wrote them
        formats = ExportFormats(args.date_order == "day") if args.date_order else learn_formats(
            (a.record_type, a.record)
            for a in adapt_rows(read_rows(path, delimiter), record_type, args.source, mappings))
        if (note := formats.describe()) is not None:
            tell(note)
    rows = adapt_rows(read_rows(path, delimiter, say=tell), record_type, args.source, mappings, say=tell,
                      formats=formats)
    first = next(rows, None)  # an export the mappings cannot adapt (AdapterError) fails before any stream
    items = rows if first is None else itertools.chain([first], rows)

    removed: Counter[str] = Counter()

    def lines() -> Iterator[dict[str, Any]]:
        for item in items:
            if item.removal is not None:  # a row the CRM deleted or merged away (Data Loader's Export All)
                removed[item.removal.source_field] += 1
                progress.advance()
                continue
            adapted.append(item)
            yield {"type": item.record_type, **item.record}
        if removed:
            tell(f"skipped {sum(removed.values())} row(s) the CRM deleted or merged away ("
                 + ", ".join(f"{field}: {n}" for field, n in removed.items()) + "): their quality is moot")

    out_name = (args.out or "").lower()
    if out_name and not out_name.endswith((".html", ".json", ".ndjson", ".jsonl")):
        print(f"crm-dq: --out {args.out}: write .ndjson (or .jsonl), .json or .html", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        client = open_client(args, stack)
        if out_name.endswith(".html"):
            batch: dict[str, list[dict[str, Any]]] = {}
            for line in lines():
                kind = line.pop("type")
                batch.setdefault({v: k for k, v in PLURALS.items()}[kind], []).append(line)
                progress.advance()
            Path(args.out).write_text(client.audit(batch, html=True, now=args.now), encoding="utf-8")
            progress.finish()
            return 0
        out = stack.enter_context(open(args.out, "wb")) if args.out else sys.stdout.buffer
        as_json = out_name.endswith(".json")
        results: list[dict[str, Any]] = []
        for result in client.batch_stream(lines(), duplicates=not args.no_duplicates, now=args.now):
            if isinstance(result.get("line"), int) and "issues" in result and result["line"] < len(adapted):
                annotate(result, adapted[result["line"]], rules)
            if result.get("type") == "summary":
                name_summary_fields(result, adapted, rules)
            else:
                progress.advance()
            if as_json:
                results.append(result)
            else:
                out.write(orjson.dumps(result) + b"\n")
        if as_json:
            # the stream's result lines, and its summary line's parts beside them (helper-61: the whole summary
            # line was nested under "summary", its summary at summary.summary)
            last = results.pop() if results and results[-1].get("type") == "summary" else {}
            out.write(orjson.dumps({"results": results, "duplicates": last.get("duplicates"),
                                    "cross_record": last.get("cross_record"), "summary": last.get("summary")},
                                   option=orjson.OPT_INDENT_2))
        progress.finish()
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    """`crm-dq rules check FILE.toml`: the file merged over the defaults, validated and compiled."""
    from app.scoring import load_rules

    try:
        rules = load_rules(Path(args.file))
    except (ValueError, OSError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.file}: ok (rules version {rules.version})")
    return 0


def cmd_mappings_check(args: argparse.Namespace) -> int:
    """`crm-dq mappings check FILE.toml`: the field mappings merged over the shipped ones, validated."""
    try:
        mappings = load_mappings(Path(args.file))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    per_source = ", ".join(f"{s} {len(names)}" for s, names in mappings.object_names.items())
    print(f"{args.file}: ok ({len(mappings.objects)} objects mapped: {per_source})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and its options."""
    parser = argparse.ArgumentParser(prog="crm-dq", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (arguments go to uvicorn, e.g. --port 8000 --workers 2)",
                   add_help=False)
    score = sub.add_parser("score", help="score a CSV, JSON or NDJSON export")
    score.add_argument("file")
    score.add_argument("--type", required=True, choices=sorted(TYPES),
                       help="record type of the export (a row naming its own 'type' keeps it)")
    score.add_argument("--source", default="auto",
                       help="column names: salesforce, hubspot, dynamics, pipedrive, zoho (or a source of "
                            "--mappings' [exports]), or canonical (auto, the default: guessed)")
    score.add_argument("--url", default=os.environ.get("CRM_DQ_URL", "http://127.0.0.1:8000"))
    score.add_argument("--api-key", default=os.environ.get("CRM_DQ_API_KEY"))
    score.add_argument("--local", action="store_true", help="score in this process, no server needed")
    score.add_argument("--out", help="report.ndjson, report.json or report.html (default: NDJSON to stdout)")
    score.add_argument("--mappings", default=os.environ.get("CRM_DQ_MAPPINGS_FILE"))
    score.add_argument("--delimiter", help="a CSV's column separator: , ; | or tab (default: the header's)")
    order = score.add_mutually_exclusive_group()
    order.add_argument("--day-first", dest="date_order", action="store_const", const="day",
                       help="a CSV's dates are day first (1/2/2027 is 1 February; default: learned from "
                            "the file)")
    order.add_argument("--month-first", dest="date_order", action="store_const", const="month",
                       help="a CSV's dates are month first (1/2/2027 is 2 January)")
    score.add_argument("--no-duplicates", action="store_true", help="skip duplicate detection")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.add_argument("--now", help="the instant timeliness rules measure against (ISO 8601; default: now)")
    rules = sub.add_parser("rules", help="rules files").add_subparsers(dest="action", required=True)
    rules.add_parser("check", help="validate a rules TOML").add_argument("file")
    maps = sub.add_parser("mappings", help="field mapping files").add_subparsers(dest="action", required=True)
    maps.add_parser("check", help="validate a mappings TOML").add_argument("file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `crm-dq` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from app.serve import main as serve

        serve(argv[1:])
        return 0
    args = build_parser().parse_args(argv)
    handlers = {"score": cmd_score, "rules": cmd_rules_check, "mappings": cmd_mappings_check}
    try:
        return handlers[args.command](args)
    except (CrmDqError, LocalServerError) as exc:
        print(f"crm-dq: {exc}", file=sys.stderr)
        return 1
    except httpx.TransportError as exc:  # no server at --url, a proxy in the way, a dropped connection
        print(f"crm-dq: cannot reach the server: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the export is missing or unreadable
        print(f"crm-dq: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except (orjson.JSONDecodeError, csv.Error) as exc:
        print(f"crm-dq: {getattr(args, 'file', '')}: not readable as its extension says: {exc}", file=sys.stderr)
        return 1
    except AdapterError as exc:  # a row that is no record of --type (HubSpot objects as leads)
        print(f"crm-dq: {getattr(args, 'file', '')}: {adapter_problem(exc, args)}", file=sys.stderr)
        return 1


def adapter_problem(exc: AdapterError, args: argparse.Namespace) -> str:
    """What to tell of an export row the mappings cannot adapt. HubSpot objects scored as leads are the usual
    one: HubSpot's leads are an object of their own, which the mappings do not map (and scoring contacts as
    canonical leads would judge them by the wrong rules), so the user is pointed to --type contacts."""
    if exc.loc != "query.type":
        return exc.msg
    if TYPES.get(getattr(args, "type", "")) == "lead":
        return ("HubSpot objects cannot be scored with --type leads: the field mappings have no HubSpot lead "
                "object (HubSpot's leads are an object of their own). Score HubSpot contacts with "
                "--type contacts.")
    return f"--type {getattr(args, 'type', '')}: {exc.msg}"


if __name__ == "__main__":
    sys.exit(main())
