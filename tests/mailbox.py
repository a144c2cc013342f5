"""Mail in tests: a real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and the
helpers that read a message's link token, for locmem's outbox and the server alike."""

import email
import email.policy
import os
import re
import threading

from aiosmtpd.controller import Controller

from tests.processes import free_port

_TOKEN = re.compile(r"/(?P<path>[a-z-]+)\?token=(?P<token>[A-Za-z0-9_-]+)")


class SMTPServer:
    """Accepts every message on 127.0.0.1:`port` and keeps it parsed (`messages`)."""

    def __init__(self, port: int | None = None):
        self.port = port or int(os.environ.get("SMTP_TEST_PORT") or 0) or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self._received = threading.Condition()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._received:
            self.envelopes.append(envelope)
            self.messages.append(message)
            self._received.notify_all()
        return "250 Message accepted for delivery"

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def wait_for(self, count: int, seconds: float = 10):
        """Block until `count` messages arrived (a worker process sends them in its own time)."""
        with self._received:
            assert self._received.wait_for(lambda: len(self.messages) >= count, seconds), self.messages
        return self.messages


def body_of(message) -> str:
    """The text of a locmem EmailMessage or of a parsed message the SMTP server received."""
    if hasattr(message, "get_body"):
        return message.get_body(preferencelist=("plain",)).get_content()
    return message.body


def recipients_of(message) -> list[str]:
    return list(message.to) if hasattr(message, "to") and isinstance(message.to, list) else [message["To"]]


def mailed_token(messages, to: str, path: str) -> str | None:
    """The token of the last `path` link (verify-email, reset-password, confirm-email-change) mailed to `to`."""
    for message in reversed(messages):
        if to.lower() in (address.lower() for address in recipients_of(message)):
            found = [match["token"] for match in _TOKEN.finditer(body_of(message)) if match["path"] == path]
            if found:
                return found[-1]
    return None


def mails_to(messages, to: str) -> list:
    return [message for message in messages if to.lower() in (a.lower() for a in recipients_of(message))]
