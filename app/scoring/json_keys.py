"""Duplicate names in JSON objects: `{"email": "bob@acme.com", "email": "bob@"}`.

orjson, like most parsers, silently keeps the last value, so the record judged may not be the one the CRM
holds; RFC 8259 leaves such a document's meaning open and I-JSON (RFC 7493) forbids it. The API refuses a
JSON document that has one (422 naming each duplicated path) and an NDJSON line that has one gets its own
error line, as a line that is not JSON does.

Finding out costs about a microsecond per record: outside strings a colon only ever separates a name from
its value, so when the parsed value, written back, has fewer colons than the raw text, members were lost
to duplicate names. Only then does a second, slower parse find their paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

_WHOLE_DUMP_BYTES = 1 << 20  # larger documents are written back a piece at a time (bounded extra memory)


def has_duplicate_keys(raw: bytes, data: Any) -> bool:
    """Whether the JSON text `raw`, which parsed to `data`, repeats a name within one object."""
    if b"\\u003a" in raw or b"\\u003A" in raw:  # an escaped colon in a string: the counts cannot be compared
        return bool(duplicate_key_paths(raw))
    try:
        written = _colons(data, whole=len(raw) <= _WHOLE_DUMP_BYTES)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255): the slow parse decides
        return bool(duplicate_key_paths(raw))
    return raw.count(b":") != written


def _colons(data: Any, whole: bool, depth: int = 0) -> int:
    """Colons in `data` written as JSON: one per member, plus those inside strings."""
    if whole or depth >= 2 or not isinstance(data, dict | list):
        return orjson.dumps(data).count(b":")
    if isinstance(data, list):
        return sum(_colons(v, whole, depth + 1) for v in data)
    return sum(1 + k.count(":") + _colons(v, whole, depth + 1) for k, v in data.items())


def duplicate_key_paths(raw: bytes, prefix: str = "body", limit: int = 50) -> list[str]:
    """Dotted paths (`body.contacts.3.email`) of the names repeated in `raw`, at most `limit` of them."""
    repeated: dict[int, list[str]] = {}
    alive: list[dict[str, Any]] = []  # an object with repeats stays alive, so no other one takes its id

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj:
                repeated.setdefault(id(obj), []).append(key)
            obj[key] = value
        if id(obj) in repeated:
            alive.append(obj)
        return obj

    try:
        data = json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # not JSON after all, or too deep for the slow parser
        return []
    if not repeated:
        return []
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack and len(found) < limit:
        path, node = stack.pop()
        if isinstance(node, dict):
            found.extend(f"{path}.{key}" for key in dict.fromkeys(repeated.get(id(node), ())))
            stack.extend((f"{path}.{k}", v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}", v) for i, v in reversed(list(enumerate(node))))
    return found[:limit]


@dataclass(frozen=True, slots=True)
class RepeatedNames:
    """A batch entry whose object repeats a name: it keeps its place in the batch and gets its own error."""

    paths: tuple[str, ...]  # each repeated name, from the list (`contacts.3.email`)


def mark_entries_with_repeated_names(batch: dict[str, Any], raw: bytes,
                                     lists: tuple[str, ...]) -> list[str]:
    """Replace each entry of `batch[<list>]` that repeats a name by a `RepeatedNames`; return the paths that
    are not inside one entry (a repeated `contacts` or `options.now`: the batch's own structure)."""
    entry = re.compile(rf"body\.({'|'.join(map(re.escape, lists))})\.(\d+)(?:\.|$)")
    found: dict[tuple[str, int], list[str]] = {}
    structural = []
    for path in duplicate_key_paths(raw, limit=1_000_000):
        match = entry.match(path)
        if match and isinstance(batch.get(match[1]), list) and int(match[2]) < len(batch[match[1]]):
            found.setdefault((match[1], int(match[2])), []).append(path.removeprefix("body."))
        else:
            structural.append(path)
    for (name, position), paths in found.items():
        batch[name][position] = RepeatedNames(tuple(paths))
    return structural
