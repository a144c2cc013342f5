"""Production media against a real S3-compatible server: moto's server mode on 127.0.0.1, the
storage exactly as config.settings_production builds it from the environment (django-storages'
S3Storage through boto3). A photo is uploaded through the GraphQL multipart request as a client
sends it; every rendition URL the API gives is fetched over HTTP; removing the photo removes its
objects once the transaction commits."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from marketplace.models import ListingImage
from tests.helpers import gid, photo
from tests.marketplace.conftest import upload

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
BUCKET = "closetline-media-test"
PORTS = range(8110, 8120)  # this project's test servers' loopback ports
SIZES = ("ORIGINAL", "SMALL", "MEDIUM", "LARGE")
IMAGES = """query($id: ID!) { listing(id: $id) { images { id original: url(size: ORIGINAL) small: url(size: SMALL)
  medium: url(size: MEDIUM) large: url(size: LARGE) } } }"""
REMOVE = """mutation($input: RemoveListingImageInput!) {
  removeListingImage(input: $input) { listing { images { id } } errors { field code } } }"""
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "moto-test",
    "AWS_SECRET_ACCESS_KEY": "moto-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_loopback_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8110-8119 for the S3 server")


@pytest.fixture
def s3_server(monkeypatch):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    port = free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


def production_storage(environment: dict) -> dict:
    """STORAGES["default"] as config.settings_production makes it from this environment (in a
    process of its own: the production module reads the environment once, when imported)."""
    code = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    env = (
        {name: value for name, value in os.environ.items() if not name.startswith("MEDIA_")}
        | CREDENTIALS
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "SECRET_KEY": "test-not-secret-but-long-enough-0123456789abcdefghijklmnopqrstuvwxyz",
            "MEDIA_SERVER_CALLBACK_SECRET": "test-media-server-secret",
            "ALLOWED_HOSTS": "testserver",
            "DEBUG": "0",
            "EMAIL_PROVIDER": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "DEFAULT_FROM_EMAIL": "Closetline <no-reply@closetline.example>",
        }
        | environment
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1 only
        return response.status, response.headers, response.read()


def test_production_refuses_to_start_without_a_bucket():
    with pytest.raises(AssertionError, match="MEDIA_S3_BUCKET"):
        production_storage({})


@pytest.mark.parametrize("cdn", [True, False], ids=["behind a CDN URL", "presigned bucket URLs"])
def test_a_photo_uploaded_in_production_mode_is_served_from_the_bucket_and_removed_with_it(
    cdn, s3_server, settings, gql, make_user, make_listing, django_capture_on_commit_callbacks
):
    endpoint, client = s3_server
    environment = {
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ENDPOINT_URL": endpoint,
        "MEDIA_S3_REGION": "us-east-1",
        "MEDIA_S3_ADDRESSING_STYLE": "path",
    }
    if cdn:  # the bucket's public URL stands for the CDN, which reads the objects anonymously
        environment["MEDIA_CDN_URL"] = f"{endpoint}/{BUCKET}"
        client.put_bucket_policy(
            Bucket=BUCKET,
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{BUCKET}/*",
                        }
                    ],
                }
            ),
        )
    storage = production_storage(environment)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": storage}

    seller, token = make_user("ava")
    listing = make_listing(seller)
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})  # GPS
    with django_capture_on_commit_callbacks(execute=True):  # the renditions task runs on commit
        payload = upload(gql, token, listing, photo(size=(1600, 1200), exif=exif.tobytes()))
    assert payload["errors"] == []

    image = gql(IMAGES, {"id": gid(listing)})["data"]["listing"]["images"][0]
    widths = {"original": 1600, "small": 150, "medium": 640, "large": 1280}
    for size, width in widths.items():
        url = image[size]
        assert url.startswith(f"{endpoint}/{BUCKET}/listings/"), url  # absolute, on the store
        assert ("X-Amz-Signature=" in url) is not cdn, url
        status, headers, content = fetch(url)
        assert status == 200
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        served = Image.open(io.BytesIO(content))
        served.load()
        assert served.format == "JPEG" and served.width == width
        assert not served.getexif() and "exif" not in served.info  # no GPS, no camera

    keys = {entry["Key"] for entry in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    stored = ListingImage.objects.get()
    assert keys == {stored.original, *stored.renditions.values()} and len(keys) == 4

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        removed = gql(REMOVE, {"input": {"imageId": image["id"]}}, token=token)["data"]["removeListingImage"]
        assert removed == {"listing": {"images": []}, "errors": []}
        # Until the transaction commits, the files stay.
        assert client.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 4
    assert callbacks
    assert client.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    with pytest.raises(urllib.error.HTTPError) as gone:
        fetch(image["small"])
    assert gone.value.code in (403, 404)
