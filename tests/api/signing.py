"""Webhook secrets and signatures as CRMs send them, for the tests of signed routes (`conftest.signed`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

WEBHOOK_SECRET = "wh-secret-7d1f0c2a"
HUBSPOT_SECRET = "hs-client-secret-91be4e"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hubspot_headers(uri: str, body: bytes, timestamp_ms: int | None = None,
                    secret: str = HUBSPOT_SECRET) -> dict[str, str]:
    """Headers as HubSpot sends them (v3): base64 HMAC-SHA256 of method + URI + body + timestamp."""
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    digest = hmac.new(secret.encode(), b"POST" + uri.encode() + body + ts.encode(), hashlib.sha256).digest()
    return {"X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": ts,
            "content-type": "application/json"}
