"""Cross-record checks over records linked by `account_id` (seed 001/002), and leads that are already one of the
batch's contacts: they need the whole batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.scoring.matching.normalize import fold
from app.scoring.registry import Hit, rule
from app.scoring.rules.timeliness import active_lead
from app.scoring.values import amount_in_currency, currency_code, link_id, parse_datetime

# rules whose findings need the batch's duplicates first, so a record's own report never holds them
AFTER_MATCHING = frozenset({"lead.duplicate.existing_contact"})
# record rules that read the batch's accounts (`lookups.accounts`): a stream judges each record before its
# batch is known, so its end runs them again over what it kept, as a JSON batch's reports hold them
READ_BATCH_ACCOUNTS = frozenset({"contact.email.domain_mismatch"})


def _account_id(record: dict[str, Any], ctx: Any) -> str | None:
    return ctx.lookups.link(record.get("id"))  # type: ignore[no-any-return]


@rule("account.contacts.single_contact_multi_deal", fields=("id",), severity="warning", category="cross_record",
      seed="001", scope="batch", message="{deals} open or won deals but {who}.")
def _single_threaded(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 001: companies with 2+ deals but only 1 contact person (seed 002: multi-threading gap). Deals
    are the account's open and won ones (a customer with two Closed Won deals and one contact is as
    single-threaded as a prospect); a lost deal is none. A batch without contacts (an accounts-and-deals
    export) says nothing of them: every account with deals would be reported."""
    aid = _account_id(record, ctx)
    if not ctx.lookups.has_contacts:
        return
    deals = ctx.lookups.booked_deals_by_account.get(aid, 0) if aid else 0
    contacts = ctx.lookups.contacts_by_account.get(aid, 0) if aid else 0
    if deals >= 2 and contacts <= 1:
        who = "only one contact: single-threaded" if contacts else "no contact at all: nobody to reach"
        yield Hit("id", aid, details={"deals": deals, "contacts": contacts, "who": who})


@rule("account.decision_maker.missing", fields=("id",), severity="warning", category="cross_record", seed="000",
      scope="batch", config="impact",
      message="Open deals worth {amount:,.0f} (in the base currency) but no decision maker among the account's contacts.")
