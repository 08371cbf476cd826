"""Adapters: CRM-native payloads (Salesforce, HubSpot) to canonical records through TOML field mappings.

Pure Python like the scoring core: the API and the CLI call the same functions.
"""

from app.adapters.columns import MappingChoice, choose_mapping
from app.adapters.convert import (
    Adapted,
    AdapterError,
    SourceNames,
    adapt_fields,
    adapt_payload,
    annotate,
    from_hubspot,
    from_salesforce,
)
from app.adapters.mappings import Mappings, MappingsError, ObjectMap, load_mappings

__all__ = ["Adapted", "AdapterError", "MappingChoice", "Mappings", "MappingsError", "ObjectMap",
           "SourceNames", "adapt_fields", "adapt_payload", "annotate", "choose_mapping", "from_hubspot",
           "from_salesforce", "load_mappings"]
