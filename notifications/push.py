"""Push delivery behind one small interface, chosen by `NOTIFICATIONS_PUSH_BACKEND`.

A backend takes a batch of (device, message) pairs and answers one `PushResult` per pair, in
order. `console` logs (development), `memory` keeps what it was given (tests; results can be
scripted per token), `firebase` sends through firebase-admin (FCM). A dotted path names any other.
"""

import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.models import Device

logger = logging.getLogger("closetline.push")


class PushStatus(Enum):
    OK = "ok"
    INVALID_TOKEN = "invalid_token"  # the provider says the token is dead: deactivate the device
    RATE_LIMITED = "rate_limited"  # try again later, with backoff
    ERROR = "error"


@dataclass(frozen=True)
class PushResult:
    status: PushStatus
    detail: str = ""


OK = PushResult(PushStatus.OK)


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    data: dict[str, str]  # string values only: what every provider accepts
    # Two hand-offs with the same key show once on the device (a retry after a crash replaces,
    # never repeats).
    collapse_key: str


class ConsoleBackend:
    def send(self, batch) -> list[PushResult]:
        for device, message in batch:
            logger.info("push to user %s (%s): %s — %s", device.user_id, device.platform, message.title, message.body)
        return [OK] * len(batch)


class MemoryBackend:
    """Records every hand-off in `sent`; `script(token, status, ...)` makes the next sends to a
    token answer those statuses, in order, before answering OK again."""

    sent: list[tuple[object, PushMessage]] = []
    _scripted: dict[str, list[PushStatus]] = defaultdict(list)

    @classmethod
    def reset(cls):
        cls.sent.clear()
        cls._scripted.clear()

    @classmethod
    def script(cls, token: str, *statuses: PushStatus):
        cls._scripted[token].extend(statuses)

    def send(self, batch) -> list[PushResult]:
        results = []
        for device, message in batch:
            scripted = self._scripted.get(device.token)
            status = scripted.pop(0) if scripted else PushStatus.OK
            if status is PushStatus.OK:
                self.sent.append((device, message))
            results.append(PushResult(status, "" if status is PushStatus.OK else "scripted"))
        return results


class FirebaseBackend:
    """FCM through firebase-admin. Apps use the Firebase SDK, so every platform's token is an FCM
    registration token; the platform picks the Android, APNs or Web Push block of the message.

    firebase-admin (and the Google client libraries under it) is imported only by this backend's
    functions: the console and memory backends don't pay its start-up time."""

    BATCH_LIMIT = 500  # firebase_admin.messaging.send_each refuses more

    def send(self, batch) -> list[PushResult]:
        from firebase_admin import messaging

        results = []
        for start in range(0, len(batch), self.BATCH_LIMIT):
            part = batch[start : start + self.BATCH_LIMIT]
            try:
                response = messaging.send_each(
                    [_fcm_message(device, message) for device, message in part], app=_firebase_app()
                )
            except Exception as exc:  # the whole request failed (credentials, network): nothing was sent
                logger.warning("FCM batch failed: %s", exc)
                results += [_result_for_error(exc)] * len(part)
                continue
            results += [OK if reply.success else _result_for_error(reply.exception) for reply in response.responses]
        return results


def _fcm_message(device, message: PushMessage):
    from firebase_admin import messaging

    options = {}
    if device.platform == Device.Platform.APNS:
        options["apns"] = messaging.APNSConfig(headers={"apns-collapse-id": message.collapse_key})
    elif device.platform == Device.Platform.WEB_PUSH:
        options["webpush"] = messaging.WebpushConfig(headers={"Topic": message.collapse_key})
    else:
        # A tag, not a collapse_key: FCM keeps only four collapse keys per offline device.
        options["android"] = messaging.AndroidConfig(
            notification=messaging.AndroidNotification(tag=message.collapse_key)
        )
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates `token` for `fid` (installation ids), but the Firebase SDKs
        # still give apps registration tokens, and FCM still accepts them.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(
            token=device.token,
            data=message.data,
            notification=messaging.Notification(title=message.title, body=message.body),
            **options,
        )


def _result_for_error(exc) -> PushResult:
    from firebase_admin import exceptions, messaging

    detail = str(exc)[:200]
    if isinstance(exc, (messaging.UnregisteredError, messaging.SenderIdMismatchError)):
        return PushResult(PushStatus.INVALID_TOKEN, detail)
    # FCM asks for exponential backoff on both 429 (quota) and 503 (overloaded).
    if isinstance(exc, (exceptions.ResourceExhaustedError, exceptions.UnavailableError)):
        return PushResult(PushStatus.RATE_LIMITED, detail)
    return PushResult(PushStatus.ERROR, detail)


@cache
def _firebase_app():
    import firebase_admin
    from firebase_admin import credentials

    path = settings.NOTIFICATIONS_FIREBASE_CREDENTIALS
    # Without a key file, Google's application default credentials are used (GOOGLE_APPLICATION_CREDENTIALS).
    credential = credentials.Certificate(path) if path else None
    return firebase_admin.initialize_app(credential, name="closetline-push")


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend, "firebase": FirebaseBackend}


def get_backend():
    name = settings.NOTIFICATIONS_PUSH_BACKEND
    return (BACKENDS.get(name) or import_string(name))()
