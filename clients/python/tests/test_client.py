"""The Python client against live recflow servers (started by test/clients/python-client.test.ts).

RECFLOW_URL: the main server; RECFLOW_TARGET_URL: an empty one for the NDJSON round trip;
RECFLOW_TIGHT_URL: one with 2 KiB of in-flight bodies (for a real 503); RECFLOW_ADMIN_TOKEN;
RECFLOW_OPERATIONS: every operation of openapi.yaml as JSON [[method, path, operationId], ...].
"""
from __future__ import annotations

import http.client
import json
import os
import time
import unittest
import threading
import urllib.error
import urllib.parse

from recflow import Recflow, RecflowError, RetryPolicy, retry_after_seconds

URL = os.environ["RECFLOW_URL"]
TOKEN = os.environ["RECFLOW_ADMIN_TOKEN"]
OPERATIONS = [tuple(op) for op in json.loads(os.environ["RECFLOW_OPERATIONS"])]
RATINGS = [
    {"userId": f"u{u}", "itemId": f"i{i}", "rating": 1 + (u + i) % 5, "timestamp": 1_700_000_000_000 + u * 1000 + i}
    for u in range(50)
    for i in range(30)
    if (u * 7 + i * 3) % 5 < 2
]


class Recording(Recflow):
    """The client, noting each (method, path template) that answered, and when and how."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.called: set = set()

    def open(self, method, template, **kwargs):
        answer = super().open(method, template, **kwargs)
        self.called.add((method, template))
        return answer


class TimedRecflow(Recflow):
    """Notes each attempt's start and status."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log: list = []

    def urlopen(self, request, timeout):
        at = time.monotonic()
        try:
            answer = super().urlopen(request, timeout)
        except urllib.error.HTTPError as err:
            self.log.append((at, err.code))
            raise
        self.log.append((at, answer.status))
        return answer


