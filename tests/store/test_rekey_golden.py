"""A forgotten KEYS_VERSION bump: the key rows of a few fixed records, hashed, pinned next to the version.

Stored indexes are re-keyed only when the recipe fingerprint changes (`rekey.keys_fingerprint`), and the code
half of it is a number raised by hand. When this test fails, the matching code now keys these records
another way: raise `rekey.KEYS_VERSION` and pin the new hash with it.
"""

from __future__ import annotations

import hashlib

import orjson

from app.scoring import Ruleset
from app.scoring.matching import index, linker, rekey

PINNED_KEYS_VERSION, PINNED_HASH = 4, "eaec5a7202133475"

RECORDS = {
    "account": [{"name": "accenture.com", "website": "https://www.accenture.com/us-en"},
                {"name": "P&G Co.", "phone": "+1 513-983-1100", "billing_address": {"city": "Cincinnati"}},
                {"name": "Anheuser-Busch", "billing_address": {"city": "St. Louis", "state": "Missouri"}}],
    "contact": [{"first_name": "Kate", "last_name": "O'Brien", "email": "Kate.OBrien@Acme.com",
                 "phone": "(415) 555-0132 ext. 7"},
                {"first_name": "Catherine", "last_name": "Obrien", "mobile_phone": "+44 20 7946 0958",
                 "account_name": "Acme Corp"}],
    "lead": [{"first_name": "Bob", "last_name": "Smith", "company": "Zeta Corporation",
              "email": "mailto:bob@zeta.io", "website": "zeta.io"}],
}


def key_rows_hash(rules: Ruleset) -> str:
    rows = []
    for record_type, records in RECORDS.items():
        model = rules.match_models[record_type]
        ids = [f"r{n}" for n in range(len(records))]
        prepared = linker.prepare(records, record_type, "US", ids)
        rows += [[record_type, rid, *key] for n, rid in enumerate(ids)
                 for key in sorted(index.record_index_keys(prepared, n, model))]
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()[:16]


def test_the_key_rows_match_the_pinned_hash_of_this_keys_version(rules: Ruleset) -> None:
    assert set(RECORDS) == set(rules.match_models), "one fixture list per matched type"
    assert (rekey.KEYS_VERSION, key_rows_hash(rules)) == (PINNED_KEYS_VERSION, PINNED_HASH), (
        "keys changed: bump rekey.KEYS_VERSION and update the hash (PINNED_KEYS_VERSION, PINNED_HASH in "
        "tests/store/test_rekey_golden.py)")
