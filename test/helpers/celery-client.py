"""A Celery 5 client for the tests of `fiscal worker --celery` (test/cli/worker-celery.ts).

argv[1] is a JSON spec: {"broker": URL, "queue": NAME, "protocol": 2, "timeout": S,
"sends": [{"name": "fiscal.run", "args": [...], "kwargs": {...}, "task_id": ..., "countdown": ..., "expires": ...,
"time_limit": ..., "serializer": ...}]}. It sends every message with app.send_task (rpc:// result backend, JSON),
prints {"sent": [ids], "eta": [epoch seconds or null]} on one line once the broker confirmed them all, then waits for each result with .get() and
prints one JSON array: {"id", "ok": true, "state", "result"} or {"id", "ok": false, "state", "exc_type",
"exc_module", "message"} per message.
"""
import json
import sys
import time

from celery import Celery

spec = json.loads(sys.argv[1])
app = Celery("fiscal-test-client", broker=spec["broker"], backend="rpc://")
# confirm_publish: send_task returns once the broker has the message, so "sent" means queued
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"], task_protocol=spec.get("protocol", 2),
                broker_transport_options={"confirm_publish": True})

OPTIONS = ("task_id", "countdown", "expires", "time_limit", "soft_time_limit", "serializer")
sent = []
etas = []
for s in spec["sends"]:
    opts = {k: s[k] for k in OPTIONS if k in s}
    etas.append(time.time() + s["countdown"] if "countdown" in s else None)
    sent.append(app.send_task(s.get("name", "fiscal.run"), args=s.get("args", []), kwargs=s.get("kwargs", {}), queue=spec["queue"], **opts))
print(json.dumps({"sent": [r.id for r in sent], "eta": etas}), flush=True)

out = []
for r in sent:
    try:
        value = r.get(timeout=spec.get("timeout", 90))
        out.append({"id": r.id, "ok": True, "state": r.state, "result": value})
    except Exception as e:  # the test reads what Celery raised
        out.append({"id": r.id, "ok": False, "state": r.state, "exc_type": type(e).__name__, "exc_module": type(e).__module__, "message": str(e)})
print(json.dumps(out), flush=True)
