"""HubSpot webhook event notifications (an app's subscriptions) to partial records, through the same mappings.

HubSpot POSTs a JSON array of events (up to 100), each like `{"eventId", "subscriptionId", "portalId",
"appId", "occurredAt", "subscriptionType": "contact.propertyChange", "attemptNumber", "objectId",
"propertyName", "propertyValue", "changeSource", "sourceId"}`; the generic
format says `"subscriptionType": "object.propertyChange"` with `"objectTypeId": "0-1"`. A property change
carries only that property, so the changes of one object are grouped into one partial record (the latest
value of a property wins, by `occurredAt`, then `eventId`). Creation, deletion, merge, restore, association
and privacy events carry no property values: they are acknowledged, not scored. An event that is not well
formed (no objectId, no propertyName) is rejected on its own: HubSpot retries a whole delivery it did not get
a 2xx for, so one bad event must not hold back the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.adapters.convert import (
    HUBSPOT_ALIASES,
    Adapted,
    AdapterError,
    SourceNames,
    adapt_fields,
    fit_hubspot_issues,
)
from app.adapters.mappings import Mappings
from app.scoring import Options, Ruleset, score_record
from app.scoring.engine import decide
from app.scoring.values import clip_value, get_path, is_filled

# the generic ("object.*") format names standard objects by type id
OBJECT_TYPE_IDS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}
NO_VALUES = {
    "creation": "a creation event carries no property values: its property changes (or the object read "
                "from the CRM API) are what gets scored",
    "deletion": "deleted in HubSpot: nothing to score",
    "privacyDeletion": "deleted for privacy in HubSpot: nothing to score",
    "merge": "a merge event carries no property values",
    "restore": "a restore event carries no property values",
    "associationChange": "an association change carries no property values",
}


@dataclass
class ObjectChanges:
    """The property changes of one HubSpot object in this delivery, as a partial canonical record."""

    object: str
    object_id: str
    properties: dict[str, Any]
    event_ids: list[Any]
    adapted: Adapted


@dataclass
class EventBatch:
    """What one delivery holds: objects whose properties changed, and the events only acknowledged."""

    received: int
    changes: list[ObjectChanges] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)


def is_event_delivery(payload: Any) -> bool:
    """Whether a HubSpot webhook body holds event notifications (an array of events, or one), not objects."""
    items = payload if isinstance(payload, list) else [payload]
    return bool(items) and all(isinstance(i, dict) for i in items) and any(_subscription(i) for i in items)


def from_hubspot_events(payload: Any, mappings: Mappings) -> EventBatch:
    """Group property changes per object into partial records; acknowledge every other event."""
    items = payload if isinstance(payload, list) else [payload]
    batch = EventBatch(received=len(items))
    grouped: dict[tuple[str, str], list[tuple[Any, Any, str, Any]]] = {}
    for n, event in enumerate(items):
        loc = f"body.{n}" if isinstance(payload, list) else "body"
        if not isinstance(event, dict):  # is_event_delivery admits none; a caller that did not ask is told
            raise AdapterError(loc, "must be a JSON object (a HubSpot event)")
        subscription = _subscription(event)
        if subscription is None:
            batch.acknowledged.append(_rejected(event, f"{loc}.subscriptionType", "every event needs its "
                                                "subscriptionType, such as contact.propertyChange"))
            continue
        kind, _, action = subscription.partition(".")
        if kind == "object":
            type_id = str(event.get("objectTypeId"))
            kind = OBJECT_TYPE_IDS.get(type_id, f"objectTypeId {type_id}")
        name = HUBSPOT_ALIASES.get(kind.lower())
        mapping = mappings.object("hubspot", name) if name else None
        if action != "propertyChange" or mapping is None:
            note = NO_VALUES.get(action, f"{action or 'this'} events are not scored")
            if mapping is None:
                note = f"HubSpot object type {kind!r} has no mapping: not scored"
            status = "ignored" if mapping is None else "acknowledged"
            ack = _ack(event, subscription, name or kind, status, note)
            if action == "merge" and mapping is not None:
                ack["merged_object_ids"] = merged_away(event)
            batch.acknowledged.append(ack)
            continue
        object_id, prop = event.get("objectId"), event.get("propertyName")
        if not isinstance(object_id, int | str) or isinstance(object_id, bool) or str(object_id) == "":
            batch.acknowledged.append(_rejected(event, f"{loc}.objectId",
                                                "a propertyChange event needs the objectId it changed"))
            continue
        if not isinstance(prop, str) or not prop:
            batch.acknowledged.append(_rejected(event, f"{loc}.propertyName",
                                                "a propertyChange event needs its propertyName"))
            continue
        occurred = event.get("occurredAt")
        order = occurred if isinstance(occurred, int | float) and not isinstance(occurred, bool) else 0
        grouped.setdefault((mapping.name, str(object_id)), []).append(
            (order, clip_value(event.get("eventId")), prop, event.get("propertyValue")))
    for (name, object_id), changes in grouped.items():
        mapping = mappings.object("hubspot", name)
        assert mapping is not None
        changes.sort(key=lambda c: (c[0], _sortable(c[1])))
        properties = {prop: value for _, _, prop, value in changes}  # the latest value of each property
        flat = {**properties, "@id": object_id}  # a property named "@id" must not replace the object's id
        batch.changes.append(ObjectChanges(name, object_id, properties, [c[1] for c in changes],
                                           adapt_fields(flat, mapping, mappings)))
    return batch


def _subscription(event: dict[str, Any]) -> str | None:
    value = event.get("subscriptionType") or event.get("eventType")  # older deliveries said eventType
    return value if isinstance(value, str) and "." in value else None


def _ack(event: dict[str, Any], subscription: str, name: str, status: str, note: str) -> dict[str, Any]:
    object_id = event.get("objectId")
    scalar_id = isinstance(object_id, int | str) and not isinstance(object_id, bool)
    return {"event_id": clip_value(event.get("eventId")), "subscription_type": subscription, "object": name,
            "object_id": str(object_id)[:200] if scalar_id else None,
            "status": status, "note": note}


def _rejected(event: dict[str, Any], loc: str, msg: str) -> dict[str, Any]:
    """An event that is not well formed, answered on its own (its delivery's other events still count)."""
    subscription = _subscription(event)
    return {**_ack(event, subscription or "unknown", "unknown", "rejected", msg), "loc": loc}


def merged_away(event: dict[str, Any]) -> list[str]:
    """The objects a merge event says no longer exist: `mergedObjectIds` (and the primary object when the
    merge made a new one), never the object that survived (`newObjectId`, else `primaryObjectId`, else
    `objectId`)."""
    survivor = next((event[k] for k in ("newObjectId", "primaryObjectId", "objectId") if _scalar(event.get(k))),
                    None)
    merged = event.get("mergedObjectIds")
    ids = [i for i in merged if _scalar(i)] if isinstance(merged, list) else []
    if _scalar(event.get("primaryObjectId")):
        ids.append(event["primaryObjectId"])
    gone = dict.fromkeys(str(i)[:200] for i in ids)
    gone.pop(str(survivor)[:200] if survivor is not None else "", None)
    return list(gone)[:100]


def _scalar(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool) and str(value) != ""


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value))


