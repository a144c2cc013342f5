"""Embedded media (`make run`, `make test`): local files, served by the project itself without
DEBUG, under absolute URLs made from the request's host; through the Django stack and through
daphne as a client reaches it."""

import io
import json
import urllib.request

import httpx
import pytest
from django.test import Client
from PIL import Image

from accounts.models import User
from tests.helpers import gid, photo
from tests.marketplace.conftest import upload

IMAGES = """query($id: ID!) { listing(id: $id) { images { original: url(size: ORIGINAL) small: url(size: SMALL)
  medium: url(size: MEDIUM) large: url(size: LARGE) } } }"""
UPLOAD = """mutation($input: UploadListingImageInput!) { uploadListingImage(input: $input) { errors { code } } }"""
WIDTHS = {"original": 1600, "small": 150, "medium": 640, "large": 1280}


def gps_photo() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    return photo(size=(1600, 1200), exif=exif.tobytes())


def assert_clean_jpeg(content: bytes, width: int):
    image = Image.open(io.BytesIO(content))
    image.load()
    assert image.format == "JPEG" and image.width == width
    assert not image.getexif() and "exif" not in image.info


@pytest.mark.django_db
def test_photo_urls_are_absolute_and_served_without_debug(
    gql, settings, make_user, make_listing, django_capture_on_commit_callbacks
):
    assert settings.DEBUG is False
    seller, token = make_user("ava")
    listing = make_listing(seller)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(gql, token, listing, gps_photo())["errors"] == []
    image = gql(IMAGES, {"id": gid(listing)})["data"]["listing"]["images"][0]
    for size, width in WIDTHS.items():
        assert image[size].startswith("http://testserver/media/listings/"), image[size]
        response = Client().get(image[size].removeprefix("http://testserver"))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert_clean_jpeg(b"".join(response.streaming_content), width)
    # The host and scheme the client used (here, a TLS proxy's, as production trusts it).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    secure = gql(IMAGES, {"id": gid(listing)}, HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    assert secure["data"]["listing"]["images"][0]["small"].startswith("https://localhost/media/listings/")
    assert Client().get("/media/listings/nope.jpg").status_code == 404
    assert Client().get("/media/../config/settings.py").status_code == 404


@pytest.mark.django_db
def test_avatar_urls_are_absolute(gql, make_user, settings):
    from django.core.files.base import ContentFile

    user, token = make_user("ava")
    user.avatar.save("ava.jpg", ContentFile(photo()))
    avatar = gql("{ me { avatarUrl } }", token=token)["data"]["me"]["avatarUrl"]
    assert avatar.startswith("http://testserver/media/avatars/")
    assert Client().get(avatar.removeprefix("http://testserver")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_photos_are_served_by_daphne_without_debug(processes, settings, make_user, make_listing):
    seller, token = make_user("ava")
    listing = make_listing(seller)
    assert User.objects.filter(username="ava").exists()
    port = processes.daphne(
        DEBUG="0", MEDIA_ROOT=str(settings.MEDIA_ROOT), CELERY_TASK_ALWAYS_EAGER="1", DB_CONN_MAX_AGE="0"
    )
    base = f"http://127.0.0.1:{port}"
    operations = {"query": UPLOAD, "variables": {"input": {"listingId": gid(listing), "image": None}}}
    # As apollo-upload-client sends it: a multipart request with the operations, the map and the file.
    response = httpx.post(
        f"{base}/graphql/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.image"]})},
        files={"0": ("photo.jpg", gps_photo(), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"uploadListingImage": {"errors": []}}}
    answer = httpx.post(f"{base}/graphql/", json={"query": IMAGES, "variables": {"id": gid(listing)}}, timeout=30)
    image = answer.json()["data"]["listing"]["images"][0]
    for size, width in WIDTHS.items():
        assert image[size].startswith(f"{base}/media/listings/"), image[size]
        with urllib.request.urlopen(image[size], timeout=10) as served:  # 127.0.0.1 only
            assert served.status == 200 and served.headers["Content-Type"] == "image/jpeg"
            assert_clean_jpeg(served.read(), width)
