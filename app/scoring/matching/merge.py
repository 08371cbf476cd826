"""Clusters, survivors, merge plans and merge priority: advice only, never executed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.models.records import KNOWN_FIELDS
from app.scoring.formats import URL_SCHEMES, check_email, check_url
from app.scoring.values import CLOCK_SKEW, is_filled, link_id, parse_datetime, parse_number

_EMPTY: tuple[Any, ...] = (None, "", [], {})
# what the CRM writes about a record rather than what is known of the customer: a record touched in 2019 and
# flagged bounced had more fields than a current one and was kept as the survivor (helper-28)
RECORD_METADATA = frozenset({"id", "created_at", "updated_at", "last_activity_at", "last_verified_at",
                             "stage_changed_at", "email_bounced"})
_NOTHING = (0, False)  # a nested counter at 0 (behavior.email_opens) or a flag that is off tells nothing


def usable(field: str, value: Any) -> bool:
    """False for an email or website no one can use (it fails its format check, cached by value as the rules
    call it): a 2019 record with 'jon.whitaker@northwind' and one more field survived a current one with the
    valid address, and the plan dropped the valid address since the survivor's email was 'filled'. Phones
    are not judged here: a national number is valid only in its record's country ('020 7946 0958' is a
    London number, no US one), which a survivor's ranking does not know."""
    if value.__class__ is not str:
        return True
    if field == "email":
        return check_email(value).ok
    if field == "website":
        return check_url(value, True, URL_SCHEMES).ok
    return True


def placeholder_in(field: str, value: Any, field_empty: Mapping[str, frozenset[str]] | None) -> bool:
    """Whether a value is one of its field's own placeholders (`[completeness] field_empty_values`: an owner
    'Unassigned' or 0), judged as `present_fields` judges them: its text, stripped and lower-cased."""
    placeholders = field_empty.get(field) if field_empty else None
    return placeholders is not None and value is not None and value.__class__ is not bool \
        and str(value).strip().lower() in placeholders


def completeness_count(record: dict[str, Any], empty_values: frozenset[str] = frozenset(),
                       record_type: str | None = None,
                       field_empty: Mapping[str, frozenset[str]] | None = None) -> int:
    """How many of the customer's fields hold a value (nested objects count their filled leaves, not zeros);
    ranks survivors cheaply. Not counted: the record's metadata (timestamps, id), an email that bounced, an
    email or website that fails its check (`usable`) and, given `record_type`, a field the canonical
    record does not define (a legacy export's 'fax' and 'legacy_id' made a stale record the survivor).
    `empty_values`: placeholders that count as blank (the rules file's; a record of 'N/A's is no survivor);
    `field_empty`: a field's own ones (an 'Unassigned' owner)."""
    count = 0
    bounced = record.get("email_bounced") in (True, "true", "True", 1)
    known = KNOWN_FIELDS.get(record_type) if record_type else None
    for field, value in record.items():
        if field in RECORD_METADATA or value in _EMPTY \
                or (value.__class__ is str and value.strip().lower() in empty_values) \
                or (known is not None and field not in known) or not usable(field, value) \
                or placeholder_in(field, value, field_empty):
            continue
        if isinstance(value, dict):
            count += sum(1 for v in value.values()
                         if not (v in _EMPTY or (v.__class__ in (int, bool) and v in _NOTHING)
                                 or (v.__class__ is str and v.strip().lower() in empty_values)))
        elif not (field == "email" and bounced):
            count += 1
    return count


def recency(record: dict[str, Any], latest: float = float("inf")) -> float:
    """Timestamp of the most recent activity or update, 0 when unknown. A date after `latest` (now, plus a
    day) is a data error, not recent activity: the next field is read instead (a last activity in 2999 made
    its record the survivor of every cluster it was in)."""
    for field in ("last_activity_at", "updated_at", "created_at"):
        when = parse_datetime(record.get(field))
        if when is not None and (stamp := when.timestamp()) <= latest:
            return stamp
    return 0.0


class Ranking:
    """Completeness and recency per record id, each computed once, recency only when completeness ties."""

    def __init__(self, records: Mapping[str, dict[str, Any]], empty_values: frozenset[str] = frozenset(),
                 record_type: str | None = None,
                 field_empty: Mapping[str, frozenset[str]] | None = None) -> None:
        self.records = records
        self.empty_values = empty_values  # placeholders ('N/A') that count as blank
        self.field_empty = field_empty  # ... and a field's own ones (an 'Unassigned' owner)
        self.record_type = record_type  # its canonical fields are the ones counted (`completeness_count`)
        self.latest = (datetime.now(UTC) + CLOCK_SKEW).timestamp()  # dates after it are no activity
        self._complete: dict[str, int] = {}
        self._recent: dict[str, float] = {}

    def __call__(self, rid: str) -> tuple[int, float]:
        return self.completeness(rid), self.recency(rid)

    def completeness(self, rid: str) -> int:
        """Filled fields; a stream keeps only a summary of each record, with the count as `_filled`."""
        value = self._complete.get(rid)
        if value is None:
            record = self.records[rid]
            value = self._complete[rid] = (record.get("_filled")
                                           or completeness_count(record, self.empty_values, self.record_type,
                                                                 self.field_empty))
        return value

    def recency(self, rid: str) -> float:
        value = self._recent.get(rid)
        if value is None:
            value = self._recent[rid] = recency(self.records[rid], self.latest)
        return value


