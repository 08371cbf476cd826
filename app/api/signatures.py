"""Webhook signatures: HubSpot's v3 scheme and crm-dq's own `X-CRM-DQ-Signature: sha256=<hex>`.

Signatures are compared in constant time; a refusal never echoes the signature, the secret or the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from pydantic import SecretStr

from app.api.problems import Unauthorized

SIGNATURE_HEADER = "X-CRM-DQ-Signature"
HUBSPOT_SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
HUBSPOT_TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_AGE_MS = 5 * 60 * 1000
# milliseconds since the epoch in ASCII digits (13 today): `str.isdigit` also passes '²' and other Unicode
# digits, on which `int` fails, and `int` refuses over 4,300 digits; both were an unauthenticated 500 (helper-58)
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
# HubSpot signs the URI with these characters decoded (its v3 documentation lists them)
_HUBSPOT_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
                    "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def body_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: what a sender puts in X-CRM-DQ-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_body_signature(secret: SecretStr | None, header: str | None, body: bytes) -> None:
    """Refuse with 401 unless `header` is the body's signature; no-op when no secret is configured."""
    if secret is None:
        return
    if not header:
        raise Unauthorized(f"Missing {SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 of the body>).")
    expected = body_signature(secret.get_secret_value(), body)
    if not hmac.compare_digest(expected.encode(), header.strip().lower().encode("ascii", "replace")):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body.")


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot v3: base64 HMAC-SHA256 of method + URI + body + timestamp, keyed with the client secret."""
    for encoded, char in _HUBSPOT_DECODED.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_hubspot(secret: SecretStr | None, signature: str | None, timestamp: str | None, method: str,
                   uri: str, body: bytes, now_ms: int | None = None) -> None:
    """Refuse with 401 unless the v3 signature matches and its timestamp is under 5 minutes old."""
    if secret is None:
        return
    if not signature or not timestamp:
        raise Unauthorized(f"Missing {HUBSPOT_SIGNATURE_HEADER} or {HUBSPOT_TIMESTAMP_HEADER} header.")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not _TIMESTAMP.fullmatch(timestamp):  # 'abc' was told it was more than 5 minutes away
        raise Unauthorized(f"{HUBSPOT_TIMESTAMP_HEADER} is not a timestamp: it must be milliseconds since "
                           "the epoch in digits (HubSpot sends e.g. 1717243200000).")
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise Unauthorized(f"{HUBSPOT_TIMESTAMP_HEADER} is more than 5 minutes away from now.")
    expected = hubspot_signature(secret.get_secret_value(), method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("ascii", "replace")):
        raise Unauthorized(f"{HUBSPOT_SIGNATURE_HEADER} does not match the request.")
