"""The committed OpenAPI document (openapi/openapi.json) is the app's, and it documents every operation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.models.records import RECORD_MODELS
from tests.api.assertions import SCORE_PATHS

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"
REGENERATE = "openapi/openapi.json is stale: regenerate it with " \
             "`.venv/bin/python -m app.openapi_export > openapi/openapi.json` (or `make openapi`)"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node  # type: ignore[no-any-return]


def test_the_committed_document_is_the_apps(spec: dict[str, Any]) -> None:
    committed = json.loads(COMMITTED.read_text())
    assert spec == committed, REGENERATE


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert len(ops) >= len(SCORE_PATHS) + 3  # the score endpoints, rules, healthz, readyz
    for path, method, op in ops:
        assert op.get("summary", "").strip(), f"{method.upper()} {path} has no summary"
        assert op.get("description", "").strip(), f"{method.upper()} {path} has no description"
        assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids)), "operation ids must be unique"


def refs_in(node: Any) -> list[str]:
    """Every `$ref` anywhere under `node`."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs_in(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs_in(v)]
    return []


@pytest.mark.parametrize("record_type", list(SCORE_PATHS))
def test_each_score_endpoint_documents_its_record_and_examples(spec: dict[str, Any],
                                                               record_type: str) -> None:
    op = spec["paths"][SCORE_PATHS[record_type]]["post"]
    body = op["requestBody"]
    assert body["required"] is True
    media = body["content"]["application/json"]

    model = RECORD_MODELS[record_type]
    ref = f"#/components/schemas/{model.__name__}"
    assert ref in refs_in(media["schema"]), f"the request body does not refer to {ref}"
    schema = resolve(spec, ref)
    assert set(schema["properties"]) == set(model.model_fields)

    examples = media["examples"]
    assert {"dirty", "empty"} <= set(examples), f"missing examples: {sorted(examples)}"
    assert examples["empty"]["value"] == {}
    for name, example in examples.items():
        assert example.get("summary"), f"example {name} has no summary"
        value = example["value"]
        assert isinstance(value, dict), f"example {name} is not a JSON object"
        documented = [value] if "record" not in value else [value["record"], *value.get("candidates", [])]
        for record in documented:
            undocumented = set(record) - set(schema["properties"])
            assert not undocumented, f"example {name} uses undocumented fields {undocumented}"

    report = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert resolve(spec, report["$ref"])["title"] == "Report"
    assert {"400", "413", "422"} <= set(op["responses"])


def test_every_schema_reference_resolves(spec: dict[str, Any]) -> None:
    all_refs = refs_in(spec)
    assert all_refs
    for ref in all_refs:
        resolve(spec, ref)
