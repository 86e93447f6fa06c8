"""A Celery app whose task runs `fiscal run -` (docs/tasks.md, "Embedding").

Celery delivers at least once (acks_late: a worker lost mid-task gets its message redelivered). The fiscal
ledger makes the task's effect happen once: the redelivered task finds its key done and `fiscal run` prints the
recorded manifest (`"reused": true`) at once. Set FISCAL_LEDGER to a postgres:// URL when workers run on
several machines (sqlite:PATH is for the processes of one machine).

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 celery -A fiscal_celery worker
"""
import json
import os
import shlex
import subprocess

from celery import Celery

app = Celery(
    "fiscal",
    broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")),
)
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1, task_serializer="json", result_serializer="json")

# the command that runs a task: `fiscal` on PATH, or e.g. "node /srv/fiscal-engine/bin/fiscal.js"
FISCAL = shlex.split(os.environ.get("FISCAL_BIN", "fiscal"))


class FiscalTaskRejected(Exception):
    """`fiscal run` refused the task (exit 2: malformed task or usage error): retrying cannot help."""


@app.task(name="fiscal.run", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def fiscal_run(task):
    """Runs one fiscal task and returns its manifest (a dict). Findings in a validation are data, not failure."""
    proc = subprocess.run([*FISCAL, "run", "-"], input=json.dumps(task), capture_output=True, text=True, check=False)
    if proc.returncode == 2:
        raise FiscalTaskRejected(proc.stderr.strip() or "fiscal run: exit 2")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise OSError(f"fiscal run printed no manifest (exit {proc.returncode}): {proc.stderr.strip()}")
    return json.loads(lines[-1])
