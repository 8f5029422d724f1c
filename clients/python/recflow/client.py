"""The recflow API, one method per operation (the operationId of openapi.yaml in snake_case)."""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Sequence, Union

from .transport import QueryValue, RetryPolicy, Transport
from .types import BulkKind, Event, ImportResult, Item, Job, Rating, Recommendations, WriteCounts

Json = Dict[str, Any]
FINISHED = {"completed", "failed", "cancelled"}
NdjsonSource = Union[Iterable[Mapping[str, Any]], Iterable[bytes], Iterable[str]]


def _ndjson(source: NdjsonSource) -> Iterator[bytes]:
    """Bytes for a chunked body, produced as it is sent: records become lines; text and bytes
    (a file opened in either mode) pass through as they are."""
    for chunk in source:
        if isinstance(chunk, bytes):
            yield chunk
        elif isinstance(chunk, str):
            yield chunk.encode("utf-8")
        else:
            yield (json.dumps(chunk, ensure_ascii=False) + "\n").encode("utf-8")


def _q(**query: QueryValue) -> Dict[str, QueryValue]:
    return {k: v for k, v in query.items() if v is not None}


class Recflow(Transport):
    """A client for one recflow deployment.

    >>> recflow = Recflow("http://localhost:8080", api_key="...")
    >>> recflow.get_recommendations("alice", limit=5)["items"]
    """

    def __init__(self, base_url: str, api_key: Optional[str] = None, *, retry: RetryPolicy = RetryPolicy(), timeout: float = 30.0, batch_size: int = 1000, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(base_url, api_key, retry, timeout, headers)
        self.batch_size = batch_size

    # Health
    def health(self) -> Json:
        return self.json("GET", "/healthz")

    def ready(self) -> Json:
        return self.json("GET", "/readyz")

    # Ingest
    def add_ratings(self, ratings: Union[Rating, Sequence[Rating]]) -> WriteCounts:
        """One rating, or any number (sent in batches of ``batch_size``; the counts are summed)."""
        if isinstance(ratings, Mapping):
            return self.json("POST", "/ratings", body=ratings)
        return self._in_batches(ratings, lambda batch: self.json("POST", "/ratings", body={"ratings": batch}))

    def add_events(self, events: Union[Event, Sequence[Event]]) -> WriteCounts:
        """One event, or any number (batched). Give each the answer's recommendationId to attribute it."""
        if isinstance(events, Mapping):
            return self.json("POST", "/events", body=events)
        return self._in_batches(events, lambda batch: self.json("POST", "/events", body={"events": batch}))

    def report_impressions(self, body: Json) -> Json:
        return self.json("POST", "/impressions", body=body)

    def report_shown(self, answer: Mapping[str, Any], item_ids: Optional[Sequence[str]] = None) -> Json:
        """Says which items of an answer the client rendered (all of them by default)."""
        items = list(item_ids) if item_ids is not None else [i["itemId"] for i in answer["items"]]
        return self.report_impressions({"recommendationId": answer["recommendationId"], "items": items})

    def feedback(self, answer: Mapping[str, Any], event: Event) -> WriteCounts:
        """An event on an item of an answer, attributed to that answer."""
        return self.add_events({**event, "recommendationId": answer["recommendationId"]})

    def delete_rating(self, user_id: str, item_id: str) -> None:
        self.json("DELETE", "/users/{id}/ratings/{itemId}", path={"id": user_id, "itemId": item_id})

    def delete_event(self, event_id: str) -> None:
        self.json("DELETE", "/events/{eventId}", path={"eventId": event_id})

    # Recommendations
    def get_recommendations(self, user_id: str, **query: QueryValue) -> Recommendations:
        return self.json("GET", "/users/{id}/recommendations", path={"id": user_id}, query=query)

    def get_similar_items(self, item_id: str, **query: QueryValue) -> Json:
        return self.json("GET", "/items/{id}/similar", path={"id": item_id}, query=query)

    def get_similar_users(self, user_id: str, **query: QueryValue) -> Json:
        return self.json("GET", "/users/{id}/similar", path={"id": user_id}, query=query)

    def recommend_for_session(self, items: Sequence[str], ratings: Optional[Sequence[float]] = None, **query: QueryValue) -> Json:
        body: Json = {"items": list(items), **({"ratings": list(ratings)} if ratings is not None else {})}
        return self.json("POST", "/recommendations", body=body, query=query)

    def get_popular(self, **query: QueryValue) -> Json:
        return self.json("GET", "/popular", query=query)

    def get_leaderboard(self, name: str, **query: QueryValue) -> Json:
        return self.json("GET", "/leaderboards/{name}", path={"name": name}, query=query)

    def get_latest(self, **query: QueryValue) -> Json:
        return self.json("GET", "/latest", query=query)

    # Catalogue
    def put_item(self, item_id: str, item: Item) -> Item:
        return self.json("PUT", "/items/{id}", path={"id": item_id}, body=item)

    def get_item(self, item_id: str) -> Item:
        return self.json("GET", "/items/{id}", path={"id": item_id})

    def hide_item(self, item_id: str) -> Item:
        return self.json("DELETE", "/items/{id}", path={"id": item_id})

    def put_items(self, items: Sequence[Item]) -> WriteCounts:
        return self._in_batches(items, lambda batch: self.json("PUT", "/items", body={"items": batch}))

    def list_items(self, **query: QueryValue) -> Json:
        return self.json("GET", "/items", query=query)

    def iterate_items(self, *, q: Optional[str] = None, category: Optional[str] = None, limit: int = 100) -> Iterator[Json]:
        """Every item (or every item of a category, or matching a prefix) once, page by page."""
        after: Optional[int] = 0
        while after is not None:
            page = self.list_items(**_q(q=q, category=category, limit=limit, after=after))
            yield from page["items"]
            after = page["nextCursor"]

    # Users
    def put_user(self, user_id: str, labels: Mapping[str, Any]) -> Json:
        return self.json("PUT", "/users/{id}", path={"id": user_id}, body={"labels": dict(labels)})

    def get_user(self, user_id: str) -> Json:
        return self.json("GET", "/users/{id}", path={"id": user_id})

    def erase_user(self, user_id: str) -> Json:
        return self.json("DELETE", "/users/{id}", path={"id": user_id})

    def list_users(self, **query: QueryValue) -> Json:
        return self.json("GET", "/users", query=query)

    def iterate_users(self, *, q: Optional[str] = None, limit: int = 100) -> Iterator[Json]:
        after: Optional[int] = 0
        while after is not None:
            page = self.list_users(**_q(q=q, limit=limit, after=after))
            yield from page["users"]
            after = page["nextCursor"]

    def get_user_history(self, user_id: str, **query: QueryValue) -> Json:
        return self.json("GET", "/users/{id}/history", path={"id": user_id}, query=query)

    def iterate_history(self, user_id: str, *, limit: int = 100) -> Iterator[Json]:
        """A user's whole history, newest first, page by page."""
        cursor: Optional[str] = None
        while True:
            page = self.get_user_history(user_id, **_q(limit=limit, cursor=cursor))
            yield from page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                return

    # Bulk
    def import_rows(self, kind: BulkKind, source: NdjsonSource) -> ImportResult:
        """Streams the body as it is read: records, NDJSON text or bytes (an open file works as it is). Sent once, never retried."""
        return self.json("POST", "/admin/import/{kind}", path={"kind": kind}, ndjson=_ndjson(source))

    def export_rows(self, kind: BulkKind, after: int = 0) -> Iterator[Json]:
        """Every row of a kind, oldest first, as the server streams it; each has its ``cursor``."""
        return self.lines("GET", "/admin/export/{kind}", path={"kind": kind}, query={"after": after})

    # Keys
    def create_key(self, name: str, scopes: Sequence[str], **limits: int) -> Json:
        return self.json("POST", "/admin/keys", body={"name": name, "scopes": list(scopes), **limits})

    def list_keys(self, include_revoked: bool = False) -> Json:
        return self.json("GET", "/admin/keys", query={"include_revoked": include_revoked})

    def revoke_key(self, key_id: Union[int, str]) -> Json:
        return self.json("DELETE", "/admin/keys/{id}", path={"id": key_id})

    # Training and models
    def retrain(self, **request: Any) -> Json:
        return self.json("POST", "/admin/retrain", body=request)

    def list_jobs(self, **query: QueryValue) -> Json:
        return self.json("GET", "/admin/jobs", query=query)

    def get_job(self, job_id: str) -> Job:
        return self.json("GET", "/admin/jobs/{id}", path={"id": job_id})

    def cancel_job(self, job_id: str) -> Job:
        return self.json("DELETE", "/admin/jobs/{id}", path={"id": job_id})

    def wait_for_job(self, job_id: str, interval: float = 1.0) -> Job:
        """Polls a job until it completes, fails or is cancelled; its final view."""
        while True:
            job = self.get_job(job_id)
            if job["state"] in FINISHED:
                return job
            time.sleep(interval)

    def list_models(self, **query: QueryValue) -> Json:
        return self.json("GET", "/admin/models", query=query)

    def activate_model(self, model: str, version: str) -> Json:
        return self.json("POST", "/admin/models/{model}/{version}/activate", path={"model": model, "version": version})

    def get_serving(self) -> Json:
        return self.json("GET", "/admin/serving")

    def set_serving(self, model: str, version: Optional[str] = None) -> Json:
        return self.json("POST", "/admin/serving", body={"model": model, **({"version": version} if version else {})})

    def get_config(self) -> Json:
        return self.json("GET", "/admin/config")

    # Stats
    def get_stats(self) -> Json:
        return self.json("GET", "/admin/stats")

    def get_ingest_stats(self, **query: QueryValue) -> Json:
        return self.json("GET", "/admin/stats/ingest", query=query)

    def get_serving_stats(self) -> Json:
        return self.json("GET", "/admin/stats/serving")

    def get_pipeline_stats(self) -> Json:
        return self.json("GET", "/admin/stats/pipeline")

    def get_online_stats(self, **query: QueryValue) -> Json:
        return self.json("GET", "/stats/online", query=query)

    # Experiments
    def list_experiments(self) -> Json:
        return self.json("GET", "/admin/experiments")

    def create_experiment(self, body: Json) -> Json:
        return self.json("POST", "/admin/experiments", body=body)

    def get_experiment(self, experiment_id: str) -> Json:
        return self.json("GET", "/admin/experiments/{id}", path={"id": experiment_id})

    def stop_experiment(self, experiment_id: str) -> Json:
        return self.json("POST", "/admin/experiments/{id}/stop", path={"id": experiment_id})

    def conclude_experiment(self, experiment_id: str, winner: Optional[str] = None) -> Json:
        return self.json("POST", "/admin/experiments/{id}/conclude", path={"id": experiment_id}, body=_q(winner=winner))

    def promote_variant(self, experiment_id: str, variant: Optional[str] = None) -> Json:
        return self.json("POST", "/admin/experiments/{id}/promote", path={"id": experiment_id}, body=_q(variant=variant))

    def estimate_off_policy(self, model: str, **query: QueryValue) -> Json:
        return self.json("GET", "/admin/offpolicy", query={"model": model, **query})

    def _in_batches(self, rows: Sequence[Any], send: Callable[[list], WriteCounts]) -> WriteCounts:
        total: WriteCounts = {"inserted": 0, "updated": 0, "ignored": 0}
        rows = list(rows)
        for start in range(0, len(rows), self.batch_size):
            counts = send(rows[start : start + self.batch_size])
            total = {"inserted": total["inserted"] + counts["inserted"], "updated": total["updated"] + counts["updated"], "ignored": total["ignored"] + counts["ignored"]}
        return total


__all__ = ["Recflow", "RetryPolicy", "NdjsonSource"]
