"""The per-value caches a stream's worker bounds (`app.scoring.caches`): every one of them is listed, and
trimming empties exactly the ones over the limit."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import orjson
import pytest

import app.scoring
from app.scoring import load_rules, pool
from app.scoring.caches import trim_values, value_caches
from app.scoring.engine import Options, bare_message, score_record
from app.scoring.formats import check_phone, registered_domain
from app.scoring.judge import JudgeSetup
from app.scoring.matching.normalize import fold
from tests.conftest import NOW

VALUE_CACHE_FROM = 4096  # an lru_cache this large holds field values; smaller ones hold start-up tables


def _lru_caches() -> dict[str, Any]:
    found = {}
    for info in pkgutil.walk_packages(app.scoring.__path__, "app.scoring."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            info_of = getattr(obj, "cache_info", None)
            if callable(info_of) and getattr(obj, "__module__", None) == module.__name__:
                maxsize = info_of().maxsize
                if maxsize is not None and maxsize >= VALUE_CACHE_FROM:
                    found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_per_value_cache_is_listed_so_a_worker_bounds_it() -> None:
    listed = {id(c) for c in value_caches()}
    missing = [name for name, cache in _lru_caches().items() if id(cache) not in listed]
    assert not missing, f"add these to app.scoring.caches.value_caches: {missing}"


def test_trimming_empties_the_caches_over_the_limit_only() -> None:
    for cached in value_caches():
        cached.cache_clear()
    for n in range(12):
        check_phone(f"+1 415 555 {n:04d}", "US")
    fold("Zoë")
    registered_domain("www.example.co.uk")
    trim_values(10)
    assert check_phone.cache_info().currsize == 0
    assert fold.cache_info().currsize == 1
    assert registered_domain.cache_info().currsize == 1
    trim_values(0)
    assert all(c.cache_info().currsize == 0 for c in value_caches())


def test_a_stream_worker_trims_the_caches_after_each_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """pool._judge (what a worker process runs per chunk), called here: caches end at most at the limit."""
    rules = load_rules()
    lines = [orjson.dumps({"type": "lead", "id": f"l{n}", "phone": f"+1 415 555 {n:04d}", "title": f"VP {n}",
                           "email": f"p{n}@example{n}.com"}) for n in range(20)]
    monkeypatch.setattr(pool, "WORKER_CACHE_ENTRIES", 5)
    judged = pool._judge(rules.version, pool.rules_payload(rules), lines, 0, JudgeSetup(NOW, Options(), True))
    assert judged.out.count(b"\n") == 20
    worker_rules = pool._worker_rules[rules.version]
    assert check_phone.cache_info().currsize <= 5
    assert worker_rules.title_labels.cache_info().currsize <= 5  # type: ignore[attr-defined]
    monkeypatch.setattr(pool, "WORKER_CACHE_ENTRIES", 100)
    pool._judge(rules.version, None, lines, 0, JudgeSetup(NOW, Options(), True))
    assert check_phone.cache_info().currsize >= 20, "under the limit, a worker keeps what it cached"


def test_a_deals_stage_is_read_once_however_many_rules_read_it() -> None:
    """helper-59: a 900 KB stage took a second to score, its key made anew by each of ~17 readers; each
    distinct stage or picklist text is keyed once."""
    from app.scoring.engine import score_record
    from app.scoring.ruleset import _picklist_key as picklist_key
    from app.scoring.ruleset import _stage_key as stage_key

    rules = load_rules()
    stage = "1-" * 50_000 + "unseen"
    before = stage_key.cache_info().misses
    score_record("opportunity", {"stage": stage, "forecast_category": stage}, rules, now=NOW)
    assert stage_key.cache_info().misses - before <= 2  # the value itself (and at most one other text)
    status = "x " * 50_000 + "unseen"
    before = picklist_key.cache_info().misses
    score_record("lead", {"status": status, "source": status}, rules, now=NOW)
    assert picklist_key.cache_info().misses - before <= 2


def test_a_long_label_is_cached_by_its_start_only() -> None:
    """helper-62: 30 MB stages stayed in the server process's cache (no stream trims it): 118 MB a batch. A
    label is keyed (and cached) by its first LABEL_CHARS characters."""
    from app.scoring.ruleset import LABEL_CHARS, picklist_key, stage_key

    long = "Closed Won " * 100_000
    assert len(stage_key(long)) <= LABEL_CHARS and len(picklist_key(long)) <= LABEL_CHARS
    assert load_rules().canonical_stage(long) is None and load_rules().canonical_stage(" closed-WON ") == "Closed Won"



def test_a_callers_long_field_names_are_not_kept_by_the_message_cache() -> None:
    """An unknown field's name is the caller's: `{"k…(1 MB)": null}` on 400 records kept 760 MB in the bare
    message cache of a single-record worker, which no stream trims (helper-82). Short names are cached."""
    rules = load_rules()
    bare_message.cache_clear()  # other tests may have filled it (4,096 entries)
    score_record("contact", {}, rules, now=NOW)  # the messages every contact has, cached first
    before = bare_message.cache_info().currsize
    reports = [score_record("contact", {f"k{n}" + "x" * 5000: None}, rules, now=NOW) for n in range(20)]
    assert all(any(i["rule"] == "contact.field.unknown" for i in r["issues"]) for r in reports)
    assert bare_message.cache_info().currsize == before, "a caller's long field name was cached"
    score_record("contact", {"legacy_fax": None}, rules, now=NOW)
    assert bare_message.cache_info().currsize == before + 1, "a short unknown field's message is cached"
