"""Settings of a benchmark's server process: the app's, with bench_feed's plain JSON view of the
feed routed beside /graphql/, the baseline the load benchmark measures on the same server."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_feed"
