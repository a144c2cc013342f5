"""The load benchmark's client core (bench/loadgen.py) on an in-process target, so CI catches a
broken benchmark without running one: the arrival rate, timing from the due time, errors and
timeouts counted, percentiles."""

import asyncio
import math
import time

import pytest

from bench.loadgen import open_loop, percentile


def answering_after(seconds: float):
    async def call():
        await asyncio.sleep(seconds)

    return call


async def test_requests_go_out_at_the_rate_with_bursts_counted_apart():
    def arrival(number):
        burst = [("contended", answering_after(0.002))] * 3 if number % 50 == 0 else []
        return [("read", answering_after(0.002))] + burst

    run = await open_loop(arrival, rate=200, seconds=1, timeout=1)

    assert len(run.latencies_ms("read")) == 200
    assert len(run.latencies_ms("contended")) == 4 * 3
    assert run.operations() == ["read", "contended"]
    assert run.error_rate() == 0
    assert 190 <= run.achieved_rate <= 230  # 212 answers in a little over a second
    assert 2 <= percentile(run.latencies_ms(), 50) < 50


async def test_a_slow_target_does_not_slow_the_arrivals_and_its_queue_is_measured():
    started = time.monotonic()
    run = await open_loop(lambda number: [("slow", answering_after(0.3))], rate=50, seconds=0.5, timeout=2)

    # A closed loop would have taken 25 × 0.3 s; the open loop's last request goes out at 0.48 s.
    assert time.monotonic() - started < 1.5
    assert len(run.samples) == 25
    assert min(run.latencies_ms()) >= 300


async def test_failures_and_timeouts_are_errors_with_their_reason():
    async def refused():
        raise RuntimeError("HTTP 500")

    def arrival(number):
        return [("ok", answering_after(0)), ("refused", refused), ("hung", answering_after(10))]

    run = await open_loop(arrival, rate=20, seconds=0.5, timeout=0.2)

    assert run.error_rate("ok") == 0
    assert run.error_rate("refused") == run.error_rate("hung") == 1
    assert run.error_rate() == pytest.approx(2 / 3)
    assert run.failures() == {"refused: RuntimeError: HTTP 500": 10, "hung: TimeoutError": 10}
    assert max(run.latencies_ms("hung")) < 1000


def test_percentiles_interpolate_between_the_nearest_values():
    values = [float(number) for number in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
