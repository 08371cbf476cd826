"""Canonical CRM records. These classes document the shape (OpenAPI); input is read leniently.

Every field is optional. The API does not validate bodies against these classes: a value of the wrong
type or format is kept and becomes a finding on that field, and unknown fields are kept and reported.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel


class _Record(SQLModel):
    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]


class Address(_Record):
    """A postal address; `country` as ISO 3166 alpha-2 is the standard form."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Bant(_Record):
    """BANT qualification (seed 003): each element holds what is known, or nothing."""

    budget: Any = None
    authority: Any = None
    need: Any = None
    timeline: Any = None


class Meddpicc(_Record):
    """MEDDPICC qualification (seed 000)."""

    metrics: Any = None
    economic_buyer: Any = None
    decision_criteria: Any = None
    decision_process: Any = None
    paper_process: Any = None
    identified_pain: Any = None
    champion: Any = None
    competition: Any = None


class ContactRole(_Record):
    contact_id: str | None = None
    role: str | None = None


class Behavior(_Record):
    website_visits: int | None = None
    content_downloads: int | None = None
    email_opens: int | None = None
    email_clicks: int | None = None


class Engagement(_Record):
    demo_requested: bool | None = None
    pricing_inquiries: int | None = None
    form_submissions: int | None = None


class _Tracked(_Record):
    id: str | None = None
    owner_id: str | None = None
    created_at: str | None = Field(default=None, description="ISO-8601 date-time")
    updated_at: str | None = Field(default=None, description="ISO-8601 date-time")
    last_activity_at: str | None = Field(default=None, description="ISO-8601 date-time")


class Account(_Tracked):
    """A company."""

    name: str | None = None
    website: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    annual_revenue: float | None = None
    phone: str | None = None
    billing_address: Address | None = None
    linkedin_url: str | None = None
    tech_stack: list[str] | None = None
    business_initiatives: str | None = None
    current_vendors: list[str] | None = None
    territory: str | None = None
    parent_account_id: str | None = None

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{  # type: ignore[assignment]
        "id": "001A1", "name": "Acme Corp", "website": "www.acme.com/", "industry": "Tech",
        "employee_count": 450, "annual_revenue": 52000000, "phone": "(415) 555-0123",
        "billing_address": {"street": "1 Market St", "city": "San Francisco", "state": "California",
                            "postal_code": "94105", "country": "USA"},
        "owner_id": "005U1", "created_at": "2024-01-10T09:00:00Z", "last_activity_at": "2024-06-01"}]})


class AccountContext(_Record):
    """The contact's account as a CRM relationship query returns it (Salesforce `Account.Website`)."""

    name: str | None = None
    website: str | None = None


class Contact(_Tracked):
    """A person at an account."""

    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile_phone: str | None = None
    title: str | None = None
    department: str | None = None
    mailing_address: Address | None = None
    birthdate: str | None = Field(default=None, description="ISO-8601 date")
    linkedin_url: str | None = None
    decision_role: str | None = Field(default=None, description="economic_buyer, decision_maker, influencer, …")
    influence_level: str | None = None
    communication_preference: str | None = None
    best_contact_time: str | None = None
    relationship_strength: str | None = None
    email_bounced: bool | None = None
    last_verified_at: str | None = Field(default=None, description="ISO-8601 date-time")
    account: AccountContext | None = Field(
        default=None, description="Optional: the contact's account, to check the email domain against it.")

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{  # type: ignore[assignment]
        "id": "003A1", "account_id": "001A1", "first_name": "Bob", "last_name": "Smith", "email": "bob@",
        "phone": "415-555-0123", "title": "VP of Sales", "decision_role": "economic_buyer",
        "owner_id": "005U1", "last_verified_at": "2024-01-05", "account": {"website": "https://acme.com"}}]})


