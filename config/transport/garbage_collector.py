"""The garbage collector of a process serving thousands of WebSocket subscriptions."""

import gc

THRESHOLDS = (50_000, 20, 100)


def tune() -> None:
    """A full collection stops the process while it walks every tracked object, and a thousand
    subscriptions are half a million of them: some 300 ms during which no viewer gets anything.
    With the default thresholds (700, 10, 10) the short-lived objects of one broadcast to a
    thousand subscribers outlive the young generations and set off such a collection every few
    broadcasts; larger young generations let them die young. What startup loaded (Django, the
    schema) is never garbage, so it is frozen out of the walks. Measured by bench/bench_live.py
    (featured item to 1,000 viewers: p99 ~450 ms → ~240 ms)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