class EveryOperation(unittest.TestCase):
    def test_every_operation_once_with_typed_errors(self):
        admin = Recording(URL, api_key=TOKEN, batch_size=400)
        self.assertEqual(admin.health(), {"status": "ok"})
        self.assertEqual(admin.ready()["status"], "ready")
        created = admin.create_key("py-client", ["read", "write"])
        app = Recording(URL, api_key=created["key"], batch_size=400)
        self.assertIn("py-client", [k["name"] for k in admin.list_keys()["keys"]])

        self.assertEqual(app.put_items([{"itemId": f"i{i}", "categories": ["odd" if i % 2 else "even"], "labels": {"title": f"Item {i}"}} for i in range(30)])["inserted"], 30)
        self.assertEqual(app.put_item("new-item", {"labels": {"title": "Brand new"}})["itemId"], "new-item")
        self.assertEqual(app.get_item("i3")["labels"], {"title": "Item 3"})
        self.assertEqual([i["itemId"] for i in app.list_items(q="i1", limit=3)["items"]], ["i1", "i10", "i11"])
        self.assertEqual(app.add_ratings(RATINGS), {"inserted": len(RATINGS), "updated": 0, "ignored": 0})
        self.assertEqual(app.add_events([{"userId": "u1", "itemId": "i2", "type": "click", "eventId": "py-1"}, {"userId": "u1", "itemId": "i4", "type": "view", "eventId": "py-2"}])["inserted"], 2)
        self.assertEqual(app.put_user("u1", {"plan": "pro"})["labels"], {"plan": "pro"})
        self.assertEqual(app.get_user("u1")["labels"], {"plan": "pro"})
        self.assertEqual([u["userId"] for u in app.list_users(q="u1", limit=2)["users"]], ["u1", "u10"])
        self.assertEqual(len(app.get_user_history("u1", limit=2)["items"]), 2)

        for request in ({"model": "ease"}, {"model": "ials", "epochs": 3, "factors": 8}):
            self.assertEqual(admin.wait_for_job(admin.retrain(**request)["jobId"], interval=0.2)["state"], "completed")
        self.assertEqual(admin.get_job(admin.list_jobs(limit=1)["jobs"][0]["id"])["state"], "completed")
        ials = next(v for v in admin.list_models()["models"] if v["model"] == "ials")
        self.assertTrue(admin.activate_model("ials", ials["version"])["active"])
        self.assertEqual(admin.set_serving("ials")["mode"], "pinned")
        self.assertEqual(admin.get_serving()["model"], "ials")
        deadline = time.monotonic() + 120
        while app.get_recommendations("u2")["modelVersion"] != ials["version"]:
            self.assertLess(time.monotonic(), deadline, "the pinned version never served")
            time.sleep(0.2)

        answer = app.get_recommendations("u2", limit=5, explain=True)
        self.assertEqual(len(answer["items"]), 5)
        self.assertEqual(app.report_shown(answer)["accepted"], 1)
        self.assertEqual(app.feedback(answer, {"userId": "u2", "itemId": answer["items"][0]["itemId"], "type": "click"})["inserted"], 1)
        self.assertEqual(len(app.get_similar_items("i3", limit=3)["items"]), 3)
        self.assertEqual(len(app.get_similar_users("u2", limit=3)["users"]), 3)
        self.assertEqual(len(app.recommend_for_session(["i1", "i2"], limit=3)["items"]), 3)
        self.assertEqual(app.get_popular(limit=3)["name"], "popular")
        self.assertEqual(app.get_leaderboard("popular", limit=3)["name"], "popular")
        self.assertEqual(len(app.get_latest(limit=2)["items"]), 2)

        self.assertIsInstance(admin.get_stats()["counts"]["ratings"], int)
        self.assertEqual(admin.get_ingest_stats(bucket="day")["bucket"], "day")
        self.assertIn("series", admin.get_serving_stats())
        self.assertIn("sources", admin.get_pipeline_stats())
        self.assertIn("totals", admin.get_online_stats(days=7))
        self.assertIsInstance(admin.get_config(), dict)

        experiment = admin.create_experiment({"name": "py-ease-vs-ials", "variants": [{"name": "ease", "model": "ease"}, {"name": "ials", "model": "ials"}]})
        self.assertIn(experiment["id"], [e["id"] for e in admin.list_experiments()["experiments"]])
        self.assertEqual(admin.get_experiment(experiment["id"])["name"], "py-ease-vs-ials")
        self.assertIsNotNone(admin.stop_experiment(experiment["id"])["stoppedAt"])
        self.assertEqual(admin.conclude_experiment(experiment["id"], winner="ials")["winner"], "ials")
        self.assertEqual(admin.promote_variant(experiment["id"], variant="ials")["id"], experiment["id"])
        try:
            self.assertIn("matchedSlots", admin.estimate_off_policy("ease"))
        except RecflowError as err:  # nothing explored yet: refused, naming why
            self.assertIn(err.status, (404, 409))
            admin.called.add(("GET", "/admin/offpolicy"))

        long_job = admin.retrain(model="einmf", epochs=500, factors=8, force=True)["jobId"]
        self.assertIn(admin.cancel_job(long_job)["state"], ("cancelled", "active", "queued"))
        app.delete_rating("u0", next(r["itemId"] for r in RATINGS if r["userId"] == "u0"))
        app.delete_event("py-2")
        self.assertTrue(app.hide_item("new-item")["hidden"])
        self.assertEqual(admin.erase_user("u49")["userId"], "u49")
        self.assertIsNotNone(admin.revoke_key(created["id"])["revokedAt"])

        with self.assertRaises(RecflowError) as unknown:
            admin.get_user("nobody-at-all")
        self.assertEqual((unknown.exception.status, unknown.exception.code), (404, "not_found"))
        self.assertIsNotNone(unknown.exception.field("params.id"))
        with self.assertRaises(RecflowError) as invalid:
            admin.add_ratings({"userId": "u1", "itemId": "i1", "rating": 50})
        self.assertEqual(invalid.exception.code, "validation_failed")
        self.assertIn("between", invalid.exception.field("body.rating")["message"])

        called = admin.called | app.called
        missing = [op for (method, path, op) in OPERATIONS if (method, path) not in called and op not in ("importRows", "exportRows")]
        self.assertEqual(missing, [])


