"""Run the benchmarks: `make bench`, or `python -m bench NAME ...` for some of them.

Each module `bench/bench_NAME.py` has `run(report)`. They run in a throw-away database created
like the test database (SQLite by default, PostgreSQL with DATABASE_URL), so nothing of yours is
touched. Results: printed, and written to bench/results/ (latest.md plus a JSON per run).
"""

import importlib
import logging
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.report import Report  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    available = sorted(
        m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )
    unknown = set(names) - set(available)
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(available)}")
        return 2
    report = Report()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the benchmarks' HTTP client logs every request at INFO
    databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        for name in names or available:
            importlib.import_module(f"bench.bench_{name}").run(report)
    finally:
        teardown_databases(databases, verbosity=0)
    report.write(HERE / "results")
    print(f"Written to {HERE / 'results' / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
