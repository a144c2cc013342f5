import io
import json
from importlib import import_module
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id
from PIL import Image

from config.celery import app as celery_app
from marketplace import services
from marketplace.models import Category

UPLOAD = """mutation($input: UploadListingImageInput!) {
  uploadListingImage(input: $input) {
    image { id width height position url(size: ORIGINAL) }
    listing { images { id position } coverImage { id } }
    errors { field code message }
  }
}"""


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run inline even on the Redis pass (where nothing consumes the broker during tests)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
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
        return services.create_listing(seller=seller, **fields)

    return make


def gid(obj) -> str:
    """The global ID of a model instance (GraphQL type names match the model names)."""
    return to_global_id(type(obj).__name__, obj.pk)


def photo(fmt="JPEG", size=(64, 48), color="teal", **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, color).save(buffer, fmt, **save_options)
    return buffer.getvalue()


def add_photo(listing, color="teal"):
    """A stored photo without the HTTP round trip, for tests about lists."""
    return services.add_listing_image(listing=listing, upload=SimpleUploadedFile("p.jpg", photo(color=color)))


def upload(gql, token, listing, content: bytes, name="photo.jpg", cover=False):
    operations = {"query": UPLOAD, "variables": {"input": {"listingId": gid(listing), "image": None,
                                                           "cover": cover}}}
    response = gql.http.post("/graphql/", {"operations": json.dumps(operations),
                                           "map": json.dumps({"0": ["variables.input.image"]}),
                                           "0": SimpleUploadedFile(name, content)},
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.json()["data"]["uploadListingImage"]


def assert_constant_queries(gql, query, variables, token, grow, sizes=(5, 50), path=None):
    """Run `query` after `grow(n)` brought the list to each size: same SQL query count each time."""
    gql(query, variables, token=token)  # warm-up: the token's coarse last-used stamp is written once
    counts, total = [], 0
    for size in sizes:
        grow(size - total)
        total = size
        with CaptureQueriesContext(connection) as captured:
            body = gql(query, variables, token=token)
        assert "errors" not in body, body
        connection_data = body["data"]
        for key in path:
            connection_data = connection_data[key]
        assert len(connection_data["edges"]) == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[-1], counts
    return counts[0]

