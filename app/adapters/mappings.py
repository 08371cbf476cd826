"""Field mappings (TOML): shipped defaults deep-merged with an organisation's file, checked and compiled."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from app.scoring.registry import RECORD_TYPES

Source = Literal["salesforce", "hubspot"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectMapping(_Strict):
    record_type: str
    fields: dict[str, str]
    ignore: list[str] = []
    identify_by: list[str] = []


class SourceMapping(_Strict):
    objects: dict[str, ObjectMapping]
    title: str = ""  # how notes name the system: "Dynamics 365" ("the Dynamics 365 Opportunity mapping")
    ignore: list[str] = []
    ignore_prefixes: list[str] = []
    ignore_suffixes: list[str] = []  # of a field's first part: a custom relationship's `__r`
    stages: dict[str, str] = {}
    top_level: dict[str, str] = {}
    record_ids: list[str] = []
    removed_when: list[str] = []  # fields whose true value says the record is deleted (archived) in the CRM
    merged_into: list[str] = []  # fields naming the record this one was merged into (and deleted)


class Coerce(_Strict):
    number: list[str] = []
    integer: list[str] = []
    boolean: list[str] = []
    timestamp_ms: list[str] = []  # HubSpot sends dates as milliseconds since the epoch in event notifications
    multi_value: list[str] = []  # values joined by ';' (multi-select picklists, multiple checkboxes) → a list


class MappingsFile(_Strict):
    coerce: Coerce
    salesforce: SourceMapping
    hubspot: SourceMapping
    # systems whose exports (CSV, flat JSON) are read but which post no webhook: Dynamics 365, Pipedrive, Zoho
    # CRM, an organisation's own ([exports.<name>], `--source <name>`)
    exports: dict[str, SourceMapping] = {}


class MappingsError(ValueError):
    """The mappings file is not valid; the message names the offending path."""


@dataclass(frozen=True)
class ObjectMap:
    """One CRM object compiled: source field → canonical path, and what to ignore."""

    source: str
    name: str
    record_type: str
    fields: dict[str, str]
    ignore: frozenset[str]
    ignore_prefixes: tuple[str, ...]
    stages: dict[str, str]
    identify_by: frozenset[str] = frozenset()
    record_ids: frozenset[str] = frozenset()
    removed_when: tuple[str, ...] = ()
    merged_into: tuple[str, ...] = ()
    ignore_suffixes: tuple[str, ...] = ()

    @cached_property
    def rank(self) -> dict[str, int]:
        """Each CRM field's place in the mapping: of two fields for one canonical field, the first wins."""
        return {name: n for n, name in enumerate(self.fields)}

    @cached_property
    def _folded(self) -> dict[str, str]:
        folded: dict[str, str] = {}
        for name in (*self.fields, *self.ignore, *self.removed_when, *self.merged_into):
            folded.setdefault(fold_name(name), name)
        return folded

    def spelled(self, key: str) -> str:
        """The mapping's own spelling of a field or column name matched whatever its case and surrounding
        spaces (Data Loader's "ISDELETED", "FIRSTNAME"; " Email "); `key` when the mapping knows none such."""
        if key in self.fields or key in self.ignore:
            return key
        return self._folded.get(fold_name(key), key)


def fold_name(name: str) -> str:
    """A field or column name as matched: case and surrounding spaces do not count."""
    return name.strip().casefold()


@dataclass(frozen=True)
class Mappings:
    """Every object of every source, plus the value coercions; built once by `load_mappings`."""

    objects: dict[tuple[str, str], ObjectMap]
    coerce: dict[str, str]
    hubspot_top_level: dict[str, str]
    path: Path | None = None
    object_names: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # source → its name in notes ("HubSpot")

    @property
    def sources(self) -> list[str]:
        """Every source with mappings: salesforce, hubspot, then the export-only ones in the file's order."""
        return list(self.titles)

    def object(self, source: str, name: str) -> ObjectMap | None:
        """The mapping of `name` (a Salesforce sObject type or a HubSpot object type), case-insensitively."""
        found = self.objects.get((source, name))
        if found is None:
            wanted = (source, name.lower())
            found = next((m for (s, n), m in self.objects.items() if (s, n.lower()) == wanted), None)
        return found


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge, everything else replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=8)
def load_mappings(path: Path | None = None) -> Mappings:
    """The shipped mappings, with `path` (CRM_DQ_MAPPINGS_FILE) merged over them when given."""
    data = tomllib.loads(resources.files("app.adapters").joinpath("mappings.toml").read_text("utf-8"))
    if path is not None:
        try:
            data = deep_merge(data, tomllib.loads(Path(path).read_text("utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MappingsError(f"mappings file {path}: {exc}") from None
    try:
        parsed = MappingsFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MappingsError(f"mappings file {path or 'defaults'}: {'.'.join(map(str, first['loc']))}: "
                            f"{first['msg']}") from None
    return compile_mappings(parsed, path)


def compile_mappings(parsed: MappingsFile, path: Path | None) -> Mappings:
    """Check record types and build the lookup tables."""
    objects: dict[tuple[str, str], ObjectMap] = {}
    sources: dict[str, SourceMapping] = {"salesforce": parsed.salesforce, "hubspot": parsed.hubspot}
    for name, src in parsed.exports.items():
        if name in (*sources, "auto", "canonical") or not _SOURCE_NAME.fullmatch(name):
            raise MappingsError(f"mappings file {path or 'defaults'}: exports.{name}: a source's name is "
                                f"lower-case letters, digits and _, and none of salesforce, hubspot, auto, "
                                f"canonical (it is --source's value)")
        sources[name] = src
    for source, src in sources.items():
        stages = {k.lower(): v for k, v in src.stages.items()}
        top = {f"@{k}": v for k, v in src.top_level.items()}  # HubSpot's id, createdAt, updatedAt
        for name, obj in src.objects.items():
            if obj.record_type not in RECORD_TYPES:
                table = source if source in ("salesforce", "hubspot") else f"exports.{source}"
                where = f"mappings file {path or 'defaults'}: {table}.objects.{name}.record_type"
                raise MappingsError(f"{where}: {obj.record_type!r} is not one of {', '.join(RECORD_TYPES)}")
            objects[(source, name)] = ObjectMap(source, name, obj.record_type, top | obj.fields,
                                                frozenset(src.ignore) | frozenset(obj.ignore),
                                                tuple(src.ignore_prefixes), stages,
                                                frozenset(obj.identify_by), frozenset(src.record_ids),
                                                tuple(src.removed_when), tuple(src.merged_into),
                                                tuple(src.ignore_suffixes))
    coerce = {p: kind for kind in ("number", "integer", "boolean", "timestamp_ms", "multi_value")
              for p in getattr(parsed.coerce, kind)}
    names = {s: [n for (src, n) in objects if src == s] for s in sources}
    titles = {s: src.title or _TITLES.get(s, s) for s, src in sources.items()}
    return Mappings(objects, coerce, dict(parsed.hubspot.top_level), path, names, titles)


_SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TITLES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
