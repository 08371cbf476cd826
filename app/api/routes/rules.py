"""`GET /v1/rules`: the active rules, their effective severities, and the settings that shape them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import RulesDep, SettingsDep
from app.scoring import RULES

router = APIRouter(prefix="/v1", tags=["rules"])


@router.get("/rules", summary="List active rules and settings")
async def list_rules(rules: RulesDep, settings: SettingsDep) -> dict[str, Any]:
    """Every declared rule with its effective severity and whether it is enabled, plus the rules file."""
    return {
        "rules_version": rules.version,
        "rules": [r.describe() | {"severity": rules.severity[r.id], "enabled": r.id in rules.enabled}
                  for r in RULES.values()],
        "settings": {"default_region": settings.default_region,
                     "check_email_deliverability": settings.check_email_deliverability,
                     "max_body_bytes": settings.max_body_bytes, "max_batch": settings.max_batch,
                     "rules_file": str(settings.rules_file) if settings.rules_file else None},
        "config": rules.file.model_dump(mode="json"),
    }