PARTIAL_NOTE = ("A property-change notification carries only the changed properties, so this is a partial "
                "record: completeness, the quality score, qualification and the lead score are not judged "
                "(they would count every property HubSpot did not send as missing). Findings are about the "
                "changed properties only; score the whole object (read from the CRM API, or sent by a "
                "workflow) for the rest.")
_ABSENCE = ("completeness",)


def partial_report(change: ObjectChanges, rules: Ruleset, now: datetime,
                   options: Options | None = None) -> dict[str, Any]:
    """Judge one object's changed properties: the findings about them, their accuracy and a decision."""
    adapted = change.adapted
    full = score_record(adapted.record_type, adapted.record, rules, now=now, options=options)
    names = SourceNames.of(adapted, rules)
    by_property = {key: path for path, key in adapted.source_fields.items() if not key.startswith("@")}
    changed_paths = {path: get_path(adapted.record, path) for path in by_property.values()}

    def related(field: str) -> list[str]:
        wanted = [field, *names.groups.get(field, ([], ""))[0]]
        return [p for p in changed_paths
                if any(p == w or p.startswith(w + ".") or w.startswith(p + ".") for w in wanted)]

    issues = []
    for issue in full["issues"]:
        paths = related(str(issue.get("field") or ""))
        if not paths:
            continue  # about a property HubSpot did not send: an artefact of the partial record
        rule_id = str(issue.get("rule", ""))
        absence = issue.get("category") in _ABSENCE or rule_id.endswith((".missing", ".gaps"))
        if absence and all(is_filled(changed_paths[p], rules.empty_values) for p in paths):
            continue  # "missing" only because its other fields were not sent
        issue["source_field"] = names.for_issue(issue)
        issues.append(issue)
    issues = fit_hubspot_issues(issues, rules)  # as on whole objects: a bare domain, an industry enumeration
    counts = dict.fromkeys(full["counts"], 0)
    for issue in issues:
        counts[issue["severity"]] += 1
    return {
        "record_type": adapted.record_type, "record_id": change.object_id, "partial": True,
        "source": {"system": adapted.source, "object": adapted.object},
        "event_ids": change.event_ids,
        "changed": [{"property": prop, "field": by_property.get(prop), "value": clip_value(value)}
                    for prop, value in change.properties.items()],
        "accuracy": full["accuracy"], "issues": issues, "counts": counts,
        "normalized": {k: v for k, v in full["normalized"].items() if related(k)},
        "decision": decide(issues, rules), "note": PARTIAL_NOTE, "rules_version": full["rules_version"],
    }