class Iteration(unittest.TestCase):
    def test_cursor_listings_and_history_return_every_row_once(self):
        client = Recflow(URL, api_key=TOKEN)
        items = [i["itemId"] for i in client.iterate_items(limit=7)]
        self.assertEqual(len(items), len(set(items)))
        self.assertTrue({f"i{i}" for i in range(30)} <= set(items))
        users = [u["userId"] for u in client.iterate_users(limit=9)]
        self.assertEqual(len(users), len(set(users)))
        history = sorted(f"{e['kind']}:{e['itemId']}" for e in client.iterate_history("u3", limit=4))
        self.assertEqual(history, sorted(f"rating:{r['itemId']}" for r in RATINGS if r["userId"] == "u3"))


class Ndjson(unittest.TestCase):
    def test_export_imported_into_another_server_is_the_same_rows(self):
        source = Recflow(URL, api_key=TOKEN)
        target = Recflow(os.environ["RECFLOW_TARGET_URL"], api_key=TOKEN)
        strip = lambda r: {k: v for k, v in r.items() if k not in ("cursor", "createdAt")}  # noqa: E731
        for kind in ("items", "users", "ratings", "events"):
            rows = list(source.export_rows(kind))
            self.assertGreater(len(rows), 0, kind)
            # A generator: the chunked body is produced as it is sent.
            self.assertEqual(target.import_rows(kind, (r for r in rows)), {"kind": kind, "lines": len(rows), "written": len(rows)})
            self.assertEqual([strip(r) for r in target.export_rows(kind)], [strip(r) for r in rows], kind)


def hold_upload(base: str, size: int) -> http.client.HTTPConnection:
    """An upload that holds `size` bytes of the server's in-flight body budget until closed."""
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    connection.putrequest("POST", "/ratings")
    for name, value in (("content-type", "application/json"), ("content-length", str(size)), ("authorization", f"Bearer {TOKEN}")):
        connection.putheader(name, value)
    connection.endheaders(b"{")
    time.sleep(0.2)
    return connection


class Retries(unittest.TestCase):
    def test_a_503_is_retried_after_its_retry_after(self):
        tight = os.environ["RECFLOW_TIGHT_URL"]
        client = TimedRecflow(tight, api_key=TOKEN)
        held = hold_upload(tight, 2040)
        threading.Timer(0.3, held.close).start()
        self.assertEqual(client.add_ratings({"userId": "u", "itemId": "i", "rating": 3})["inserted"], 1)
        self.assertEqual([status for _, status in client.log], [503, 200])
        self.assertGreaterEqual(client.log[1][0] - client.log[0][0], 2.0)

    def test_a_429_waits_out_the_window_or_is_raised_when_longer_than_accepted(self):
        admin = Recflow(URL, api_key=TOKEN)
        key = admin.create_key("py-one-per-minute", ["read"], requestsPerMinute=1)["key"]
        impatient = Recflow(URL, api_key=key, retry=RetryPolicy(max_delay=1.0))
        impatient.get_popular()
        with self.assertRaises(RecflowError) as refused:
            impatient.get_popular()
        self.assertEqual((refused.exception.status, refused.exception.code), (429, "rate_limited"))
        wait = refused.exception.retry_after_seconds
        self.assertGreater(wait, 1)
        patient = TimedRecflow(URL, api_key=key, retry=RetryPolicy(max_delay=70.0))
        self.assertEqual(patient.get_popular()["name"], "popular")
        self.assertEqual([status for _, status in patient.log], [429, 200])
        self.assertGreaterEqual(patient.log[1][0] - patient.log[0][0], wait - 1)

    def test_retry_after_reads_seconds_and_http_dates(self):
        self.assertEqual(retry_after_seconds("7"), 7)
        self.assertEqual(retry_after_seconds("Tue, 01 Jan 2030 00:00:30 GMT", now=1893456000.0), 30)
        self.assertIsNone(retry_after_seconds("soon"))
        self.assertIsNone(retry_after_seconds(None))


if __name__ == "__main__":
    unittest.main()
