"""API keys: with CRM_DQ_API_KEYS set, every /v1 route needs `Authorization: Bearer <key>` or `X-API-Key`.

Health, readiness, metrics and the docs stay open (their routers are included without this dependency).
A key is compared in constant time against every configured key; a refusal never echoes what was sent.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api.problems import Unauthorized

_NOTE = "Needed only when the server sets CRM_DQ_API_KEYS."
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearerAuth",
                           description=f"`Authorization: Bearer <key>`. {_NOTE}")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKeyAuth",
                              description=f"`X-API-Key: <key>`. {_NOTE}")


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


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> None:
    """401 problem unless a configured key is sent; a no-op when no keys are configured."""
    secret = request.app.state.settings.api_keys
    if secret is None:
        return
    keys = configured_keys(secret.get_secret_value())
    if not keys:
        return
    given = api_key or (bearer.credentials if bearer else None)
    if not given:
        raise Unauthorized("An API key is required: `Authorization: Bearer <key>` or `X-API-Key: <key>`.")
    if not key_matches(given, keys):
        raise Unauthorized("The API key is not valid.")


# which signing secret authenticates each webhook route (the route itself verifies the signature)
WEBHOOK_SECRETS = {"salesforce": "webhook_secret", "generic": "webhook_secret", "hubspot": "hubspot_client_secret"}


async def require_key_unless_signed(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> None:
    """Webhooks: a configured signing secret authenticates the caller, so no API key is needed then.

    A HubSpot app's webhooks cannot carry a custom header, so requiring a key as well would shut them out.
    The route refuses a missing, wrong or stale signature whenever the secret is set; without a secret the
    webhook needs an API key like every other /v1 route.
    """
    settings = request.app.state.settings
    secret_name = WEBHOOK_SECRETS.get(request.url.path.rstrip("/").rsplit("/", 1)[-1])
    if secret_name is not None and getattr(settings, secret_name) is not None:
        return
    await require_api_key(request, bearer, api_key)