def survivor_of(members: Sequence[str], rank: Ranking) -> str:
    """Most complete record, then the most recent activity, then the first given."""
    best = members[0]
    for candidate in members[1:]:
        c_new, c_best = rank.completeness(candidate), rank.completeness(best)
        if c_new > c_best or (c_new == c_best and rank.recency(candidate) > rank.recency(best)):
            best = candidate
    return best


def merge_plan(survivor: str, others: Sequence[str], rank: Ranking) -> dict[str, Any]:
    """Fields the survivor lacks (blank, a placeholder, its field's own placeholder such as an 'Unassigned'
    owner, or an email or website that fails its check), filled from the most complete other record that has
    a usable value; not the record's metadata (the CRM keeps its own timestamps, and another record's bounce
    is no fact about the survivor's address). A value that replaces an unusable one says so (`replaces`)."""
    plan: dict[str, Any] = {}
    records, empty, own = rank.records, rank.empty_values, rank.field_empty
    kept = records[survivor]
    for other in sorted(others, key=lambda o: -rank.completeness(o)):
        for field, value in records[other].items():
            if field in plan or field in RECORD_METADATA or field.startswith("_") \
                    or not is_filled(value, empty) or not usable(field, value) \
                    or placeholder_in(field, value, own):
                continue
            current = kept.get(field)
            if not is_filled(current, empty) or placeholder_in(field, current, own):
                plan[field] = {"value": value, "from": other}
            elif not usable(field, current):
                plan[field] = {"value": value, "from": other, "replaces": current}
    return plan


class GuardedClusters:
    """Union-find that refuses a merge when the two groups do not match on average.

    Edges are applied strongest first. An edge above the auto-merge line joins its groups; a weaker one
    joins two groups only when the mean score of all their cross pairs reaches the threshold, so one weak
    link cannot chain two unrelated groups into one cluster. Past `SAMPLE` members a side is represented by
    `SAMPLE` of them spread evenly over its member list, so the question costs at most `SAMPLE`² pairs
    however large the groups grow (a company entered 2,000 times).
    """

    SAMPLE = 24

    def __init__(self, score_of: Callable[[list[tuple[str, str]]], list[float]], threshold: float,
                 strong: float) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.score_of, self.threshold, self.strong = score_of, threshold, strong
        # merges refused, by the two groups as they were (a group only grows, so root and size name it)
        self._refused: set[tuple[str, int, str, int]] = set()

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        self.members.setdefault(x, [x])
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def link(self, a: str, b: str, score: float) -> bool:
        """Join a's and b's groups if the edge is strong or they match on average; True when joined."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if score <= self.strong and (len(self.members[ra]) > 1 or len(self.members[rb]) > 1):
            asked = (ra, len(self.members[ra]), rb, len(self.members[rb]))
            if asked in self._refused:
                return False
            cross = [(x, y) for x in _spread(self.members[ra], self.SAMPLE)
                     for y in _spread(self.members[rb], self.SAMPLE)]
            scores = self.score_of(cross)
            if sum(scores) / len(scores) < self.threshold:
                self._refused.add(asked)
                return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return True

    def groups(self) -> list[list[str]]:
        """Groups of two or more, each sorted, largest first."""
        return sorted((sorted(m) for m in self.members.values() if len(m) > 1), key=lambda g: (-len(g), g))


def _spread(members: list[str], k: int) -> list[str]:
    """`k` members evenly spaced over the list (all of them when there are no more than `k`)."""
    n = len(members)
    return members if n <= k else [members[m * n // k] for m in range(k)]


def merge_priority(ids: Sequence[str], records: Mapping[str, dict[str, Any]], band: str,
                   deal_value_by_account: Mapping[str, float], cfg: Any) -> str:
    """high: open and won deals (`deal_value_by_account`: a batch's booked value,
    Lookups.booked_value_by_account) worth over `high_deal_value`, or a decision maker involved; medium: any
    deal, or a pair safe to merge; low: the rest. Seed 002: 'start with companies involved in active deals or
    high-value accounts': a customer with a $200K Closed Won deal is a high-value account, and its thresholds
    are all 'over'."""
    value = 0.0
    roles = set()
    for i in ids:
        record = records[i]
        for key in map(link_id, (record.get("id"), record.get("account_id"))):
            if key is not None:
                value = max(value, deal_value_by_account.get(key, 0.0))
        value = max(value, parse_number(record.get("open_deal_value")) or 0.0)
        role = record.get("decision_role")
        if isinstance(role, str):
            roles.add(role.strip().lower().replace(" ", "_"))
    if value > cfg.high_deal_value or roles & set(cfg.high_roles):
        return "high"
    if value > 0 or band == "auto_merge":
        return "medium"
    return "low"
