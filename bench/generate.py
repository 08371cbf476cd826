"""Deterministic, realistic and dirty CRM records for benchmarks (scoring, batch, dedupe).

Every generator takes `(n, seed)` and returns a list of plain dicts in the canonical shape of
app/models/records.py, the same for the same arguments. The dirt is deliberate and roughly what a real
CRM export holds: invalid or oddly cased emails, phones in a dozen formats (some foreign, some broken),
websites with and without scheme / www / trailing slash, industry and stage synonyms, amounts as text,
garbage dates, half-filled BANT / MEDDPICC, placeholders such as "N/A", and the odd unknown field.

A few hundred company domains are shared by all records of one seed (emails repeat domains, as in a
CRM), while email local parts are mostly unique.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the benchmarks' fixed `now`; dates are spread before it

FIRST = _words("James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
               "Richard Susan Joseph Jessica Thomas Sarah Carlos Maria Wei Li Priya Arjun Fatima Omar "
               "Hiroshi Yuki Lukas Anna Jürgen Sophie Olivia Noah Emma Liam Ava Ethan Mia Lucas Chloe "
               "Mateo Zoe Ivan Olga Kwame Ama Sean Aoife Pierre Camille Giulia Marco Sven Ingrid Raj "
               "Ananya Diego Lucia Chen")
LAST = _words("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
              "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
              "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen "
              "Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller "
              "Schmidt Schneider Fischer Weber Patel Sharma Singh Kumar Tanaka Suzuki Sato Kim Park Wang "
              "Zhang Liu O'Brien Murphy Kelly Dubois Moreau Rossi Russo Larsen Johansson Okafor Mensah "
              "Ivanova Silva Santos")
WORDS = _words("acme globex initech umbrella stark wayne hooli vandelay cyberdyne tyrell soylent massive "
               "blue north summit apex vertex nimbus quantum pioneer harbor cedar granite falcon orbit "
               "lumen nova silver river bright clear swift prime keystone atlas beacon cobalt delta ember "
               "fusion helix ionic juniper kinetic lattice meridian nexus onyx pinnacle quartz radiant "
               "sterling titan")
SUFFIXES = ("", "", " Inc", " Inc.", " Corp", " LLC", " Ltd", " GmbH", " Group", " Labs", " Systems",
            " Holdings")
TLDS = ("com",) * 10 + ("io", "io", "co", "net", "ai", "co.uk", "de", "org", "tech")
FREE_MAIL = ("gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com",
             "proton.me", "gmx.de", "web.de", "yahoo.co.uk", "live.com")
INDUSTRIES = ("Technology", "Tech", "IT Services", "Software", "SaaS", "information technology", "Hi-Tech",
              "Financial Services", "Finance", "Banking", "fintech", "Insurance", "Healthcare", "health care",
              "Pharma", "Biotech", "Manufacturing", "Industrial", "Retail", "E-commerce", "Education",
              "Government", "Consulting", "Professional Services", "Media", "Marketing and Advertising",
              "Telecom", "Energy", "Oil & Gas", "Real Estate", "Logistics", "Hospitality", "Non-profit",
              "Widgets", "Misc", "Other", "N/A", "")
TITLES = ("CEO", "Chief Technology Officer", "CFO", "VP of Sales", "VP Marketing", "SVP Engineering",
          "Director of IT", "IT Director", "Director, Procurement", "Head of Data", "Head of Growth",
          "Engineering Manager", "Sales Manager", "Senior Software Engineer", "Software Engineer",
          "Data Analyst", "Account Executive", "Marketing Coordinator", "HR Business Partner",
          "Customer Success Manager", "Product Manager", "Operations Lead", "General Counsel",
          "Controller", "DevOps Engineer", "Founder", "Co-Founder & CTO", "Employee", "Staff", "n/a", "")
DEPARTMENTS = ("Sales", "Marketing", "Engineering", "IT", "Finance", "Operations", "HR", "Legal", "", None)
DECISION_ROLES = ("economic_buyer", "Economic Buyer", "decision-maker", "Decision Maker", "influencer",
                  "Champion", "technical buyer", "End User", "gatekeeper", "Sponsor", "Exec", "", None)
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won",
          "Closed Lost", "prospect", "qualified", "Discovery", "Value Proposition", "Proposal/Price Quote",
          "Negotiation/Review", "closedwon", "Won", "Lost", "closed_lost", "Stage 3", "Pending", "")
STAGE_PROBABILITY = {"Prospecting": 10, "Qualification": 20, "Needs Analysis": 30, "Proposal": 60,
                     "Negotiation": 80, "Closed Won": 100, "Closed Lost": 0}
FORECASTS = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted", "best case", "Upside", "")
CURRENCIES = ("USD",) * 8 + ("EUR", "EUR", "GBP", "CAD", "usd", "US$", "Dollars", "")
LEAD_STATUS = ("New", "Open", "Working", "Contacted", "Nurturing", "Qualified", "Unqualified", "Converted",
               "Recycled", "Hot", "")
LEAD_SOURCE = ("Web", "Website", "Inbound", "Referral", "Partner", "Trade Show", "Webinar", "Paid Search",
               "Organic Search", "Social", "Cold Call", "Purchased List", "LinkedIn", "Google Ads", "")
BANT_VALUES = {"budget": ("Approved $50k", "$120,000 allocated", "No", "TBD", "pending"),
               "authority": ("CFO signs", "VP Sales", "unknown", "Economic buyer identified", "no"),
               "need": ("Replace spreadsheets", "Pipeline visibility", "Consolidate tools", "N/A", "yes"),
               "timeline": ("Q3", "This quarter", "2025-09-30", "Next year", "not yet")}
MEDDPICC = ("metrics", "economic_buyer", "decision_criteria", "decision_process", "paper_process",
            "identified_pain", "champion", "competition")
# (city, state spellings, postal code, country spellings); country spellings include unknown ones
PLACES = (
    ("San Francisco", ("California", "CA", "Calif."), "94105", ("USA", "US", "United States", "U.S.", "us")),
    ("New York", ("New York", "NY"), "10001", ("USA", "US", "United States of America", "America")),
    ("Austin", ("Texas", "TX"), "78701", ("US", "USA", "Untied States")),
    ("Chicago", ("Illinois", "IL"), "60601", ("US", "United States")),
    ("Boston", ("Massachusetts", "MA"), "02110", ("USA", "US")),
    ("Seattle", ("Washington", "WA"), "98101", ("US", "usa")),
    ("London", ("", "England"), "EC1A 1BB", ("UK", "United Kingdom", "GB", "England", "Great Britain")),
    ("Manchester", ("",), "M1 1AE", ("UK", "GB", "U.K.")),
    ("Berlin", ("Berlin", "BE"), "10115", ("Germany", "DE", "Deutschland", "DEU")),
    ("München", ("Bayern", "Bavaria", "BY"), "80331", ("Germany", "DE")),
    ("Toronto", ("Ontario", "ON"), "M5V 2T6", ("Canada", "CA", "CAN")),
    ("Paris", ("",), "75001", ("France", "FR")),
    ("Bengaluru", ("Karnataka", "KA"), "560001", ("India", "IN")),
    ("Sydney", ("New South Wales", "NSW"), "2000", ("Australia", "AU")),
    ("São Paulo", ("São Paulo", "SP"), "01000-000", ("Brazil", "Brasil", "BR")),
    ("Dubai", ("",), "", ("UAE", "United Arab Emirates", "AE")),
    ("Seoul", ("",), "04524", ("South Korea", "Korea, Republic of", "KR")),
)
OWNERS = tuple(f"005{k:09X}" for k in range(40))
US_AREA = ("212", "415", "312", "617", "206", "512", "303", "404", "305", "646", "718", "213", "310", "408",
           "650", "702", "615", "919", "704", "503")


def _companies(rng: random.Random, count: int = 300) -> list[tuple[str, str]]:
    """(company name, domain) pairs, unique by domain."""
    seen: dict[str, str] = {}
    while len(seen) < count:
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        stem = a if rng.random() < 0.3 else a + b
        domain = f"{stem}.{rng.choice(TLDS)}"
        if domain not in seen:
            seen[domain] = (a.title() if stem == a else f"{a.title()}{b.title()}") + rng.choice(SUFFIXES)
    return [(name, domain) for domain, name in seen.items()]


def _pick(rng: random.Random, values: tuple[Any, ...], missing: float = 0.0) -> Any:
    return None if rng.random() < missing else rng.choice(values)


def _sid(prefix: str, i: int) -> str:
    return f"{prefix}{i:09X}"


def _date(rng: random.Random, max_days: float = 730, garbage: float = 0.04, future: float = 0.0) -> Any:
    """An ISO date or date-time before NOW (or after it with `future`), sometimes garbage."""
    r = rng.random()
    if r < garbage:
        return rng.choice(("2024-13-45", "03/15/2024", "yesterday", "15.01.2024", "0000-00-00", "1899-12-31",
                           "2099-01-01", "N/A", ""))
    when = NOW + timedelta(days=rng.uniform(-max_days, 0) if rng.random() >= future else rng.uniform(0, 120))
    form = rng.random()
    if form < 0.45:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form < 0.8:
        return when.date().isoformat()
    if form < 0.95:
        return when.isoformat(timespec="milliseconds")
    return when.strftime("%Y-%m-%dT%H:%M:%S+02:00")


def _email(rng: random.Random, first: str, last: str, domain: str, i: int) -> Any:
    """Mostly unique, mostly valid; ~10% broken and some oddly cased or padded."""
    f, s = first.lower(), last.lower().replace("'", "")
    local = rng.choice((f"{f}.{s}", f"{f[0]}{s}", f"{f}_{s}", f"{f}{s[0]}", f"{f}", f"{s}.{f}", f"{f}+crm"))
    if rng.random() < 0.6:
        local += str(i % 997 + rng.randint(0, 99))
    if rng.random() < 0.25:
        domain = rng.choice(FREE_MAIL)
    r = rng.random()
    if r < 0.02:
        return rng.choice(("", "N/A", "none", None, 42))
    if r < 0.12:
        return rng.choice((f"{local}@", f"{local}@{domain.split('.')[0]}", f"{local} @{domain}",
                           f"{local}@@{domain}", f"{local}.@{domain}", f"@{domain}", f"{local}@{domain}..",
                           f"{local}@{domain.replace('.', ',')}", f"{first} {last} <{local}@{domain}>",
                           f"mailto:{local}@{domain}", f"{local}@{domain} ", f"{local}"))
    if r < 0.18:
        return f"{first}.{last}@{domain.upper()}".replace("'", "")
    if r < 0.20:
        return f"  {local}@{domain}"
    if r < 0.21:
        return f"{first.lower()}é@{domain}"
    return f"{local}@{domain}"


def _phone(rng: random.Random, missing: float = 0.15) -> Any:
    """US numbers in many notations, some UK / German / other, some broken; now and then a JSON number."""
    if rng.random() < missing:
        return rng.choice((None, "", "N/A"))
    a, x, n = rng.choice(US_AREA), rng.randint(201, 989), rng.randint(0, 9999)
    r = rng.random()
    if r < 0.70:
        return rng.choice((f"+1{a}{x}{n:04}", f"({a}) {x}-{n:04}", f"{a}.{x}.{n:04}", f"{a}-{x}-{n:04}",
                           f"{a}{x}{n:04}", f"1-{a}-{x}-{n:04}", f"+1 {a} {x} {n:04}", f"+1 ({a}) {x}-{n:04}",
                           f"({a}) {x}-{n:04} ext. {rng.randint(1, 999)}",
                           f"{a} {x} {n:04} x{rng.randint(1, 99)}",
                           int(f"{a}{x}{n:04}")))
    if r < 0.88:
        return rng.choice((f"+44 20 7{rng.randint(0, 999):03} {n:04}",
                           f"+44 7{rng.randint(100, 999)} {x}{n:03}",
                           f"+44 161 {x} {n:04}", f"020 7{rng.randint(0, 999):03} {n:04}",
                           f"+49 30 {rng.randint(1000, 9999)}{n:04}", f"+49 151 {x}{n:05}",
                           f"0049 89 {rng.randint(100000, 9999999)}",
                           f"+33 1 42 {x % 100:02} {n % 100:02} 00",
                           f"+91 80 {rng.randint(1000, 9999)} {n:04}",
                           f"+61 2 {rng.randint(1000, 9999)} {n:04}"))
    return rng.choice(("555-1234", "123", "(000) 000-0000", "phone", "+1 000 000 0000", f"{a}-{x}",
                       f"+1 {a} {x} {n:04} {rng.randint(0, 99)}", "tel: none", "0", f"{a}{x}{n:04}999"))


def _website(rng: random.Random, domain: str) -> Any:
    r = rng.random()
    if r < 0.05:
        return rng.choice((None, "", "n/a"))
    if r < 0.10:
        return rng.choice((domain.split(".")[0], f"http//{domain}", f"www.{domain} /", f"ftp://{domain}",
                           "localhost", f"https://{domain.split('.')[0]}", f"www..{domain}"))
    return rng.choice((domain, f"www.{domain}", f"https://{domain}", f"https://www.{domain}/", f"http://{domain}",
                       f"http://www.{domain}", f"https://{domain}/", f"https://www.{domain}/about",
                       domain.upper(), f"https://{domain}/en-us/"))


def _address(rng: random.Random, missing: float = 0.1) -> Any:
    if rng.random() < missing:
        return None
    city, states, postal, countries = rng.choice(PLACES)
    street = f"{rng.randint(1, 9999)} {rng.choice(WORDS).title()} {rng.choice(('St', 'Ave', 'Rd'))}"
    address = {"street": street, "city": city, "state": rng.choice(states), "postal_code": postal,
               "country": rng.choice(countries)}
    for key in ("street", "state", "postal_code", "country"):
        if rng.random() < 0.08:
            address[key] = rng.choice(("", None))
    return address


def _name(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    r = rng.random()
    if r < 0.04:
        return first.upper(), last.upper()
    if r < 0.07:
        return first.lower(), last.lower()
    return first, last


def _tracked(rng: random.Random, prefix: str, i: int) -> dict[str, Any]:
    record = {"id": _sid(prefix, i), "owner_id": _pick(rng, OWNERS, 0.07),
              "created_at": _date(rng, 900, future=0.01), "updated_at": _date(rng, 200),
              "last_activity_at": _date(rng, 240, future=0.01)}
    if rng.random() < 0.03:
        record[rng.choice(("custom_score__c", "Legacy_ID", "region__c"))] = rng.choice(("A", 7, "EMEA"))
    return record


def _drop(rng: random.Random, record: dict[str, Any], keep: tuple[str, ...],
          p: float = 0.12) -> dict[str, Any]:
    """Leave out optional fields at random, as sparse CRM exports do."""
    return {k: v for k, v in record.items() if k in keep or rng.random() >= p}


def make_accounts(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    companies = _companies(rng)
    out = []
    for i in range(n):
        name, domain = rng.choice(companies)
        employees = rng.choice((rng.randint(1, 50), rng.randint(50, 1000), rng.randint(1000, 200000)))
        record = _tracked(rng, "001", i) | {
            "name": rng.choice((name, name, name.upper(), "", "Test Account")),
            "website": _website(rng, domain),
            "industry": _pick(rng, INDUSTRIES, 0.08),
            "employee_count": rng.choice((employees,) * 8 + (f"{employees:,}", -5, 0, 5_000_000)),
            "annual_revenue": rng.choice((employees * rng.uniform(5e4, 4e5), f"${employees // 10}M", "1.2bn",
                                          None)),
            "phone": _phone(rng),
            "billing_address": _address(rng),
            "linkedin_url": rng.choice((f"https://www.linkedin.com/company/{domain.split('.')[0]}",
                                        f"linkedin.com/company/{domain.split('.')[0]}/", None, "",
                                        f"https://facebook.com/{domain.split('.')[0]}")),
            "tech_stack": rng.sample(("Salesforce", "HubSpot", "Snowflake", "AWS", "Slack", "Okta"),
                                     rng.randint(0, 4)),
            "business_initiatives": rng.choice(("Cloud migration", "Cost reduction", "", None)),
            "current_vendors": rng.sample(("Oracle", "SAP", "Microsoft", "Zendesk"), rng.randint(0, 3)),
            "territory": rng.choice(("West", "East", "EMEA", "APAC", "", None)),
            "parent_account_id": _sid("001", rng.randint(0, n)) if rng.random() < 0.1 else None,
        }
        out.append(_drop(rng, record, ("id", "name", "website")))
    return out


def make_contacts(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    companies = _companies(rng)
    out = []
    for i in range(n):
        company, domain = rng.choice(companies)
        first, last = _name(rng)
        record = _tracked(rng, "003", i) | {
            "account_id": _sid("001", rng.randint(0, max(1, n // 4))),
            "first_name": first, "last_name": rng.choice((last,) * 15 + ("", None)),
            "email": _email(rng, first, last, domain, i),
            "phone": _phone(rng, 0.2), "mobile_phone": _phone(rng, 0.6),
            "title": rng.choice(TITLES), "department": rng.choice(DEPARTMENTS),
            "mailing_address": _address(rng, 0.4),
            "birthdate": _date(rng, 20000, garbage=0.1) if rng.random() < 0.1 else None,
            "linkedin_url": rng.choice((f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{i}",
                                        f"linkedin.com/in/{first.lower()}{i}", None, None)),
            "decision_role": rng.choice(DECISION_ROLES),
            "influence_level": rng.choice(("High", "medium", "low", "Very High", "", None)),
            "communication_preference": rng.choice(("Email", "phone", "In Person", "Slack", None)),
            "best_contact_time": rng.choice(("Morning", "9-11am PT", None)),
            "relationship_strength": rng.choice(("Strong", "good", "Neutral", "weak", "unknown", None)),
            "email_bounced": rng.choice((False,) * 12 + (True, "yes", None)),
            "last_verified_at": _date(rng, 500),
        }
        if rng.random() < 0.4:  # as a CRM relationship query returns it; sometimes the person moved on
            other = rng.choice(companies) if rng.random() < 0.1 else (company, domain)
            record["account"] = {"name": other[0], "website": _website(rng, other[1])}
        out.append(_drop(rng, record, ("id", "email", "phone", "first_name")))
    return out


def _framework(rng: random.Random, fields: tuple[str, ...], fill: float) -> dict[str, Any]:
    values = ("Yes", "identified", "Jane Doe (CFO)", "documented", "No", "TBD", "", True, False)
    return {f: (rng.choice(BANT_VALUES[f]) if f in BANT_VALUES else rng.choice(values))
            for f in fields if rng.random() < fill}


def make_opportunities(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    companies = _companies(rng)
    out = []
    for i in range(n):
        company, _ = rng.choice(companies)
        stage = rng.choice(STAGES)
        base = STAGE_PROBABILITY.get(stage)
        amount = round(rng.lognormvariate(10, 1.3), rng.choice((0, 2)))
        record = _tracked(rng, "006", i) | {
            "account_id": _sid("001", rng.randint(0, max(1, n // 3))),
            "name": f"{company} - {rng.choice(('Renewal', 'New Business', 'Expansion', 'Pilot'))}",
            "amount": rng.choice((amount,) * 10 + (f"${amount:,.0f}", f"{amount / 1000:.0f}k", "TBD", -amount,
                                                   5e8)),
            "currency": rng.choice(CURRENCIES),
            "stage": stage,
            "probability": (rng.choice((base, base, rng.randint(0, 100), f"{base}%", 150, None))
                            if base is not None else rng.choice((rng.randint(0, 100), None))),
            "forecast_category": rng.choice(FORECASTS),
            "close_date": _date(rng, 300, future=0.6),
            "next_step": rng.choice(("Send proposal", "Schedule demo", "Legal review", "", None)),
            "stage_changed_at": _date(rng, 200),
            "problem_statement": rng.choice(("Manual forecasting", "No pipeline visibility", "", None)),
            "technical_requirements": rng.choice(("SSO, API access", "EU data residency", None)),
            "success_criteria": rng.choice(("Forecast accuracy +20%", "", None)),
            "competitors": rng.sample(("Salesforce", "HubSpot", "Pipedrive", "In-house"), rng.randint(0, 2)),
            "implementation_timeline": rng.choice(("90 days", "Q4", None)),
            "bant": _framework(rng, tuple(BANT_VALUES), rng.random()) if rng.random() < 0.7 else None,
            "meddpicc": _framework(rng, MEDDPICC, rng.random()) if rng.random() < 0.8 else None,
            "contact_roles": [{"contact_id": rng.choice((_sid("003", rng.randint(0, n)), "")),
                               "role": rng.choice(DECISION_ROLES)} for _ in range(rng.randint(0, 3))],
        }
        out.append(_drop(rng, record, ("id", "stage", "amount")))
    return out


def make_leads(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    companies = _companies(rng)
    out = []
    for i in range(n):
        company, domain = rng.choice(companies)
        first, last = _name(rng)
        created = _date(rng, 60, garbage=0.02)

        def count(hi: int) -> Any:
            return rng.choice((0, 0, rng.randint(1, hi), rng.randint(1, hi), str(rng.randint(0, hi)), None))

        record = _tracked(rng, "00Q", i) | {
            "first_name": first, "last_name": last,
            "email": _email(rng, first, last, domain, i),
            "phone": _phone(rng, 0.35),
            "company": rng.choice((company,) * 8 + ("", "Self-employed")),
            "title": rng.choice(TITLES), "industry": _pick(rng, INDUSTRIES, 0.2),
            "employee_count": rng.choice((rng.randint(1, 5000), rng.randint(1, 300), "500+", None)),
            "address": _address(rng, 0.5),
            "status": rng.choice(LEAD_STATUS), "source": rng.choice(LEAD_SOURCE),
            "created_at": created,
            "first_response_at": _date(rng, 50) if rng.random() < 0.5 else None,
            "last_contacted_at": _date(rng, 40) if rng.random() < 0.6 else None,
            "bant": _framework(rng, tuple(BANT_VALUES), rng.random()) if rng.random() < 0.5 else None,
            "behavior": {"website_visits": count(12), "content_downloads": count(5), "email_opens": count(20),
                         "email_clicks": count(6)} if rng.random() < 0.8 else None,
            "engagement": {"demo_requested": rng.choice((True, False, False, None, "yes")),
                           "pricing_inquiries": count(3), "form_submissions": count(4)}
            if rng.random() < 0.7 else None,
        }
        out.append(_drop(rng, record, ("id", "email", "created_at")))
    return out
