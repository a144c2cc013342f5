import json
import os
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts import services as account_services
from marketplace import services as marketplace_services
from marketplace.models import Category
from tests.browser import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.fakes.stripe_api import WEBHOOK_SECRET, FakeStripe, serve
from tests.processes import BROKER_KEYS, Processes


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need PostgreSQL (row locks, real concurrency); `redis` ones need REDIS_URL;
    `browser` ones need Chromium and its driver."""
    from django.conf import settings

    on_postgres = connection.vendor == "postgresql"
    has_browser = os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL)"))
        if "browser" in item.keywords and not has_browser:
            item.add_marker(pytest.mark.skip(reason=f"needs {CHROMIUM} and {CHROMEDRIVER}"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Worker threads (channels, concurrency tests) must not keep connections open past a test."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # rate-limit windows must not leak between tests
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_in_process():
    """Tasks run eagerly in the test's process even when REDIS_URL sets up a broker, so services
    that enqueue on commit (notifications.services.notify) finish before assertions; a test that
    starts a real worker switches this back off."""
    from config.celery import app

    configured = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = configured


class GraphQLClient:
    """Posts real HTTP requests to /graphql/ through the whole Django stack."""

    def __init__(self):
        self.http = Client()

    def __call__(self, query, variables=None, token=None, **extra):
        response = self.post({"query": query, "variables": variables or {}}, token=token, **extra)
        return response.json()

    def post(self, body, token=None, content_type="application/json", **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        data = json.dumps(body) if content_type == "application/json" and not isinstance(body, (str, bytes)) else body
        return self.http.post("/graphql/", data=data, content_type=content_type, **headers, **extra)


@pytest.fixture
def gql():
    return GraphQLClient()


@pytest.fixture
def api(gql, django_capture_on_commit_callbacks):
    """`gql` as a committed request: its on-commit work (notification fan-out, tasks, broadcasts) runs."""

    def call(query, variables=None, token=None):
        with django_capture_on_commit_callbacks(execute=True):
            return gql(query, variables, token=token)

    return call


@pytest.fixture
def browser():
    """Headless Chromium limited to loopback (tests/browser.py)."""
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def processes(tmp_path):
    """Real processes (daphne, Celery workers, a private Redis; tests/processes.py), all killed
    when the test ends."""
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def workers(processes):
    """start() launches a Celery worker on the test database and REDIS_URL (with the in-memory
    push backend); this process enqueues its tasks to Redis, as production does."""
    import redis
    from django.conf import settings

    from config.celery import app

    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(*BROKER_KEYS)
    app.conf.task_always_eager = False
    yield lambda: processes.worker(NOTIFICATIONS_PUSH_BACKEND="memory")
    processes.stop()  # before the keys go, so that no worker writes them again
    broker.delete(*BROKER_KEYS)


@pytest.fixture
def make_user(db):
    """Create a member with a device token: `user, token = make_user("ava")`."""

    def make(username="ava", password="a-long-enough-passphrase", **fields):
        return account_services.register(
            username=username, email=f"{username}@example.com", password=password, **fields
        )

    return make


@pytest.fixture
def make_buyer(make_user):
    """A member with a default shipping address, ready to buy: `buyer, token = make_buyer("marco")`."""

    def make(username="marco", **fields):
        user, token = make_user(username, **fields)
        marketplace_services.add_shipping_address(
            user=user,
            recipient_name=username.title(),
            line1="1 Main St",
            city="Portland",
            region="OR",
            postal_code="97201",
            country="US",
        )
        return user, token

    return make


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads land in the test's own folder, never in the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def category(db):
    if not Category.objects.exists():
        # An earlier transactional test flushed every table, the tree seeded by migration too.
        import_module("marketplace.migrations.0002_seed_categories").seed(django_apps, None)
    return Category.objects.get(path="women/dresses")


@pytest.fixture
def make_listing(category):
    """Create a listing through the service: `make_listing(seller, title="...", price="12.50")`."""

    def make(seller, **fields):
        fields = {"title": "Wrap dress", "category_id": category.pk, "price": Decimal("25.00")} | fields
        fields["price"] = Decimal(fields["price"])
        return marketplace_services.create_listing(seller=seller, **fields)

    return make


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) and Django's SMTP backend pointed at it: mail
    leaves as in production and the test reads what arrived (`smtp_server.messages`)."""
    from tests.mailbox import SMTPServer

    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_api(settings):
    """Payments (and any Stripe call through `payments.stripe_client()`) go to a fake Stripe on
    loopback, through the official SDK: the fake's state (tests/fakes/stripe_api.py)."""
    fake = FakeStripe()
    server, base = serve(fake)
    settings.PAYMENT_PROVIDER = "marketplace.payments.StripePaymentProvider"
    settings.STRIPE_API_BASE = base
    settings.STRIPE_SECRET_KEY = "sk_test_closetline"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_closetline"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield fake
    server.shutdown()
    server.server_close()
