"""`POST /v1/{accounts|contacts|opportunities|leads}/score`: one record in, one report out."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import NowDep, OptionsDep, RulesDep, SettingsDep, read_record
from app.models.records import PLURALS, RECORD_MODELS
from app.models.report import Report
from app.scoring import score_record

router = APIRouter(prefix="/v1", tags=["scoring"])


def request_body_doc(record_type: str) -> dict[str, Any]:
    """OpenAPI request body for a record type: its schema and a dirty example to try."""
    model = RECORD_MODELS[record_type]
    example = model.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"},
        "examples": {"dirty": {"summary": f"A {record_type} with typical problems", "value": example},
                     "empty": {"summary": "An empty record (every required field missing)", "value": {}}},
    }}}}


def make_score_endpoint(record_type: str) -> Any:
    """One endpoint per record type, so each has its own schema, examples and operation id."""

    async def score(request: Request, settings: SettingsDep, rules: RulesDep, options: OptionsDep,
                    now: NowDep) -> Response:
        record = await read_record(request, settings)
        report = score_record(record_type, record, rules, now=now, options=options)
        return Response(orjson.dumps(report), media_type="application/json")

    score.__name__ = f"score_{record_type}"
    score.__doc__ = (f"Judge one {record_type}: completeness, validity, consistency, qualification, "
                     f"timeliness, business impact, standard forms and a save decision. Dirty values are "
                     f"findings, never errors; only a body that is not a JSON object is refused.")
    return score


for _plural, _type in PLURALS.items():
    router.add_api_route(
        f"/{_plural}/score", make_score_endpoint(_type), methods=["POST"], response_model=Report,
        summary=f"Score one {_type}", openapi_extra=request_body_doc(_type),
        responses={400: {"description": "Body is not JSON"}, 413: {"description": "Body too large"},
                   422: {"description": "Body is not a JSON object"}},
    )
