"""Errors the client raises: the API's own answer, or no answer at all."""
from __future__ import annotations

from typing import List, Optional

from .types import FieldProblem


class RecflowError(Exception):
    """A non-success answer: the API's ``code`` (validation_failed, not_found, forbidden,
    rate_limited, database_unavailable, ...), its field details and the request id to quote."""

    def __init__(self, status: int, code: str, message: str, details: List[FieldProblem], request_id: Optional[str], retry_after_seconds: Optional[int]) -> None:
        fields = "; ".join(f"{d['path']}: {d['message']}" for d in details)
        super().__init__(f"{status} {code}: {message}" + (f" ({fields})" if fields else ""))
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        self.retry_after_seconds = retry_after_seconds

    def field(self, path: str) -> Optional[FieldProblem]:
        """The problem reported for one field, if any: ``err.field("body.rating")``."""
        return next((d for d in self.details if d["path"] == path), None)


class RecflowConnectionError(Exception):
    """The server could not be reached (refused, reset, timed out)."""

    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(f"cannot reach {url}: {cause}")
        self.url = url
        self.cause = cause
