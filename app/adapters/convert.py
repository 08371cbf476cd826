"""CRM-native JSON (Salesforce sObjects, HubSpot CRM v3 objects) to canonical records, and findings back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.adapters.mappings import Mappings, ObjectMap
from app.scoring import Ruleset
from app.scoring.engine import count_severities, decide, quality_score
from app.scoring.type_names import record_type_named
from app.scoring.values import epoch_ms_iso, epoch_ms_text

HUBSPOT_ALIASES = {"contact": "contacts", "company": "companies", "deal": "deals", "account": "companies",
                   "opportunity": "deals", "companies": "companies", "contacts": "contacts", "deals": "deals",
                   "accounts": "companies", "opportunities": "deals"}  # the canonical plurals too
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "false": False}


class AdapterError(ValueError):
    """The payload is not a record of a known CRM object; `loc` is the offending path."""

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(msg)
        self.loc, self.msg = loc, msg


@dataclass(frozen=True, slots=True)
class Removal:
    """The CRM says the record no longer exists: deleted (archived), or merged into another record."""

    kind: str  # "deleted" or "merged"
    source_field: str  # the CRM field that says so: IsDeleted, MasterRecordId, archived
    merged_into: str | None = None


@dataclass(frozen=True)
class Adapted:
    """One canonical record and where each of its fields came from."""

    source: str
    object: str
    record_type: str
    record: dict[str, Any]
    source_fields: dict[str, str]  # canonical path → the CRM field it came from
    mapping: ObjectMap
    removal: Removal | None = None  # a deleted or merged-away record: not to be judged nor indexed


def adapt_fields(flat: dict[str, Any], mapping: ObjectMap, mappings: Mappings,
                 related: frozenset[str] = frozenset()) -> Adapted:
    """Map one flat CRM record (`{"Email": …, "Account.Website": …}`) to a canonical record. `related`: keys
    holding other records (a relationship object, a subquery's result), whose unmapped fields are skipped."""
    record: dict[str, Any] = {}
    source_fields: dict[str, str] = {}
    held: dict[str, tuple[int, bool]] = {}  # canonical path → (rank of the CRM field holding it, filled)
    for key, value in flat.items():
        name = mapping.spelled(key)  # 'FIRSTNAME' (Data Loader's header) is FirstName
        path = mapping.fields.get(name)
        mapped = path is not None
        if path is None:
            first = key.split(".", 1)[0]
            if name in mapping.ignore or mapping.spelled(first) in mapping.ignore or first in related \
                    or key.startswith(mapping.ignore_prefixes) or first.endswith(mapping.ignore_suffixes):
                continue
            path = key  # kept under the CRM's name: reported as an unknown field
        rank, filled = mapping.rank.get(name, len(mapping.rank)), not _empty(value)
        if path in held and not _takes_over(rank, filled, held[path]):
            continue
        held[path] = (rank, filled)
        value = _coerce(path, value, mapping, mappings)
        _put(record, path, value, nested=mapped)
        source_fields[path] = key
    return Adapted(mapping.source, mapping.name, mapping.record_type, record, source_fields, mapping,
                   find_removal(flat, mapping, mappings))


def find_removal(flat: dict[str, Any], mapping: ObjectMap, mappings: Mappings) -> Removal | None:
    """Whether the record's own fields say the CRM deleted it (`removed_when`: IsDeleted, archived) or merged
    it into another (`merged_into`: MasterRecordId, which names the survivor)."""
    spelled = {mapping.spelled(k): k for k in flat}
    for name in mapping.merged_into:
        key = name if name in flat else spelled.get(name, name)  # 'MASTERRECORDID' too
        survivor = flat.get(key)
        if isinstance(survivor, str | int) and not isinstance(survivor, bool) and not _empty(survivor):
            return Removal("merged", key, str(_coerce("id", survivor, mapping, mappings)).strip())
    for name in mapping.removed_when:
        key = name if name in flat else spelled.get(name, name)  # 'ISDELETED' too
        flag = flat.get(key)
        if flag is True or (isinstance(flag, str) and flag.strip().lower() == "true"):
            return Removal("deleted", key)
    return None


def _takes_over(rank: int, filled: bool, held: tuple[int, bool]) -> bool:
    """Whether a second CRM field for the same canonical field replaces the first: the field declared first
    in the mapping wins whatever order the payload sends them in; another one only fills a blank."""
    held_rank, held_filled = held
    return filled and (not held_filled or rank < held_rank)


def from_salesforce(payload: Any, mappings: Mappings, object_hint: str | None = None) -> list[Adapted]:
    """sObjects as the REST API returns them: one record, a query result (`records`), or a list."""
    hinted = salesforce_object(object_hint, mappings) if object_hint else None
    items = _items("salesforce", payload)
    return [salesforce_entry(loc, item, hinted, mappings) for loc, item in items]


def salesforce_object(name: str, mappings: Mappings, loc: str = "query.type") -> ObjectMap:
    """The mapping an sObject type names (`Contact`), or a canonical type (`contact`, `Contacts`), in any
    case; an unknown name is an error at `loc` (by default the `?type=` it came from) naming the mapped
    ones."""
    mapping = mappings.object("salesforce", name.strip())
    record_type = record_type_named(name)
    if mapping is None and record_type is not None:
        mapping = _by_record_type(mappings, "salesforce", record_type)
    if mapping is None:
        raise AdapterError(loc, f"sObject type {name[:50]!r} has no mapping; mapped: "
                                f"{', '.join(mappings.object_names['salesforce'])}")
    return mapping


def salesforce_entry(loc: str, item: dict[str, Any], hinted: ObjectMap | None, mappings: Mappings) -> Adapted:
    """One sObject, of its own `attributes.type` or else of the `?type=` mapping `hinted`; AdapterError (at
    `loc`) when it is none of a mapped type."""
    attrs = item.get("attributes")
    if not isinstance(attrs, dict):
        _refuse_wrapper(loc, item)
    name = attrs.get("type") if isinstance(attrs, dict) else None
    if name is None or name == "":
        if hinted is None:
            raise AdapterError(f"{loc}.attributes.type", "no sObject type: send `attributes.type` or ?type=")
        mapping = hinted
    elif not isinstance(name, str):
        raise AdapterError(f"{loc}.attributes.type", "`attributes.type` must be a string (an sObject type)")
    else:
        mapping = salesforce_object(name, mappings, f"{loc}.attributes.type")
    # a relationship object (`"Account": {"attributes": …}`) or a subquery's result is another record
    related = frozenset(k for k, v in item.items()
                        if isinstance(v, dict) and (isinstance(v.get("attributes"), dict) or "records" in v))
    return adapt_fields(_flatten(item), mapping, mappings, related)


def _refuse_wrapper(loc: str, item: dict[str, Any]) -> None:
    """AdapterError for an object that wraps records rather than being one (`{"new": [sObjects], "old": […]}`,
    `{"record": {…}, "candidates": […]}`, a map by id with an entry that is no sObject): scored, the wrapper
    was a record of unknown fields. No sObject field holds a list of objects (a subquery's result is
    `{"records": […]}`), is called `record` or is named like a record id."""
    for key, value in item.items():
        if (key == "record" and isinstance(value, dict)) or \
                (isinstance(value, list) and any(isinstance(v, dict) for v in value)) or \
                (_is_sobject(value) and _SALESFORCE_ID.fullmatch(key) and any(c.isdigit() for c in key)):
            raise AdapterError(f"{loc}.{str(key)[:100]}", f"`{str(key)[:100]}` holds records inside another "
                               f"object, which is no record: {WRAPPED}")


WRAPPED = ("send one sObject, a JSON list of them, a query result (`{\"records\": […]}`), "
           "`{\"record\": {…}}` alone or a map of sObjects by id (Trigger.newMap)")


def _is_sobject(value: Any) -> bool:
    attrs = value.get("attributes") if isinstance(value, dict) else None
    return isinstance(attrs, dict) and isinstance(attrs.get("type"), str)


def payload_entries(source: str, payload: Any) -> list[tuple[str, Any]]:
    """The payload's entries with their paths (`_entries`). A Salesforce body that wraps its records (what an
    Apex callout serialises) is unwrapped: `{"record": {…}}`, and a map of sObjects by id (`Trigger.newMap`:
    `{"003…": {"attributes": …}, …}`)."""
    if source == "salesforce" and isinstance(payload, dict) and payload and "attributes" not in payload:
        if set(payload) == {"record"} and isinstance(payload["record"], dict):
            return [("body.record", payload["record"])]
        if all(map(_is_sobject, payload.values())):
            return [(f"body.{str(key)[:100]}", value) for key, value in payload.items()]
    return _entries(payload, LIST_KEYS[source], "body")


# where each system's payloads hold a list of objects (a query result, a batch read, a batch input)
LIST_KEYS = {"salesforce": ("records",), "hubspot": ("results", "inputs")}


def count_entries(source: str, payload: Any) -> int:
    """How many entries `adapt_payload` would adapt, counted before any is (so a record limit comes first)."""
    return len(payload_entries(source, payload)) if isinstance(payload, dict | list) else 1


def adapt_payload(source: str, payload: Any, mappings: Mappings,
                  object_hint: str | None = None) -> list[Adapted | AdapterError]:
    """Each entry of a webhook payload (one object, a query result or a list) adapted, or its own error, so
    one bad entry never refuses the others. Raises AdapterError only for the payload itself (not an object
    nor a list, an unknown HubSpot ?type=)."""
    if source == "salesforce":
        named = salesforce_object(object_hint, mappings) if object_hint else None

        def one(loc: str, item: dict[str, Any]) -> Adapted:
            return salesforce_entry(loc, item, named, mappings)
    else:
        hinted = hubspot_object(object_hint, mappings) if object_hint else None

        def one(loc: str, item: dict[str, Any]) -> Adapted:
            return hubspot_entry(loc, item, hinted, mappings)
    adapted: list[Adapted | AdapterError] = []
    for loc, item in payload_entries(source, payload):
        try:
            if not isinstance(item, dict):
                raise AdapterError(loc, "must be a JSON object")
            adapted.append(one(loc, item))
        except AdapterError as exc:
            adapted.append(exc)
    return adapted


def from_hubspot(payload: Any, mappings: Mappings, object_hint: str | None = None) -> list[Adapted]:
    """CRM v3 objects (`{"id", "properties", …}`), legacy ones as workflow webhooks send them (`{"vid",
    "properties": {"email": {"value": …}}}`) and a workflow's customised flat body: one object,
    `{"results": […]}` or `{"inputs": […]}`."""
    hinted = hubspot_object(object_hint, mappings) if object_hint else None
    items = _items("hubspot", payload)
    return [hubspot_entry(loc, item, hinted, mappings) for loc, item in items]


def hubspot_entry(loc: str, item: dict[str, Any], hinted: ObjectMap | None, mappings: Mappings) -> Adapted:
    """One HubSpot object; AdapterError (at `loc`) when it is none."""
    if "subscriptionType" in item:
        raise AdapterError(loc, "a HubSpot event notification carries no record: send the object itself "
                           "(a workflow webhook, or the object read from the CRM API)")
    top = mappings.hubspot_top_level
    if "properties" in item:
        props, rest = item["properties"], {k: v for k, v in item.items() if k not in ("properties", *top)}
        if not isinstance(props, dict):
            raise AdapterError(f"{loc}.properties", "a HubSpot object has its fields in `properties`")
    else:  # a workflow's customised body: the chosen properties, flat
        props, rest = {k: v for k, v in item.items() if k not in top}, {}
    props = {key: _property_value(value) for key, value in props.items()}
    mapping = hinted or _hubspot_mapping(item.get("objectType"), props, mappings)
    if mapping is None:
        where = f"{loc}.properties" if "properties" not in item else loc
        raise AdapterError(where, "cannot tell a company, contact or deal from these properties (a HubSpot "
                           "object has them in `properties`): send ?type=companies, contacts or deals")
    flat = {f"@{key}": _id_text(item[key]) if top[key] == "id" else item[key] for key in top if key in item}
    flat.update(props)
    flat.update(rest)
    adapted = adapt_fields(flat, mapping, mappings)
    for path, (value, source) in read_associations(item, mapping.record_type).items():
        if _empty(adapted.record.get(path)):  # a property (a contact's associatedcompanyid) comes first
            adapted.record[path] = value
            adapted.source_fields[path] = source
    return adapted


def read_associations(item: dict[str, Any], record_type: str) -> dict[str, tuple[Any, str]]:
    """What a HubSpot object's associations say, with where each was read: a deal's or contact's company is
    its account_id, and a deal's contacts with an association label are its contact roles (the label is the
    role: 'Decision maker', 'Champion'). A HubSpot deal has no company property: without this every deal
    lacked its account and no cross-record rule saw it. Unlabeled contacts name no role.

    CRM v3/v4 objects (`?associations=companies,contacts`): the primary company (v3's `deal_to_company` /
    `contact_to_company` type, v4's 'Primary' label), else the first. The legacy objects a workflow's webhook
    posts: a deal's `associations.associatedCompanyIds` (its first company; `associatedVids`, its contacts,
    carry no label, so no role), a contact's `associated-company.company-id`."""
    if record_type not in ("opportunity", "contact"):
        return {}
    value, found = item.get("associations"), {}
    value = value if isinstance(value, dict) else {}
    companies = _associated(value.get("companies"), "deal" if record_type == "opportunity" else "contact")
    if companies:
        found["account_id"] = (next((i for i, _, primary in companies if primary), companies[0][0]),
                               "associations.companies")
    else:
        legacy = item.get("associated-company")
        legacy_ids = [legacy.get("company-id")] if isinstance(legacy, dict) else []
        for source, ids in (("associations.associatedCompanyIds", value.get("associatedCompanyIds")),
                            ("associated-company.company-id", legacy_ids)):
            first = next((i for i in map(_legacy_id, ids if isinstance(ids, list) else []) if i), None)
            if first is not None:
                found["account_id"] = (first, source)
                break
    if record_type == "opportunity":
        contacts = _associated(value.get("contacts"), "deal")
        # a contact in two roles (Champion and Decision maker) holds both
        roles = [{"contact_id": i, "role": label} for i, labels, _ in contacts for label in labels]
        if roles:
            found["contact_roles"] = (roles, "associations.contacts")
    return found


def _legacy_id(value: Any) -> str | None:
    """A legacy API's object id (a number, or its text); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value).strip() or None


_DEFAULT_TYPE = re.compile(r"[a-z]+_to_[a-z]+(?:_unlabeled)?")  # HubSpot's own association types, no label


def _associated(block: Any, own: str) -> list[tuple[str, list[str], bool]]:
    """(id, labels, primary) of each associated object of one kind: v3 `{"results": [{"id", "type"}]}`, v4
    `{"results": [{"toObjectId", "associationTypes": [{"typeId", "label"}]}]}` or a bare list of either."""
    entries = block.get("results") if isinstance(block, dict) else block
    found: dict[str, tuple[list[str], bool]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        raw_id = entry.get("id", entry.get("toObjectId"))
        key = str(_id_text(raw_id)).strip() if not isinstance(raw_id, bool | dict | list | None) else ""
        if not key:
            continue
        labels, primary = found.get(key, ([], False))
        kinds = entry.get("associationTypes")  # v4: each type's label (None where unlabelled)
        names = [k.get("label") for k in kinds if isinstance(k, dict)] if isinstance(kinds, list) else []
        kind = entry.get("type")  # v3: 'deal_to_company', 'deal_to_contact_unlabeled', or a label's own name
        if isinstance(kind, str) and not _DEFAULT_TYPE.fullmatch(kind):
            names.append(kind.replace("_", " "))  # 'decision_maker': a labelled association, as v3 names it
        primary = primary or kind == f"{own}_to_company" or "Primary" in names
        labels += [n.strip() for n in names if isinstance(n, str) and n.strip() and n != "Primary"
                   and n.strip() not in labels]
        found[key] = (labels, primary)
    return [(i, labels, primary) for i, (labels, primary) in found.items()]


def _property_value(value: Any) -> Any:
    """A legacy API property (`{"value": "Bryan", "versions": […], "timestamp": …}`) is its value."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _id_text(value: Any) -> Any:
    """HubSpot's ids are text in CRM v3; the legacy `vid` / `dealId` / `companyId` are numbers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def annotate(report: dict[str, Any], adapted: Adapted, rules: Ruleset) -> dict[str, Any]:
    """Name the CRM's fields in a report: next to each finding's canonical field (`"source_field": "Email"`),
    and for each missing requirement (`completeness.missing_source_fields`: `{"title": "Title"}`, None where
    no CRM field is mapped to it). Adds where the record came from (`source`)."""
    names = SourceNames.of(adapted, rules)
    for issue in report.get("issues", []):
        issue["source_field"] = names.for_issue(issue)
    if adapted.source == "hubspot":
        _fit_hubspot_fields(report, rules)
    completeness = report.get("completeness")
    if isinstance(completeness, dict) and isinstance(completeness.get("missing"), list):
        completeness["missing_source_fields"] = {name: names.for_requirement(name)
                                                 for name in completeness["missing"]}
    report["source"] = {"system": adapted.source, "object": adapted.object}
    return report


_ENUMERATION_ID = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


def _fit_hubspot_fields(report: dict[str, Any], rules: Ruleset) -> None:
    """`fit_hubspot_issues` over a whole report: its counts, quality score and decision follow the findings
    that remain."""
    issues = report.get("issues")
    if not isinstance(issues, list):
        return
    kept = fit_hubspot_issues(issues, rules)
    if len(kept) < len(issues):
        report["issues"] = kept
        report["counts"] = count_severities(kept)
        report["quality_score"] = quality_score(report["completeness"]["score"], report["accuracy"]["score"],
                                                kept, rules)
        report["decision"] = decide(kept, rules)


def fit_hubspot_issues(issues: list[dict[str, Any]], rules: Ruleset) -> list[dict[str, Any]]:
    """Suggestions HubSpot's own fields can hold (findings need their `source_field`). Its company `domain`
    holds a bare domain (HubSpot associates contacts by it), so a website suggestion there is the bare host,
    and none when the domain is already it ('https://acme.com' written back would break the association);
    its `industry` is an enumeration (COMPUTER_SOFTWARE), so 'Technology' is no value it takes and an
    enumeration id is no nonstandard value."""
    kept = []
    for issue in issues:
        rule_id, value = issue["rule"], issue.get("value")
        if rule_id.endswith(".website.nonstandard") and issue.get("source_field") == "domain":
            suggested = issue.get("suggestion")
            host = _bare_host(suggested)
            if host is None or (isinstance(value, str) and host == value.strip().lower()):
                continue
            issue["suggestion"] = host
            issue["message"] = _resuggest(issue.get("message"), str(suggested), host)
        elif rule_id.endswith(".industry.nonstandard") and isinstance(value, str) and len(value.strip()) > 3 \
                and _ENUMERATION_ID.fullmatch(value.strip()) and rules.industry(value) is not None:
            continue  # one of HubSpot's enumeration ids the rules know (not 'IT', not an unknown id)
        kept.append(issue)
    return kept


def _resuggest(message: Any, old: str, new: str) -> Any:
    """The message with the suggestion it ends on replaced, so it says what `suggestion` says ('…is better
    stored as https://acme.com.' told of a suggestion of 'acme.com'). The last occurrence: the value quoted
    before it may contain it ('https://acme.com/')."""
    if not isinstance(message, str) or not old:
        return message
    head, found, tail = message.rpartition(old)
    return head + new + tail if found else message


def _bare_host(url: Any) -> str | None:
    """'acme.com' of 'https://acme.com' (the canonical website form: no path means a site)."""
    if not isinstance(url, str) or "://" not in url:
        return None
    host = url.split("://", 1)[1].split(":", 1)[0]  # HubSpot's domain holds no port either
    return None if "/" in host or not host else host.lower()


class SourceNames:
    """Canonical field → the CRM field(s) a caller knows it by, for one adapted record.

    A field the record carried is named as the record named it. Otherwise the mapping's name is used,
    preferring the naming style the record itself uses (a HubSpot CSV export's "Job Title" over the API's
    "jobtitle", a Salesforce report's "Mailing City" over the API's "MailingCity"). A requirement names every
    field that fills it: "FirstName, LastName" (all of) or "Email or Phone" (any of).
    """

    _reverse_cache: dict[tuple[int, bool], tuple[ObjectMap, dict[str, str]]] = {}
    _groups_cache: dict[tuple[int, str], tuple[Ruleset, dict[str, tuple[list[str], str]]]] = {}

    def __init__(self, reverse: dict[str, str], groups: dict[str, tuple[list[str], str]]) -> None:
        self.reverse, self.groups = reverse, groups

    @classmethod
    def of(cls, adapted: Adapted, rules: Ruleset) -> SourceNames:
        """The names of one adapted record (the mapping's reverse and the requirements cached per mapping)."""
        used = [k for k in adapted.source_fields.values() if not k.startswith("@")]
        if adapted.source == "salesforce":  # API names are CamelCase; a report's labels have spaces
            labels = sum(" " in k for k in used) > sum(bool(_CAMEL.search(k)) for k in used)
        else:
            labels = 2 * sum(map(_is_label, used)) > len(used)
        reverse = dict(cls._mapping_reverse(adapted.mapping, labels))
        reverse.update({p: k.lstrip("@") for p, k in adapted.source_fields.items()})
        return cls(reverse, cls._requirements(rules, adapted.record_type))

    @classmethod
    def _mapping_reverse(cls, mapping: ObjectMap, labels: bool) -> dict[str, str]:
        key = (id(mapping), labels)
        cached = cls._reverse_cache.get(key)
        if cached is not None and cached[0] is mapping:
            return cached[1]
        reverse: dict[str, str] = {}
        for name, path in mapping.fields.items():
            name = name.lstrip("@")
            current = reverse.get(path)
            if current is None or _fit(name, labels, mapping.source) > _fit(current, labels, mapping.source):
                reverse[path] = name
        _bounded(cls._reverse_cache)[key] = (mapping, reverse)
        return reverse

    @classmethod
    def _requirements(cls, rules: Ruleset, record_type: str) -> dict[str, tuple[list[str], str]]:
        key = (id(rules), record_type)
        cached = cls._groups_cache.get(key)
        if cached is not None and cached[0] is rules:
            return cached[1]
        groups = {r.name: r.paths() for r in getattr(rules.file.completeness, record_type).required}
        _bounded(cls._groups_cache)[key] = (rules, groups)
        return groups

    def for_issue(self, issue: dict[str, Any]) -> str | None:
        """A finding's field; a missing requirement names every field that would fill it."""
        field = str(issue.get("field") or "")
        if str(issue.get("rule", "")).endswith(".required.missing") and field in self.groups:
            return self.for_requirement(field)
        return self.for_field(field)

    def for_requirement(self, name: str) -> str | None:
        """A requirement of the completeness rules (`full_name`, `phone`, `hq_location`)."""
        group = self.groups.get(name)
        if group is None:
            return self.for_field(name)
        paths, how = group
        found = list(dict.fromkeys(n for n in map(self._path, paths) if n))
        return (" or " if how == "any" else ", ").join(found) or None

    def for_field(self, field: str) -> str | None:
        """A canonical field (`email`, `billing_address.city`), object (`mailing_address`) or requirement."""
        if field in self.reverse or field not in self.groups:
            return self._path(field)
        return self.for_requirement(field)

    def _path(self, path: str) -> str | None:
        if not path:
            return None
        if path in self.reverse:
            return self.reverse[path]
        inside = list(dict.fromkeys(n for p, n in self.reverse.items() if p.startswith(path + ".")))
        return ", ".join(inside) or None


def _bounded(cache: dict[Any, Any], most: int = 64) -> dict[Any, Any]:
    """`cache`, emptied first when full: a server has one ruleset and one set of mappings, but tests and
    worker processes make many, and each entry holds its ruleset or mapping alive."""
    if len(cache) >= most:
        cache.clear()
    return cache


def _is_label(name: str) -> bool:
    """A display label ("Job Title", "Email") rather than a HubSpot API name ("jobtitle")."""
    return " " in name or name != name.lower()


_CAMEL = re.compile(r"[a-z][A-Z]")


def _fit(name: str, labels: bool, source: str) -> int:
    """How well a CRM field's name fits a record's naming style, labels or API names (higher fits better).
    Salesforce's API names and report labels share single words ("Email", "Phone"); of the others, API
    names are CamelCase ("MailingCity", "StageName") and labels have spaces ("Mailing City") or are single
    words ("Stage", "Mobile")."""
    if source != "salesforce":
        return int(_is_label(name) == labels)
    if not labels:
        return int(" " not in name)
    return 2 if " " in name else int(not _CAMEL.search(name))


def _items(source: str, payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """`payload_entries`, each a JSON object (else an AdapterError at its path)."""
    entries = payload_entries(source, payload)
    for where, value in entries:
        if not isinstance(value, dict):
            raise AdapterError(where, "must be a JSON object")
    return entries


def _entries(payload: Any, list_keys: tuple[str, ...], loc: str) -> list[tuple[str, Any]]:
    """The payload's entries with their paths: the list under one of `list_keys`, the list, or the object."""
    if isinstance(payload, dict):
        for key in list_keys:
            if isinstance(payload.get(key), list):
                return [(f"{loc}.{key}.{i}", value) for i, value in enumerate(payload[key])]
        return [(loc, payload)]
    if isinstance(payload, list):
        return [(f"{loc}.{i}", value) for i, value in enumerate(payload)]
    raise AdapterError(loc, f"expected a JSON object or a list of objects, got {type(payload).__name__}")


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" not in value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _by_record_type(mappings: Mappings, source: str, record_type: str) -> ObjectMap | None:
    return next((m for (s, _), m in mappings.objects.items() if s == source and m.record_type == record_type),
                None)


def hubspot_object(name: str, mappings: Mappings) -> ObjectMap:
    """The mapping a `?type=` names (`contacts`, `contact`, `deals`, `opportunity`, a mapped custom object);
    an unknown name is an error naming the known ones, never a guess."""
    name = name.strip()
    found = mappings.object("hubspot", HUBSPOT_ALIASES.get(name.lower(), name))
    if found is None:
        known = dict.fromkeys([*mappings.object_names["hubspot"], *HUBSPOT_ALIASES])
        raise AdapterError("query.type", f"HubSpot object type {name!r} has no mapping; "
                                         f"known: {', '.join(known)}")
    return found


def _hubspot_mapping(object_type: Any, props: dict[str, Any], mappings: Mappings) -> ObjectMap | None:
    """The object's own `objectType`, else the mapping whose `identify_by` properties it has most (the first
    declared on a tie); None when it has none of them."""
    named = HUBSPOT_ALIASES.get(str(object_type or "").lower())
    if named is not None:
        return mappings.object("hubspot", named)
    keys = set(props)
    hits = [(len(keys & m.identify_by), m) for (s, _), m in mappings.objects.items() if s == "hubspot"]
    best = max((n for n, _ in hits), default=0)
    return next((m for n, m in hits if n == best), None) if best else None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_LARGEST_INT = 2**63 - 1  # orjson writes no larger integer


def _coerce(path: str, value: Any, mapping: ObjectMap, mappings: Mappings) -> Any:
    if path == "contact_roles" and isinstance(value, dict) and isinstance(value.get("records"), list):
        return [_contact_role(r, mapping) for r in value["records"]]  # a Salesforce subquery's result
    if not isinstance(value, str):
        return value
    if path in mapping.record_ids:
        return salesforce_id(value)
    if path == "stage" and value.strip().lower() in mapping.stages:
        return mapping.stages[value.strip().lower()]
    kind = mappings.coerce.get(path)
    text = value.strip()
    if kind == "boolean" and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    # HubSpot's dates in event notifications are milliseconds since the epoch (`epoch_ms_text`: epoch seconds,
    # which it never writes, and digits with a leading zero stay text, which the date rules judge). Unlike a
    # suggestion (`read_date`), digits that begin with a yyyymmdd date are read too, as HubSpot writes no
    # other kind (1900022400000 is 2030-03-18, not 1900-02-24 at 00:00), and so is an instant in a date field
    # (a conversion that loses nothing, where a suggestion would store a day)
    if kind == "timestamp_ms" and epoch_ms_text(text):
        return epoch_ms_iso(text) or value  # before year 1: left as text, so the date rules judge it
    if kind == "multi_value" and text:
        return [part.strip() for part in text.split(";") if part.strip()]
    if kind in ("number", "integer") and _NUMBER.fullmatch(text):
        number = float(text)
        if kind == "integer" and number.is_integer() and abs(number) <= _LARGEST_INT:
            return int(number)
        return number  # '1e20' employees stays a float: JSON answers hold 64-bit integers at most
    return value


_CONTACT_ROLE_FIELDS = {"ContactId": "contact_id", "Role": "role", "IsPrimary": "is_primary"}


def _contact_role(entry: Any, mapping: ObjectMap) -> Any:
    """An OpportunityContactRole as a canonical contact role (other fields and non-objects as sent)."""
    if not isinstance(entry, dict):
        return entry
    role = {_CONTACT_ROLE_FIELDS.get(k, k): v for k, v in entry.items() if k != "attributes"}
    if isinstance(role.get("contact_id"), str) and "contact_roles.contact_id" in mapping.record_ids:
        role["contact_id"] = salesforce_id(role["contact_id"])
    return role


_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SALESFORCE_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?")


def salesforce_id(value: str) -> str:
    """The 18-character form of a Salesforce id: the 15-character (case-sensitive) id plus the checksum that
    encodes the case of its letters, five at a time. A 15-character id, its 18-character form and that form
    lower-cased (whose suffix still tells the case) are one record; anything else is left as sent."""
    text = value.strip()
    if not _SALESFORCE_ID.fullmatch(text):
        return value
    base = text[:15]
    if len(text) == 18:  # re-case the id from its suffix, which survives lower-casing
        bits = [_ID_SUFFIX.index(c) for c in text[15:].upper()]
        cased = [c.upper() if bits[i // 5] >> (i % 5) & 1 else c.lower() for i, c in enumerate(base)]
        if any(c.isdigit() and bits[i // 5] >> (i % 5) & 1 for i, c in enumerate(base)):
            return value  # the suffix marks a digit as upper case: not a Salesforce id
        base = "".join(cased)
    suffix = "".join(_ID_SUFFIX[sum(1 << i for i, c in enumerate(base[n:n + 5]) if "A" <= c <= "Z")]
                     for n in range(0, 15, 5))
    return base + suffix


def _put(record: dict[str, Any], path: str, value: Any, nested: bool) -> None:
    *parents, last = path.split(".") if nested else [path]
    node = record
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value