class Opportunity(_Tracked):
    """A deal."""

    account_id: str | None = None
    name: str | None = None
    amount: float | None = None
    currency: str | None = Field(default=None, description="ISO 4217 code")
    stage: str | None = None
    probability: float | None = Field(default=None, description="0–100")
    forecast_category: str | None = Field(default=None, description="Pipeline, Best Case, Commit, Closed, Omitted")
    close_date: str | None = Field(default=None, description="ISO-8601 date")
    next_step: str | None = None
    stage_changed_at: str | None = None
    problem_statement: str | None = None
    technical_requirements: str | None = None
    success_criteria: str | None = None
    competitors: list[str] | None = None
    implementation_timeline: str | None = None
    bant: Bant | None = None
    meddpicc: Meddpicc | None = None
    contact_roles: list[ContactRole] | None = None

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{  # type: ignore[assignment]
        "id": "006A1", "account_id": "001A1", "name": "Acme renewal", "amount": 48000, "currency": "USD",
        "stage": "Proposal", "probability": 90, "forecast_category": "Commit", "close_date": "2024-03-31",
        "owner_id": "005U1", "last_activity_at": "2024-05-01", "problem_statement": "Manual forecasting",
        "meddpicc": {"metrics": "cut forecast prep by 5 h/week", "champion": "003A1"},
        "contact_roles": [{"contact_id": "003A1", "role": "champion"}]}]})


class Lead(_Tracked):
    """An unqualified prospect."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    # as Salesforce's Lead and HubSpot's contact keep it beside the phone (an extension of the DESIGN's lead)
    mobile_phone: str | None = None
    company: str | None = None
    title: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    address: Address | None = None
    status: str | None = None
    source: str | None = None
    first_response_at: str | None = None
    last_contacted_at: str | None = None
    bant: Bant | None = None
    behavior: Behavior | None = None
    engagement: Engagement | None = None

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{  # type: ignore[assignment]
        "id": "00QA1", "first_name": "Ana", "last_name": "Lopez", "email": "ana@globex.io", "company": "Globex",
        "title": "Director of IT", "industry": "Software", "employee_count": 300, "source": "Webinar",
        "status": "New", "created_at": "2024-06-03T09:00:00Z",
        "behavior": {"website_visits": 4, "content_downloads": 1, "email_opens": 3, "email_clicks": 1},
        "engagement": {"demo_requested": True, "pricing_inquiries": 0, "form_submissions": 1}}]})


RECORD_MODELS: dict[str, type[SQLModel]] = {
    "account": Account, "contact": Contact, "opportunity": Opportunity, "lead": Lead,
}
PLURALS = {"accounts": "account", "contacts": "contact", "opportunities": "opportunity", "leads": "lead"}
KNOWN_FIELDS: dict[str, frozenset[str]] = {t: frozenset(m.model_fields) for t, m in RECORD_MODELS.items()}


def _kind(annotation: Any) -> str:
    """The JSON kind a field annotation documents: string, number, boolean, object, array or any."""
    text = str(annotation)
    for marker, kind in (("list[", "array"), ("bool", "boolean"), ("int", "number"), ("float", "number"),
                         ("str", "string")):
        if marker in text:
            return kind
    return "object" if isinstance(annotation, type) or "records." in text else "any"


FIELD_KINDS: dict[str, dict[str, str]] = {
    t: {name: _kind(f.annotation) for name, f in m.model_fields.items()} for t, m in RECORD_MODELS.items()
}


def _object_fields(annotation: Any) -> frozenset[str] | None:
    """The field names of the record class an annotation holds (`Address | None`, `list[ContactRole]`), else
    None (a plain value)."""
    if isinstance(annotation, type) and issubclass(annotation, SQLModel):
        return frozenset(annotation.model_fields)
    for arg in get_args(annotation):
        found = _object_fields(arg)
        if found is not None:
            return found
    return None


# per record type, the documented keys of each field that holds an object ('billing_address': street, city, …):
# a rules file naming 'billing_address.cty' names nothing
NESTED_FIELDS: dict[str, dict[str, frozenset[str]]] = {
    t: {name: keys for name, f in m.model_fields.items() if (keys := _object_fields(f.annotation)) is not None}
    for t, m in RECORD_MODELS.items()
}
