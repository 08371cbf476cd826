"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS=tests.fuzz.hooks): NDJSON bodies in and out.

`POST /v1/batch` and `POST /v1/audit` also take `application/x-ndjson`, documented as a string (the wire
form). Generated strings are sent as they are (mostly lines that are not JSON: each must get its own error
line); generated objects or arrays go out as one JSON document per line, the way an export job posts them.
A streamed answer is checked as text, its schema's type.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

NDJSON = "application/x-ndjson"


@schemathesis.serializer(NDJSON)
def ndjson_body(_ctx: Any, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    lines = value if isinstance(value, list) else [value]
    return {"data": b"".join(json.dumps(line).encode() + b"\n" for line in lines)}


@schemathesis.deserializer(NDJSON)
def ndjson_answer(_ctx: Any, response: Any) -> str:
    return response.content.decode("utf-8")  # type: ignore[no-any-return]
