"""Single-record scoring throughput: how many records per second one core judges, and where the time goes.

What it measures, per record type (account, contact, opportunity, lead), over `--n` generated records
(bench/generate.py: deterministic, realistic and dirty):

    orjson.loads(json bytes) -> score_record(...) -> orjson.dumps(report)

which is the work POST /v1/{accounts|contacts|opportunities|leads}/score does per record, apart from HTTP,
the framework and the duplicate lookup in the reference index (score_record gets no `duplicates`). It runs
in-process on one thread (so on one core at a time), with a fixed `now`.

Why the caches are cleared: check_email caches its domain check and simple addresses, check_phone and
check_url cache on the raw value, registered_domain on the host, the ruleset on the job title, name casing
on the name. A benchmark that repeats a warm process would mostly time cache hits. So the caches are cleared
before each type's run; they then warm over the run as they would over a real stream of records, and that
warming is part of the figure. One-time library start-up (pycountry, phonenumbers metadata, tldextract's
suffix list) is paid by a short warm-up on other records first, since a server pays it once at boot.

Then, for contacts, the cost of each stage is timed on its own (microseconds per record, averaged over all
records, with the caches cold at the start of each stage):
    parse      orjson.loads
    email      one check_email per contact email
    phone      one check_phone per phone / mobile_phone
    rules      score_record in total minus email and phone
    serialise  orjson.dumps of the report
score_record calls check_email / check_phone more than once per value; those repeats stay in "rules".

Every figure is the best of `--repeat` runs (the caches are cleared before each one), in wall time
(perf_counter); the table also shows CPU time (process_time): wall well above it means a busy machine.
Run: .venv/bin/python bench/score_bench.py [--n 20000] [--json] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repo root

import orjson  # noqa: E402

from app.scoring.engine import Options, score_record  # noqa: E402
from app.scoring.formats import (  # noqa: E402
    _check_domain,
    _check_simple_email,
    check_email,
    check_phone,
    check_url,
    registered_domain,
)
from app.scoring.rules.standardize import proper_name  # noqa: E402
from app.scoring.ruleset import Ruleset, _picklist_key, _stage_key, load_rules  # noqa: E402
from app.scoring.values import _parse_number_text  # noqa: E402
from bench.generate import NOW, make_accounts, make_contacts, make_leads, make_opportunities  # noqa: E402

COMMAND = ".venv/bin/python bench/score_bench.py"
GENERATORS: dict[str, Callable[[int, int], list[dict[str, Any]]]] = {
    "account": make_accounts, "contact": make_contacts, "opportunity": make_opportunities, "lead": make_leads,
}


RULESETS: list[Ruleset] = []  # whose job-title cache clear_caches empties too


def clear_caches() -> None:
    """Forget every cached email, domain, phone, URL and job title (not the libraries' start-up tables)."""
    for rules in RULESETS:
        rules.title_labels.cache_clear()  # type: ignore[attr-defined]
    _check_domain.cache_clear()
    _check_simple_email.cache_clear()
    check_phone.cache_clear()
    check_url.cache_clear()
    registered_domain.cache_clear()
    proper_name.cache_clear()
    _parse_number_text.cache_clear()
    _stage_key.cache_clear()
    _picklist_key.cache_clear()


def best_time(fn: Callable[[], Any], repeat: int, cpu: list[float] | None = None) -> float:
    """Wall seconds (perf_counter) of the fastest of `repeat` runs of `fn`, caches cleared and garbage
    collected before each; the fastest CPU time (process_time) is appended to `cpu` when given."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    if cpu is not None:
        cpu.append(best_cpu)
    return best


def each(fn: Callable[[Any], Any], items: list[Any]) -> None:
    """Call `fn` on every item and drop the results, as a server does (keeping 20,000 results alive
    would make the garbage collector's full passes, and so the timing, grow with the run)."""
    for item in items:
        fn(item)


def full_path(record_type: str, blobs: list[bytes], rules: Ruleset, options: Options) -> None:
    for blob in blobs:
        orjson.dumps(score_record(record_type, orjson.loads(blob), rules, now=NOW, options=options))


def contact_values(records: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The emails and phones score_record would check, as it reads them."""
    emails = [r["email"] for r in records if isinstance(r.get("email"), str) and r["email"].strip()]
    phones = [str(r[f]) for r in records for f in ("phone", "mobile_phone")
              if isinstance(r.get(f), str | int) and not isinstance(r.get(f), bool) and str(r[f]).strip()]
    return emails, phones


def contact_stages(blobs: list[bytes], rules: Ruleset, options: Options, repeat: int) -> dict[str, float]:
    """Microseconds per contact for each stage of the full path, timed separately."""
    records = [orjson.loads(b) for b in blobs]
    reports = [score_record("contact", r, rules, now=NOW, options=options) for r in records]
    emails, phones = contact_values(records)
    deliverability, timeout, region = (options.check_email_deliverability, options.email_dns_timeout,
                                       options.default_region)
    # The inputs held for the stages (20,000 parsed records and reports) would otherwise be walked by every
    # full garbage collection, a cost the streaming full path (and a server) does not have.
    gc.collect()
    gc.freeze()
    seconds = {
        "parse": best_time(lambda: each(orjson.loads, blobs), repeat),
        "score": best_time(lambda: each(lambda r: score_record("contact", r, rules, now=NOW, options=options),
                                        records), repeat),
        "email": best_time(lambda: each(lambda e: check_email(e, deliverability, timeout), emails), repeat),
        "phone": best_time(lambda: each(lambda p: check_phone(p, region), phones), repeat),
        "serialise": best_time(lambda: each(orjson.dumps, reports), repeat),
    }
    gc.unfreeze()
    us = {k: v / len(blobs) * 1e6 for k, v in seconds.items()}
    us["rules"] = us["score"] - us["email"] - us["phone"]
    us["emails_checked"], us["phones_checked"] = len(emails), len(phones)
    return us


def profile_contacts(blobs: list[bytes], rules: Ruleset, options: Options, top: int = 15) -> str:
    """cProfile of the contact full path (cold caches), the `top` functions by own time."""
    clear_caches()
    profiler = cProfile.Profile()
    profiler.runcall(full_path, "contact", blobs, rules, options)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def machine() -> dict[str, Any]:
    """Python, platform and `nproc` (the CPUs this process may use)."""
    nproc = (subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() if shutil.which("nproc")
             else str(os.cpu_count()))
    return {"python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(), "nproc": int(nproc)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="records per type (default 20000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the contact run")
    args = parser.parse_args()

    env = machine()
    rules, options = load_rules(), Options()
    RULESETS.append(rules)
    data = {t: [orjson.dumps(r) for r in make(args.n, args.seed)] for t, make in GENERATORS.items()}
    for t, make in GENERATORS.items():  # library start-up, on records the runs never see
        full_path(t, [orjson.dumps(r) for r in make(200, args.seed + 1)], rules, options)

    results: dict[str, dict[str, float]] = {}
    for t, blobs in data.items():
        cpu: list[float] = []
        seconds = best_time(lambda t=t, blobs=blobs: full_path(t, blobs, rules, options), args.repeat, cpu)
        issues = sum(len(score_record(t, orjson.loads(b), rules, now=NOW, options=options)["issues"])
                     for b in blobs)
        results[t] = {"records_per_s": len(blobs) / seconds, "us_per_record": seconds / len(blobs) * 1e6,
                      "cpu_us_per_record": cpu[0] / len(blobs) * 1e6,
                      "issues_per_record": issues / len(blobs),
                      "kib_per_record": sum(map(len, blobs)) / len(blobs) / 1024}
    stages = contact_stages(data["contact"], rules, options, args.repeat)

    print(f"crm-dq score_record benchmark: {args.n:,} records per type, seed {args.seed}, "
          f"best of {args.repeat}, now={NOW.isoformat()}")
    command = " ".join([COMMAND, *sys.argv[1:]])
    print(f"command: {command}")
    print(f"python {env['python']} on {env['platform']}; nproc {env['nproc']}; "
          f"rules {rules.version}")
    print()
    print("full path = orjson.loads + score_record + orjson.dumps, one core, caches cold at start")
    print("(µs/record: wall time, perf_counter; cpu µs/rec: process_time; wall well above cpu: busy machine)")
    print(f"{'type':<12}{'records/s':>11}{'µs/record':>11}{'cpu µs/rec':>12}{'issues/rec':>12}{'KiB/rec':>9}")
    for t, r in results.items():
        print(f"{t:<12}{r['records_per_s']:>11,.0f}{r['us_per_record']:>11.1f}{r['cpu_us_per_record']:>12.1f}"
              f"{r['issues_per_record']:>12.1f}{r['kib_per_record']:>9.2f}")
    print()
    print(f"contact stages, µs per record (over {args.n:,} contacts; {stages['emails_checked']:,} emails, "
          f"{stages['phones_checked']:,} phones checked)")
    for name in ("parse", "rules", "email", "phone", "serialise"):
        print(f"  {name:<10}{stages[name]:>9.1f}")
    total = stages["parse"] + stages["score"] + stages["serialise"]
    print(f"  {'sum':<10}{total:>9.1f}   (full path measured: {results['contact']['us_per_record']:.1f})")
    print("  rules = score_record total minus one cold check_email per email and one check_phone per phone;")
    print("  score_record's repeat calls for the same value stay in rules.")

    if args.profile:
        print()
        print(profile_contacts(data["contact"], rules, options))
    if args.json:
        print(json.dumps({"command": command, **env, "n": args.n, "seed": args.seed,
                          "repeat": args.repeat, "now": NOW.isoformat(), "rules_version": rules.version,
                          "types": results, "contact_stages_us": stages}, indent=2))


if __name__ == "__main__":
    main()
