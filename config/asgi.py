import os

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.asgi import get_asgi_application
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from django.urls import path  # noqa: E402

from config import transport  # noqa: E402
from config.graphql.consumers import GraphQLWebSocketConsumer  # noqa: E402
from config.graphql.origins import BrowserOriginValidator  # noqa: E402


def closing_database_connections(http_app):
    """Django runs each HTTP request's sync code in a thread of its own (a ThreadSensitiveContext
    per request), so a connection it keeps for reuse (CONN_MAX_AGE) is never reused: each request
    left one open until PostgreSQL refused new clients and every request failed (found by
    bench/bench_load.py). This outer context is the one Django's handler joins, so the request's
    connections are closed in the request's thread when it is over. WebSocket consumers reuse their
    threads and keep their connections."""

    async def app(scope, receive, send):
        async with ThreadSensitiveContext():
            try:
                await http_app(scope, receive, send)
            finally:
                await sync_to_async(connections.close_all)()

    return app


transport.install()

application = ProtocolTypeRouter(
    {
        "http": closing_database_connections(django_asgi_app),
        "websocket": BrowserOriginValidator(URLRouter([path("graphql/", GraphQLWebSocketConsumer.as_asgi())])),
    }
)
