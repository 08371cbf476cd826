"""Record type names as callers write them: `contact`, `Contact`, `CONTACTS`, ` leads `.

Salesforce names its objects `Contact`, HubSpot `contacts`, the API's own answers `contact`: every place that
reads a type name from a body, a query or a path parameter folds it here, so each accepts what the others do
(helper-79: /v1/duplicates refused `"Contact"` while NDJSON lines read it in any case).
"""

from __future__ import annotations

from typing import Any

from app.scoring.summary import PLURAL, SINGULAR

TYPE_NAMES = "account, contact, opportunity or lead (singular or plural, any case)"


def record_type_named(name: Any) -> str | None:
    """The record type (`contact`) `name` stands for: singular or plural, in any case, spaces around it
    ignored; None for any other name, and for a value that is not a string."""
    if not isinstance(name, str):
        return None
    word = name.strip().lower()
    return word if word in PLURAL else SINGULAR.get(word)
