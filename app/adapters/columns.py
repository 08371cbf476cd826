"""Which mapping reads a flat export (CSV columns, JSON keys): Salesforce's, HubSpot's or canonical names."""

from __future__ import annotations

from dataclasses import dataclass

from app.adapters.mappings import Mappings, ObjectMap, fold_name
from app.models.records import KNOWN_FIELDS

NOT_COLUMNS = frozenset({"type", "extra_cells"})  # the record type, and cells past the header (read_rows)
LISTED = 15  # column names a note lists before "… and N more"


@dataclass(frozen=True)
class Candidate:
    """One mapping an export could be read with, and the columns it maps and ignores."""

    source: str
    mapping: ObjectMap
    mapped: tuple[str, ...]
    ignored: tuple[str, ...]
    system: str = ""  # the source's title ("Salesforce", "Dynamics 365")

    @property
    def known(self) -> int:
        """Columns this mapping recognises: mapped to a canonical field, or ignored as a system field."""
        return len(self.mapped) + len(self.ignored)

    @property
    def title(self) -> str:
        """'the Salesforce Opportunity mapping', 'canonical field names'."""
        if self.source == "canonical":
            return "canonical field names"
        return f"the {self.system or self.source} {self.mapping.name} mapping"


@dataclass(frozen=True)
class MappingChoice:
    """The mapping an export is read with, the columns it leaves unmapped, and the mappings that recognise
    as many of its columns or nearly (an export a user should name with --source)."""

    chosen: Candidate
    columns: tuple[str, ...]
    asked: str  # --source: auto, salesforce, hubspot or canonical
    rivals: tuple[Candidate, ...]

    @property
    def mapping(self) -> ObjectMap:
        """The mapping that reads every flat row of the export."""
        return self.chosen.mapping

    @property
    def unmapped(self) -> list[str]:
        """Columns neither mapped nor ignored: kept under their own names and reported as unknown fields."""
        known = {*self.chosen.mapped, *self.chosen.ignored}
        return [c for c in self.columns if c not in known]

    def notes(self) -> list[str]:
        """What to tell the user on stderr: the mapping used, the columns it did not map, close rivals."""
        if self.asked == "auto":
            how = "guessed from the columns; --source to choose"
        elif self.asked == self.chosen.source:
            how = f"--source {self.asked}"
        else:
            how = f"--source {self.asked} maps no {self.chosen.mapping.record_type}"
        lines = [f"read with {self.chosen.title}: {self.chosen.known} of {len(self.columns)} columns "
                 f"recognised ({how})"]
        if self.unmapped:
            lines.append(f"columns not mapped, kept under their own names and reported as unknown fields: "
                         f"{_listed(self.unmapped)}")
        if self.chosen.ignored:
            lines.append(f"columns ignored (no canonical field): {_listed(list(self.chosen.ignored))}")
        for rival in self.rivals:
            many = "as many" if rival.known == self.chosen.known else "nearly as many"
            lines.append(f"{rival.title} recognises {many} columns ({rival.known} of {len(self.columns)}): "
                         f"--source {rival.source} reads the export with it")
        return lines


def choose_mapping(columns: list[str], record_type: str, source: str, mappings: Mappings) -> MappingChoice:
    """The mapping `source` names, or (`auto`) the one recognising most of the columns (the first of
    salesforce, hubspot, the export-only sources (Dynamics 365, Pipedrive, Zoho CRM, an organisation's own),
    canonical on a tie); canonical field names when none recognises any, or when `source` has no mapping of
    the record type."""
    names = tuple(c for c in columns if c not in NOT_COLUMNS)
    # each source's mapping of the record type recognising most columns (a source may map several objects of
    # one type: an organisation's custom object beside the standard one)
    candidates: dict[str, Candidate] = {}
    for s in [*mappings.sources, "canonical"]:
        found = _candidates(s, names, record_type, mappings)
        if found:
            candidates[s] = max(found, key=_rank)
    if source != "auto":
        return MappingChoice(candidates.get(source, candidates["canonical"]), names, source, ())
    best = max(candidates.values(), key=_rank)  # the first of the best
    if best.known == 0:
        best = candidates["canonical"]
    margin = max(1, len(names) // 10)
    rivals = tuple(c for c in candidates.values()
                   if c is not best and c.known and c.known >= best.known - margin)
    return MappingChoice(best, names, source, rivals)


def _rank(candidate: Candidate) -> tuple[int, int]:
    return candidate.known, len(candidate.mapped)


def _candidates(source: str, columns: tuple[str, ...], record_type: str,
                mappings: Mappings) -> list[Candidate]:
    if source == "canonical":
        return [_candidate(source, columns, record_type, None)]
    return [_candidate(source, columns, record_type, m, mappings.titles.get(source, source))
            for (s, _), m in mappings.objects.items() if s == source and m.record_type == record_type]


def _candidate(source: str, columns: tuple[str, ...], record_type: str, mapping: ObjectMap | None,
               system: str = "") -> Candidate:
    if mapping is None:
        known = KNOWN_FIELDS.get(record_type, frozenset())
        # 'Email', ' EMAIL ' are email too
        folded = {c: fold_name(c) if fold_name(c).split(".", 1)[0] in known else c for c in columns}
        identity = ObjectMap(source, record_type, record_type, folded, frozenset(), (), {})
        return Candidate(source, identity,
                         tuple(c for c in columns if folded[c].split(".", 1)[0] in known), ())
    spelled = {c: mapping.spelled(c) for c in columns}  # 'FIRSTNAME' is FirstName
    mapped = tuple(c for c in columns if spelled[c] in mapping.fields)
    ignored = tuple(c for c in columns if spelled[c] not in mapping.fields and (
        spelled[c] in mapping.ignore or mapping.spelled(c.split(".", 1)[0]) in mapping.ignore
        or c.startswith(mapping.ignore_prefixes)))
    return Candidate(source, mapping, mapped, ignored, system)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown if len(names) <= LISTED else f"{shown} … and {len(names) - LISTED} more"
