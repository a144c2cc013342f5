"""An open-loop load client and its percentile maths (no Django: tests/bench runs it in process).

Open loop: request number n is due at start + n / rate, whatever the server's pace, and is timed
from when it was due to its answer. A closed loop (send, wait, send) slows down with the server
and never measures the queue a slow server builds (coordinated omission).
"""

import asyncio
import math
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# What is due at one arrival: (operation name, call); the call returns for a good answer and
# raises for an error, its text saying what went wrong. Several at one arrival go out at once.
Request = tuple[str, Callable[[], Awaitable[object]]]


@dataclass
class Sample:
    operation: str
    latency: float  # seconds, from when the request was due to its answer
    ok: bool
    failure: str = ""


@dataclass
class Run:
    offered_rate: float  # arrivals per second
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0  # from the first arrival to the last answer

    @property
    def achieved_rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def operations(self) -> list[str]:
        return list(dict.fromkeys(sample.operation for sample in self.samples))

    def latencies_ms(self, operation: str | None = None) -> list[float]:
        return [sample.latency * 1000 for sample in self._of(operation)]

    def error_rate(self, operation: str | None = None) -> float:
        """Errors per request, 0 to 1."""
        samples = self._of(operation)
        return sum(not sample.ok for sample in samples) / len(samples) if samples else 0.0

    def failures(self) -> dict[str, int]:
        """Each distinct failure and how often it happened, to say what went wrong."""
        return dict(Counter(f"{sample.operation}: {sample.failure}" for sample in self.samples if not sample.ok))

    def _of(self, operation: str | None) -> list[Sample]:
        return [sample for sample in self.samples if operation is None or sample.operation == operation]


async def open_loop(arrival: Callable[[int], list[Request]], *, rate: float, seconds: float, timeout: float) -> Run:
    """Send `arrival(n)`'s requests at start + n / rate for n below rate × seconds; every request
    ends within `timeout` seconds of going out (later counts as an error), so the run ends by
    itself: seconds + timeout at most."""
    loop = asyncio.get_running_loop()
    run = Run(offered_rate=rate)
    start = loop.time()
    pending = []
    for number in range(round(rate * seconds)):
        due = start + number / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        pending += [
            asyncio.create_task(_timed(run, operation, call, due, timeout)) for operation, call in arrival(number)
        ]
    await asyncio.gather(*pending)
    run.seconds = loop.time() - start
    return run


async def _timed(run: Run, operation: str, call, due: float, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(call(), timeout)
        ok, failure = True, ""
    except Exception as error:  # a benchmark counts every failure; it never stops on one
        ok, failure = False, (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:200]
    run.samples.append(Sample(operation, loop.time() - due, ok, failure))


def percentile(values: list[float], percent: int) -> float:
    """The percent-th percentile, interpolated between the two nearest values (NaN for none)."""
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
