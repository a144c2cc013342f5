"""A payment provider that keeps its ledger in a file, so a test sees what a worker process asked
of it, and that stalls its captures while a `hold` file exists (a slow provider call, for the
worker to be killed in). Like a real provider, a capture's idempotency key makes a repeated
call a no-op: the money moved is one capture per distinct key."""

import json
import os
import time
import uuid
from pathlib import Path

from marketplace.payments import PaymentProvider

# The folder of the ledger and the hold file, shared by the test and its worker processes.
FOLDER_VARIABLE = "FAULTS_PAYMENTS_DIR"
HOLD_SECONDS = 30  # a held capture gives up waiting after this, so nothing hangs


def folder() -> Path:
    return Path(os.environ[FOLDER_VARIABLE])


def ledger() -> list[dict]:
    path = folder() / "ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class RecordingProvider(PaymentProvider):
    def authorize(self, *, amount, currency, idempotency_key, buyer, payment_method=None):
        return f"rec_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"

    def capture(self, *, reference, amount, idempotency_key):
        self._record("capture", reference=reference, amount=str(amount), idempotency_key=idempotency_key)
        deadline = time.monotonic() + HOLD_SECONDS
        while (folder() / "hold").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def void(self, *, reference, idempotency_key):
        self._record("void", reference=reference, idempotency_key=idempotency_key)

    def refund(self, *, reference, amount, idempotency_key):
        self._record("refund", reference=reference, amount=str(amount), idempotency_key=idempotency_key)

    @staticmethod
    def _record(call: str, **fields):
        with (folder() / "ledger.jsonl").open("a") as file:
            file.write(json.dumps({"call": call, **fields}) + "\n")
