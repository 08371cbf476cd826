"""A typed Python client for crm-dq over HTTP (httpx); the CLI uses it, against a server or in-process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import orjson

NDJSON = "application/x-ndjson"


class CrmDqError(RuntimeError):
    """The server answered with a problem document (or another non-2xx status)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('title', '')}: {problem.get('detail', '')}")
        self.status, self.problem = status, problem


class CrmDqClient:
    """One crm-dq service: a base URL and an API key, or any `httpx.Client` (a TestClient for in-process use).

    Example:
        >>> with CrmDqClient("http://127.0.0.1:8000", api_key="k1") as dq:
        ...     dq.score("contact", {"email": "bob@"})["decision"]["action"]
        'alert'
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 http: httpx.Client | None = None, timeout: float = 600.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        if http is None:
            if base_url is None:
                raise ValueError("give base_url or an httpx.Client")
            http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        http.headers.update(headers)
        self.http = http

    def __enter__(self) -> CrmDqClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self.http.close()

    def health(self) -> dict[str, Any]:
        """`GET /healthz`."""
        return self._json(self.http.get("/healthz"))

    def rules(self) -> dict[str, Any]:
        """`GET /v1/rules`: every rule with its effective severity."""
        return self._json(self.http.get("/v1/rules"))

    def score(self, record_type: str, record: dict[str, Any], index: bool = False) -> dict[str, Any]:
        """Score one canonical record (`POST /v1/{type}s/score`)."""
        plural = {"opportunity": "opportunities"}.get(record_type, f"{record_type}s")
        return self._json(self.http.post(f"/v1/{plural}/score", params={"index": str(index).lower()},
                                         content=orjson.dumps(record),
                                         headers={"content-type": "application/json"}))

    def batch_stream(self, lines: Iterable[dict[str, Any]],
                     duplicates: bool = True, now: str | None = None) -> Iterator[dict[str, Any]]:
        """Stream `{"type": …}` records as NDJSON to `/v1/batch`; yield each result line, then the summary.
        `now`: the instant timeliness rules measure against (ISO 8601), else the server's clock."""
        body = (orjson.dumps(line) + b"\n" for line in lines)
        params = {"duplicates": str(duplicates).lower(), **({"now": now} if now else {})}
        with self.http.stream("POST", "/v1/batch", content=body, params=params,
                              headers={"content-type": NDJSON}) as response:
            if response.status_code >= 400:
                response.read()
                self._json(response)
            for raw in response.iter_lines():
                if raw.strip():
                    yield orjson.loads(raw)

    def audit(self, batch: dict[str, list[dict[str, Any]]], html: bool = False, now: str | None = None) -> Any:
        """`POST /v1/audit` with a JSON batch; the HTML report as text when `html`."""
        response = self.http.post("/v1/audit", params={"format": "html" if html else "json",
                                                       **({"now": now} if now else {})},
                                  content=orjson.dumps(batch), headers={"content-type": "application/json"})
        if html:
            self._check(response)
            return response.text
        return self._json(response)

    def _check(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:300]}
            raise CrmDqError(response.status_code, problem if isinstance(problem, dict) else {})

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        self._check(response)
        body = response.json()
        return body if isinstance(body, dict) else {"value": body}