def _no_decision_maker(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 000: decision maker contacts must be identified on accounts with real pipeline (in a batch that
    holds contacts: a deals-only export does not say who they are)."""
    aid = _account_id(record, ctx)
    if not ctx.lookups.has_contacts:
        return
    amount = ctx.lookups.deal_value_by_account.get(aid, 0.0) if aid else 0.0
    if amount > params.high_value_deal and ctx.lookups.decision_makers_by_account.get(aid, 0) == 0:
        yield Hit("id", aid, details={"amount": amount})


@rule("account.contacts.too_few", fields=("id",), severity="info", category="cross_record", seed="002",
      scope="batch", config="impact",
      message="Open deals worth {amount:,.0f} (in the base currency) but only {contacts} contact(s) (want {threshold}).")
def _too_few_contacts(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: high-value accounts with few contacts (in a batch that holds contacts, as above)."""
    aid = _account_id(record, ctx)
    if not ctx.lookups.has_contacts:
        return
    amount = ctx.lookups.deal_value_by_account.get(aid, 0.0) if aid else 0.0
    contacts = ctx.lookups.contacts_by_account.get(aid, 0) if aid else 0
    if amount > params.high_value_deal and contacts < params.min_contacts_high_value:
        yield Hit("id", aid, details={"amount": amount, "contacts": contacts,
                                      "threshold": params.min_contacts_high_value})


def _account_missing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """The record points at an account that is not in the batch (informational: it may exist in the CRM). A
    batch without accounts (a contacts-only export) says nothing of them: every record would be reported."""
    aid = ctx.lookups.link(record.get("account_id"))
    if ctx.lookups.in_batch and ctx.lookups.accounts and aid is not None and aid not in ctx.lookups.accounts:
        yield Hit("account_id", record.get("account_id"))


for _t in ("contact", "opportunity"):
    rule(f"{_t}.account.not_in_batch", fields=("account_id",), severity="info", category="cross_record",
         seed="004", scope="batch", message="Account {value!r} is not in this batch.",
         description="Seed 004 relationship integrity maintenance on imports.")(_account_missing)


@rule("account.parent.not_in_batch", fields=("parent_account_id",), severity="info", category="cross_record",
      seed="002", scope="batch", message="Parent account {value!r} is not in this batch.")
def _parent_missing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: relationship integrity maintenance on imports: the account's parent account is not in the
    batch (informational: it may exist in the CRM), as a record's account is (`*.account.not_in_batch`)."""
    parent, accounts = ctx.lookups.link(record.get("parent_account_id")), ctx.lookups.accounts
    if ctx.lookups.in_batch and accounts and parent is not None and parent not in accounts:
        yield Hit("parent_account_id", record.get("parent_account_id"))


@rule("opportunity.contact.not_in_batch", fields=("contact_roles",), severity="info", category="cross_record",
      seed="002", scope="batch", message="Contact {value!r} named in the deal's contact roles is not in this "
                                         "batch.")
def _role_contact_missing(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: relationship integrity maintenance on imports: a contact the deal's contact roles name is not
    in the batch (informational: it may exist in the CRM), once per contact. A batch without contacts (a
    deals-only export) says nothing of them: every deal with contact roles would be reported."""
    roles, lookups = record.get("contact_roles"), ctx.lookups
    if not (lookups.in_batch and lookups.has_contacts and isinstance(roles, list)):
        return
    seen: set[str] = set()
    for role in roles:
        cid = lookups.link(role.get("contact_id")) if isinstance(role, dict) else None
        if cid is not None and cid not in lookups.contact_ids and cid not in seen:
            seen.add(cid)
            yield Hit("contact_roles", role.get("contact_id"))


@rule("lead.duplicate.existing_contact", fields=("id",), severity="warning", category="duplicates", seed="001",
      scope="batch", config="duplicates",
      message="Already a contact: {contact_id} (score {score:.2f}, {band}: {reasons}); convert the lead into that "
              "contact instead of working it as a new one.",
      description="Seed 001/002 duplicates across objects: a lead whose person is one of the batch's contacts "
                  "(Salesforce's standard lead duplicate rule matches contacts too), blocked by a person's "
                  "identity ([duplicates.person] match_also_blocking), or one of the indexed contacts or the "
                  "caller's contact candidates when a single lead is scored.")
def _lead_is_contact(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """A batch's lead matched with one of its contacts (`[duplicates] match_also`), or a single lead with a
    contact of the index (its best pair naming `b_type` contact), unless it is no longer worked (`[timeliness]
    inactive_lead_statuses`): a converted lead is that contact already, and Salesforce exports converted
    leads by default. One verdict on every path: a lead cannot be merged into a contact, only converted, and
    the index lookup had called the same pair lead.duplicate.auto_merge, an error asking for a merge."""
    if not active_lead(record, ctx):
        return
    lead = link_id(record.get("id"))
    match = ctx.lookups.contact_matches.get(lead) if lead is not None else None
    if not match:
        match = _indexed_contact(ctx.duplicates)
    if match:
        yield Hit("id", lead, details={"contact_id": match["contact_id"], "score": match["score"],
                                       "band": match["band"].replace("_", "-"),
                                       "reasons": "; ".join(match["reasons"])})


def _indexed_contact(pairs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A single lead's best contact among its duplicate pairs (best first), in the shape of a batch's
    `Lookups.contact_matches` entry."""
    pair = next((p for p in pairs if p.get("b_type") == "contact"), None)
    if pair is None:
        return None
    return {"contact_id": pair["b"], "score": pair["score"], "band": pair["band"], "reasons": pair["reasons"]}


def deal_key(deal: dict[str, Any], rules: Any, aid: str | None) -> tuple[Any, ...] | None:
    """What makes two deals one (opportunity.duplicate.in_batch): the account (`aid`, its id as the batch's
    lookups key it), the name (`fold`ed: case, accents, punctuation and spacing aside), the amount with its
    currency and the close date; None unless all four are written."""
    name = deal.get("name")
    if aid is None or not isinstance(name, str) or not (folded := fold(name[:200])):
        return None
    base = rules.file.currencies.base
    amount, currency = amount_in_currency(deal.get("amount"), deal.get("currency"), base)
    closes = parse_datetime(deal.get("close_date"))
    if amount is None or closes is None:
        return None
    code = (currency_code(currency) or str(currency).strip().upper()) if currency else base
    return aid, folded, amount, code, closes.date()


@rule("opportunity.duplicate.in_batch", fields=("account_id", "name", "amount", "close_date"),
      severity="warning", category="duplicates", seed="002", scope="batch",
      message="The same deal as {others}: one account, name, amount and close date; merge or close the "
              "duplicate.")
def _deal_twin(record: dict[str, Any], params: Any, ctx: Any) -> Iterator[Hit]:
    """Seed 002: clean up abandoned or duplicate deal records. Deals of one batch with the same account, name
    (case, accents and punctuation aside), amount and currency, and close date: each is reported, naming the
    others (batch scope: a single deal is judged against no other deal; one without an id is named, not
    reported)."""
    twins, own = ctx.lookups.deal_twins, link_id(record.get("id"))
    group = twins.get(ctx.lookups.link(own)) if twins and own is not None else None  # type: ignore[arg-type]
    if group:
        others = group[:11]
        if own in others:
            others.remove(own)
        named = ", ".join(repr(o) if o is not None else "a deal without an id" for o in others[:10])
        more = len(group) - 1 - min(len(others), 10)
        named += f" and {more} more" if more > 0 else ""
        yield Hit("name", record.get("name"), details={"others": named})
