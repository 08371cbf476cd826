"""API keys: with CRM_DQ_API_KEYS set, every /v1 route needs `Authorization: Bearer <key>` or `X-API-Key`.

Health, readiness, metrics and the docs stay open (their routers are included without this dependency).
A key is compared in constant time against every configured key; a refusal never echoes what was sent.

The dependencies read the two headers themselves rather than through FastAPI's `Security(HTTPBearer())`
and `Security(APIKeyHeader())` sub-dependencies: resolving those on every request cost about as much as
scoring a contact (bench/load.sh). `document_security` writes the same OpenAPI security entries, with the
empty alternative `{}` wherever these settings check no key (no CRM_DQ_API_KEYS, or a signed webhook), so the
document a deployment serves says what it enforces.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Any

from fastapi import Request

from app.api.problems import Unauthorized
from app.config import Settings

_NOTE = ("Needed only when the server sets CRM_DQ_API_KEYS; without it no key is checked and every operation "
         "also lists the empty requirement `{}`.")
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": f"`Authorization: Bearer <key>`. {_NOTE}"},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                   "description": f"`X-API-Key: <key>`. {_NOTE}"},
}
KEYED_PREFIX = "/v1/"  # every operation under it is behind `require_api_key` or `require_key_unless_signed`
WEBHOOKS_PREFIX = "/v1/webhooks/"  # behind `require_key_unless_signed`


@lru_cache(maxsize=8)
def configured_keys(raw: str | None) -> tuple[bytes, ...]:
    """The comma-separated keys, blanks dropped; parsed once per setting, not on every request."""
    return tuple(k.strip().encode() for k in (raw or "").split(",") if k.strip())


def key_matches(given: str, keys: tuple[bytes, ...]) -> bool:
    """Constant-time comparison against every key (no early exit on a match)."""
    candidate = given.encode("utf-8", "replace")
    found = False
    for key in keys:
        found |= hmac.compare_digest(key, candidate)
    return found


def presented_key(request: Request) -> str | None:
    """`X-API-Key`, else the credentials of `Authorization: Bearer <key>` (any case of `Bearer`)."""
    headers = request.headers
    api_key = headers.get("x-api-key")
    if api_key:
        return api_key
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    credentials = credentials.strip()  # RFC 6750 allows several spaces after the scheme, as HTTPBearer did
    return credentials if scheme.lower() == "bearer" and credentials else None


def active_keys(settings: Settings) -> tuple[bytes, ...]:
    """The keys these settings configure; empty when CRM_DQ_API_KEYS is unset or blank (no check)."""
    secret = settings.api_keys
    return configured_keys(secret.get_secret_value()) if secret is not None else ()


async def require_api_key(request: Request) -> None:
    """401 problem unless a configured key is sent; a no-op when no keys are configured."""
    keys = active_keys(request.app.state.settings)
    if not keys:
        return
    given = presented_key(request)
    if not given:
        raise Unauthorized("An API key is required: `Authorization: Bearer <key>` or `X-API-Key: <key>`.")
    if not key_matches(given, keys):
        raise Unauthorized("The API key is not valid.")


# which signing secret authenticates each webhook route (the route itself verifies the signature)
WEBHOOK_SECRETS = {"salesforce": "webhook_secret", "generic": "webhook_secret", "hubspot": "hubspot_client_secret"}


def signed_webhook(settings: Settings, path: str) -> bool:
    """Whether `path` is a webhook whose signing secret is set (its signature authenticates the caller)."""
    secret_name = WEBHOOK_SECRETS.get(path.rstrip("/").rsplit("/", 1)[-1])
    return secret_name is not None and getattr(settings, secret_name) is not None


async def require_key_unless_signed(request: Request) -> None:
    """Webhooks: a configured signing secret authenticates the caller, so no API key is needed then.

    A HubSpot app's webhooks cannot carry a custom header, so requiring a key as well would shut them out.
    The route refuses a missing, wrong or stale signature whenever the secret is set; without a secret the
    webhook needs an API key like every other /v1 route.
    """
    if signed_webhook(request.app.state.settings, request.url.path):
        return
    await require_api_key(request)


def document_security(schema: dict[str, Any], settings: Settings) -> None:
    """Both key schemes in the OpenAPI document, on every operation under /v1/: either one, and also none
    (`{}`) where these settings check no key, as the dependencies above decide. Schemathesis read the
    unconditional requirement as "401 without a key" (ST401) from a server that checks nothing."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    keyed = bool(active_keys(settings))
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(KEYED_PREFIX):
            optional = not keyed or (path.startswith(WEBHOOKS_PREFIX) and signed_webhook(settings, path))
            for operation in operations.values():
                operation["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}, *([{}] if optional else [])]
