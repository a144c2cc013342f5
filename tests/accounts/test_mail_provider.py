"""Production mail: django-anymail's Postmark backend, pointed at a local HTTP server the test
starts (never the internet), carries an account mail; the production settings pick it up from
EMAIL_PROVIDER and refuse to start without a provider."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings

from tests.mailbox import _TOKEN
from tests.processes import free_port

pytestmark = pytest.mark.django_db

REQUEST_RESET = """mutation($input: EmailInput!) { requestPasswordReset(input: $input) { errors { code } } }"""


class FakePostmark(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"path": self.path, "token": self.headers["X-Postmark-Server-Token"], "body": body})
        answer = json.dumps(
            {
                "ErrorCode": 0,
                "Message": "OK",
                "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
                "SubmittedAt": "2026-12-07T10:00:00Z",
                "To": body["To"],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    received = []
    handler = type("Handler", (FakePostmark,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("POSTMARK_TEST_PORT") or 0) or free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token-for-tests",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_port}/",
    }
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_a_reset_mail_goes_out_through_the_postmark_api(api, make_user, postmark):
    make_user("ava")
    assert api(REQUEST_RESET, {"input": {"email": "ava@example.com"}})["data"]["requestPasswordReset"] == {"errors": []}
    [call] = postmark
    assert call["path"] == "/email" and call["token"] == "server-token-for-tests"
    assert call["body"]["To"] == "ava@example.com" and call["body"]["Subject"] == "Reset your Closetline password"
    assert call["body"]["From"] == django_settings.DEFAULT_FROM_EMAIL
    assert [match["path"] for match in _TOKEN.finditer(call["body"]["TextBody"])] == ["reset-password"]


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings_production",
    "ALLOWED_HOSTS": "api.closetline.example",
    "MEDIA_S3_BUCKET": "closetline-media",
    "SECRET_KEY": "test-not-secret-but-long-enough-0123456789abcdef0123456789abcdef",
    "MEDIA_SERVER_CALLBACK_SECRET": "test-media-server-secret",
}


def _production_setting(name, **environment):
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EMAIL_", "POSTMARK_"))}
    return subprocess.run(
        [sys.executable, "-c", code], env=env | PRODUCTION | environment, capture_output=True, text=True, timeout=60
    )


def test_production_mail_needs_a_provider_and_a_sender():
    missing = _production_setting("EMAIL_BACKEND", DEFAULT_FROM_EMAIL="Shop <no-reply@shop.example>")
    assert missing.returncode != 0 and "Set EMAIL_PROVIDER" in missing.stderr
    postmark = _production_setting(
        "EMAIL_BACKEND",
        EMAIL_PROVIDER="postmark",
        POSTMARK_SERVER_TOKEN="t",
        DEFAULT_FROM_EMAIL="Shop <no-reply@shop.example>",
    )
    assert postmark.stdout.strip() == "anymail.backends.postmark.EmailBackend", postmark.stderr
    smtp = _production_setting(
        "EMAIL_BACKEND",
        EMAIL_PROVIDER="smtp",
        EMAIL_HOST="smtp.shop.example",
        DEFAULT_FROM_EMAIL="Shop <no-reply@shop.example>",
    )
    assert smtp.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend", smtp.stderr
    no_sender = _production_setting("EMAIL_BACKEND", EMAIL_PROVIDER="smtp", EMAIL_HOST="smtp.shop.example")
    assert no_sender.returncode != 0 and "DEFAULT_FROM_EMAIL" in no_sender.stderr
