"""The shapes of what the API takes and answers (openapi.yaml is the full contract)."""
from __future__ import annotations

from typing import Dict, List, Literal, NotRequired, Optional, TypedDict, Union

Timestamp = Union[str, int]
"""ISO 8601 with an offset, or epoch milliseconds."""
BulkKind = Literal["users", "items", "ratings", "events"]
EventType = Literal["click", "view", "like", "add_to_cart", "purchase", "dislike"]


class FieldProblem(TypedDict):
    path: str
    message: str


class Rating(TypedDict):
    userId: Union[str, int]
    itemId: Union[str, int]
    rating: float
    timestamp: NotRequired[Timestamp]
    recommendationId: NotRequired[str]


class Event(TypedDict):
    userId: Union[str, int]
    itemId: Union[str, int]
    type: str
    value: NotRequired[float]
    timestamp: NotRequired[Timestamp]
    eventId: NotRequired[str]
    recommendationId: NotRequired[str]


class WriteCounts(TypedDict):
    inserted: int
    updated: int
    ignored: int


class Item(TypedDict, total=False):
    itemId: str
    categories: List[str]
    hidden: bool
    availableFrom: Optional[Union[str, int]]
    availableUntil: Optional[Union[str, int]]
    labels: Dict[str, object]
    createdAt: str
    updatedAt: Optional[str]


class ScoredItem(TypedDict, total=False):
    itemId: str
    score: float
    source: str
    because: List[Dict[str, object]]


class Recommendations(TypedDict):
    """What ``get_recommendations`` answers (the fields a page needs; the rest are in the dict too)."""

    userId: str
    model: str
    modelVersion: Optional[str]
    source: Literal["model", "fallback"]
    items: List[ScoredItem]
    nextCursor: Optional[str]
    recommendationId: str


class Job(TypedDict, total=False):
    id: str
    model: str
    state: Literal["queued", "active", "completed", "failed", "cancelled"]
    phase: str
    error: Optional[str]
    result: Optional[Dict[str, object]]


class ImportResult(TypedDict):
    kind: BulkKind
    lines: int
    written: int
