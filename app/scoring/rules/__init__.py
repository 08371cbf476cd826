"""Every rule family, imported by name so the registered set never depends on import accidents."""

from app.scoring.rules import (  # noqa: F401
    completeness,
    consistency,
    cross_record,
    duplicates,
    impact,
    lead_score,
    qualification,
    standardize,
    timeliness,
    titles,
    validity,
)
