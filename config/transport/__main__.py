"""`python -m config.transport`: list what the transport patches rely on and no longer find (exit 1)."""

import sys

from twisted.internet import asyncioreactor

asyncioreactor.install()  # the reactor daphne installs, before anything imports another

import django  # noqa: E402

django.setup()

from config import transport  # noqa: E402

problems = transport.broken_internals() + transport.broken_connection_internals()
print("\n".join(problems) or "every internal the transport patches rely on is in place")
sys.exit(1 if problems else 0)
