"""The real app plus one route with a planted bug, so tests/fuzz can show the fuzzer reports a 5xx."""

from __future__ import annotations

from typing import Any

from app.main import create_app

app = create_app()


@app.post("/v1/planted-bug", summary="A planted bug", responses={200: {"description": "never"}})
async def planted_bug(body: dict[str, Any]) -> dict[str, Any]:
    """Fails on any body holding a key: an unhandled exception, which the app answers with a 500."""
    if body:
        raise RuntimeError("planted")
    return {}
