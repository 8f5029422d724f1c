"""recflow's Python client: standard library only (urllib), typed with TypedDicts."""
from .client import NdjsonSource, Recflow
from .errors import RecflowConnectionError, RecflowError
from .transport import RetryPolicy, retry_after_seconds
from .types import BulkKind, Event, FieldProblem, ImportResult, Item, Job, Rating, Recommendations, WriteCounts

__all__ = [
    "BulkKind",
    "Event",
    "FieldProblem",
    "ImportResult",
    "Item",
    "Job",
    "NdjsonSource",
    "Rating",
    "Recflow",
    "RecflowConnectionError",
    "RecflowError",
    "Recommendations",
    "RetryPolicy",
    "WriteCounts",
    "retry_after_seconds",
]
