"""HTTP with the API's conventions: bearer key, JSON, typed errors, retries that honour Retry-After."""
from __future__ import annotations

import email.utils
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence, Union

from .errors import RecflowConnectionError, RecflowError

QueryValue = Union[str, int, float, bool, Sequence[Union[str, int]], None]
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE"}


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of 429 and 503 answers (and unreachable servers on idempotent methods)."""

    retries: int = 4
    """Attempts after the first."""
    base_delay: float = 0.25
    """First backoff in seconds when the server gives no Retry-After; doubles, with full jitter."""
    max_delay: float = 30.0
    """Longest wait accepted: a Retry-After above it is raised to the caller instead."""


def retry_after_seconds(header: Optional[str], now: Optional[float] = None) -> Optional[int]:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not header:
        return None
    text = header.strip()
    if text.isdigit():
        return int(text)
    try:
        at = email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0, int(-(-(at - (time.time() if now is None else now)) // 1)))


def _query(query: Optional[Mapping[str, QueryValue]]) -> str:
    pairs = []
    for key, value in (query or {}).items():
        if value is None:
            continue
        for one in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, ("true" if one else "false") if isinstance(one, bool) else str(one)))
    return ("?" + urllib.parse.urlencode(pairs)) if pairs else ""


class Transport:
    def __init__(self, base_url: str, api_key: Optional[str] = None, retry: RetryPolicy = RetryPolicy(), timeout: float = 30.0, headers: Optional[Dict[str, str]] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retry = retry
        self.timeout = timeout
        self.headers = dict(headers or {})

    def url(self, template: str, path: Optional[Mapping[str, Union[str, int]]] = None, query: Optional[Mapping[str, QueryValue]] = None) -> str:
        resolved = template
        for name, value in (path or {}).items():
            resolved = resolved.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        return self.base_url + resolved + _query(query)

    def open(self, method: str, template: str, *, path: Optional[Mapping[str, Union[str, int]]] = None, query: Optional[Mapping[str, QueryValue]] = None, body: Any = None, ndjson: Optional[Iterable[bytes]] = None):
        """The open answer of a successful request (2xx); RecflowError otherwise, after the retries."""
        url = self.url(template, path, query)
        headers = {"accept": "application/json", **self.headers}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        data: Union[bytes, Iterable[bytes], None] = None
        if ndjson is not None:
            # An iterable body without a length goes out chunked, as it is produced.
            headers["content-type"] = "application/x-ndjson"
            data = ndjson
        elif body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        replayable = ndjson is None
        attempt = 0
        while True:
            last = not replayable or attempt >= self.retry.retries
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                return self.urlopen(request, None if ndjson is not None else self.timeout)
            except urllib.error.HTTPError as answer:
                wait = retry_after_seconds(answer.headers.get("retry-after"))
                delay = self._backoff(attempt) if wait is None else float(wait)
                if answer.code not in (429, 503) or last or delay > self.retry.max_delay:
                    raise _error_of(answer, wait) from None
                answer.close()
            except (urllib.error.URLError, ConnectionError, TimeoutError) as cause:
                if last or method not in IDEMPOTENT:
                    raise RecflowConnectionError(url, cause) from None
                delay = self._backoff(attempt)
            time.sleep(delay)
            attempt += 1

    def urlopen(self, request: urllib.request.Request, timeout: Optional[float]):
        """One attempt. Override to use an opener with a proxy or client certificates."""
        return urllib.request.urlopen(request, timeout=timeout)

    def json(self, method: str, template: str, **kwargs: Any) -> Any:
        with self.open(method, template, **kwargs) as answer:
            text = answer.read()
            return json.loads(text) if text else None

    def lines(self, method: str, template: str, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        """The JSON records of an NDJSON answer, one per line, as they arrive."""
        with self.open(method, template, **kwargs) as answer:
            for line in answer:
                if line.strip():
                    yield json.loads(line)

    def _backoff(self, attempt: int) -> float:
        return random.random() * min(self.retry.max_delay, self.retry.base_delay * 2**attempt)


def _error_of(answer: urllib.error.HTTPError, wait: Optional[int]) -> RecflowError:
    text = answer.read().decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return RecflowError(answer.code, body.get("code", f"http_{answer.code}"), body.get("error", text[:200] or answer.reason), body.get("details", []), answer.headers.get("x-request-id"), wait)
