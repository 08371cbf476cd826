"""Duplicate names in JSON objects: `{"email": "bob@acme.com", "email": "bob@"}`.

orjson, like most parsers, silently keeps the last value, so the record judged may not be the one the CRM
holds; RFC 8259 leaves such a document's meaning open and I-JSON (RFC 7493) forbids it. The API refuses a
JSON document that has one (422 naming each duplicated path) and an NDJSON line that has one gets its own
error line, as a line that is not JSON does.

Finding out costs about a microsecond per record: outside strings a colon only ever separates a name from
its value, so when the parsed value, written back, has fewer colons than the raw text, members were lost
to duplicate names. Only then does a slower scan of the text find their paths.
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
        return bool(duplicate_key_paths(raw, limit=1))
    return raw.count(b":") != _colons(data, whole=len(raw) <= _WHOLE_DUMP_BYTES)


def _colons(data: Any, whole: bool, depth: int = 0) -> int:
    """Colons in `data` written as JSON: one per member, plus those inside strings."""
    if whole or depth >= 2 or not isinstance(data, dict | list):
        try:
            return orjson.dumps(data).count(b":")
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (255 levels)
            return _colons_by_hand(data)
    if isinstance(data, list):
        return sum(_colons(v, whole, depth + 1) for v in data)
    return sum(1 + k.count(":") + _colons(v, whole, depth + 1) for k, v in data.items())


def _colons_by_hand(data: Any) -> int:
    """`_colons` of a value orjson will not write, counted without recursion (JSON allows 1,024 levels)."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node) + sum(k.count(":") for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            count += node.count(":")
    return count


# what says where a name is in a document: strings (names and values), brackets and commas
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],]')


def duplicate_key_paths(raw: bytes, prefix: str = "body", limit: int = 50) -> list[str]:
    """Dotted paths (`body.contacts.3.email`) of the names repeated in `raw`, at most `limit` of them, in the
    order their repeats appear; `raw` is JSON orjson accepted.

    A scan of the text, one level of bookkeeping per open object or array, that recurses nowhere: the
    `json.loads` it replaced hit Python's recursion limit on a value nested about 990 deep (orjson accepts
    1,024), found nothing, and let the document through (helper-58), in a JSON batch for every entry.
    """
    found: list[str] = []
    paths: list[str] = []  # per open object or array: its path
    names: list[set[str] | None] = []  # per open object: the names seen in it (None for an array)
    places: list[Any] = []  # per open object: the names reported in it; per array: the current position
    name, expect_name = "", False
    for match in _TOKEN.finditer(raw):
        token = match[0]
        first = token[0]
        if first == 0x22:  # a string: a name when one is expected, else a value
            if expect_name:
                expect_name = False
                name = token[1:-1].decode() if b"\\" not in token else json.loads(token)
                seen = names[-1]
                assert seen is not None
                if name not in seen:
                    seen.add(name)
                elif name not in places[-1]:
                    places[-1].add(name)
                    found.append(f"{paths[-1]}.{name}")
                    if len(found) >= limit:
                        break
        elif first == 0x2C:  # a comma: the next member, or the next entry
            if names[-1] is None:
                places[-1] += 1
            else:
                expect_name = True
        elif first in (0x7B, 0x5B):  # an object or an array opens
            if paths:
                paths.append(f"{paths[-1]}.{places[-1] if names[-1] is None else name}")
            else:
                paths.append(prefix)
            if first == 0x7B:
                names.append(set())
                places.append(set())
                expect_name = True
            else:
                names.append(None)
                places.append(0)
        else:  # it closes
            paths.pop()
            names.pop()
            places.pop()
            expect_name = False
    return found


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
