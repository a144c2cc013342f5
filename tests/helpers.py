"""Helpers shared by the test suites of several apps."""

import io
import threading

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id
from PIL import Image

from marketplace import services
from notifications.models import Device


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


def people_with_devices(count) -> list[int]:
    """`count` members with one push device each, in bulk (fan-out tests); their ids."""
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"liker{n}", email=f"liker{n}@fault.test", password="!") for n in range(count)], batch_size=2000
    )
    ids = list(User.objects.values_list("pk", flat=True))
    Device.objects.bulk_create(
        [Device(user_id=pk, platform=Device.Platform.FCM, token=f"token-{pk}") for pk in ids], batch_size=2000
    )
    return ids


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


def race(calls):
    """Run every call at once, each on its own thread and connection; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
