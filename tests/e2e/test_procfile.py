"""The Procfile as a platform runs it: its release step, then web, worker and beat, each the
Procfile's own command line in a shell, in production mode on loopback against PostgreSQL, Redis
and an S3-compatible server (moto). A client reaches the web process as through a TLS-terminating
proxy (X-Forwarded-Proto: https): it registers, lists an item with a photo, and the worker makes
the photo's sizes; beat's schedule reaches the worker."""

import json
import os
import re
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from tests.helpers import gid
from tests.marketplace.test_media_local import gps_photo
from tests.marketplace.test_media_s3 import BUCKET, CREDENTIALS, s3_server  # noqa: F401  (fixture)
from tests.processes import BIN, PROJECT, free_port, wait_for, wait_for_port

PROCESS_TYPES = ("release", "web", "worker", "beat")
REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { checkEmail errors { code } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"""
CREATE = """mutation($input: CreateListingInput!) { createListing(input: $input) { listing { id } errors { code } } }"""
UPLOAD = """mutation($input: UploadListingImageInput!) { uploadListingImage(input: $input) { errors { code } } }"""
IMAGES = """query($id: ID!) { listing(id: $id) { title images { small: url(size: SMALL) } } }"""


def procfile() -> dict[str, str]:
    """Process type -> command, as Procfile runners (Heroku, honcho, foreman) read it."""
    entries = {}
    for line in (PROJECT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            assert name.strip() not in entries, f"{name} twice"
            entries[name.strip()] = command.strip()
    return entries


def test_the_procfile_names_each_process_once():
    entries = procfile()
    assert set(entries) == set(PROCESS_TYPES)
    assert "migrate" in entries["release"] and "collectstatic" in entries["release"]
    assert entries["web"].startswith("daphne ") and "--proxy-headers" in entries["web"]
    assert " worker" in entries["worker"] and " beat" in entries["beat"]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_release_then_web_worker_and_beat_serve_a_client_behind_a_tls_proxy(
    processes,
    s3_server,  # noqa: F811
    tmp_path,
    category,
):
    endpoint, _client = s3_server
    entries = procfile()
    port = free_port()
    environment = (
        {name: value for name, value in os.environ.items() if not name.startswith(("MEDIA_", "DJANGO_", "CELERY_"))}
        | CREDENTIALS
        | {
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "SECRET_KEY": "procfile-test-not-secret-but-long-enough-0123456789abcdefghijklmnop",
            "MEDIA_SERVER_CALLBACK_SECRET": "procfile-test-media-server-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_PROVIDER": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "DEFAULT_FROM_EMAIL": "Closetline <no-reply@closetline.example>",
            "DATABASE_URL": processes.database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DB_CONN_MAX_AGE": "0",
            "MEDIA_S3_BUCKET": BUCKET,
            "MEDIA_S3_ENDPOINT_URL": endpoint,
            "MEDIA_S3_REGION": "us-east-1",
            "MEDIA_S3_ADDRESSING_STYLE": "path",
            "STATIC_ROOT": str(tmp_path / "static"),
            "PORT": str(port),
            "WEB_INTERFACE": "127.0.0.1",
            "CELERY_BEAT_SCHEDULE_FILE": str(tmp_path / "beat"),
        }
    )

    release = subprocess.run(
        ["bash", "-c", entries["release"]],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()  # collected, hashed, for WhiteNoise

    web, web_log = processes._spawn("web", ["bash", "-c", f"exec {entries['web']}"], environment)
    worker, worker_log = processes._spawn("worker", ["bash", "-c", f"exec {entries['worker']}"], environment)
    beat, beat_log = processes._spawn("beat", ["bash", "-c", f"exec {entries['beat']}"], environment)
    wait_for_port(web, web_log, port, 60, "the web process to serve")
    wait_for(lambda: " ready." in worker_log.read_text() or worker.poll() is not None, 60, "the worker")
    assert worker.poll() is None, worker_log.read_text()

    base = f"http://127.0.0.1:{port}"
    proxied = httpx.Client(base_url=base, headers={"X-Forwarded-Proto": "https"}, timeout=30)
    # Without the proxy's header a plain request is sent to HTTPS; through it, served as HTTPS.
    plain = httpx.get(f"{base}/graphql/", params={"query": "{ __typename }"}, timeout=30)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://127.0.0.1")

    def graphql(query, token=None, **variables):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = proxied.post("/graphql/", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        return response.json()["data"]

    registered = graphql(
        REGISTER, input={"username": "ava", "email": "ava@example.com", "password": "correct horse battery staple"}
    )["register"]
    assert registered["errors"] == [] and registered["checkEmail"]
    # The mailed link is followed (the worker's mail is not read here): the account is verified.
    User.objects.filter(username="ava").update(email_verified_at=timezone.now())
    token = graphql(LOGIN, input={"username": "ava", "password": "correct horse battery staple"})["login"]["token"]
    assert token
    created = graphql(CREATE, token, input={"title": "Wrap dress", "categoryId": gid(category), "price": "25.00"})
    listing_id = created["createListing"]["listing"]["id"]
    uploaded = proxied.post(
        "/graphql/",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "operations": json.dumps(
                {"query": UPLOAD, "variables": {"input": {"listingId": listing_id, "image": None}}}
            ),
            "map": json.dumps({"0": ["variables.input.image"]}),
        },
        files={"0": ("photo.jpg", gps_photo(), "image/jpeg")},
    )
    assert uploaded.json() == {"data": {"uploadListingImage": {"errors": []}}}, uploaded.text

    # The worker makes the sizes (a task enqueued on commit): the small URL moves to its rendition.
    def small_url():
        return graphql(IMAGES, id=listing_id)["listing"]["images"][0]["small"]

    wait_for(lambda: urlsplit(small_url()).path.endswith("-150w.jpg"), 60, "the worker to make the photo's sizes")
    assert "make_listing_image_renditions" in worker_log.read_text()
    assert small_url().startswith(f"{endpoint}/{BUCKET}/listings/")  # a presigned URL of the bucket
    served = httpx.get(small_url(), timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    # Beat's schedule reaches the worker (the auction sweep runs every 5 s).
    wait_for(lambda: "live.tasks.close_due_auctions" in beat_log.read_text(), 60, "beat to send a task")
    wait_for(lambda: "live.tasks.close_due_auctions" in worker_log.read_text(), 60, "the worker to run beat's task")
    # Static files through WhiteNoise, from what the release step collected.
    admin_page = proxied.get("/admin/login/")
    assert admin_page.status_code == 200
    stylesheet = re.search(r'href="(/static/admin/css/[^"]+\.css)"', admin_page.text).group(1)
    assert proxied.get(stylesheet).status_code == 200
    for process in (web, worker, beat):
        assert process.poll() is None, process.log.read_text()
