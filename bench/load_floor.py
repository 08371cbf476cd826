"""The load test's floor: a bare FastAPI app whose scoring route only reads and parses the body.

bench/load.sh serves it exactly as it serves crm-dq (same uvicorn, workers, loop and HTTP parser) and sends it
the same bodies, so crm-dq's requests per second as a share of this app's is the cost of judging a contact
over what any FastAPI service pays to receive one.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

app = FastAPI()


@app.post("/v1/contacts/score")
async def parse_only(request: Request) -> Response:
    """Parse the JSON body and answer with its number of fields."""
    record = orjson.loads(await request.body())
    return Response(orjson.dumps({"fields": len(record)}), media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
